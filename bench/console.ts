/**
 * Emulator console benchmark: the page's size (the HTML of a console with a realistic state and request log, plus
 * its script modules and style sheet, raw and gzipped) against its budget of 100 KB gzipped, and its first paint
 * (First Contentful Paint in Debian's chromium, headless, fresh page per load, loopback).
 *
 * The report's figures read "per second": the first-paint figure's rate column is loads per second (1000 / median
 * FCP ms); the size is in the note. The ratios are budget / size (≥ 1× means within the budget) and 1000 ms / FCP
 * median (≥ 1× means a first paint within a second).
 *
 * Run alone: `npx node bench/console.ts` (build first: `npm run build`). Knobs (environment): BENCH_CONSOLE_LOADS
 * (15), BENCH_CONSOLE_ENTRIES (200 logged requests before measuring).
 */
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { CONSOLE_BUDGET_GZIP_BYTES as BUDGET_GZIP_BYTES } from '../src/emulator/console/assets.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { BackgroundLoad } from './lib/cpu.ts';
import { type BenchReport, formatReports, hasErrors } from './lib/report.ts';
import { median } from './lib/stats.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FIRST_PAINT_TARGET_MS = 1000;

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be a whole number ${min}–${max}`);
  return value;
}

/** Runs the console benchmark. */
export async function runConsoleBenchmark(): Promise<BenchReport> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (set CHROMIUM_PATH)`);
  const loads = envInt('BENCH_CONSOLE_LOADS', 15, 3, 201);
  const entries = envInt('BENCH_CONSOLE_ENTRIES', 200, 0, 1000);
  const emulator = await startEmulator();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const problems: string[] = [];
  try {
    for (let i = 0; i < 5; i++) await emulator.createClient({ scopes: [`bench:scope${i}`], clientName: `bench ${i}` });
    // A realistic log: discovery, key set and refused token requests, each rendered with its explanation.
    for (let i = 0; i < entries; i++) {
      const path = ['/.well-known/oauth-authorization-server', '/jwk', '/token'][i % 3]!;
      await fetch(`${emulator.url}${path}`, i % 3 === 2 ? { method: 'POST' } : {}).then((r) => r.arrayBuffer());
    }
    const html = Buffer.from(await (await fetch(`${emulator.url}/`)).arrayBuffer());
    const assets: Buffer[] = [];
    for (const name of ['main.js', 'api.js', 'forms.js', 'jwt.js', 'keys.js', 'live.js', 'try-it.js', 'console.css']) {
      const res = await fetch(`${emulator.url}/console/${name}`);
      if (!res.ok) problems.push(`console asset ${name} answered ${res.status}: build first (npm run build)`);
      assets.push(Buffer.from(await res.arrayBuffer()));
    }
    const raw = html.length + assets.reduce((n, a) => n + a.length, 0);
    const assetsGzip = assets.reduce((n, a) => n + gzipSync(a, { level: 9 }).length, 0);
    const gzip = gzipSync(html, { level: 9 }).length + assetsGzip;

    const paints: number[] = [];
    let errors = 0;
    // The browser's processes count as the benchmark's own only loosely: what else runs shows in the conditions.
    const load = new BackgroundLoad([]);
    for (let i = 0; i < loads + 2; i++) {
      const page = await browser.newPage();
      try {
        await page.goto(`${emulator.url}/`, { waitUntil: 'load' });
        const fcp = (await page.evaluate(
          `performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null`,
        )) as number | null;
        // The first two loads warm the browser's and the server's caches.
        if (i >= 2) {
          if (fcp === null) errors++;
          else paints.push(fcp);
        }
      } finally {
        await page.close();
      }
    }
    const background = load.describe();
    if (paints.length === 0) problems.push('no first-contentful-paint entry in any load');
    const med = paints.length ? median(paints) : Number.NaN;
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    return {
      title: 'console',
      setup: `${CHROMIUM} headless via playwright-core; emulator console with 6 integrations and ${entries} logged requests; ${loads} fresh page loads after 2 warm-ups`,
      conditions: [
        `page size: ${kb(raw)} raw, ${kb(gzip)} gzipped (HTML ${kb(html.length)}, assets ${kb(assetsGzip)} gzipped; budget ${kb(BUDGET_GZIP_BYTES)} gzipped)`,
        ...(background === undefined ? [] : [`during the loads (the browser included): ${background}`]),
      ],
      figures: [
        {
          name: 'console first paint',
          tokensPerSecond: 1000 / med,
          range: [1000 / Math.max(...paints), 1000 / Math.min(...paints)],
          count: paints.length,
          errors,
          note: `loads/s: First Contentful Paint median ${med.toFixed(1)} ms (${Math.min(...paints).toFixed(1)}–${Math.max(...paints).toFixed(1)} ms); page ${kb(gzip)} gzipped`,
        },
      ],
      ratios: [
        {
          name: 'console size budget / page size (gzipped)',
          value: BUDGET_GZIP_BYTES / gzip,
          target: 1,
          style: 'times',
        },
        { name: 'console 1 s / first paint', value: FIRST_PAINT_TARGET_MS / med, target: 1, style: 'times' },
      ],
      problems,
    };
  } finally {
    await browser.close();
    await emulator.close();
  }
}

if (import.meta.main) {
  const report = await runConsoleBenchmark();
  console.log(formatReports([report]));
  process.exitCode = hasErrors([report]) ? 1 : 0;
}
