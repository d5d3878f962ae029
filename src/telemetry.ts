/**
 * Optional OpenTelemetry: a span per token fetch and exchange, and counters labelled `cached`, `new` or `error`.
 * `@opentelemetry/api` is an optional peer, loaded lazily; without it (or with telemetry off) every call is a no-op.
 * Also the logger hook: any pino-compatible logger (`logger.warn(obj, msg)`), silent by default.
 */

/**
 * A pino-compatible logger; every method optional.
 * @see https://getpino.io/#/docs/api
 */
export interface Logger {
  /**
   * Detail for troubleshooting (a token fetched, a refresh started).
   *
   * @param obj - Structured fields; never a secret.
   * @param msg - The message.
   */
  debug?(obj: Record<string, unknown>, msg?: string): void;
  /**
   * A change worth knowing (settings reloaded).
   *
   * @param obj - Structured fields; never a secret.
   * @param msg - The message.
   */
  info?(obj: Record<string, unknown>, msg?: string): void;
  /**
   * A failure the library recovered from (a retry, a background refresh that failed, a store that is down).
   *
   * @param obj - Structured fields; never a secret.
   * @param msg - The message.
   */
  warn?(obj: Record<string, unknown>, msg?: string): void;
  /**
   * A failure the library could not recover from on its own.
   *
   * @param obj - Structured fields; never a secret.
   * @param msg - The message.
   */
  error?(obj: Record<string, unknown>, msg?: string): void;
}

/** Which operation a metric or span is about. */
export type Operation = 'token' | 'exchange';

/** Result label of the counters. */
export type Outcome = 'cached' | 'new' | 'error';

interface OtelApi {
  trace: {
    getTracer(name: string, version?: string): OtelTracer;
    getTracerProvider(): { getDelegateTracer?(name: string, version?: string): OtelTracer | undefined };
  };
  metrics: { getMeter(name: string, version?: string): OtelMeter };
  SpanStatusCode: { ERROR: number; OK: number };
}
interface OtelSpan {
  setAttribute(k: string, v: string | number | boolean): void;
  setStatus(s: { code: number; message?: string }): void;
  recordException(e: unknown): void;
  end(): void;
}
interface OtelTracer {
  startActiveSpan<T>(name: string, fn: (span: OtelSpan) => T): T;
}
interface OtelMeter {
  createCounter(
    name: string,
    options?: { description?: string },
  ): { add(n: number, attrs?: Record<string, string>): void };
}

/** The telemetry the client reports to. */
export interface Telemetry {
  /**
   * Runs `fn` inside a span named `name` with `attributes` (`fn` may add more, e.g. once it knows where a token
   * came from); marks the span as an error when `fn` throws.
   */
  span<T>(
    name: string,
    attributes: Record<string, string>,
    fn: (setAttribute: (key: string, value: string) => void) => Promise<T>,
  ): Promise<T>;
  /** Counts one request of `operation` with `outcome` and, when known, where the token came from (`source`). */
  count(operation: Operation, outcome: Outcome, source?: string): void;
}

const COUNTER_NAMES: Record<Operation, string> = {
  token: 'maskinporten_token_requests',
  exchange: 'maskinporten_altinn_exchange_requests',
};

/** Telemetry that does nothing. */
export const noTelemetry: Telemetry = {
  span: (_name, _attrs, fn) => fn(() => undefined),
  count: () => undefined,
};

/**
 * Creates telemetry. `true` or left out: use `@opentelemetry/api` when it is installed (its global providers decide
 * where data goes); `false`: none. Loading is asynchronous; calls before it completes are not recorded.
 */
export function createTelemetry(enabled: boolean | undefined, version: string | (() => string)): Telemetry {
  if (enabled === false) return noTelemetry;
  let api: OtelApi | undefined;
  let tracer: OtelTracer | undefined;
  /**
   * Whether a tracer provider is registered: until one is, the API's tracer is a no-op whose spans cost their
   * objects and a context switch and record nothing, so none is started. Undefined when the API cannot tell.
   */
  let tracing: (() => boolean) | undefined;
  let counters: Record<Operation, { add(n: number, attrs?: Record<string, string>): void }> | undefined;
  // The module name is kept in a variable so bundlers and type-checkers do not require the optional peer.
  const moduleName = '@opentelemetry/api';
  import(moduleName).then(
    (mod: OtelApi) => {
      api = mod;
      const v = typeof version === 'function' ? version() : version;
      tracer = mod.trace.getTracer('maskinporten', v);
      // The global provider is a proxy until an SDK registers behind it; then its delegate tracer exists (and once
      // it does, every span goes to it, as the API's own proxy tracer would).
      const provider = mod.trace.getTracerProvider();
      if (typeof provider.getDelegateTracer === 'function') {
        let registered = false;
        tracing = () => (registered ||= provider.getDelegateTracer!('maskinporten', v) !== undefined);
      }
      const meter = mod.metrics.getMeter('maskinporten', v);
      counters = {
        token: meter.createCounter(COUNTER_NAMES.token, { description: 'Maskinporten token requests by result' }),
        exchange: meter.createCounter(COUNTER_NAMES.exchange, { description: 'Altinn token exchanges by result' }),
      };
      // Pre-seed every series at 0 so dashboards show them before the first request.
      for (const op of ['token', 'exchange'] as const)
        for (const result of ['cached', 'new', 'error']) counters[op].add(0, { result });
    },
    () => undefined, // not installed: telemetry stays off
  );
  return {
    span(name, attributes, fn) {
      if (!tracer || !api || (tracing !== undefined && !tracing())) return fn(() => undefined);
      const { SpanStatusCode } = api;
      return tracer.startActiveSpan(name, async (span) => {
        for (const [k, v] of Object.entries(attributes)) span.setAttribute(k, v);
        try {
          const result = await fn((k, v) => span.setAttribute(k, v));
          span.setStatus({ code: SpanStatusCode.OK });
          return result;
        } catch (err) {
          span.recordException(err);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string })?.code ?? 'error' });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    count(operation, outcome, source) {
      counters?.[operation].add(1, source === undefined ? { result: outcome } : { result: outcome, source });
    },
  };
}
