/** The one error type of the test helpers. */
import { PalisadeError, type CommonErrorCode } from '@palisade/service-kit';

/** A helper could not start or stop what it manages: `context.server` names it. */
export class TestkitError extends PalisadeError<CommonErrorCode, { readonly server?: string }> {}
