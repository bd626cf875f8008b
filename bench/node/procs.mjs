// Processes the benchmark starts, and what it reads about them: every child
// is tracked by PID and ended by that PID only; /proc gives CPU time and
// RSS; belay's events.jsonl and the peers' stdout are read as JSON lines.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';

const children = new Set();

export const epochMs = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Spawns and tracks a child; `exited` resolves with { code, signal }.
export function start(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  const spawnedAt = epochMs();
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (e) => {
      children.delete(child);
      resolve({ code: -1, signal: null, error: e });
    });
  });
  child.spawnedAt = spawnedAt;
  child.stderrText = '';
  child.stderr.on('data', (d) => {
    if (child.stderrText.length < 20000) child.stderrText += d;
  });
  return child;
}

// Ends a child we started: `signal` first, SIGKILL after `graceMs`.
export async function stop(child, signal = 'SIGTERM', graceMs = 15000) {
  if (!children.has(child)) return child.exited;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already gone
  }
  const timer = setTimeout(() => {
    try {
      if (children.has(child)) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  const result = await child.exited;
  clearTimeout(timer);
  return result;
}

// Last resort on exit: every child still running, by its own PID.
export function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    try {
      process.kill(child.pid, signal);
    } catch {
      // already gone
    }
  }
}

// Calls `onLine(json)` for every JSON line a child prints on stdout.
export function jsonLines(child, onLine) {
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    let value;
    try {
      value = JSON.parse(line);
    } catch {
      return;
    }
    onLine(value);
  });
}

// A stream of JSON records with waiting: `wait(pred, timeoutMs)` resolves
// with the first record at or after `from` (an index) that matches.
export class Records {
  constructor() {
    this.items = [];
    this.waiters = [];
  }
  push(record) {
    this.items.push(record);
    this.waiters = this.waiters.filter((w) => {
      if (this.items.length - 1 >= w.from && w.pred(record)) {
        clearTimeout(w.timer);
        w.resolve({ record, index: this.items.length - 1 });
        return false;
      }
      return true;
    });
  }
  wait(pred, timeoutMs, from = 0, what = 'record') {
    for (let i = from; i < this.items.length; i++) {
      if (pred(this.items[i])) return Promise.resolve({ record: this.items[i], index: i });
    }
    return new Promise((resolve, reject) => {
      const w = { pred, from, resolve };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
  count(pred) {
    return this.items.filter(pred).length;
  }
}

// Follows a growing events.jsonl into `records` every `periodMs`.
export function followEvents(path, records, periodMs = 10) {
  let offset = 0;
  let partial = '';
  const buffer = Buffer.alloc(1 << 16);
  const timer = setInterval(() => {
    if (!existsSync(path)) return;
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, offset);
        if (n <= 0) break;
        offset += n;
        partial += buffer.toString('utf8', 0, n);
      }
    } finally {
      closeSync(fd);
    }
    const lines = partial.split('\n');
    partial = lines.pop();
    for (const line of lines) {
      if (!line) continue;
      const e = JSON.parse(line);
      e.t = Date.parse(e.ts);
      records.push(e);
    }
  }, periodMs);
  return () => clearInterval(timer);
}

// CPU seconds of one process (every thread), or null once it is gone. The
// scheduler's nanosecond counters, since /proc/PID/stat counts 10 ms ticks
// and an idle host uses less than one tick in ten seconds.
export function cpuSeconds(pid) {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns / 1e9;
  } catch {
    return null;
  }
}

export function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

export function rssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = status.match(/^VmRSS:\s+(\d+) kB/m);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

// Every live descendant of `pid` (the browsers a host started and theirs).
export function descendants(pid) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = parentOf(Number(name));
    if (p !== null) parent.set(Number(name), p);
  }
  const out = [];
  const frontier = [pid];
  while (frontier.length) {
    const p = frontier.pop();
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        frontier.push(child);
      }
    }
  }
  return out;
}

// CPU seconds of a host and of its descendants, at this moment.
export function treeCpu(pid) {
  const host = cpuSeconds(pid) ?? 0;
  let browsers = 0;
  for (const d of descendants(pid)) browsers += cpuSeconds(d) ?? 0;
  return { host, browsers, at: epochMs() };
}

export function fileExists(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
