// The benchmark runner behind bench/run: starts the fixture server, runs the
// chosen figures (belay and its peers interleaved), prints the markdown
// table and, for a run of every figure, writes it into docs/performance.md.
//
//   node bench/node/run.mjs --build DIR [--quick] [--write|--no-write] [--n N]
//                           [all|micro|forms|cold|recovery|idle|parallel|store|reload ...]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH } from './belay.mjs';
import * as figures from './figures.mjs';
import { killAll, start, stop } from './procs.mjs';
import { environment, results, writeDoc } from './report.mjs';

const ALL = ['micro', 'forms', 'cold', 'recovery', 'idle', 'parallel', 'store', 'reload'];

const FULL = {
  rounds: 3, evals: 3000, batch: 50, rawEvals: 1000, navs: 200, shots: 50, forms: 300, pipeN: 4000,
  window: 32, coldRounds: 5, kills: 10, itemSleep: 50, idleMs: 10000, profiles: 8,
  parallelMs: 20000, storeItems: 100000, commits: 2000, reopens: 5, edits: 30,
};
const QUICK = {
  ...FULL, rounds: 1, evals: 500, rawEvals: 500, navs: 40, shots: 10, forms: 60, pipeN: 1000,
  coldRounds: 2, kills: 3, idleMs: 5000, parallelMs: 8000, storeItems: 20000, commits: 200,
  reopens: 2, edits: 6,
};

function usage() {
  console.error(`usage: bench/run [--quick] [--build DIR] [--no-build] [--write|--no-write] [--n N]
                 [all | ${ALL.join(' | ')} ...]
  all (default)  every figure; writes docs/performance.md
  recovery       SIGKILL → next item ok (--n kills, default 10) beside cold
                 launch to first load (belay and Puppeteer, --n rounds)
  --quick        fewer samples (a few minutes)
  --n N          recovery: kills and cold rounds`);
  process.exit(2);
}

function parse(argv) {
  const o = { build: null, quick: false, write: null, n: null, figures: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--build') o.build = argv[++i];
    else if (a === '--quick') o.quick = true;
    else if (a === '--write') o.write = true;
    else if (a === '--no-write') o.write = false;
    else if (a === '--n') o.n = Number(argv[++i]);
    else if (a === 'all') o.figures.push(...ALL);
    else if (ALL.includes(a)) o.figures.push(a);
    else usage();
  }
  if (!o.build || (o.n !== null && !(o.n >= 1))) usage();
  if (o.figures.length === 0) o.figures = [...ALL];
  return o;
}

function startFixture(build) {
  const child = start(join(build, 'belay-fixture'), []);
  return new Promise((resolvePort, reject) => {
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      const m = text.match(/port=(\d+)/);
      if (m) resolvePort({ child, port: Number(m[1]) });
    });
    child.exited.then((e) => reject(new Error(`belay-fixture exited ${e.code}: ${child.stderrText}`)));
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const a = parse(argv);
  const every = ALL.every((f) => a.figures.includes(f));
  const opts = { ...(a.quick ? QUICK : FULL), quick: a.quick };
  const only = a.figures.length === 1 && a.figures[0] === 'recovery';
  if (a.n !== null) opts.kills = a.n;
  const root = resolve(BENCH, '..');
  const build = resolve(a.build);
  const work = mkdtempSync(join(tmpdir(), 'belay-bench-'));
  const fixture = await startFixture(build);
  const ctx = {
    root, build, work, opts, argv,
    belay: join(build, 'belay'),
    base: `http://127.0.0.1:${fixture.port}`,
    log: (s) => process.stderr.write(`[bench] ${s}\n`),
    warnings: new Map(),
    warn: (s) => {
      ctx.warnings.set(s, (ctx.warnings.get(s) ?? 0) + 1);
      ctx.log(`warning: ${s}`);
    },
  };
  const env = environment(ctx);
  const began = Date.now();
  const rows = [];
  const failures = [];
  for (const f of a.figures) {
    try {
      if (f === 'recovery') {
        rows.push(...await figures.recovery(ctx, opts.kills));
        if (only) {
          rows.push(...await figures.cold(ctx, a.n ?? opts.kills, ['puppeteer']));
        }
      } else {
        rows.push(...await figures[f](ctx));
      }
    } catch (e) {
      failures.push(`${f}: ${String(e.message).split('\n')[0]}`);
      ctx.log(`${f} failed: ${e.stack || e}`);
    }
  }
  await stop(fixture.child, 'SIGTERM');
  const warnings = [...ctx.warnings].map(([w, n]) => (n > 1 ? `${w} (${n} times)` : w));
  const text = results(env, rows, ctx, (Date.now() - began) / 60000, failures, warnings);
  process.stdout.write(`\n${text}\n`);
  if (a.write ?? every) {
    const doc = join(root, 'docs', 'performance.md');
    writeDoc(doc, text);
    ctx.log(`wrote ${doc}`);
  }
  rmSync(work, { recursive: true, force: true });
  return failures.length ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll('SIGTERM');
    process.exit(130);
  });
}
main()
  .then((code) => process.exit(code))
  .catch((e) => {
    console.error(e.stack || e);
    killAll();
    process.exit(1);
  });
