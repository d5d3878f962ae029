/** Benchmark knobs from environment variables, checked against their allowed range. */

/** The number in `process.env[name]`, or `fallback` when unset; throws when outside `min`–`max`. */
export function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be ${min}–${max}`);
  return value;
}
