// The two peers behind one small interface, so every figure runs the same
// steps in Puppeteer and in Playwright. Both launch /usr/bin/chromium (or
// BELAY_CHROME) with the flags belay's launcher uses; neither downloads a
// browser.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const CHROME = process.env.BELAY_CHROME || '/usr/bin/chromium';

// The flags every launch in the benchmark uses (belay adds these and more
// quieting flags itself, see host/chrome/launcher.cpp).
export const FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
];

export const LIBS = ['puppeteer', 'playwright'];

// A launched browser with one page: { lib, browser, page, pid, evaluate,
// navigate, screenshot, close }.
export async function launch(lib) {
  if (lib === 'puppeteer') {
    const puppeteer = require('puppeteer-core');
    const browser = await puppeteer.launch({
      executablePath: CHROME,
      headless: true,
      args: FLAGS,
    });
    const page = await browser.newPage();
    return {
      lib,
      browser,
      page,
      pid: browser.process().pid,
      evaluate: (js) => page.evaluate(js),
      navigate: (url) => page.goto(url, { waitUntil: 'load' }),
      screenshot: (path) => page.screenshot({ path }),
      close: () => browser.close(),
    };
  }
  if (lib === 'playwright') {
    const { chromium } = require('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROME,
      headless: true,
      args: FLAGS,
    });
    const page = await browser.newPage();
    return {
      lib,
      browser,
      page,
      // Playwright does not expose the process; the benchmarks that kill a
      // browser use Puppeteer only.
      pid: null,
      evaluate: (js) => page.evaluate(js),
      navigate: (url) => page.goto(url, { waitUntil: 'load' }),
      screenshot: (path) => page.screenshot({ path }),
      close: () => browser.close(),
    };
  }
  throw new Error(`unknown peer ${lib}`);
}

export function version(lib) {
  const pkg = lib === 'puppeteer' ? 'puppeteer-core' : 'playwright-core';
  return require(`${pkg}/package.json`).version;
}

export function nowUs() {
  return Number(process.hrtime.bigint()) / 1000;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Command-line flags as { name: value } ("--n 200" → { n: "200" }).
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) continue;
    const key = argv[i].slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      out[key] = true;
    } else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

// One JSON line on stdout: how every peer script reports to the runner.
export function report(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
