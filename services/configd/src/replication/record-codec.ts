/**
 * How a revision travels in JetStream: the KV subject `$KV.<bucket>.<path>`, the document as
 * the payload, Palisade's metadata in headers. Decoding takes what the message says at face
 * value; the mirror decides what it accepts (valid paths, digest matching the content).
 */
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import { sha256Hex, type BatchMark, type LogRecord, type LogWrite } from '../log-record.js';

/** Header names of a revision. */
export const RECORD_HEADERS = {
  author: 'Palisade-Author',
  time: 'Palisade-Time',
  message: 'Palisade-Message',
  digest: 'Palisade-Digest',
  node: 'Palisade-Node',
  /** `<id>;<index>;<count>;<deadlineMs>` on a staged document, `<id>;abort` on an abort record. */
  batch: 'Palisade-Batch',
  kvOp: 'KV-Operation',
} as const;

export { BATCH_CONTROL_KEY } from '../log-record.js';

/** Headers of one publish of a write (every attempt of a write carries the same ones). */
export function encodeHeaders(write: LogWrite, node: string, timeMs: number): MsgHdrs {
  const h = natsHeaders();
  h.set(RECORD_HEADERS.author, write.author);
  h.set(RECORD_HEADERS.time, String(timeMs));
  if (write.message) h.set(RECORD_HEADERS.message, encodeURIComponent(write.message));
  h.set(RECORD_HEADERS.node, node);
  if (write.batch) h.set(RECORD_HEADERS.batch, formatBatchMark(write.batch));
  if (write.op === 'delete') h.set(RECORD_HEADERS.kvOp, 'DEL');
  else h.set(RECORD_HEADERS.digest, sha256Hex(write.content));
  return h;
}

/** `Palisade-Batch` header value. */
export function formatBatchMark(b: BatchMark): string {
  return b.abort ? `${b.id};abort` : `${b.id};${b.index};${b.count};${b.deadlineMs}`;
}

/** Parses a `Palisade-Batch` header; undefined when absent or malformed (then the record is no batch's). */
export function parseBatchMark(v: string | undefined): BatchMark | undefined {
  if (!v) return undefined;
  const parts = v.split(';');
  const id = parts[0] ?? '';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return undefined;
  if (parts.length === 2 && parts[1] === 'abort') return { id, index: 0, count: 0, deadlineMs: 0, abort: true };
  if (parts.length !== 4) return undefined;
  const [index, count, deadlineMs] = parts.slice(1).map(Number) as [number, number, number];
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 1 || index > count || !Number.isFinite(deadlineMs)) return undefined;
  return { id, index, count, deadlineMs };
}

/** The parts of a followed JetStream message the decoder reads. */
export interface FollowedMessage {
  readonly seq: number;
  readonly subject: string;
  readonly headers?: MsgHdrs | undefined;
  readonly data: Uint8Array;
  /** When the stream stored it (the leader's clock, the same on every replica). */
  readonly storedMs: number;
}

/**
 * A followed message as a record. `path` is the subject's key as is (the mirror checks it);
 * `digest` is the header's claim ("" when missing), not computed here.
 */
export function decodeRecord(m: FollowedMessage, subjectPrefix: string): LogRecord {
  const h = m.headers;
  const op = h?.get(RECORD_HEADERS.kvOp);
  const deleted = op === 'DEL' || op === 'PURGE';
  const content = deleted ? new Uint8Array(0) : m.data;
  const rawMessage = h?.get(RECORD_HEADERS.message) ?? '';
  let message = rawMessage;
  try {
    message = decodeURIComponent(rawMessage);
  } catch {
    /* keep as sent */
  }
  const batch = parseBatchMark(h?.get(RECORD_HEADERS.batch));
  return {
    revision: m.seq,
    path: m.subject.startsWith(subjectPrefix) ? m.subject.slice(subjectPrefix.length) : m.subject,
    op: deleted ? 'delete' : 'put',
    digest: deleted ? '' : (h?.get(RECORD_HEADERS.digest) ?? ''),
    author: h?.get(RECORD_HEADERS.author) || 'nats',
    timeMs: Number(h?.get(RECORD_HEADERS.time)) || m.storedMs,
    message,
    writerNode: h?.get(RECORD_HEADERS.node) ?? '',
    size: content.length,
    storedMs: m.storedMs,
    ...(batch ? { batch } : {}),
    ...(deleted ? {} : { content: Uint8Array.from(content) }),
  };
}
