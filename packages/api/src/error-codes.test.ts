import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { ConfigClientError, ErrorDetail, isApiErrorCode } from './index.js';

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
