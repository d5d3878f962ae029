/**
 * What a benchmark hands back, and the one table every benchmark's figures are printed in. Benchmarks print;
 * they do not judge: a missed target is shown as such, never turned into a failure.
 */
import { cpus } from 'node:os';

/** One measured contender. */
export interface Figure {
  name: string;
  /** The figure: tokens per second (the median of the rounds). */
  tokensPerSecond: number;
  /** The slowest and fastest round, where the figure is a median over rounds. */
  range?: [number, number];
  /** Tokens (or operations) counted in the timed rounds. */
  count: number;
  /** Failed requests in the timed rounds and the warm-up; undefined where there are no requests. */
  errors?: number;
  /** CPU microseconds per token on the JavaScript thread and in all threads, where known. */
  cpuUs?: { main: number; all: number };
  note: string;
}

/** A ratio between two figures, with the target it is held to. */
export interface Ratio {
  name: string;
  value: number;
  /** The ratio the project aims for, e.g. 2 for "≥ 2×" or 0.7 for "≥ 70%". */
  target: number;
  style: 'times' | 'percent';
}

/** The outcome of one benchmark. */
export interface BenchReport {
  title: string;
  setup: string;
  /** Conditions of the run worth knowing when reading the figures (e.g. load from other processes). */
  conditions: string[];
  figures: Figure[];
  ratios: Ratio[];
  /** First error of each contender that had any. */
  problems: string[];
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function formatRatio(r: Ratio, value: number): string {
  return r.style === 'times' ? `${value.toFixed(2)}×` : `${(value * 100).toFixed(1)}%`;
}

/** The machine and runtime, for the table's heading. */
export function machine(): string {
  const cpu = cpus();
  return `Node ${process.version}, ${process.platform}/${process.arch}, ${cpu.length} CPU(s): ${cpu[0]?.model.trim() ?? 'unknown'}`;
}

/** Renders every report as one table of figures followed by one table of ratios. */
export function formatReports(reports: BenchReport[]): string {
  const lines: string[] = [machine()];
  for (const r of reports) {
    lines.push(`${r.title}: ${r.setup}`);
    for (const c of r.conditions) lines.push(`${r.title}: ${c}`);
  }
  const figures = reports.flatMap((r) => r.figures);
  const nameWidth = Math.max(
    9,
    ...figures.map((f) => f.name.length),
    ...reports.flatMap((r) => r.ratios.map((x) => x.name.length)),
  );
  lines.push('');
  const rows = [
    ['contender', 'tokens/s', 'rounds', 'count', 'errors', 'CPU µs/token', 'what'],
    ...figures.map((f) => [
      f.name,
      f.tokensPerSecond.toFixed(1),
      f.range ? `${f.range[0].toFixed(0)}–${f.range[1].toFixed(0)}` : '-',
      String(f.count),
      f.errors === undefined ? '-' : String(f.errors),
      f.cpuUs ? `${f.cpuUs.main.toFixed(0)} JS, ${f.cpuUs.all.toFixed(0)} all` : '-',
      f.note,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  widths[0] = nameWidth;
  for (const r of rows) {
    lines.push(
      r
        .map((cell, c) => (c === r.length - 1 ? cell : pad(cell, widths[c]!, c > 0)))
        .join('  ')
        .trimEnd(),
    );
  }
  const ratios = reports.flatMap((r) => r.ratios);
  if (ratios.length) {
    lines.push('');
    lines.push(`${pad('ratio', nameWidth)}  ${pad('value', 9, true)}  ${pad('target', 8, true)}  verdict`);
    for (const r of ratios) {
      const verdict = !Number.isFinite(r.value) ? 'n/a' : r.value >= r.target ? 'met' : 'NOT met';
      lines.push(
        `${pad(r.name, nameWidth)}  ${pad(Number.isFinite(r.value) ? formatRatio(r, r.value) : 'n/a', 9, true)}  ${pad(`≥ ${formatRatio(r, r.target)}`, 8, true)}  ${verdict}`,
      );
    }
  }
  const problems = reports.flatMap((r) => r.problems);
  if (problems.length) {
    lines.push('');
    for (const p of problems) lines.push(`ERROR ${p}`);
  }
  return lines.join('\n');
}

/** True when any contender of any report failed requests. */
export function hasErrors(reports: BenchReport[]): boolean {
  return reports.some((r) => r.problems.length > 0 || r.figures.some((f) => (f.errors ?? 0) > 0));
}
