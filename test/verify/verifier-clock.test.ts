/**
 * The verifier's key requests time out on its clock: with a `ManualClock`, a metadata or key server that never
 * answers is given up on exactly `timeoutMs` of clock time after each request, and no real time passes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/manual-clock.ts';
import { createTokenVerifier, TokenVerificationError } from '../../src/verify/index.ts';
import { type IssuerServer, startIssuerServer } from './issuer-server.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createTokenVerifier on an injected clock', () => {
  let issuer: IssuerServer;
  before(async () => {
    issuer = await startIssuerServer();
  });
  after(() => issuer.close());

  it('times out each key request after timeoutMs of clock time', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    /** When each request started and was aborted (clock ms). */
    const requests: { started: number; aborted?: number }[] = [];
    // A server that accepts the request and never answers: the request ends only when its signal aborts.
    const unanswered: typeof fetch = (_input, init) => {
      const entry: { started: number; aborted?: number } = { started: clock.monotonic() };
      requests.push(entry);
      const signal = init?.signal;
      return new Promise((_, reject) => {
        signal?.addEventListener('abort', () => {
          entry.aborted = clock.monotonic();
          reject(signal.reason);
        });
      });
    };
    const verifier = createTokenVerifier({ authority: issuer.issuer, clock, fetch: unanswered, timeoutMs: 5000 });
    const token = issuer.sign(issuer.claims(Math.floor(clock.now() / 1000)));
    let outcome: unknown;
    verifier.verify(token).then(
      () => {
        outcome = 'accepted';
      },
      (err: unknown) => {
        outcome = err;
      },
    );
    for (let moves = 0; outcome === undefined; moves++) {
      assert.ok(moves < 10, 'the verifier kept waiting');
      for (let i = 0; i < 20; i++) await turn();
      if (outcome !== undefined) break;
      const open = requests.filter((r) => r.aborted === undefined);
      assert.equal(open.length, 1, 'one request waits at a time');
      clock.advance(4999);
      await turn();
      assert.equal(open[0]!.aborted, undefined, 'not before timeoutMs');
      clock.advance(1);
    }
    assert.ok(outcome instanceof TokenVerificationError, `expected a coded refusal, got ${String(outcome)}`);
    assert.equal(outcome.code, 'ERR_KEYS_UNAVAILABLE');
    assert.ok(requests.length >= 1);
    for (const r of requests) assert.equal(r.aborted! - r.started, 5000, 'each request cut at exactly 5 s');
  });

  it('leaves no timer queued once the keys have been fetched', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const verifier = createTokenVerifier({ authority: issuer.issuer, clock, timeoutMs: 5000 });
    const token = issuer.sign(issuer.claims(Math.floor(clock.now() / 1000)));
    await verifier.verify(token);
    assert.equal(clock.pending, 0, "the key requests' timeouts were disarmed");
  });
});
