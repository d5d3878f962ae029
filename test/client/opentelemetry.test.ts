/**
 * OpenTelemetry through the real `@opentelemetry/api`: recording tracer and meter providers are installed as the
 * global ones (what an SDK does), and the client's spans and counters are read back from them.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { MaskinportenClient } from '../../src/client.ts';
import { MaskinportenError } from '../../src/errors.ts';
import { useClient, useEmulator } from '../helpers/emulator.ts';

interface RecordedSpan {
  name: string;
  attributes: Record<string, unknown>;
  status?: { code: number; message?: string };
  exceptions: unknown[];
  ended: boolean;
}

const spans: RecordedSpan[] = [];
const counts: { name: string; value: number; attributes: Record<string, string> }[] = [];

const tracer = {
  startActiveSpan(name: string, fn: (span: unknown) => unknown) {
    const recorded: RecordedSpan = { name, attributes: {}, exceptions: [], ended: false };
    spans.push(recorded);
    return fn({
      setAttribute: (k: string, v: unknown) => {
        recorded.attributes[k] = v;
      },
      setStatus: (s: { code: number; message?: string }) => {
        recorded.status = s;
      },
      recordException: (e: unknown) => recorded.exceptions.push(e),
      end: () => {
        recorded.ended = true;
      },
    });
  },
};
const meter = {
  createCounter: (name: string) => ({
    add: (value: number, attributes: Record<string, string> = {}) => counts.push({ name, value, attributes }),
  }),
};

function total(name: string, result: string): number {
  return counts.filter((c) => c.name === name && c.attributes.result === result).reduce((n, c) => n + c.value, 0);
}

describe('client OpenTelemetry (real @opentelemetry/api, recording providers)', () => {
  const emulator = useEmulator();
  const created = useClient(emulator, { scopes: ['a:b', 'altinn:serviceowner/notifications.create'] });

  before(async () => {
    trace.setGlobalTracerProvider({ getTracer: () => tracer } as never);
    metrics.setGlobalMeterProvider({ getMeter: () => meter } as never);
  });

  it('counts cached, new and error requests, pre-seeded at 0, and spans each fetch and exchange', async () => {
    const client = new MaskinportenClient(created.settings, { altinnTest: true, retry: false });
    // The API is an optional peer loaded lazily; give that import a moment to finish.
    for (let i = 0; i < 50 && counts.length === 0; i++) await tick();
    for (const name of ['maskinporten_token_requests', 'maskinporten_altinn_exchange_requests']) {
      for (const result of ['cached', 'new', 'error']) {
        assert.ok(
          counts.some((c) => c.name === name && c.attributes.result === result && c.value === 0),
          `${name} ${result} pre-seeded`,
        );
      }
    }

    await client.getAccessToken(['a:b']);
    await client.getAccessToken(['a:b']);
    await assert.rejects(client.getAccessToken(['not:granted']), (err: unknown) => err instanceof MaskinportenError);
    await client.getAltinnExchangedToken(['altinn:serviceowner/notifications.create']);

    assert.equal(total('maskinporten_token_requests', 'new'), 2, 'a:b, then the exchange’s own Maskinporten token');
    assert.equal(total('maskinporten_token_requests', 'cached'), 1);
    assert.equal(total('maskinporten_token_requests', 'error'), 1, 'a 400 from Maskinporten counts as an error');
    assert.equal(total('maskinporten_altinn_exchange_requests', 'new'), 1);

    const fetches = spans.filter((s) => s.name === 'Maskinporten.GetAccessToken');
    assert.ok(fetches.length >= 2);
    assert.ok(fetches.every((s) => s.ended));
    assert.equal(fetches[0]!.attributes['maskinporten.client_id'], created.clientId);
    assert.equal(fetches[0]!.attributes['maskinporten.scopes'], 'a:b');
    const failed = fetches.find((s) => s.attributes['maskinporten.scopes'] === 'not:granted');
    assert.equal(failed?.status?.code, SpanStatusCode.ERROR);
    assert.equal(failed?.status?.message, 'ERR_INVALID_SCOPE');
    assert.equal(failed?.exceptions.length, 1);
    const exchange = spans.find((s) => s.name === 'Maskinporten.GetAltinnExchangedToken');
    assert.equal(exchange?.status?.code, SpanStatusCode.OK);
    // Spans carry ids and scopes, never a token.
    for (const s of spans) assert.doesNotMatch(JSON.stringify(s.attributes), /eyJ/);
  });

  it('records nothing with telemetry: false', async () => {
    const before = counts.length;
    const client = new MaskinportenClient(created.settings, { telemetry: false });
    await client.getAccessToken(['a:b']);
    await tick();
    assert.equal(counts.length, before);
  });
});
