import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { API_ERROR_CODES, ConfigClientError, ErrorCode, ErrorDetail, apiErrorCodeOf, errorCodeValue, errorDetailOf, isApiErrorCode, type ApiErrorCode } from './index.js';

const detail = (code: string): ErrorDetail => ErrorDetail.fromPartial({ code });

describe('ConfigClientError.code', () => {
  it('is the server code when known, the transport outcome without a detail', () => {
    expect(new ConfigClientError(status.UNAVAILABLE, 'x', detail('not-quorate')).code).toBe('not-quorate');
    expect(new ConfigClientError(status.DEADLINE_EXCEEDED, 'x', undefined).code).toBe('deadline-exceeded');
    expect(new ConfigClientError(status.UNAVAILABLE, 'x', undefined).code).toBe('unavailable');
  });

  it('reads a code this client does not know as internal, keeping the original in the detail', () => {
    const e = new ConfigClientError(status.UNKNOWN, 'x', detail('brand-new-code'));
    expect(e.code).toBe('internal');
    expect(e.detail?.code).toBe('brand-new-code');
    expect(isApiErrorCode('conflict')).toBe(true);
  });
});

describe('the error codes of palisade.common.v1.ErrorCode', () => {
  it('are the enum value names in kebab case, in enum order', () => {
    const codes: readonly ApiErrorCode[] = API_ERROR_CODES;
    expect(codes).toEqual([
      'not-found',
      'conflict',
      'already-exists',
      'invalid-argument',
      'invalid-document',
      'failed-precondition',
      'too-large',
      'resource-exhausted',
      'not-quorate',
      'outcome-unknown',
      'unauthenticated',
      'permission-denied',
      'compacted',
      'unavailable',
      'cancelled',
      'deadline-exceeded',
      'internal',
      'apply-failed',
      'state-failed',
    ]);
    expect(errorCodeValue('not-quorate')).toBe(ErrorCode.ERROR_CODE_NOT_QUORATE);
    expect(apiErrorCodeOf(ErrorCode.ERROR_CODE_UNSPECIFIED)).toBeUndefined();
    expect(apiErrorCodeOf(99 as ErrorCode)).toBeUndefined();
  });

  it('are read from the enum first, the text only from a server that predates it', () => {
    const typed = ErrorDetail.fromPartial({ errorCode: ErrorCode.ERROR_CODE_NOT_QUORATE });
    expect(new ConfigClientError(status.UNAVAILABLE, 'x', typed).code).toBe('not-quorate');
    const newer = ErrorDetail.fromPartial({ errorCode: 99 as ErrorCode, code: 'brand-new-code' });
    expect(new ConfigClientError(status.UNKNOWN, 'x', newer).code).toBe('internal');
    expect(new ConfigClientError(status.ABORTED, 'x', errorDetailOf('conflict')).code).toBe('conflict');
  });

  it('travel as enum and text in one detail', () => {
    const wire = ErrorDetail.decode(ErrorDetail.encode(errorDetailOf('outcome-unknown', { currentRevision: 7 })).finish());
    expect([wire.code, wire.errorCode, wire.currentRevision]).toEqual(['outcome-unknown', ErrorCode.ERROR_CODE_OUTCOME_UNKNOWN, 7]);
    expect(apiErrorCodeOf(wire.errorCode)).toBe(wire.code);
  });
});
