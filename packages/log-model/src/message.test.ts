import { describe, expect, it } from 'vitest';
import {
  LOG_BATCH_MAX_ENTRIES,
  LOG_ENTRY_MAX_BYTES,
  LOG_MESSAGE_MAX_BYTES,
  LogModelError,
  batchMessageId,
  decodeLogMessage,
  encodeLogBatch,
  encodeLogEntry,
  logEntryJson,
  type LogEntry,
} from './index.js';
import { SAMPLE_LOSS, SAMPLE_PACKET } from './test-entries.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function refusal(fn: () => unknown): LogModelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LogModelError);
    return err as LogModelError;
  }
  throw new Error('expected a refusal');
}

describe('log stream messages', () => {
  const entries: LogEntry[] = [SAMPLE_PACKET, SAMPLE_LOSS, { ...SAMPLE_PACKET, id: 'pve1:3f2a:18', src: '2001:db8::9', dst: '2001:db8::5', family: 6 }];

  it('reads a single-entry message (the first wire form) as one entry', () => {
    expect(decodeLogMessage(encodeLogEntry(SAMPLE_PACKET))).toEqual({ entries: [SAMPLE_PACKET], errors: [] });
  });

  it('round-trips a batch in order, with the bytes a single-entry message would have per entry', () => {
    const bytes = encodeLogBatch(entries.map(logEntryJson));
    expect(decodeLogMessage(bytes)).toEqual({ entries, errors: [] });
    expect(new TextDecoder().decode(encodeLogEntry(SAMPLE_LOSS))).toBe(logEntryJson(SAMPLE_LOSS));
  });

  it('keeps the good entries of a batch and names each bad one by its position', () => {
    const bad = JSON.stringify({ ...SAMPLE_PACKET, id: 'pve1:3f2a:99', dport: 70000 });
    const d = decodeLogMessage(enc(`[${logEntryJson(SAMPLE_PACKET)},${bad},"junk",${logEntryJson(SAMPLE_LOSS)}]`));
    expect(d.entries).toEqual([SAMPLE_PACKET, SAMPLE_LOSS]);
    expect(d.errors.map((e) => [e.index, e.error.code, e.error.context.field])).toEqual([
      [1, 'invalid-log-entry', 'dport'],
      [2, 'invalid-log-entry', '(entry)'],
    ]);
  });

  it('refuses an entry over LOG_ENTRY_MAX_BYTES inside a batch as well', () => {
    const big = JSON.stringify({ ...SAMPLE_PACKET, packet: 'é'.repeat(LOG_ENTRY_MAX_BYTES / 2 + 10) });
    const d = decodeLogMessage(enc(`[${big}]`));
    expect(d.entries).toEqual([]);
    expect(d.errors[0]?.error.code).toBe('log-entry-too-large');
    // The encoder counts UTF-8 bytes, not characters.
    expect(refusal(() => logEntryJson({ ...SAMPLE_PACKET, packet: 'é'.repeat(LOG_ENTRY_MAX_BYTES / 2 + 10) })).code).toBe('log-entry-too-large');
  });

  it('refuses a broken batch, an empty or oversized one, and a message over LOG_MESSAGE_MAX_BYTES', () => {
    expect(refusal(() => decodeLogMessage(enc(`[${logEntryJson(SAMPLE_PACKET)}`))).context.field).toBe('(json)');
    expect(refusal(() => decodeLogMessage(enc(' {"kind":'))).context.field).toBe('(json)');
    expect(refusal(() => encodeLogBatch([])).code).toBe('invalid-log-entry');
    expect(refusal(() => encodeLogBatch(new Array<string>(LOG_BATCH_MAX_ENTRIES + 1).fill(logEntryJson(SAMPLE_LOSS)))).code).toBe('invalid-log-entry');
    const one = logEntryJson(SAMPLE_PACKET);
    const many = new Array<string>(Math.ceil(LOG_MESSAGE_MAX_BYTES / one.length) + 1).fill(one);
    expect(many.length).toBeLessThanOrEqual(LOG_BATCH_MAX_ENTRIES);
    expect(refusal(() => encodeLogBatch(many)).code).toBe('log-entry-too-large');
    expect(refusal(() => decodeLogMessage(enc(`[${'1,'.repeat(LOG_MESSAGE_MAX_BYTES / 2)}1]`))).code).toBe('log-entry-too-large');
  });

  it('names a batch by its first entry and its size', () => {
    expect(batchMessageId('pve1:3f2a:17', 64)).toBe('pve1:3f2a:17+64');
  });

  it('never throws anything but LogModelError on garbage, at every cut of a batch', () => {
    const bytes = encodeLogBatch(entries.map(logEntryJson));
    for (let cut = 0; cut < bytes.length; cut += 7) {
      try {
        decodeLogMessage(bytes.subarray(0, cut));
      } catch (err) {
        expect(err).toBeInstanceOf(LogModelError);
      }
    }
  });
});
