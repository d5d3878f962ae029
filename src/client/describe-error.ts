/**
 * What the client logs about an error: coded fields only, so a log entry never carries a secret.
 */
import { MaskinportenError } from '../errors.ts';

/** A description of an error for log entries: code, message, status, MP code — never a secret. */
export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof MaskinportenError)
    return { code: err.code, message: err.message, status: err.status, mpCode: err.mpCode };
  return { message: err instanceof Error ? err.message : String(err) };
}
