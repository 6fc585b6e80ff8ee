/**
 * The compare-and-set expectation of a write: from what the caller expects of the document (a
 * revision, a digest, or that it does not exist) and what the local mirror shows of it, the
 * revision the log must still hold as the document's last (JetStream's last-subject-sequence),
 * or the refusal. The mirror may lag behind the log: an expected revision it has not reached yet
 * is not refused here but passed on, and the log's CAS decides.
 */
import { ConfigdError } from '../errors.js';
import type { LogRecord } from '../log-record.js';
import type { LmdbMirror } from './lmdb-mirror.js';

/** What a write expects of the document it changes; none of them: an unconditional write. */
export interface WriteExpectation {
  /** The revision the document must be at; 0: it must not exist (as `createOnly`). */
  readonly expectedRevision?: number;
  /** The SHA-256 (hex, any case) the document's content must have. */
  readonly expectedDigest?: string;
  /** The document must not exist. */
  readonly createOnly?: boolean;
}

/** The reads of the local mirror the check needs. */
export type ExpectationMirror = Pick<LmdbMirror, 'revision' | 'getCurrent' | 'lastRecordOf'>;

/**
 * The revision a write of `path` expects the log to hold as the document's last (undefined: no
 * expectation). Throws `already-exists` when a create finds the document live, `conflict` when
 * the mirror shows another revision or digest than expected, or a digest and a revision that
 * disagree.
 */
export function casExpectation(mirror: ExpectationMirror, path: string, opts: WriteExpectation): number | undefined {
  const current = mirror.getCurrent(path);
  let expected: number | undefined;
  if (opts.createOnly || opts.expectedRevision === 0) {
    if (current) {
      throw new ConfigdError('already-exists', `'${path}' already exists (revision ${current.revision})`, {
        path,
        currentRevision: current.revision,
        currentDigest: current.digest,
      });
    }
    expected = mirror.lastRecordOf(path)?.revision ?? 0;
  }
  if (opts.expectedRevision) {
    if (current && current.revision !== opts.expectedRevision && mirror.revision >= opts.expectedRevision) {
      throw conflictError(path, current, `expected revision ${opts.expectedRevision}`);
    }
    if (!current && mirror.revision >= opts.expectedRevision) {
      throw conflictError(path, undefined, `expected revision ${opts.expectedRevision}`);
    }
    expected = opts.expectedRevision;
  }
  if (opts.expectedDigest) {
    if (!current || current.digest !== opts.expectedDigest.toLowerCase()) {
      throw conflictError(path, current, `expected digest ${opts.expectedDigest}`);
    }
    if (expected !== undefined && expected !== current.revision) {
      throw conflictError(path, current, `expected revision ${expected}`);
    }
    expected = current.revision;
  }
  return expected;
}

/**
 * The `conflict` refusal of a write of `path`: where the document is (`current`; undefined: it
 * does not exist) and `what` the write expected instead.
 */
export function conflictError(path: string, current: LogRecord | undefined, what: string): ConfigdError {
  return new ConfigdError(
    'conflict',
    current
      ? `conflict: '${path}' is at revision ${current.revision} (digest ${current.digest.slice(0, 12)}), ${what}`
      : `conflict: '${path}' does not exist, ${what}`,
    { path, currentRevision: current?.revision ?? 0, currentDigest: current?.digest ?? '' },
  );
}
