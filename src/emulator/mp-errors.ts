/**
 * Maskinporten's error answers (Digdir's error list): an OAuth error body whose `error_description` mirrors the real
 * text and ends with a trace id, and whose `error_uri` ends with the MP code.
 */

/** The OAuth `error` values the emulated token endpoint answers with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'invalid_authorization_details'
  | 'invalid_altinn_customer_configuration'
  | 'forbidden'
  | 'server_error'
  | 'temporarily_unavailable';

/** A rule the token endpoint enforces was broken. Thrown inside the emulator, rendered by {@link renderMpError}. */
export class MpError extends Error {
  readonly status: number;
  readonly error: OAuthErrorCode;
  /** The MP code the rule belongs to (kept in the request log even when the answer names none). */
  readonly mpCode: string;
  readonly description: string;
  /** False for the answers the live server sends without an `error_uri` (live, not as documented). */
  readonly withUri: boolean;

  constructor(status: number, error: OAuthErrorCode, mpCode: string, description: string, withUri = true) {
    super(description);
    this.status = status;
    this.error = error;
    this.mpCode = mpCode;
    this.description = description;
    this.withUri = withUri;
  }
}

/** The JSON body of a Maskinporten error. */
export interface MpErrorBody {
  error: string;
  error_description: string;
  error_uri?: string;
}

/** Renders an {@link MpError} the way Maskinporten does: with an `error_uri` ending in the MP code, unless live has none. */
export function renderMpError(err: MpError, origin: string, traceId: string): MpErrorBody {
  const body: MpErrorBody = { error: err.error, error_description: `${err.description} (trace_id: ${traceId})` };
  if (err.withUri) body.error_uri = `${origin}/errors/${err.mpCode}`;
  return body;
}

const AUTH_FAILED = 'Invalid assertion. Client authentication failed.';

/** Constructors for each documented failure, so the rules read as the error table does. */
export const mp = {
  badRequest: (detail: string) =>
    new MpError(400, 'invalid_request', 'MP-011', `Invalid assertion. Invalid parameter value. ${detail}`),
  unsupportedGrantType: (value: string) =>
    new MpError(
      400,
      'unsupported_grant_type',
      'MP-011',
      `Invalid request. Unsupported grant_type ${JSON.stringify(value)}: use urn:ietf:params:oauth:grant-type:jwt-bearer.`,
    ),
  clientAuthFailed: (detail: string) => new MpError(400, 'invalid_grant', 'MP-100', `${AUTH_FAILED} ${detail}`),
  invalidAudience: (detail: string) =>
    new MpError(400, 'invalid_grant', 'MP-110', `${AUTH_FAILED} Invalid JWT claim aud. ${detail}`),
  invalidCertificate: (detail: string) =>
    new MpError(
      400,
      'invalid_grant',
      'MP-120',
      `${AUTH_FAILED} The JWT is signed with an invalid certificate. ${detail}`,
    ),
  /** The live text for a kid the client has not registered, sent without an MP code (live, not documented). */
  unknownKid: () =>
    new MpError(400, 'invalid_grant', 'MP-100', `${AUTH_FAILED} Unknown key identifier (kid) for client.`, false),
  /** The live server's time-rule answers ("JWT has expired" …), sent without an MP code (live, not documented). */
  liveTime: (text: 'JWT has too long lifetime' | 'Issue time is in the future' | 'JWT has expired') =>
    new MpError(400, 'invalid_grant', 'MP-130', text, false),
  expiredKey: (kid: string) =>
    new MpError(400, 'invalid_grant', 'MP-121', `${AUTH_FAILED} Expired key. The key with kid ${kid} has expired.`),
  certificateOrgMismatch: (clientOrg: string, certOrg: string) =>
    new MpError(
      400,
      'invalid_grant',
      'MP-122',
      `Client orgno ${clientOrg} does not match certificate orgno ${certOrg}`,
    ),
  invalidX5c: (detail: string) =>
    new MpError(400, 'invalid_grant', 'MP-123', `Invalid assertion. Invalid JWT header x5c. ${detail}`),
  invalidSignature: (detail: string) =>
    new MpError(400, 'invalid_grant', 'MP-124', `Invalid assertion. Invalid JWT signature. ${detail}`),
  invalidTime: (detail: string) =>
    new MpError(400, 'invalid_grant', 'MP-130', `Invalid assertion. JWT is expired. ${detail}`),
  replay: () =>
    new MpError(400, 'invalid_grant', 'MP-012', 'Validation of JWT Bearer grant failed. Grant is used before.'),
  invalidScopes: (scopes: string[]) =>
    new MpError(
      400,
      'invalid_scope',
      'MP-200',
      `Token request contains invalid scopes for client: ${scopes.join(' ')}`,
    ),
  notForMaskinporten: (scopes: string[]) =>
    new MpError(
      400,
      'invalid_scope',
      'MP-201',
      `Token request contains scopes not allowed for maskinporten: ${scopes.join(' ')}`,
    ),
  missingScope: () =>
    new MpError(400, 'invalid_scope', 'MP-200', 'Token request contains no scope: the claim scope is required.'),
  notGranted: (scope: string) =>
    new MpError(403, 'forbidden', 'MP-250', `Consumer has not been granted access to the scope ${scope}`),
  notDelegated: (consumer: string, scope: string, supplier: string) =>
    new MpError(
      403,
      'forbidden',
      'MP-251',
      `Consumer ${consumer} has not delegated access to the scope ${scope} to supplier ${supplier}`,
    ),
  // `type` is whatever the grant held: JSON.stringify, unlike String(), cannot throw on it (e.g. {"toString":1}).
  unknownDetailsType: (type: unknown) =>
    new MpError(
      400,
      'invalid_authorization_details',
      'MP-301',
      `Unknown authorization_details type ${JSON.stringify(type) ?? 'undefined'}.`,
    ),
  unknownDetailsFields: (fields: string[]) =>
    new MpError(
      400,
      'invalid_authorization_details',
      'MP-302',
      `Unknown fields in authorization_details: ${fields.join(', ')}.`,
    ),
  /** MP-303: no system user or consent matches the request, or a value names none (live, not documented). */
  invalidDetailsValue: (detail: string) =>
    new MpError(
      400,
      'invalid_altinn_customer_configuration',
      'MP-303',
      `Invalid value in authorization_details: ${detail}`,
    ),
};
