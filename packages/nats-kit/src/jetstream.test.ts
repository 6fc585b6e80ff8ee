/**
 * Publish error classification (which failures are retried: leader missing, no answer, lost
 * connection; which are answered at once: CAS mismatch, too large, refusals) and the quorum test.
 */
import { describe, expect, it } from 'vitest';
import { JetStreamApiError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/nats-core';
import type { StreamInfo } from '@nats-io/jetstream';
import { classifyPublishError, retryBackoffMs, streamHasQuorum } from './jetstream.js';

const api = (code: number, err_code: number | undefined, description: string): JetStreamApiError =>
  new JetStreamApiError({ code, ...(err_code !== undefined ? { err_code } : {}), description } as never);

describe('classifyPublishError', () => {
  it('reads a CAS mismatch with the current revision', () => {
    expect(classifyPublishError(api(400, 10071, 'wrong last sequence: 42'))).toMatchObject({ kind: 'conflict', currentRevision: 42 });
  });

  it('retries what a missing or changing leader answers, as not stored', () => {
    for (const e of [
      api(503, 10008, 'JetStream system temporarily unavailable'),
      api(500, 10009, 'JetStream cluster can not handle request'),
      api(400, 10005, 'no suitable peers for placement'),
      api(503, undefined, 'raft: not leader'),
    ]) {
      expect(classifyPublishError(e), e.message).toMatchObject({ kind: 'retry', mayBeStored: false });
    }
    const noResponders = new natsErrors.RequestError('no responders', { cause: new natsErrors.NoRespondersError('$KV.palisade.x') });
    expect(classifyPublishError(noResponders)).toMatchObject({ kind: 'retry', mayBeStored: false });
  });

  it('retries a timeout or a lost connection, as possibly stored', () => {
    expect(classifyPublishError(new natsErrors.TimeoutError())).toMatchObject({ kind: 'retry', mayBeStored: true });
    expect(classifyPublishError(new natsErrors.ClosedConnectionError())).toMatchObject({ kind: 'retry', mayBeStored: true });
  });

  it('does not retry definite refusals', () => {
    expect(classifyPublishError(api(400, 10054, 'message size exceeds maximum allowed'))).toMatchObject({ kind: 'too-large' });
    expect(classifyPublishError(natsErrors.InvalidArgumentError.format('payload', 'max_payload size exceeded'))).toMatchObject({ kind: 'too-large' });
    expect(classifyPublishError(api(503, 10023, 'insufficient resources'))).toMatchObject({ kind: 'refused' });
    expect(classifyPublishError(api(400, 10060, 'expected stream does not match'))).toMatchObject({ kind: 'refused' });
  });
});

describe('retryBackoffMs', () => {
  it('doubles from 50 ms up to 500 ms', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(retryBackoffMs)).toEqual([50, 100, 200, 400, 500, 500, 500]);
  });
});

describe('streamHasQuorum', () => {
  const info = (replicas: number, cluster: unknown): StreamInfo => ({ config: { num_replicas: replicas }, cluster }) as never;
  it('needs a leader that heard from a majority of replicas within 3 s', () => {
    expect(streamHasQuorum(info(1, undefined))).toBe(true);
    expect(streamHasQuorum(info(3, { replicas: [] }))).toBe(false);
    expect(streamHasQuorum(info(3, { leader: 'n1', replicas: [{ name: 'n2', current: true, active: 1e8 }] }))).toBe(true);
    expect(streamHasQuorum(info(3, { leader: 'n1', replicas: [{ name: 'n2', offline: true, active: 1e8 }, { name: 'n3', active: 5e9 }] }))).toBe(false);
  });
});
