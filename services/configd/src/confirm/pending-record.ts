/**
 * The pending confirmation of a commit-confirmed change: one replicated record per document
 * (the KV key is the document path), written before the change and removed by `Confirm` or
 * after the automatic rollback. Pure: encode, decode, check.
 */
import { ConfigdError } from '../errors.js';

/** Who wrote automatic rollbacks (the author of their revisions). */
export const ROLLBACK_AUTHOR = 'automatic rollback';

/** Shortest and longest confirm window accepted, ms. */
export const MIN_CONFIRM_WINDOW_MS = 1000;
/**
 * The longest window, 24 h; `requireConfirmWindow` refuses a window outside these two bounds with
 * `invalid-argument`.
 */
export const MAX_CONFIRM_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Content up to this size travels in the record, so the rollback does not depend on the
 * document's retained history; larger content is read from history at rollback time.
 */
export const MAX_INLINE_RESTORE_BYTES = 256 * 1024;

/**
 * One pending confirmation as every configd of the cluster reads it from the bucket: the change,
 * what a rollback restores, the deadline, and which node claimed the rollback.
 */
export interface PendingConfirmation {
  readonly path: string;
  /** Revision of the change (0 while the write is in flight or when the writer died before recording it). */
  readonly changeRevision: number;
  /** Revision whose content comes back (0: the document did not exist and is deleted). */
  readonly restoreRevision: number;
  /** SHA-256 of the content that comes back ("" with restoreRevision 0). */
  readonly restoreDigest: string;
  /** That content, base64, when small enough (see MAX_INLINE_RESTORE_BYTES). */
  readonly restoreContent?: string;
  readonly windowMs: number;
  readonly deadlineMs: number;
  readonly author: string;
  readonly writerNode: string;
  /** `armed`: waiting for Confirm; `rolling-back`: claimed by `rollbackNode` at `claimedAtMs`. */
  readonly state: 'armed' | 'rolling-back';
  readonly rollbackNode?: string;
  readonly claimedAtMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bucket value of a record, UTF-8 JSON; `decodePending` reads it back. */
export function encodePending(p: PendingConfirmation): Uint8Array {
  return encoder.encode(JSON.stringify(p));
}

/** Decodes a record; undefined (never a throw) for a record this version cannot read. */
export function decodePending(bytes: Uint8Array): PendingConfirmation | undefined {
  try {
    const v = JSON.parse(decoder.decode(bytes)) as Partial<PendingConfirmation>;
    if (typeof v.path !== 'string' || typeof v.deadlineMs !== 'number' || typeof v.restoreRevision !== 'number') return undefined;
    if (v.state !== 'armed' && v.state !== 'rolling-back') return undefined;
    return v as PendingConfirmation;
  } catch {
    return undefined;
  }
}

/** Checks a requested window; throws `invalid-argument` naming the bounds. */
export function requireConfirmWindow(ms: number): number {
  if (!Number.isInteger(ms) || ms < MIN_CONFIRM_WINDOW_MS || ms > MAX_CONFIRM_WINDOW_MS) {
    throw new ConfigdError('invalid-argument', `confirm window must be ${MIN_CONFIRM_WINDOW_MS / 1000} s to 24 h, got ${ms} ms`);
  }
  return ms;
}

/** The message recorded with an automatic rollback's revision. */
export function rollbackMessage(p: PendingConfirmation): string {
  const change = p.changeRevision ? `revision ${p.changeRevision}` : 'a change';
  const back = p.restoreRevision ? `content of revision ${p.restoreRevision} restored` : 'the document did not exist before: deleted';
  return `${change} by ${p.author} not confirmed within ${Math.round(p.windowMs / 1000)} s: ${back}`;
}
