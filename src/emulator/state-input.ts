/**
 * Checks of what callers register with the emulator — from code or over the admin routes, where anything can
 * arrive — so bad input is a 400 naming the field, never a crash.
 */
import { ArgumentError } from '../errors.ts';
import { isOrgNumber, MAX_TOKEN_LIFETIME_SECONDS } from '../protocol/constants.ts';
import { isDateMs } from './clock.ts';
import type { NewClient, ScopeDefinition } from './model.ts';

/**
 * A time given as a Date, epoch ms or (over the admin route) an ISO string, as epoch ms; undefined if invalid or
 * outside what a `Date` can hold (a `validTo` of 1e300 would otherwise break every token that carries it).
 */
export function epochMs(value: unknown): number | undefined {
  const ms =
    typeof value === 'number'
      ? value
      : value instanceof Date
        ? value.getTime()
        : typeof value === 'string'
          ? Date.parse(value)
          : Number.NaN;
  return isDateMs(ms) ? ms : undefined;
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
  const lifetime = tokenLifetimeOrDefault(input.accessTokenLifetime, defaultLifetime, 'accessTokenLifetime');
  if (input.clientId !== undefined && (typeof input.clientId !== 'string' || !input.clientId.trim())) {
    throw new ArgumentError(`clientId must be a non-empty string, got ${JSON.stringify(input.clientId)}`);
  }
  optionalString(input.clientName, 'clientName');
  optionalString(input.description, 'description');
  return { orgNo, lifetime };
}

/**
 * A client's token lifetime with the default applied: absent or 0 (as the self-service API reads it) means the
 * default. Throws unless it is a whole number of seconds from 0 to {@link MAX_TOKEN_LIFETIME_SECONDS}.
 */
export function tokenLifetimeOrDefault(value: number | undefined, defaultLifetime: number, name: string): number {
  if (value === undefined) return defaultLifetime;
  // Bounded as the client bounds a token's life: a longer-lived token would be refused by every client of this
  // package, and a huge one would give an `exp` no Date can hold.
  if (!Number.isInteger(value) || value < 0 || value > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new ArgumentError(
      `${name} must be a whole number of seconds from 1 to ${MAX_TOKEN_LIFETIME_SECONDS} (0 for the default), got ${String(value)}`,
      { setting: name },
    );
  }
  return value === 0 ? defaultLifetime : value;
}

const TOKEN_TYPES = new Set(['SELF_CONTAINED', 'OPAQUE']);
const VISIBILITIES = new Set(['PUBLIC', 'PRIVATE', 'INTERNAL']);
const BOOLEANS = [
  'accessibleForAll',
  'requiresUserConsent',
  'requiresUserAuthentication',
  'requiresPseudonymousTokens',
  'active',
] as const;

/** Throws unless a scope definition is well formed (name, lifetimes, enums, flags, owner). */
export function checkScopeDefinition(scope: ScopeDefinition): void {
  if (scope === null || typeof scope !== 'object') throw new ArgumentError('a scope must be an object with a name');
  if (typeof scope.name !== 'string' || !scope.name || /\s/.test(scope.name)) {
    throw new ArgumentError('scope name must be a non-empty string without whitespace');
  }
  for (const key of ['atMaxAge', 'authorizationMaxLifetime'] as const) {
    const v = scope[key];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0)) {
      throw new ArgumentError(`${key} must be a whole number of seconds ≥ 0, got ${String(v)}`, { setting: key });
    }
    if (key === 'atMaxAge' && (v as number) > MAX_TOKEN_LIFETIME_SECONDS) {
      throw new ArgumentError(
        `atMaxAge must be at most ${MAX_TOKEN_LIFETIME_SECONDS} s (0 for no limit of its own), got ${String(v)}`,
        { setting: key },
      );
    }
  }
  for (const key of BOOLEANS) {
    if (scope[key] !== undefined && typeof scope[key] !== 'boolean') {
      throw new ArgumentError(`${key} must be true or false, got ${JSON.stringify(scope[key])}`);
    }
  }
  optionalString(scope.description, 'description');
  optionalString(scope.longDescription, 'longDescription');
  optionalString(scope.delegationSource, 'delegationSource');
  if (scope.tokenType !== undefined && !TOKEN_TYPES.has(scope.tokenType)) {
    throw new ArgumentError(`tokenType must be SELF_CONTAINED or OPAQUE, got ${JSON.stringify(scope.tokenType)}`);
  }
  if (scope.visibility !== undefined && !VISIBILITIES.has(scope.visibility)) {
    throw new ArgumentError(`visibility must be PUBLIC, PRIVATE or INTERNAL, got ${JSON.stringify(scope.visibility)}`);
  }
  const types = scope.allowedIntegrationTypes;
  if (types !== undefined && (!Array.isArray(types) || types.some((t) => typeof t !== 'string' || !t))) {
    throw new ArgumentError('allowedIntegrationTypes must be an array of integration types, e.g. ["maskinporten"]');
  }
  if (scope.ownerOrgNo !== undefined && !isOrgNumber(scope.ownerOrgNo)) {
    throw new ArgumentError(
      `ownerOrgNo must be a nine-digit organisation number, got ${JSON.stringify(scope.ownerOrgNo)}`,
    );
  }
}
