// The results as a markdown table, with the run's date, versions and
// machine; written between the markers of docs/performance.md so that the
// hand-written part of that file stays.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { CHROME, version } from './peers.mjs';
import { fmt } from './stats.mjs';

export const BEGIN = '<!-- bench/run: results begin -->';
export const END = '<!-- bench/run: results end -->';

function tryRun(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
                                     ...options }).trim();
  } catch {
    return 'unknown';
  }
}

// Which sources the build was made from: the build's CMakeCache names the
// source tree; a git tree gives its commit (and whether it had uncommitted
// changes), another tree may say what it is in a `.belay-source` file.
function source(build) {
  let dir = null;
  try {
    const cache = readFileSync(`${build}/CMakeCache.txt`, 'utf8');
    dir = cache.match(/^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$/m)?.[1] ?? null;
  } catch {
    return 'source unknown';
  }
  if (!dir) return 'source unknown';
  const git = tryRun('git', ['-C', dir, 'rev-parse', '--short', 'HEAD']);
  if (git !== 'unknown') {
    const dirty = tryRun('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no']);
    return `${git}${dirty && dirty !== 'unknown' ? ' with uncommitted changes' : ''}`;
  }
  if (existsSync(`${dir}/.belay-source`)) {
    return `${readFileSync(`${dir}/.belay-source`, 'utf8').trim()} in ${dir}`;
  }
  return `sources in ${dir}`;
}

export function environment(ctx) {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    belay: `${tryRun(ctx.belay, ['--version'])} (${source(ctx.build)}; build ${ctx.build})`,
    chromium: tryRun(CHROME, ['--version']),
    node: process.version,
    puppeteer: version('puppeteer'),
    playwright: version('playwright'),
    machine: `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${os.release()}`,
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

function side(c, spread, digits) {
  if (!c) return '–';
  if (c.s === null || c.s === undefined || !spread) return fmt(c.m, digits);
  return `${fmt(c.m, digits)} (${fmt(c.s, digits)})`;
}

function ratio(b, p) {
  if (!b || !p || !p.m) return '–';
  return `${(b.m / p.m).toFixed(2)}×`;
}

export function table(rows) {
  const lines = [
    '| Figure | unit | belay | Puppeteer | Playwright | minimal client (floor) | belay / Puppeteer | belay / Playwright | belay / floor |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const unit = `${r.unit} ${r.better === 'higher' ? '↑' : '↓'}${r.spread ? `, median (${r.spread})` : ''}`;
    const digits = r.unit === '%' ? 2 : undefined;
    const name = r.note ? `${r.name} — ${r.note}` : r.name;
    lines.push(`| ${name} | ${unit} | ${side(r.belay, r.spread, digits)} | ${side(r.puppeteer, r.spread, digits)} | ${side(r.playwright, r.spread, digits)} | ${side(r.floor, r.spread, digits)} | ${ratio(r.belay, r.puppeteer)} | ${ratio(r.belay, r.playwright)} | ${ratio(r.belay, r.floor)} |`);
  }
  return lines.join('\n');
}

export function results(env, rows, ctx, minutes, failures, warnings = []) {
  const out = [
    `Run of ${env.date} (\`bench/run ${ctx.argv.join(' ')}\`, ${minutes.toFixed(1)} min${ctx.opts.quick ? ', quick: fewer samples' : ''}).`,
    '',
    `- belay: ${env.belay}`,
    `- Chromium: ${env.chromium} (\`${CHROME}\`, the same binary for every side)`,
    `- Node ${env.node}, puppeteer-core ${env.puppeteer}, playwright-core ${env.playwright}`,
    `- Machine: ${env.machine}; load average at the start ${env.load}`,
    '',
    table(rows),
  ];
  if (warnings.length) {
    out.push('', 'Warnings from this run:', '');
    for (const w of warnings) out.push(`- ${w}`);
  }
  if (failures.length) {
    out.push('', 'Figures that failed in this run:', '');
    for (const f of failures) out.push(`- ${f}`);
  }
  return out.join('\n');
}

// Replaces the results between the markers (or appends them).
export function writeDoc(path, text) {
  const block = `${BEGIN}\n${text}\n${END}`;
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Performance\n\n';
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a >= 0 && b > a) {
    doc = doc.slice(0, a) + block + doc.slice(b + END.length);
  } else {
    doc = `${doc.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(path, doc);
}
