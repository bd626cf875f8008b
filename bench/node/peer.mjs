// One peer (Puppeteer or Playwright) doing one of the benchmark's figures,
// reporting JSON lines on stdout to bench/node/run.mjs. The same steps as the
// belay campaigns in bench/campaigns/.
//
//   node peer.mjs MODE --lib puppeteer|playwright --base http://127.0.0.1:PORT [...]
//
// MODE: micro (sequential evaluate, pipelined evaluate, navigations,
// screenshots), forms (fill + click + wait_for), cold, idle, parallel,
// recovery (Puppeteer only).
// idle, parallel and recovery run until a line arrives on stdin.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, nowUs, parseArgs, report, sleep } from './peers.mjs';

const args = parseArgs(process.argv.slice(3));
const mode = process.argv[2];
const lib = args.lib || 'puppeteer';
const base = args.base;
const epochMs = () => performance.timeOrigin + performance.now();

let stopRequested = false;
const stopped = new Promise((resolve) => {
  process.stdin.on('data', () => {
    stopRequested = true;
    resolve();
  });
  process.stdin.on('end', () => {
    stopRequested = true;
    resolve();
  });
});

async function timed(n, body) {
  const us = [];
  for (let i = 0; i < n; i++) {
    const start = nowUs();
    await body(i);
    us.push(nowUs() - start);
  }
  return us;
}

async function micro() {
  const n = Number(args.n || 1000);
  const navs = Number(args.navs || 200);
  const shots = Number(args.shots || 50);
  const pipeN = Number(args['pipe-n'] || 4000);
  const window = Number(args.window || 32);
  const dir = args.shotdir || '/tmp';
  mkdirSync(dir, { recursive: true });
  const b = await launch(lib);
  await b.navigate(`${base}/page1`);
  await timed(50, () => b.evaluate('1+1'));
  const evalUs = await timed(n, async () => {
    if ((await b.evaluate('1+1')) !== 2) throw new Error('1+1 != 2');
  });
  // Pipelined: `window` evaluates in flight at every moment.
  let sent = 0;
  const pipeStart = nowUs();
  const worker = async () => {
    while (sent < pipeN) {
      sent++;
      await b.evaluate('1+1');
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const pipeSeconds = (nowUs() - pipeStart) / 1e6;
  await timed(4, (i) => b.navigate(`${base}/page${1 + (i % 2)}`));
  const navUs = await timed(navs, (i) => b.navigate(`${base}/page${1 + (i % 2)}`));
  await b.screenshot(join(dir, `${lib}-warm.png`));
  const shotUs = await timed(shots, (i) => b.screenshot(join(dir, `${lib}-${i % 5}.png`)));
  await b.close();
  report({ eval_us: evalUs, pipe_per_s: pipeN / pipeSeconds, pipe_window: window, nav_us: navUs,
           shot_us: shotUs });
}

// fill + click + wait_for on /inputs with each library's auto-waiting
// locators, as bench/campaigns/forms.lua does it in belay.
async function forms() {
  const rounds = Number(args.rounds || 200);
  const b = await launch(lib);
  await b.navigate(`${base}/inputs`);
  const page = b.page;
  const one = async (i) => {
    await page.locator('#name').fill(`user ${i}`);
    await page.locator('#submit').click();
    if (lib === 'puppeteer') {
      await page.waitForSelector('#echo', { visible: true });
    } else {
      await page.locator('#echo').waitFor({ state: 'visible' });
    }
  };
  const reset = "document.getElementById('echo').textContent = ''";
  for (let i = 0; i < 10; i++) {
    await one(i);
    await page.evaluate(reset);
  }
  const us = [];
  for (let i = 0; i < rounds; i++) {
    const start = nowUs();
    await one(i);
    us.push(nowUs() - start);
    await page.evaluate(reset);
  }
  await b.close();
  report({ forms_us: us });
}

async function cold() {
  const t0 = epochMs();
  const b = await launch(lib);
  await b.navigate(`${base}/page1`);
  const loaded = epochMs();
  report({ loaded_epoch_ms: loaded, in_process_ms: loaded - t0, pid: b.pid });
  await b.close();
}

async function idle() {
  const b = await launch(lib);
  await b.navigate(`${base}/page1`);
  report({ idle: true, pid: b.pid });
  await stopped;
  await b.close();
}

async function parallel() {
  const profiles = Number(args.profiles || 8);
  let next = 0;
  const one = async (p) => {
    const b = await launch(lib);
    report({ launched: p });
    while (!stopRequested) {
      const key = `${lib}-${p}-${next++}`;
      await b.navigate(`${base}/item?key=${key}`);
      await b.evaluate('document.title');
      report({ ok: key });
    }
    await b.close();
  };
  await Promise.all(Array.from({ length: profiles }, (_, p) => one(p)));
}

// A plain relaunch loop, as a Puppeteer user writes it: run items; when one
// fails and the browser is gone, launch a new one and go on.
async function recovery() {
  const itemSleep = Number(args['item-sleep'] || 50);
  let b = null;
  let index = 0;
  while (!stopRequested) {
    try {
      if (!b) {
        b = await launch(lib);
        report({ event: 'browser_launch', pid: b.pid, t: epochMs() });
      }
      const key = `recovery-${index}`;
      await b.navigate(`${base}/item?key=${key}`);
      await sleep(itemSleep);
      index++;
      report({ event: 'item_ok', item: key, t: epochMs() });
    } catch (e) {
      report({ event: 'item_failed', message: String(e.message).slice(0, 200), t: epochMs() });
      if (b && !b.browser.connected) {
        await b.close().catch(() => {});
        b = null;
      }
    }
  }
  if (b) await b.close();
}

const modes = { micro, forms, cold, idle, parallel, recovery };
if (!modes[mode]) {
  console.error(`usage: node peer.mjs ${Object.keys(modes).join('|')} --lib L --base URL`);
  process.exit(2);
}
modes[mode]()
  .then(() => process.exit(0))
  .catch((e) => {
    console.error(`${lib} ${mode}: ${e.stack || e}`);
    process.exit(1);
  });
