/**
 * The suite's polling waits: for work a component does in the background (a refresh, a file poll, an abandoned
 * request reaching the emulator), which no caller awaits. {@link waitFor} checks in-process state every event-loop
 * turn; {@link until} checks what another process or a server holds (an async check), on a real-time limit.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until `predicate` holds, checking it once per event-loop turn with a 1 ms timer in between. Fails with
 * `what` after `turns` checks (5000 by default: at least five seconds, longer on a loaded machine, since the limit
 * counts checks, not elapsed time).
 */
export async function waitFor(predicate: () => boolean, what: string, turns = 5000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (predicate()) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * Waits until `check` resolves true, checking every `everyMs` (10 by default), for state outside this process (a
 * replica's answer, what Redis holds). Fails with `what` once `limitMs` (10 s by default) of real time have passed.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  { limitMs = 10_000, everyMs = 10 }: { limitMs?: number; everyMs?: number } = {},
): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
