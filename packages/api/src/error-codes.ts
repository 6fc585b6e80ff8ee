/**
 * The closed set of error codes a Palisade client can see, derived from the wire enum
 * `palisade.common.v1.ErrorCode` (proto/palisade/common/v1/errors.proto): each value name
 * without its `ERROR_CODE_` prefix in kebab case (`ERROR_CODE_NOT_QUORATE` → `not-quorate`), the
 * one casing of codes in TypeScript and in `ErrorDetail.code`. Servers fill both fields of the
 * detail from one code with `errorDetailOf`.
 */
import { ErrorCode } from './gen/palisade/common/v1/errors.js';
import { ErrorDetail } from './gen/palisade/config/v1/document.js';

const PREFIX = 'ERROR_CODE_';

type KebabCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Lowercase<Head>}-${KebabCase<Tail>}` : Lowercase<S>;
type CodeOf<Name> = Name extends `${typeof PREFIX}${infer Rest}` ? (Rest extends 'UNSPECIFIED' ? never : KebabCase<Rest>) : never;

/** One of the codes of `palisade.common.v1.ErrorCode` as TypeScript names it (`not-found`…). */
export type ApiErrorCode = CodeOf<keyof typeof ErrorCode>;

function kebabOf(name: string): string {
  return name.slice(PREFIX.length).toLowerCase().replace(/_/g, '-');
}

const NAMED: readonly (readonly [ApiErrorCode, ErrorCode])[] = Object.entries(ErrorCode)
  .filter((e): e is [string, ErrorCode] => typeof e[1] === 'number' && e[0].startsWith(PREFIX) && e[1] !== ErrorCode.ERROR_CODE_UNSPECIFIED)
  .sort((a, b) => a[1] - b[1])
  .map(([name, value]) => [kebabOf(name) as ApiErrorCode, value] as const);

/**
 * Every code, in the order of the enum: the `code` of the `ErrorDetail` trailer that servers
 * send, plus the transport outcomes a call can end in without one (`unavailable`,
 * `deadline-exceeded`, `cancelled`, `internal`).
 */
export const API_ERROR_CODES: readonly ApiErrorCode[] = NAMED.map(([code]) => code);

const BY_CODE: ReadonlyMap<string, ErrorCode> = new Map(NAMED);
const BY_VALUE: ReadonlyMap<ErrorCode, ApiErrorCode> = new Map(NAMED.map(([code, value]) => [value, code]));

/** Whether a string from the wire is one of the known codes. */
export function isApiErrorCode(code: string): code is ApiErrorCode {
  return BY_CODE.has(code);
}

/** The wire enum value of a code. */
export function errorCodeValue(code: ApiErrorCode): ErrorCode {
  return BY_CODE.get(code)!;
}

/** The code of a wire enum value; undefined for UNSPECIFIED (an older server) and values this client does not know. */
export function apiErrorCodeOf(value: ErrorCode): ApiErrorCode | undefined {
  return BY_VALUE.get(value);
}

/** An `ErrorDetail` for `code`: `error_code` and its text `code` both set, the other fields from `fields`. */
export function errorDetailOf(code: ApiErrorCode, fields: Partial<Omit<ErrorDetail, 'code' | 'errorCode'>> = {}): ErrorDetail {
  return ErrorDetail.fromPartial({ ...fields, code, errorCode: errorCodeValue(code) });
}
