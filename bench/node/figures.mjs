// The figures of issue 8, each measuring belay and its peers on the same
// Chromium, interleaved (belay, Puppeteer, Playwright, rotated each round)
// so that drift in a shared machine's load hits every side alike.
//
// A figure returns rows: { name, unit, better: 'lower'|'higher', spread:
// 'p99'|'max'|null, belay, puppeteer, playwright } where each side is null
// or { m, s } (median and spread).

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { belayRun, ensureDir, finished, floorResult, peer, peerResult, runTool, stopBelay,
  stopPeer } from './belay.mjs';
import { LIBS } from './peers.mjs';
import { cpuSeconds, epochMs, parentOf, rssMb, sleep, treeCpu } from './procs.mjs';
import { batchMeans, max, median, p99 } from './stats.mjs';

const SIDES = ['belay', ...LIBS];
const rotate = (list, r) => list.map((_, i) => list[(i + r) % list.length]);
const cell = (samples, spread = p99) => (samples && samples.length
  ? { m: median(samples), s: spread(samples) } : null);

// The lines bench-cdp-roundtrip and bench-lua-roundtrip print:
// "NAME  n=N  median=  X us  p99=  Y us ...".
function summaryLine(out, label) {
  const line = out.split('\n').find((l) => l.startsWith(label));
  if (!line) throw new Error(`no "${label}" line in:\n${out}`);
  return { m: Number(line.match(/median=\s*([\d.]+)/)[1]),
           s: Number(line.match(/p99=\s*([\d.]+)/)[1]) };
}

const medianOf = (cells, key) => median(cells.map((c) => c[key]));

// Sequential evaluate, pipelined evaluate, navigations, screenshots.
export async function micro(ctx) {
  const o = ctx.opts;
  const R = o.rounds;
  const per = (total) => Math.max(1, Math.ceil(total / R));
  const shotdir = ensureDir(join(ctx.work, 'shots'));
  const evalUs = { belay: [], puppeteer: [], playwright: [] };
  const evalCallUs = { puppeteer: [], playwright: [] };
  const navMs = { belay: [], puppeteer: [], playwright: [] };
  const shotMs = { belay: [], puppeteer: [], playwright: [] };
  const pipePerS = { puppeteer: [], playwright: [] };
  const pipeLua = [];
  const raw = { pipe: [], ws: [], pipePipe: [], pipeWs: [] };
  const floor = { callUs: [], batchUs: [], perS: [] };
  for (let r = 0; r < R; r++) {
    for (const side of rotate(SIDES, r)) {
      ctx.log(`micro round ${r + 1}/${R}: ${side}`);
      if (side === 'belay') {
        const run = belayRun(ctx, 'micro', {
          base: ctx.base, n: per(o.evals), batch: o.batch, navs: per(o.navs),
          shots: per(o.shots), pipe_n: o.pipeN, window: o.window });
        await finished(run, 600000);
        const get = (name) => run.events.items.find((e) => e.event === name).params;
        evalUs.belay.push(...get('bench_eval').batch_ms.map((ms) => (ms * 1000) / o.batch));
        navMs.belay.push(...get('bench_nav').ms);
        shotMs.belay.push(...get('bench_shot').ms);
        const pipe = get('bench_pipe');
        pipeLua.push(pipe.n / (Math.max(pipe.ms, 1) / 1000));
      } else {
        const res = await peerResult(ctx, 'micro', side, {
          n: per(o.evals), navs: per(o.navs), shots: per(o.shots), 'pipe-n': o.pipeN,
          window: o.window, shotdir });
        evalCallUs[side].push(...res.eval_us);
        evalUs[side].push(...batchMeans(res.eval_us, o.batch));
        navMs[side].push(...res.nav_us.map((us) => us / 1000));
        shotMs[side].push(...res.shot_us.map((us) => us / 1000));
        pipePerS[side].push(res.pipe_per_s);
      }
    }
    ctx.log(`micro round ${r + 1}/${R}: belay C++ core`);
    const rt = await runTool(ctx, 'bench-cdp-roundtrip', ['--n', String(per(o.rawEvals))]);
    raw.pipe.push(summaryLine(rt, 'cdp evaluate 1+1 (pipe)'));
    raw.ws.push(summaryLine(rt, 'cdp evaluate 1+1 (ws)'));
    const pl = await runTool(ctx, 'bench-cdp-pipeline',
                             ['--n', String(o.pipeN), '--window', String(o.window), '--rounds', '1']);
    raw.pipePipe.push(Number(pl.match(/\(pipe\).*per_s=([\d.]+)/)[1]));
    raw.pipeWs.push(Number(pl.match(/\(ws\).*per_s=([\d.]+)/)[1]));
    ctx.log(`micro round ${r + 1}/${R}: minimal client (floor)`);
    const fl = await floorResult(ctx, { n: per(o.rawEvals), 'pipe-n': o.pipeN, window: o.window });
    floor.callUs.push(...fl.eval_us);
    floor.batchUs.push(...batchMeans(fl.eval_us, o.batch));
    floor.perS.push(fl.pipe_per_s);
  }
  ctx.log('Lua bridge, in process (bench-lua-roundtrip)');
  const lr = await runTool(ctx, 'bench-lua-roundtrip', ['--n', String(o.rawEvals)]);
  const luaCpp = summaryLine(lr, 'c++ page.evaluate(1+1)');
  const luaLua = summaryLine(lr, 'lua page:evaluate(1+1)');
  const rawCell = (cells) => ({ m: medianOf(cells, 'm'), s: medianOf(cells, 's') });
  const peersPerCall = {
    puppeteer: cell(evalCallUs.puppeteer), playwright: cell(evalCallUs.playwright),
    floor: cell(floor.callUs) };
  const pipeFloor = cell(floor.perS, max);
  return [
    { name: `evaluate("1+1") sequential: Lua campaign (\`belay run\`) vs page.evaluate; per-call mean of ${o.batch}-call batches`,
      unit: 'µs', better: 'lower', spread: 'p99',
      belay: cell(evalUs.belay), puppeteer: cell(evalUs.puppeteer), playwright: cell(evalUs.playwright),
      floor: cell(floor.batchUs) },
    { name: 'evaluate("1+1") sequential, per call: belay raw C++ core, pipe (bench-cdp-roundtrip)',
      unit: 'µs', better: 'lower', spread: 'p99', belay: rawCell(raw.pipe), ...peersPerCall },
    { name: 'evaluate("1+1") sequential, per call: belay raw C++ core, WebSocket',
      unit: 'µs', better: 'lower', spread: 'p99', belay: rawCell(raw.ws), ...peersPerCall },
    { name: 'evaluate("1+1") in one process (bench-lua-roundtrip): Lua page:evaluate, per call in batches of 10',
      unit: 'µs', better: 'lower', spread: 'p99', belay: luaLua, floor: peersPerCall.floor,
      note: `same run, C++ call: ${luaCpp.m.toFixed(0)} µs (p99 ${luaCpp.s.toFixed(0)})` },
    { name: `pipelined evaluate("1+1"), ${o.window} in flight: Lua campaign (belay.all of ${o.window} workers), pipe`,
      unit: 'calls/s', better: 'higher', spread: 'max',
      belay: cell(pipeLua, max), puppeteer: cell(pipePerS.puppeteer, max),
      playwright: cell(pipePerS.playwright, max), floor: pipeFloor,
      note: `${(median(pipeLua) / median(raw.pipePipe)).toFixed(2)} × belay's C++ core (goal ≥ 0.8)` },
    { name: `pipelined evaluate("1+1"), ${o.window} in flight: belay C++ core, pipe (bench-cdp-pipeline)`,
      unit: 'calls/s', better: 'higher', spread: 'max',
      belay: cell(raw.pipePipe, max), puppeteer: cell(pipePerS.puppeteer, max),
      playwright: cell(pipePerS.playwright, max), floor: pipeFloor },
    { name: `pipelined evaluate("1+1"), ${o.window} in flight: belay C++ core, WebSocket`,
      unit: 'calls/s', better: 'higher', spread: 'max',
      belay: cell(raw.pipeWs, max), puppeteer: cell(pipePerS.puppeteer, max),
      playwright: cell(pipePerS.playwright, max), floor: pipeFloor },
    { name: `${o.navs} navigations /page1 ↔ /page2 (wait for load), per navigation`,
      unit: 'ms', better: 'lower', spread: 'p99',
      belay: cell(navMs.belay), puppeteer: cell(navMs.puppeteer), playwright: cell(navMs.playwright) },
    { name: `${o.shots} viewport screenshots (PNG to a file), per screenshot`,
      unit: 'ms', better: 'lower', spread: 'p99',
      belay: cell(shotMs.belay), puppeteer: cell(shotMs.puppeteer), playwright: cell(shotMs.playwright) },
  ];
}

// fill + click + wait_for on the fixture's form page (/inputs), one round
// timed whole: belay's auto-waiting element calls beside Puppeteer's and
// Playwright's locators.
export async function forms(ctx) {
  const o = ctx.opts;
  const R = o.rounds;
  const per = Math.max(1, Math.ceil(o.forms / R));
  const ms = { belay: [], puppeteer: [], playwright: [] };
  for (let r = 0; r < R; r++) {
    for (const side of rotate(SIDES, r)) {
      ctx.log(`forms round ${r + 1}/${R}: ${side}`);
      if (side === 'belay') {
        const run = belayRun(ctx, 'forms', { base: ctx.base, rounds: per });
        await finished(run, 600000);
        ms.belay.push(...run.events.items.find((e) => e.event === 'bench_forms').params.ms);
      } else {
        const res = await peerResult(ctx, 'forms', side, { rounds: per });
        ms[side].push(...res.forms_us.map((us) => us / 1000));
      }
    }
  }
  return [
    { name: `${o.forms} form rounds on /inputs: fill #name + click #submit + wait_for #echo visible, per round`,
      unit: 'ms', better: 'lower', spread: 'p99',
      belay: cell(ms.belay), puppeteer: cell(ms.puppeteer), playwright: cell(ms.playwright) },
  ];
}

// One cold start of belay: spawn `belay run` → the first item's item_ok.
// Also the in-process part: the browser launch's start → that item_ok.
async function belayCold(ctx) {
  const run = belayRun(ctx, 'cold', { base: ctx.base });
  const { record: ok } = await run.events.wait((e) => e.event === 'item_ok', 120000, 0, 'item_ok');
  const launch = run.events.items.find((e) => e.event === 'browser_launch');
  await finished(run, 60000);
  return { spawn: ok.t - run.child.spawnedAt, inProcess: ok.t - (launch.t - launch.dur_ms) };
}

async function peerCold(ctx, lib) {
  const started = epochMs();
  const res = await peerResult(ctx, 'cold', lib, {}, 120000);
  return { spawn: res.loaded_epoch_ms - started, inProcess: res.in_process_ms };
}

export async function cold(ctx, rounds = ctx.opts.coldRounds, libs = LIBS) {
  const spawnMs = { belay: [], puppeteer: [], playwright: [] };
  const inMs = { belay: [], puppeteer: [], playwright: [] };
  for (let r = 0; r < rounds; r++) {
    for (const side of rotate(['belay', ...libs], r)) {
      ctx.log(`cold launch ${r + 1}/${rounds}: ${side}`);
      const t = side === 'belay' ? await belayCold(ctx) : await peerCold(ctx, side);
      spawnMs[side].push(t.spawn);
      inMs[side].push(t.inProcess);
    }
  }
  const row = (name, data) => ({ name, unit: 'ms', better: 'lower', spread: 'max',
    belay: cell(data.belay, max), puppeteer: cell(data.puppeteer, max),
    playwright: cell(data.playwright, max) });
  return [
    row(`cold launch to first load: process spawn → /page1 loaded (fresh profile), median (max) of ${rounds}`, spawnMs),
    row('cold launch to first load, inside the process: browser launch starts → /page1 loaded', inMs),
  ];
}

// Kills `pid` with SIGKILL only if it is a child of `parent` (a process
// this benchmark started): never anything else.
function killChildOf(pid, parent) {
  if (!pid || parentOf(pid) !== parent) {
    throw new Error(`refusing to kill ${pid}: not a child of ${parent}`);
  }
  const t0 = epochMs();
  process.kill(pid, 'SIGKILL');
  return t0;
}

// How long a recovery may take before the kill counts as stuck.
const STUCK_MS = 30000;

// One kill in a running belay: kill the browser from the latest
// browser_launch, then time to the first item_ok from the next browser.
// Returns null when the run did not recover within STUCK_MS.
async function belayKill(run) {
  const ev = run.events;
  const launches = ev.items.map((e, i) => [e, i]).filter(
    ([e]) => e.event === 'browser_launch' && e.outcome === 'ok');
  const { index: li, record: launch } = launches.length
    ? { record: launches.at(-1)[0], index: launches.at(-1)[1] }
    : await ev.wait((e) => e.event === 'browser_launch' && e.outcome === 'ok', 120000, 0,
                    'browser_launch');
  const { index: oi } = await ev.wait((e) => e.event === 'item_ok', 120000, li, 'item_ok');
  await sleep(100 + Math.random() * 300);
  const mark = ev.items.length;
  const t0 = killChildOf(launch.params.pid, run.child.pid);
  try {
    const { record: exit } = await ev.wait(
      (e) => e.event === 'browser_exit' && e.params.pid === launch.params.pid, STUCK_MS, mark,
      'browser_exit');
    const { index: ni, record: next } = await ev.wait(
      (e) => e.event === 'browser_launch' && e.outcome === 'ok' && e.params.pid !== launch.params.pid,
      STUCK_MS, Math.max(mark, oi + 1), 'relaunch');
    const { record: ok } = await ev.wait((e) => e.event === 'item_ok', STUCK_MS, ni,
                                         'item_ok after relaunch');
    return { total: ok.t - t0, relaunch: next.t - t0, detect: exit.t - t0 };
  } catch (e) {
    const tail = ev.items.slice(mark).map((x) => `${x.event}${x.item ? `(${x.item})` : ''}`);
    return { stuck: `${e.message}; events after the kill: ${tail.join(' ') || 'none'}` };
  }
}

// belay's supervisor over n kills. A kill that does not recover is counted
// as stuck; that run is then stopped and a fresh one goes on with the rest.
async function belayRecovery(ctx, n) {
  const o = ctx.opts;
  const params = { base: ctx.base, items: 5000, item_sleep: o.itemSleep };
  let run = belayRun(ctx, 'recovery', params);
  const out = { total: [], relaunch: [], detect: [], stuck: 0 };
  try {
    for (let k = 0; k < n; k++) {
      const r = await belayKill(run);
      if (r.stuck) {
        out.stuck++;
        ctx.warn(`recovery: a kill did not lead to an item ok within ${STUCK_MS / 1000} s (${r.stuck})`);
        await stopBelay(run);
        run = belayRun(ctx, 'recovery', params);
        continue;
      }
      for (const key of ['total', 'relaunch', 'detect']) out[key].push(r[key]);
      ctx.log(`  belay kill ${k + 1}/${n}: next item ok after ${r.total.toFixed(0)} ms`);
    }
  } finally {
    await stopBelay(run);
  }
  return out;
}

// A plain Puppeteer relaunch loop (bench/node/peer.mjs recovery).
async function peerRecovery(ctx, n) {
  const p = peer(ctx, 'recovery', 'puppeteer', { 'item-sleep': ctx.opts.itemSleep });
  const ev = p.records;
  const out = { total: [], relaunch: [] };
  try {
    let from = 0;
    for (let k = 0; k < n; k++) {
      const { index: li, record: launch } = await ev.wait(
        (e) => e.event === 'browser_launch', 120000, from, 'browser_launch');
      const { index: oi } = await ev.wait((e) => e.event === 'item_ok', 120000, li, 'item_ok');
      await sleep(100 + Math.random() * 300);
      const mark = ev.items.length;
      const t0 = killChildOf(launch.pid, p.child.pid);
      const { index: ni, record: next } = await ev.wait(
        (e) => e.event === 'browser_launch' && e.pid !== launch.pid, 120000,
        Math.max(mark, oi + 1), 'relaunch');
      const { record: ok } = await ev.wait((e) => e.event === 'item_ok', 120000, ni, 'item_ok after relaunch');
      out.total.push(ok.t - t0);
      out.relaunch.push(next.t - t0);
      from = ni;
      ctx.log(`  puppeteer kill ${k + 1}/${n}: next item ok after ${(ok.t - t0).toFixed(0)} ms`);
    }
  } finally {
    await stopPeer(p);
  }
  return out;
}

export async function recovery(ctx, n = ctx.opts.kills) {
  const halves = n >= 4 ? [Math.floor(n / 2), n - Math.floor(n / 2)] : [n];
  const b = { total: [], relaunch: [], detect: [], stuck: 0 };
  const pp = { total: [], relaunch: [] };
  for (const [i, k] of halves.entries()) {
    ctx.log(`recovery part ${i + 1}/${halves.length}: belay, ${k} kills`);
    const rb = await belayRecovery(ctx, k);
    ctx.log(`recovery part ${i + 1}/${halves.length}: puppeteer, ${k} kills`);
    const rp = await peerRecovery(ctx, k);
    for (const key of ['total', 'relaunch']) {
      b[key].push(...rb[key]);
      pp[key].push(...rp[key]);
    }
    b.detect.push(...rb.detect);
    b.stuck += rb.stuck;
  }
  return [
    { name: `SIGKILL of the browser → next item ok: belay supervisor (delay_ms = 0) vs a plain Puppeteer relaunch loop, median (max) of ${n}`,
      unit: 'ms', better: 'lower', spread: 'max',
      belay: cell(b.total, max), puppeteer: cell(pp.total, max), playwright: null,
      note: b.stuck ? `belay: ${b.stuck} of ${n} kills stuck (no item ok within ${STUCK_MS / 1000} s), left out of the median` : undefined },
    { name: 'SIGKILL → the new browser is up (belay: browser_launch event; Puppeteer: launch() resolved)',
      unit: 'ms', better: 'lower', spread: 'max',
      belay: cell(b.relaunch, max), puppeteer: cell(pp.relaunch, max), playwright: null },
    { name: 'SIGKILL → belay notices (browser_exit event), belay only',
      unit: 'ms', better: 'lower', spread: 'max', belay: cell(b.detect, max) },
  ];
}

// RSS and CPU of the host process (belay / node) with one idle browser.
async function idleSample(ctx, hostPid) {
  await sleep(2000);
  const c0 = cpuSeconds(hostPid);
  const t0 = epochMs();
  await sleep(ctx.opts.idleMs);
  const c1 = cpuSeconds(hostPid);
  const t1 = epochMs();
  return { rss: rssMb(hostPid), cpuPct: (100 * (c1 - c0)) / ((t1 - t0) / 1000) };
}

export async function idle(ctx) {
  const res = {};
  for (const side of SIDES) {
    ctx.log(`idle: ${side}, ${ctx.opts.idleMs / 1000} s`);
    if (side === 'belay') {
      const run = belayRun(ctx, 'idle', { base: ctx.base, idle_ms: 10 * 60 * 1000 });
      await run.events.wait((e) => e.event === 'bench_idle', 120000, 0, 'bench_idle');
      res.belay = await idleSample(ctx, run.child.pid);
      await stopBelay(run);
    } else {
      const p = peer(ctx, 'idle', side);
      await p.records.wait((r) => r.idle, 120000, 0, 'idle');
      res[side] = await idleSample(ctx, p.child.pid);
      await stopPeer(p);
    }
  }
  const row = (name, unit, key) => ({ name, unit, better: 'lower', spread: null,
    belay: { m: res.belay[key] }, puppeteer: { m: res.puppeteer[key] },
    playwright: { m: res.playwright[key] } });
  const secs = ctx.opts.idleMs / 1000;
  return [
    row('host process RSS (belay vs node) with one idle browser on /page1', 'MB', 'rss'),
    row(`host process CPU with one idle browser, over ${secs} s (% of one core)`, '%', 'cpuPct'),
  ];
}

// Items/s and CPU over a window once every profile is up.
async function parallelWindow(ctx, hostPid, countOk) {
  const o = ctx.opts;
  const s0 = treeCpu(hostPid);
  const n0 = countOk();
  await sleep(o.parallelMs);
  const s1 = treeCpu(hostPid);
  const n1 = countOk();
  const secs = (s1.at - s0.at) / 1000;
  const host = s1.host - s0.host;
  const browsers = s1.browsers - s0.browsers;
  return { perS: (n1 - n0) / secs, hostPct: (100 * host) / secs,
           share: (100 * host) / (host + browsers) };
}

export async function parallel(ctx) {
  const o = ctx.opts;
  const res = {};
  for (const side of SIDES) {
    ctx.log(`parallel: ${side}, ${o.profiles} profiles, ${o.parallelMs / 1000} s window`);
    if (side === 'belay') {
      const run = belayRun(ctx, 'parallel', { base: ctx.base, profiles: o.profiles, items: 100000 });
      const ev = run.events;
      await ev.wait(() => ev.count((e) => e.event === 'browser_launch') >= o.profiles, 180000, 0,
                    'every browser_launch');
      await ev.wait(() => ev.count((e) => e.event === 'item_ok') >= 3 * o.profiles, 180000, 0,
                    'warm-up items');
      res.belay = await parallelWindow(ctx, run.child.pid,
                                       () => ev.count((e) => e.event === 'item_ok'));
      await stopBelay(run);
    } else {
      const p = peer(ctx, 'parallel', side, { profiles: o.profiles });
      const rec = p.records;
      await rec.wait(() => rec.count((r) => r.launched !== undefined) >= o.profiles, 180000, 0,
                     'every launch');
      await rec.wait(() => rec.count((r) => r.ok) >= 3 * o.profiles, 180000, 0, 'warm-up items');
      res[side] = await parallelWindow(ctx, p.child.pid, () => rec.count((r) => r.ok));
      await stopPeer(p);
    }
  }
  const row = (name, unit, better, key) => ({ name, unit, better, spread: null,
    belay: { m: res.belay[key] }, puppeteer: { m: res.puppeteer[key] },
    playwright: { m: res.playwright[key] } });
  return [
    row(`${o.profiles} profiles in parallel: items/s (load /item?key=K, read the title)`, 'items/s', 'higher', 'perS'),
    row(`${o.profiles} profiles: host process CPU (% of one core)`, '%', 'lower', 'hostPct'),
    row(`${o.profiles} profiles: host's share of host + browsers CPU`, '%', 'lower', 'share'),
  ];
}

// bench-store: durable commits and the resume of a large state.
export async function store(ctx) {
  const o = ctx.opts;
  ctx.log(`store: ${o.storeItems} items, ${o.commits} commits`);
  const out = await runTool(ctx, 'bench-store', ['--items', String(o.storeItems), '--commits',
    String(o.commits), '--reopens', String(o.reopens), '--dir', ctx.work]);
  const done = out.match(/^\s+mark_done\s+(\d+)\s+(\d+)/m);
  const resume = out.match(/open \+ bind \+ items\(\)\s+([\d.]+)\s+([\d.]+)/);
  const open = out.match(/open, incl. quick_check\s+([\d.]+)/);
  const crash = out.match(/open after a crash \(integrity_check\)\s+([\d.]+)/);
  const only = (m, s = null) => ({ m, s });
  return [
    { name: 'durable item commit (mark_done: WAL, synchronous=FULL, one fsync), belay only',
      unit: 'µs', better: 'lower', spread: 'p99', belay: only(Number(done[1]), Number(done[2])) },
    { name: `resume of a ${o.storeItems}-item state (open + bind + read every row), wall; median of ${o.reopens}`,
      unit: 'ms', better: 'lower', spread: null, belay: only(Number(resume[1])),
      note: `of which open with quick_check ${open[1]} ms; CPU ${resume[2]} ms; ` +
        `an open after a crash (full integrity_check) ${crash[1]} ms` },
  ];
}

// Hot reload: rewrite the campaign, time to the `reload` event and to the
// first item on the new version.
export async function reload(ctx) {
  const o = ctx.opts;
  const run = belayRun(ctx, 'reload', { base: ctx.base, items: 2000, item_sleep: 100 },
                       { reload: true });
  const ev = run.events;
  const toReload = [];
  const toLive = [];
  try {
    await ev.wait((e) => e.event === 'item_ok', 120000, 0, 'item_ok');
    const source = readFileSync(run.campaign, 'utf8');
    for (let i = 1; i <= o.edits; i++) {
      const text = source.replace('local VERSION = 0', `local VERSION = ${i}`);
      const mark = ev.items.length;
      const t0 = epochMs();
      if (i % 2 === 0) {
        writeFileSync(`${run.campaign}.tmp`, text);
        renameSync(`${run.campaign}.tmp`, run.campaign);
      } else {
        writeFileSync(run.campaign, text);
      }
      const { record: rl } = await ev.wait((e) => e.event === 'reload', 30000, mark, 'reload');
      if (rl.outcome !== 'ok') throw new Error(`reload failed: ${JSON.stringify(rl)}`);
      const { record: live } = await ev.wait(
        (e) => e.event === 'bench_live' && e.params.version === i, 30000, mark, 'bench_live');
      toReload.push(rl.t - t0);
      toLive.push(live.t - t0);
      // Uneven gaps, so saves do not lock into phase with the watcher.
      await sleep(150 + ((i * 73) % 250));
    }
  } finally {
    await stopBelay(run);
  }
  ctx.log(`reload: ${o.edits} edits`);
  return [
    { name: `hot reload: file written → \`reload\` event (ok), ${o.edits} edits, belay only`,
      unit: 'ms', better: 'lower', spread: 'p99', belay: cell(toReload) },
    { name: 'hot reload: file written → first item running the new version (items sleep 100 ms)',
      unit: 'ms', better: 'lower', spread: 'p99', belay: cell(toLive) },
  ];
}
