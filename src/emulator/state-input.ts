/**
 * Checks of what callers register with the emulator — from code or over the admin routes, where anything can
 * arrive — so bad input is a 400 naming the field, never a crash.
 */
import { ArgumentError } from '../errors.ts';
import { isOrgNumber } from '../protocol/constants.ts';
import type { NewClient } from './state.ts';

/** A time given as a Date, epoch ms or (over the admin route) an ISO string, as epoch ms; undefined if invalid. */
export function epochMs(value: unknown): number | undefined {
  const ms =
    typeof value === 'number'
      ? value
      : value instanceof Date
        ? value.getTime()
        : typeof value === 'string'
          ? Date.parse(value)
          : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

export const optionalString = (value: unknown, name: string): void => {
  if (value !== undefined && typeof value !== 'string') {
    throw new ArgumentError(`${name} must be a string, got ${JSON.stringify(value)}`);
  }
};

/** Throws unless `scopes` is an array of non-empty scope names without whitespace. */
export function checkScopes(scopes: unknown): void {
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !s || /\s/.test(s))) {
    throw new ArgumentError('scopes must be an array of non-empty scope names without whitespace');
  }
}

/** Checks a new client's fields; returns its organisation number and token lifetime with defaults applied. */
export function checkNewClient(
  input: NewClient,
  defaultOrgNo: string,
  defaultLifetime: number,
): { orgNo: string; lifetime: number } {
  checkScopes(input.scopes);
  const orgNo = input.orgNo ?? defaultOrgNo;
  if (!isOrgNumber(orgNo))
    throw new ArgumentError(`orgNo must be a nine-digit organisation number, got ${JSON.stringify(orgNo)}`);
  const lifetime = input.accessTokenLifetime ?? defaultLifetime;
  if (!Number.isInteger(lifetime) || lifetime < 1) {
    throw new ArgumentError(`accessTokenLifetime must be a positive whole number of seconds, got ${String(lifetime)}`);
  }
  if (input.clientId !== undefined && (typeof input.clientId !== 'string' || !input.clientId.trim())) {
    throw new ArgumentError(`clientId must be a non-empty string, got ${JSON.stringify(input.clientId)}`);
  }
  optionalString(input.clientName, 'clientName');
  optionalString(input.description, 'description');
  return { orgNo, lifetime };
}
