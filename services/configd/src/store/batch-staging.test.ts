import { describe, expect, it } from 'vitest';
import type { BatchMark, LogRecord } from '../log-record.js';
import { BatchStaging } from './batch-staging.js';

const rec = (revision: number, path: string, batch?: BatchMark, storedMs = 0): LogRecord => ({
  revision, path, op: 'put', digest: '', author: 't', timeMs: 0, message: '', writerNode: '', size: 0, storedMs, ...(batch ? { batch } : {}),
});
const mark = (id: string, index: number, count: number, deadlineMs = 1000): BatchMark => ({ id, index, count, deadlineMs });

describe('BatchStaging', () => {
  it('holds a batch and everything behind it until the commit, then releases all in order', () => {
    const s = new BatchStaging();
    s.push(rec(1, 'a'), 'document');
    s.push(rec(2, 'b', mark('x', 1, 2)), 'document');
    s.push(rec(3, 'c'), 'document');
    expect(s.release().map((r) => r.record.revision)).toEqual([1]);
    expect(s.release()).toEqual([]);
    s.push(rec(4, 'd', mark('x', 2, 2)), 'document');
    const out = s.release();
    expect(out.map((r) => [r.record.revision, r.abortedBatch])).toEqual([[2, undefined], [3, undefined], [4, undefined]]);
    expect(s.outcomeOf('x')).toBe('committed');
  });

  it('aborts on an abort record or on a record stored after the deadline; a late commit is aborted too', () => {
    const s = new BatchStaging();
    s.push(rec(1, 'a', mark('x', 1, 2)), 'document');
    s.push(rec(2, '_batch', { id: 'x', index: 0, count: 0, deadlineMs: 0, abort: true }), 'control');
    expect(s.release().map((r) => [r.record.revision, r.abortedBatch ?? '', r.kind])).toEqual([[1, 'x', 'document'], [2, '', 'control']]);
    s.push(rec(3, 'b', mark('y', 1, 2, 500), 100), 'document');
    s.push(rec(4, 'c', undefined, 600), 'document');
    s.push(rec(5, 'd', mark('y', 2, 2, 500), 700), 'document');
    expect(s.release().map((r) => [r.record.revision, r.abortedBatch ?? ''])).toEqual([[3, 'y'], [4, ''], [5, 'y']]);
    expect(s.outcomeOf('y')).toBe('aborted');
  });
});
