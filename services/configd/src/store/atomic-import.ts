/**
 * Writes an import as one atomic batch (see `batch-staging.ts` for how the mirrors apply it):
 * every changed document on its own subject with the batch mark, CAS on the revision read,
 * the last one committing; on a failure before the commit an abort record, and the answer
 * "nothing was written". nats-server 2.10 has no atomic multi-message publish (2.12's atomic
 * batch would replace this), and one message carrying the whole tree would break per-document
 * CAS, history and the stream's per-subject retention, so the batch is staged in the stream and
 * made visible by the mirrors at once.
 */
import { randomBytes } from 'node:crypto';
import { ConfigdError } from '../errors.js';
import { BATCH_CONTROL_KEY, type LogRecord, type LogWrite } from '../log-record.js';
import type { BatchOutcome } from './batch-staging.js';

/** Longest time an import's batch stays open: a batch not committed by then is aborted by every mirror. */
export const IMPORT_BATCH_WINDOW_MS = 30_000;
/** The importer stops this long before the batch deadline, so that its commit is stored before it (clock skew). */
export const IMPORT_COMMIT_MARGIN_MS = 1000;
/** How long the abort record may take (best effort: the deadline aborts the batch anyway). */
const ABORT_RECORD_DEADLINE_MS = 2000;

/** What `writeAtomically` needs from the store. */
export interface BatchWriter {
  /** Appends one write (CAS on `expectedRevision`), bounded by `deadlineMs`. */
  append(write: LogWrite, deadlineMs: number): Promise<LogRecord>;
  /** The document's last revision in the log as the mirror knows it (0 = never written). */
  lastRevisionOf(path: string): number;
  /** Resolves true once the mirror applied `revision`. */
  waitForRevision(revision: number, timeoutMs: number): Promise<boolean>;
  outcomeOf(batchId: string): BatchOutcome | undefined;
  now(): number;
}

/**
 * Writes `docs` all or nothing; resolves with their records once the local mirror applied the
 * committed batch. Fails with the failing write's code and "nothing was written", or
 * `outcome-unknown` when the commit itself may or may not have been stored.
 */
export async function writeAtomically(
  docs: readonly { readonly path: string; readonly content: Uint8Array }[],
  o: { readonly author: string; readonly message: string; readonly deadlineMs?: number | undefined },
  w: BatchWriter,
): Promise<LogRecord[]> {
  const id = randomBytes(12).toString('base64url');
  const started = w.now();
  const deadlineMs = Math.min(started + IMPORT_BATCH_WINDOW_MS, (o.deadlineMs ?? Infinity) + IMPORT_COMMIT_MARGIN_MS);
  const writeUntil = deadlineMs - IMPORT_COMMIT_MARGIN_MS;
  const written: LogRecord[] = [];
  for (const [i, d] of docs.entries()) {
    const batch = { id, index: i + 1, count: docs.length, deadlineMs };
    const commit = i === docs.length - 1;
    try {
      if (w.now() >= writeUntil) throw new ConfigdError('unavailable', `the batch window of ${IMPORT_BATCH_WINDOW_MS} ms (or the call's deadline) ran out`);
      written.push(
        await w.append({ path: d.path, op: 'put', content: d.content, expectedRevision: w.lastRevisionOf(d.path), author: o.author, message: o.message, batch }, writeUntil),
      );
    } catch (err) {
      const e = err instanceof ConfigdError ? err : new ConfigdError('internal', String(err), {}, { cause: err });
      if (commit && e.code === 'outcome-unknown') {
        throw new ConfigdError(
          'outcome-unknown',
          `import outcome unknown: the commit ('${d.path}', ${i + 1} of ${docs.length}) may have been stored: then all ${docs.length} documents were written, else none (${e.message})`,
          { path: d.path },
          { cause: err },
        );
      }
      await abortBatch(id, o.author, w);
      throw new ConfigdError(
        e.code,
        `import aborted, nothing was written: '${d.path}' (${i + 1} of ${docs.length}) failed: ${e.message}`,
        { ...e.context, path: d.path },
        { cause: err },
      );
    }
  }
  // The commit is stored; the mirrors decide (a commit stored after the deadline aborts).
  const last = written[written.length - 1]!;
  const applied = await w.waitForRevision(last.revision, Math.max(1000, deadlineMs + 5000 - w.now()));
  const outcome = w.outcomeOf(id);
  if (applied && outcome === 'committed') return written;
  if (applied && outcome === 'aborted') {
    throw new ConfigdError('unavailable', `import aborted, nothing was written: its commit was stored after the batch deadline`, {});
  }
  throw new ConfigdError('outcome-unknown', `import outcome unknown: the local mirror has not applied the commit (revision ${last.revision}) yet; read the documents to find out`, {});
}

async function abortBatch(id: string, author: string, w: BatchWriter): Promise<void> {
  try {
    await w.append(
      { path: BATCH_CONTROL_KEY, op: 'put', content: new Uint8Array(0), author, message: 'import aborted', batch: { id, index: 0, count: 0, deadlineMs: 0, abort: true } },
      w.now() + ABORT_RECORD_DEADLINE_MS,
    );
  } catch {
    // The batch deadline aborts it on every mirror anyway.
  }
}
