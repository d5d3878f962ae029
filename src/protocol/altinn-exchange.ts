/**
 * The Altinn token exchange (Altinn's token exchange docs) as pure functions: the request for a Maskinporten token, and
 * the reading of the answer, which is the bare JWT as text or the same JWT as a JSON string.
 */
import {
  AltinnExchangeError,
  InvalidResponseError,
  redactedJsonError,
  serverText,
  UnavailableError,
} from '../errors.ts';
import { ALTINN_EXCHANGE_PATH } from './constants.ts';

/** Options of the exchange call. */
export interface ExchangeOptions {
  /** Adds `?test=true`: Digdir's service-owner tokens act as Testdepartementet (`ttd`). */
  test?: boolean;
  /** Sent as `Ocp-Apim-Subscription-Key` when set. */
  subscriptionKey?: string;
}

/** The URL and headers of the exchange request. */
export function exchangeRequest(platformUrl: string, maskinportenToken: string, options: ExchangeOptions = {}) {
  const url = `${platformUrl.replace(/\/+$/, '')}${ALTINN_EXCHANGE_PATH}${options.test ? '?test=true' : ''}`;
  const headers: Record<string, string> = {
    authorization: `Bearer ${maskinportenToken}`,
    accept: 'text/plain, application/json',
  };
  if (options.subscriptionKey) headers['ocp-apim-subscription-key'] = options.subscriptionKey;
  return { url, headers };
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Reads a 200 answer: a bare JWT, or a JSON-quoted one. */
export function processExchangeSuccess(text: string): string {
  let token = text.trim();
  if (token.startsWith('"')) {
    try {
      token = JSON.parse(token) as string;
    } catch (err) {
      throw new InvalidResponseError('Altinn answered the exchange with a malformed JSON string', {
        cause: redactedJsonError(err),
        status: 200,
      });
    }
  }
  if (typeof token !== 'string' || !JWT.test(token)) {
    throw new InvalidResponseError('Altinn answered the exchange with something that is not a JWT', { status: 200 });
  }
  return token;
}

/** Maps a non-200 answer of the exchange to the error to throw. */
export function exchangeErrorFromResponse(
  status: number,
  text: string,
  platformUrl: string,
): AltinnExchangeError | UnavailableError {
  let detail = '';
  let traceId: string | undefined;
  try {
    // ASP.NET Core ProblemDetails: `detail` when there is one (a 401 has none), else `title`; `traceId` for support.
    const body = JSON.parse(text) as { detail?: unknown; title?: unknown; traceId?: unknown } | null;
    detail = typeof body?.detail === 'string' ? body.detail : typeof body?.title === 'string' ? body.title : '';
    if (typeof body?.traceId === 'string' && body.traceId.length <= 100) traceId = body.traceId;
  } catch {
    detail = text.length < 200 && !/^\s*</.test(text) ? text.trim() : '';
  }
  detail = serverText(detail);
  if (traceId !== undefined) traceId = serverText(traceId);
  if (status === 429)
    return new UnavailableError('ERR_RATE_LIMITED', 'Altinn is rate limiting the exchange (429)', { status });
  if (status >= 500) return new UnavailableError('ERR_SERVER', `Altinn's exchange failed with ${status}`, { status });
  const hint =
    status === 401
      ? `Altinn at ${platformUrl} did not accept the Maskinporten token: check that altinnPlatformUrl belongs to the same environment as the authority (test ↔ tt02, prod ↔ prod)`
      : status === 410
        ? 'Altinn no longer supports enterprise-user authentication'
        : `Altinn refused the exchange with ${status}`;
  return new AltinnExchangeError(`${hint}${detail ? ` (${detail})` : ''}`, {
    status,
    ...(detail ? { errorDescription: detail } : {}),
    ...(traceId === undefined ? {} : { traceId }),
  });
}
