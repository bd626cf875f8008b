// Runs the belay side of a figure: `belay run` on a copy of one of
// bench/campaigns/*.lua in a fresh work directory, with its parameters in a
// `bench_params.lua` beside it, and its events.jsonl followed as it grows.
// Also runs the C++ bench executables and the Node peers.

import { copyFileSync, createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROME } from './peers.mjs';
import { Records, followEvents, jsonLines, start, stop } from './procs.mjs';

export const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));

function luaValue(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export function luaParams(params) {
  const fields = Object.entries(params).map(([k, v]) => `  ${k} = ${luaValue(v)},`);
  return `return {\n${fields.join('\n')}\n}\n`;
}

// Starts `belay run` on bench/campaigns/NAME.lua. Returns { child, events,
// dir, campaign, state }.
export function belayRun(ctx, name, params, { reload = false } = {}) {
  const dir = mkdtempSync(join(ctx.work, `${name}-`));
  const campaign = join(dir, 'campaign.lua');
  copyFileSync(join(BENCH, 'campaigns', `${name}.lua`), campaign);
  writeFileSync(join(dir, 'bench_params.lua'), luaParams(params));
  const state = join(dir, 'state');
  const args = ['run', campaign, '--state', state];
  if (!reload) args.push('--no-reload');
  const child = start(ctx.belay, args, { cwd: dir, env: { ...process.env, BELAY_CHROME: CHROME } });
  child.stdout.pipe(createWriteStream(join(dir, 'belay.log')));
  const events = new Records();
  const unfollow = followEvents(join(state, 'events.jsonl'), events);
  child.exited.then(() => setTimeout(unfollow, 300));
  return { child, events, dir, campaign, state, unfollow, ctx, name };
}

// belay should exit right after run_finish; one that does not is ended by
// its PID after `graceMs` and the run notes it (a figure must not hang on it).
async function exitAfterFinish(run, graceMs = 5000) {
  const timer = new Promise((resolve) => setTimeout(() => resolve(null), graceMs));
  const exit = await Promise.race([run.child.exited, timer]);
  if (exit) return exit;
  run.ctx.warn(`belay did not exit within ${graceMs / 1000} s of run_finish (${run.name}); ` +
               'ended with SIGKILL');
  return stop(run.child, 'SIGKILL');
}

// Waits for run_finish; throws with belay's stderr when the run failed.
export async function finished(run, timeoutMs) {
  const { record } = await run.events.wait((e) => e.event === 'run_finish', timeoutMs, 0,
                                            'run_finish');
  const exit = await exitAfterFinish(run);
  if (record.outcome !== 'ok' || (exit.signal !== 'SIGKILL' && exit.code !== 0)) {
    throw new Error(`belay run ended ${record.outcome}, exit ${exit.code}: ` +
                    run.child.stderrText.slice(-2000));
  }
  return record;
}

// Ends a run that would go on: SIGTERM (belay stops, cancelling the item in
// flight, and writes run_finish), then as finished() does.
export async function stopBelay(run) {
  try {
    process.kill(run.child.pid, 'SIGTERM');
  } catch {
    return run.child.exited;
  }
  const done = run.events.wait((e) => e.event === 'run_finish', 30000, 0, 'run_finish')
    .catch(() => null);
  await Promise.race([done, run.child.exited]);
  return exitAfterFinish(run);
}

// Runs one of the build's executables to the end; resolves with stdout.
export async function runTool(ctx, name, args, timeoutMs = 600000) {
  const child = start(join(ctx.build, name), args, {
    env: { ...process.env, BELAY_CHROME: CHROME },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const timer = setTimeout(() => stop(child), timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  if (exit.code !== 0) {
    throw new Error(`${name} ${args.join(' ')} exited ${exit.code}: ${child.stderrText}`);
  }
  return out;
}

// Starts `node bench/node/SCRIPT ARGS... --key value ...` (one pair per
// entry of `extra`); records every JSON line it prints.
function nodeScript(script, args, extra) {
  const all = [join(BENCH, 'node', script), ...args];
  for (const [k, v] of Object.entries(extra)) all.push(`--${k}`, String(v));
  const child = start(process.execPath, all, { cwd: BENCH });
  const records = new Records();
  jsonLines(child, (r) => records.push(r));
  return { child, records };
}

// The first JSON result of a script that ends by itself.
async function firstResult(p, what, timeoutMs) {
  const timer = setTimeout(() => stop(p.child), timeoutMs);
  const exit = await p.child.exited;
  clearTimeout(timer);
  if (exit.code !== 0 || p.records.items.length === 0) {
    throw new Error(`${what} exited ${exit.code}: ${p.child.stderrText.slice(-2000)}`);
  }
  return p.records.items[0];
}

// Starts `node peer.mjs MODE --lib LIB ...`; records every JSON line.
export function peer(ctx, mode, lib, extra = {}) {
  return nodeScript('peer.mjs', [mode, '--lib', lib, '--base', ctx.base], extra);
}

// Asks a long-running peer to end (a line on stdin), then waits.
export async function stopPeer(p, timeoutMs = 30000) {
  try {
    p.child.stdin.write('stop\n');
    p.child.stdin.end();
  } catch {
    // already gone
  }
  const timer = setTimeout(() => stop(p.child), timeoutMs);
  const exit = await p.child.exited;
  clearTimeout(timer);
  return exit;
}

// One JSON result from a peer that ends by itself.
export function peerResult(ctx, mode, lib, extra, timeoutMs = 300000) {
  return firstResult(peer(ctx, mode, lib, extra), `peer ${lib} ${mode}`, timeoutMs);
}

// The minimal client's figures (bench/node/floor.mjs), one JSON result.
export function floorResult(ctx, extra, timeoutMs = 300000) {
  return firstResult(nodeScript('floor.mjs', [], extra), 'floor.mjs', timeoutMs);
}

export function ensureDir(path) {
  mkdirSync(path, { recursive: true });
  return path;
}
