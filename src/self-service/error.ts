/**
 * Failures of the self-service API as data. Digdir answers errors as
 * `{status, timestamp, correlation_id, errors: [{errorMessage, isFieldError, objectName, fieldIdentifier}], error,
 * error_description}`; the `errorMessage`s are what says what to fix, so they lead the message.
 */
import { MaskinportenError, type MaskinportenErrorOptions, serverText } from '../errors.ts';

/**
 * One entry of Digdir's `errors` array.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export interface SelfServiceErrorEntry {
  errorMessage: string;
  isFieldError?: boolean;
  objectName?: string;
  fieldIdentifier?: string | null;
}

/**
 * Options of a {@link SelfServiceError}: the base options plus Digdir's error entries and correlation id.
 * @see {@link MaskinportenErrorOptions}
 */
export interface SelfServiceErrorOptions extends MaskinportenErrorOptions {
  errors?: SelfServiceErrorEntry[];
  correlationId?: string;
}

/**
 * The self-service API refused or failed (`ERR_SELF_SERVICE`). `errors` holds Digdir's error entries (field,
 * object and message), `correlationId` the id to quote to Digdir's service desk.
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export class SelfServiceError extends MaskinportenError {
  /** Digdir's error entries, when the API sent them. */
  readonly errors: SelfServiceErrorEntry[];
  /** Digdir's `correlation_id`, for support requests. */
  readonly correlationId: string | undefined;

  /**
   * Creates the error; its `code` is always `ERR_SELF_SERVICE`.
   *
   * @param message - What the API refused or why it could not be reached, naming the client or scope.
   * @param options - Digdir's `errors` and `correlationId`, and the base fields (`status`, `cause`, …).
   * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
   */
  constructor(message: string, options: SelfServiceErrorOptions = {}) {
    const { errors, correlationId, ...base } = options;
    super('ERR_SELF_SERVICE', message, base);
    this.errors = errors ?? [];
    this.correlationId = correlationId;
  }
}

function entriesOf(body: Record<string, unknown>): SelfServiceErrorEntry[] {
  if (!Array.isArray(body.errors)) return [];
  return body.errors
    .filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object')
    .filter((e) => typeof e.errorMessage === 'string' && e.errorMessage !== '')
    .map((e) => ({
      errorMessage: e.errorMessage as string,
      ...(typeof e.isFieldError === 'boolean' ? { isFieldError: e.isFieldError } : {}),
      ...(typeof e.objectName === 'string' ? { objectName: e.objectName } : {}),
      ...(typeof e.fieldIdentifier === 'string' || e.fieldIdentifier === null
        ? { fieldIdentifier: e.fieldIdentifier as string | null }
        : {}),
    }));
}

const HINTS: Record<number, string> = {
  401: 'the admin token was refused; check the admin client and its environment',
  403: 'the admin client lacks the scope this call needs (idporten:dcr.* for clients, idporten:scopes.write for scopes; ask servicedesk@digdir.no)',
  404: 'no such client or scope for this organisation',
};

/** The error for a non-2xx answer: Digdir's `errorMessage`s first, then a hint for the status. */
export function selfServiceErrorOf(method: string, path: string, status: number, text: string): SelfServiceError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: a proxy's or gateway's page
  }
  const errors = entriesOf(body);
  const str = (v: unknown) =>
    typeof v === 'string' && v.replace(/^[\s,]+/, '') ? serverText(v.replace(/^[\s,]+/, '')) : undefined;
  // A validation failure's error_description is the messages joined behind a comma; the entries say it better.
  const description =
    errors.length > 0
      ? errors
          .map((e) =>
            serverText(
              e.isFieldError && e.fieldIdentifier ? `${e.fieldIdentifier}: ${e.errorMessage}` : e.errorMessage,
            ),
          )
          .join('; ')
      : (str(body.error_description) ??
        str(body.message) ??
        (text.length < 300 && !text.startsWith('<') ? serverText(text.trim()) : ''));
  const hint = HINTS[status];
  const error = str(body.error);
  const correlationId = typeof body.correlation_id === 'string' ? serverText(body.correlation_id) : undefined;
  return new SelfServiceError(
    `${method} ${path} answered ${status}${description ? `: ${description}` : ''}${hint ? ` (${hint})` : ''}${correlationId ? ` [correlation id ${correlationId}]` : ''}`,
    {
      status,
      ...(error && !/[\s,]/.test(error) ? { error } : {}),
      ...(description ? { errorDescription: description } : {}),
      errors,
      ...(correlationId ? { correlationId } : {}),
    },
  );
}
