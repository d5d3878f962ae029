/**
 * A refused input that names the field it is about, so the self-service API can answer with Digdir's field error
 * (`isFieldError`, `objectName`, `fieldIdentifier`). It is an {@link ArgumentError}, so every other caller of the
 * state (code, the admin routes) sees the same coded error as before.
 */
import { ArgumentError } from '../errors.ts';

/** The kinds of object Digdir's API names in its field errors. */
export type DigdirObjectName = 'Client' | 'Jwks' | 'Scope' | 'ScopeAccess';

/**
 * An input error about one field of one object.
 *
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export class FieldError extends ArgumentError {
  readonly objectName: DigdirObjectName;
  readonly field: string;

  /**
   * @param objectName - The object the field belongs to.
   * @param field - The field, as the wire names it (`client_name`, `keys[0].use`).
   * @param message - What is wrong and what to do, naming the field.
   */
  constructor(objectName: DigdirObjectName, field: string, message: string) {
    super(message);
    this.objectName = objectName;
    this.field = field;
  }
}
