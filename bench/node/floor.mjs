// The floor: the least any CDP client can do on this Chromium. It spawns
// the browser with --remote-debugging-pipe and the flags belay's launcher
// uses, frames NUL-terminated JSON, matches replies by id, and does nothing
// else: no events, no sessions beyond one page, no timers, no validation.
// What belay's C++ core and its Lua campaigns reach is measured against it.
//
//   node floor.mjs [--n 1000] [--pipe-n 4000] [--window 32]
//
// One JSON line on stdout: { eval_us: [per-call µs of sequential
// Runtime.evaluate("1+1")], pipe_per_s, pipe_window }, the same calls as
// bench/cdp_roundtrip.cpp and bench/cdp_pipeline.cpp send.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROME, nowUs, parseArgs, report } from './peers.mjs';

// host/chrome/chrome_process.cpp's default_flags, headless.
const FLAGS = [
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--no-default-browser-check', '--disable-gpu', '--disable-quic',
  '--disable-breakpad', '--disable-default-apps', '--disable-extensions',
  '--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,BackForwardCache',
  '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding', '--disable-hang-monitor',
  '--disable-ipc-flooding-protection', '--disable-popup-blocking', '--disable-prompt-on-repost',
  '--disable-client-side-phishing-detection', '--metrics-recording-only',
  '--password-store=basic', '--use-mock-keychain', '--mute-audio', '--hide-scrollbars',
  '--headless',
  ...(process.getuid() === 0 ? ['--no-sandbox'] : []),
];

class PipeClient {
  constructor(child) {
    this.out = child.stdio[3]; // Chromium reads commands from its fd 3
    this.nextId = 1;
    this.waiting = new Map();
    this.partial = [];
    child.stdio[4].on('data', (chunk) => this.received(chunk));
  }

  received(chunk) {
    let start = 0;
    for (let nul = chunk.indexOf(0); nul >= 0; nul = chunk.indexOf(0, start)) {
      this.partial.push(chunk.subarray(start, nul));
      const text = Buffer.concat(this.partial).toString('utf8');
      this.partial = [];
      start = nul + 1;
      const msg = JSON.parse(text);
      const waiter = msg.id !== undefined && this.waiting.get(msg.id);
      if (!waiter) continue; // an event, or a reply nobody waits for
      this.waiting.delete(msg.id);
      if (msg.error) waiter.reject(new Error(`${msg.error.code}: ${msg.error.message}`));
      else waiter.resolve(msg.result);
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  send(method, params, sessionId) {
    const id = this.nextId++;
    const msg = sessionId ? { id, method, params, sessionId } : { id, method, params };
    this.out.write(`${JSON.stringify(msg)}\0`);
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }
}

const args = parseArgs(process.argv.slice(2));
const n = Number(args.n || 1000);
const pipeN = Number(args['pipe-n'] || 4000);
const window = Number(args.window || 32);

const profile = mkdtempSync(join(tmpdir(), 'belay-floor-'));
const child = spawn(CHROME, [...FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe',
  'about:blank'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const exited = new Promise((resolve) => child.on('exit', resolve));
try {
  const cdp = new PipeClient(child);
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const evaluate = () => cdp.send('Runtime.evaluate', { expression: '1+1', returnByValue: true },
    sessionId);
  for (let i = 0; i < 50; i++) await evaluate();
  const evalUs = [];
  for (let i = 0; i < n; i++) {
    const start = nowUs();
    const { result } = await evaluate();
    evalUs.push(nowUs() - start);
    if (result.value !== 2) throw new Error(`1+1 gave ${JSON.stringify(result)}`);
  }
  let sent = 0;
  const pipeStart = nowUs();
  const worker = async () => {
    while (sent < pipeN) {
      sent++;
      await evaluate();
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const pipeSeconds = (nowUs() - pipeStart) / 1e6;
  report({ eval_us: evalUs, pipe_per_s: pipeN / pipeSeconds, pipe_window: window });
  cdp.send('Browser.close', {}).catch(() => {});
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
} catch (e) {
  child.kill('SIGKILL'); // the browser this script started, by its handle
  await exited;
  throw e;
} finally {
  rmSync(profile, { recursive: true, force: true });
}
