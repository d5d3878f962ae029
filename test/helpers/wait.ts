/**
 * The one polling wait of the suite: for work a component does in the background (a refresh, a file poll, an
 * abandoned request reaching the emulator), which no caller awaits.
 */
import assert from 'node:assert/strict';

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
