/**
 * The REST layer's one error type and its translation from configd's errors, the way Proxmox's
 * API server answers: parameter problems are 400 "Parameter verification failed." with a
 * `{field: message}` map; every other failure of a handler (`die` in the Perl source) is 500
 * with the message as the status line; 401/403 for authentication and permissions; 501 for a
 * path or method the API does not have.
 */
import { PalisadeError } from '@palisade/service-kit';
import { ConfigdError } from '../errors.js';

/** Closed list of REST failure kinds, each with its HTTP status. */
export const REST_STATUS = {
  'bad-parameters': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-implemented': 501,
  failed: 500,
  'too-large': 413,
  unavailable: 503,
} as const;
/**
 * The kind of a REST failure; `RestError.status` takes its HTTP status from `REST_STATUS`, so that
 * handlers never choose a status number themselves.
 */
export type RestErrorCode = keyof typeof REST_STATUS;

/**
 * What travels with a `RestError` into the answer's body: for `bad-parameters`, the
 * `{field: message}` map that Proxmox clients show next to each field.
 */
export interface RestErrorContext {
  /** Per-parameter messages (`bad-parameters`). */
  readonly errors?: Readonly<Record<string, string>>;
}

/** A failure as the client sees it: status from the code, message as the status line. */
export class RestError extends PalisadeError<RestErrorCode, RestErrorContext> {
  get status(): number {
    return REST_STATUS[this.code];
  }
}

/** Proxmox's status line of a parameter failure. */
export const PARAMETER_FAILED = 'Parameter verification failed.';

/** A 400 with Proxmox's parameter error map (`raise_param_exc`). */
export function paramError(errors: Readonly<Record<string, string>>): RestError {
  return new RestError('bad-parameters', PARAMETER_FAILED, { errors });
}

/** A 500 with `message` (a `die` in the Perl handlers). */
export function failed(message: string): RestError {
  return new RestError('failed', message);
}

/** Proxmox's digest mismatch message (`PVE::Tools::assert_if_modified`). */
export const MODIFIED_MESSAGE = 'detected modified configuration - file changed by other user? Try again.';

/**
 * Refuses a write whose precondition (`digestPrecondition`) names another digest than the
 * document's `current` one, as `PVE::Tools::assert_if_modified` does; no precondition passes.
 */
export function assertUnmodified(given: { readonly digest: string } | undefined, current: string): void {
  if (given && given.digest !== current) throw failed(MODIFIED_MESSAGE);
}

/**
 * Maps anything a handler throws to a RestError: configd's codes to Proxmox's classes (a
 * refused rule edit names its fields as a 400; a conflict is the digest message; the rest 500
 * with configd's message).
 */
export function toRestError(err: unknown): RestError {
  if (err instanceof RestError) return err;
  if (err instanceof ConfigdError) {
    switch (err.code) {
      case 'invalid-document': {
        const fields = err.context.fields;
        if (fields && Object.keys(fields).length > 0) {
          // Proxmox raises on the first failing check of verify_rule: one field.
          const [field, message] = Object.entries(fields)[0]!;
          return paramError({ [field]: message });
        }
        return failed(err.message);
      }
      case 'conflict':
        // FirewallApi's digest refusal already carries MODIFIED_MESSAGE; a lost CAS race is the same for the client.
        return failed(err.message.startsWith('conflict:') ? MODIFIED_MESSAGE : err.message);
      case 'unauthenticated':
        return new RestError('unauthenticated', err.message);
      case 'permission-denied':
        return new RestError('forbidden', err.message);
      case 'too-large':
        return new RestError('too-large', err.message);
      default:
        return failed(err.message);
    }
  }
  return failed(err instanceof Error ? err.message : String(err));
}
