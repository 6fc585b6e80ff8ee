/**
 * The document domain of configd: CAS writes through the replicated log, reads from the local
 * LMDB mirror, history, diff, rollback, import and watch. RPC handlers call this and nothing
 * below it.
 */
import type { Logger } from '@palisade/service-kit';
import { ConfigdError, type DiagnosticInfo } from '../errors.js';
import { sha256Hex, type AppendOptions, type LogRecord, type LogWrite } from '../log-record.js';
import type { LmdbMirror } from './lmdb-mirror.js';
import { requireDocumentPath, requirePrefix, type DocumentPathInfo } from './document-path.js';
import { FwLangValidator, type DocumentValidator } from './document-validator.js';
import { isTextContent } from './record-validation.js';
import { writeAtomically } from './atomic-import.js';
import { casExpectation, conflictError } from './cas-expectation.js';
import { unifiedDiffAsync, type DiffLimits, type DiffResult } from './unified-diff.js';
import { watchMirror, type WatchEvent, type WatchOptions } from './watch.js';

/** What the store needs from replication (implemented by `JetStreamLog`). */
export interface DocumentLog {
  /**
   * Resolves once JetStream acknowledged the write, with its revision and recorded time;
   * retries inside `opts.deadlineMs` (capped by the log), stops on `opts.signal`.
   */
  append(write: LogWrite, opts?: AppendOptions): Promise<{ revision: number; timeMs: number }>;
  readonly connected: boolean;
  readonly quorate: boolean;
  readonly replicas: number;
  /** Largest message NATS carries (headers included). */
  readonly maxPayload: number;
}

/**
 * Options of `DocumentStore`; app.ts fills them from `ResolvedConfigdOptions`, with the mirror and
 * the replication the rest of configd shares.
 */
export interface DocumentStoreOptions {
  readonly node: string;
  readonly mirror: LmdbMirror;
  readonly log: DocumentLog;
  readonly validator: DocumentValidator;
  /** Largest document accepted, in bytes (further capped below what NATS can carry). */
  readonly maxDocumentBytes: number;
  /**
   * How long a read waits for the local mirror to apply the writes this configd already
   * acknowledged (read-your-writes through one configd) before answering anyway.
   */
  readonly applyWaitMs: number;
  /** How long a read with `minRevision` waits for the mirror. */
  readonly readWaitMs: number;
  readonly logger: Logger;
}

/** Longest write message (author's note in every revision's headers), in UTF-8 bytes. */
export const MAX_MESSAGE_BYTES = 1024;

/** Default document size limit: 1 MiB, like pmxcfs. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;

/** Who is calling (the token's name, recorded as author), and the bounds of the call. */
export interface Caller {
  readonly author: string;
  /**
   * When the caller stops waiting for a write, ms since the epoch (the gRPC deadline); default
   * none: the log's `writeDeadlineMs` cap alone bounds the write's retries.
   */
  readonly deadlineMs?: number;
  /** Client cancel or shutdown: a write stops retrying and fails with `cancelled`. */
  readonly signal?: AbortSignal;
}

/**
 * A revision's metadata as clients see it, without content (`metaOf`); it has the shape of the wire
 * `DocumentMeta`, so the RPC layer passes it on as it is.
 */
export interface DocumentMetaView {
  readonly path: string;
  readonly revision: number;
  readonly digest: string;
  readonly author: string;
  readonly timeMs: number;
  readonly message: string;
  readonly sizeBytes: number;
  readonly deleted: boolean;
  readonly writerNode: string;
}

/**
 * A write of one document: a compare-and-set on `expectedRevision` (0: it must not exist),
 * `expectedDigest` or `createOnly`, else unconditional. A refused expectation throws `conflict` or
 * `already-exists`.
 */
export interface PutInput {
  readonly path: string;
  readonly content: Uint8Array;
  /**
   * The caller's own parse of `content` with fw-lang (the firewall editor's): its diagnostics
   * stand for the validation when the store validates with fw-lang too and the context it was
   * parsed against is still current; otherwise the content is parsed again.
   */
  readonly parsed?: ParsedForWrite;
  readonly expectedRevision?: number;
  readonly expectedDigest?: string;
  readonly createOnly?: boolean;
  readonly message?: string;
}

/** A document already parsed by the writer, and against which context. */
export interface ParsedForWrite {
  readonly diagnostics: readonly DiagnosticInfo[];
  /** Revision of `firewall/cluster.fw` it was parsed against (0: none). */
  readonly clusterRevision: number;
  readonly guestType?: 'qemu' | 'lxc' | undefined;
}

/**
 * A delete of one document (a tombstone revision). Without an expectation it still expects the
 * revision the mirror shows alive, so that of two concurrent deletes one is refused; an absent
 * document is `not-found`.
 */
export interface DeleteInput {
  readonly path: string;
  readonly expectedRevision?: number;
  readonly expectedDigest?: string;
  readonly message?: string;
}

/**
 * What `DocumentStore.status()` reports: the local mirror's view (revision, oldest resumable
 * revision, documents) and the replication's health (`quorate`, `natsConnected`), read without
 * waiting for either.
 */
export interface StoreStatus {
  readonly node: string;
  readonly revision: number;
  readonly quorate: boolean;
  readonly natsConnected: boolean;
  readonly oldestRevision: number;
  readonly maxDocumentBytes: number;
  readonly replicas: number;
  readonly documents: number;
}

/** Converts a mirrored record to the metadata clients see. */
export function metaOf(r: LogRecord): DocumentMetaView {
  return {
    path: r.path,
    revision: r.revision,
    digest: r.digest,
    author: r.author,
    timeMs: r.timeMs,
    message: r.message,
    sizeBytes: r.size,
    deleted: r.op === 'delete',
    writerNode: r.writerNode,
  };
}

const EMPTY = new Uint8Array(0);

const CLUSTER_PATH = 'firewall/cluster.fw';

/** Documents that are validation context for others: cluster.fw and guest configs. */
function isContextPath(path: string): boolean {
  return path === CLUSTER_PATH || path.endsWith('.conf');
}
const decoder = new TextDecoder();

/**
 * The document domain behind the RPC and REST handlers. Writes are compare-and-set appends to the
 * replicated log that resolve once JetStream acknowledged them; reads come from the local mirror
 * once it applied the writes this configd acknowledged (waiting up to `applyWaitMs`), so a client
 * reads its own writes.
 */
export class DocumentStore {
  readonly #o: DocumentStoreOptions;
  readonly #log: Logger;
  /** Highest revision this configd acknowledged to a writer. */
  #acked = 0;
  /** Acknowledged revisions per document not yet applied by the mirror (pruned lazily). */
  readonly #ackedByPath = new Map<string, number>();
  /** Highest acknowledged revision of a document other documents are validated against. */
  #ackedContext = 0;
  /** The cluster document at the revision last read (see `#clusterContent`). */
  #cluster: { readonly revision: number; readonly content: Uint8Array } | undefined;

  constructor(opts: DocumentStoreOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ component: 'store' });
  }

  /** The effective size limit: the configured one, capped below NATS' max payload. */
  get maxDocumentBytes(): number {
    return Math.min(this.#o.maxDocumentBytes, this.#o.log.maxPayload - 4096);
  }

  get mirror(): LmdbMirror {
    return this.#o.mirror;
  }

  status(): StoreStatus {
    const m = this.#o.mirror;
    return {
      node: this.#o.node,
      revision: m.revision,
      quorate: this.#o.log.quorate,
      natsConnected: this.#o.log.connected,
      oldestRevision: m.oldestRevision,
      maxDocumentBytes: this.maxDocumentBytes,
      replicas: this.#o.log.replicas,
      documents: m.documentCount,
    };
  }

  async #waitFor(minRevision: number | undefined, signal?: AbortSignal): Promise<void> {
    if (!minRevision || this.#o.mirror.revision >= minRevision) return;
    const ok = await this.#o.mirror.waitForRevision(minRevision, this.#o.readWaitMs, signal);
    if (!ok) {
      throw new ConfigdError(
        'unavailable',
        `the local mirror is at revision ${this.#o.mirror.revision}, behind the requested ${minRevision}`,
      );
    }
  }

  /** Reads the current revision (or a retained one) of a document. */
  async get(
    rawPath: string,
    opts: { revision?: number; minRevision?: number } = {},
    signal?: AbortSignal,
  ): Promise<{ record: LogRecord; storeRevision: number }> {
    const { path } = requireDocumentPath(rawPath);
    await this.settle(signal);
    await this.#waitFor(opts.minRevision, signal);
    const m = this.#o.mirror;
    const record = opts.revision ? m.getRevision(path, opts.revision) : m.getCurrent(path);
    if (!record) {
      throw new ConfigdError(
        'not-found',
        opts.revision ? `revision ${opts.revision} of '${path}' is not retained` : `'${path}' does not exist`,
        { path },
      );
    }
    return { record, storeRevision: Math.max(m.revision, record.revision) };
  }

  /** Lists live documents under a prefix. */
  async list(rawPrefix: string, opts: { minRevision?: number } = {}, signal?: AbortSignal): Promise<{ records: LogRecord[]; storeRevision: number }> {
    const prefix = requirePrefix(rawPrefix);
    await this.settle(signal);
    await this.#waitFor(opts.minRevision, signal);
    return { records: this.#o.mirror.list(prefix), storeRevision: this.#o.mirror.revision };
  }

  /** Retained revisions of a document, newest first. */
  async history(rawPath: string, limit: number): Promise<{ records: LogRecord[]; storeRevision: number }> {
    const { path } = requireDocumentPath(rawPath);
    await this.settle();
    const records = this.#o.mirror.history(path, limit);
    if (records.length === 0) throw new ConfigdError('not-found', `'${path}' has no history`, { path });
    return { records, storeRevision: this.#o.mirror.revision };
  }

  /**
   * Unified diff between two retained revisions (`to` 0 = current), within `limits` (else "too
   * different"), computed in chunks that leave the event loop free; stops on `signal`.
   */
  async diff(
    rawPath: string,
    from: number,
    to: number,
    context = 3,
    opts: { readonly limits?: DiffLimits; readonly signal?: AbortSignal } = {},
  ): Promise<{ from: LogRecord; to: LogRecord; result: DiffResult }> {
    const { path } = requireDocumentPath(rawPath);
    await this.settle();
    const m = this.#o.mirror;
    const a = m.getRevision(path, from);
    if (!a) throw new ConfigdError('not-found', `revision ${from} of '${path}' is not retained`, { path });
    const b = to ? m.getRevision(path, to) : (m.getCurrent(path) ?? m.lastRecordOf(path));
    if (!b) throw new ConfigdError('not-found', `revision ${to} of '${path}' is not retained`, { path });
    const text = (r: LogRecord): string => decoder.decode(r.content ?? EMPTY);
    const label = (side: string, r: LogRecord): string => `${side}/${path}\t(revision ${r.revision}${r.op === 'delete' ? ', deleted' : ''})`;
    const result = await unifiedDiffAsync(text(a), text(b), { from: label('a', a), to: label('b', b) }, { context, ...opts });
    return { from: a, to: b, result };
  }

  /**
   * The live cluster document, read from the mirror once per revision: every guest and host
   * write is validated against it, and the same bytes (same object) let the validator reuse
   * its parse.
   */
  #clusterContent(): Uint8Array | undefined {
    const m = this.#o.mirror;
    const revision = m.currentRevisionOf(CLUSTER_PATH);
    if (revision === undefined) return undefined;
    if (this.#cluster?.revision !== revision) {
      const content = (m.getRevision(CLUSTER_PATH, revision) ?? m.getCurrent(CLUSTER_PATH))?.content;
      if (!content) return undefined;
      this.#cluster = { revision, content };
    }
    return this.#cluster.content;
  }

  /** Validation context of a document: the cluster document and the guest type. */
  contextFor(
    path: string,
    info: DocumentPathInfo,
    overlay?: ReadonlyMap<string, Uint8Array>,
  ): { cluster?: Uint8Array; guestType?: 'qemu' | 'lxc' } {
    const m = this.#o.mirror;
    const cluster = overlay?.get('firewall/cluster.fw') ?? this.#clusterContent();
    let guestType: 'qemu' | 'lxc' | undefined;
    if (info.kind === 'guest') {
      const suffixQ = `/qemu-server/${info.vmid}.conf`;
      const suffixL = `/lxc/${info.vmid}.conf`;
      const paths = [...(overlay?.keys() ?? []), ...m.currentPaths('nodes/')];
      if (paths.some((p) => p.endsWith(suffixL))) guestType = 'lxc';
      else if (paths.some((p) => p.endsWith(suffixQ))) guestType = 'qemu';
    }
    return { ...(cluster && path !== 'firewall/cluster.fw' ? { cluster } : {}), ...(guestType ? { guestType } : {}) };
  }

  #checkSize(path: string, content: Uint8Array): void {
    const max = this.maxDocumentBytes;
    if (content.length > max) {
      throw new ConfigdError(
        'too-large',
        `'${path}' is ${content.length} bytes; documents are limited to ${max} bytes`,
        { path, maxBytes: max },
      );
    }
    // The mirror skips binary records (they did not come through configd): refuse them here.
    if (!isTextContent(content)) {
      throw new ConfigdError('invalid-document', `'${path}' is binary (contains a NUL byte); documents are text`, { path });
    }
  }

  /** Validates; returns the non-error diagnostics, throws `invalid-document` on errors. */
  async #validate(path: string, info: DocumentPathInfo, content: Uint8Array, parsed?: ParsedForWrite): Promise<DiagnosticInfo[]> {
    const context = this.contextFor(path, info);
    const reuse = parsed !== undefined && this.#o.validator instanceof FwLangValidator && this.#parsedStillValid(path, context, parsed);
    const diagnostics = reuse ? [...parsed.diagnostics] : [...(await this.#o.validator.validate({ path, content, ...context }))];
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      throw new ConfigdError(
        'invalid-document',
        `'${path}' is invalid: ${errors.length} error${errors.length === 1 ? '' : 's'} (first: line ${errors[0]!.line}: ${errors[0]!.code} ${errors[0]!.message})`,
        { path, diagnostics },
      );
    }
    return diagnostics;
  }

  /** A writer's parse stands for validation while the cluster document and the guest type are the ones it was parsed against. */
  #parsedStillValid(path: string, context: { guestType?: 'qemu' | 'lxc' }, parsed: ParsedForWrite): boolean {
    if (path === CLUSTER_PATH) return true;
    return (this.#o.mirror.currentRevisionOf(CLUSTER_PATH) ?? 0) === parsed.clusterRevision && context.guestType === parsed.guestType;
  }

  async #append(write: LogWrite, createOnly: boolean, caller: Caller): Promise<LogRecord> {
    checkMessage(write.message);
    let ack: { revision: number; timeMs: number };
    try {
      ack = await this.#o.log.append(
        // Unconditional writes still give the log the revision this node knows, which it
        // uses as its own CAS expectation so that a retried write is stored at most once.
        write.expectedRevision === undefined ? { ...write, knownRevision: this.#o.mirror.lastRecordOf(write.path)?.revision ?? 0 } : write,
        {
          ...(caller.deadlineMs !== undefined ? { deadlineMs: caller.deadlineMs } : {}),
          ...(caller.signal ? { signal: caller.signal } : {}),
        },
      );
    } catch (err) {
      if (err instanceof ConfigdError && err.code === 'conflict') {
        const current = this.#o.mirror.getCurrent(write.path);
        if (createOnly) {
          throw new ConfigdError('already-exists', `'${write.path}' already exists`, { ...err.context }, { cause: err });
        }
        throw new ConfigdError('conflict', err.message, {
          ...err.context,
          ...(current && current.revision === err.context.currentRevision ? { currentDigest: current.digest } : {}),
        }, { cause: err });
      }
      throw err;
    }
    // Answer at once: the write is durable in JetStream. Reads through this configd wait for
    // the mirror to catch up with it (`#settle`), so a client still reads its own writes.
    this.#acked = Math.max(this.#acked, ack.revision);
    this.#ackedByPath.set(write.path, ack.revision);
    if (isContextPath(write.path)) this.#ackedContext = Math.max(this.#ackedContext, ack.revision);
    return {
      revision: ack.revision,
      path: write.path,
      op: write.op,
      digest: write.op === 'put' ? sha256Hex(write.content) : '',
      author: write.author,
      timeMs: ack.timeMs,
      message: write.message,
      writerNode: this.#o.node,
      size: write.content.length,
    };
  }

  /**
   * Waits (bounded) until the mirror has committed every write this configd acknowledged and
   * every revision its watchers may already have been sent (`visibleRevision`, at most the
   * commit in flight): a read never shows less than a watch of the same configd did.
   */
  settle(signal?: AbortSignal): Promise<void> {
    return this.#settleTo(Math.max(this.#acked, this.#o.mirror.visibleRevision), signal);
  }

  /**
   * Before a write: waits only for what the write depends on, i.e. this configd's own
   * acknowledged writes of the same document (CAS checks) and of the validation context
   * (cluster.fw, guest configs). Unrelated writes in flight do not delay it.
   */
  #settleForWrite(path: string): Promise<void> {
    const mirror = this.#o.mirror.revision;
    for (const [p, rev] of this.#ackedByPath) if (rev <= mirror) this.#ackedByPath.delete(p);
    // Also what a watcher may have been sent of them already (a CAS on a digest it saw).
    const m = this.#o.mirror;
    const pending = m.visibleRevision > mirror ? m.pendingRevisionOf((p) => p === path || isContextPath(p)) : 0;
    return this.#settleTo(Math.max(this.#ackedByPath.get(path) ?? 0, this.#ackedContext, pending));
  }

  /**
   * Read-your-writes for one document, as `get` reads: its live record (undefined when absent
   * or deleted) once the mirror shows every write this configd acknowledged (bounded by
   * `applyWaitMs`, then answered from the mirror as it is; stops waiting on `signal`).
   */
  async readCurrent(rawPath: string, signal?: AbortSignal): Promise<LogRecord | undefined> {
    const { path } = requireDocumentPath(rawPath);
    await this.settle(signal);
    return this.#o.mirror.getCurrent(path);
  }

  async #settleTo(target: number, signal?: AbortSignal): Promise<void> {
    if (this.#o.mirror.revision >= target) return;
    if (!(await this.#o.mirror.waitForRevision(target, this.#o.applyWaitMs, signal))) {
      this.#log.warn({ mirror: this.#o.mirror.revision, acknowledged: target }, 'local mirror lags behind acknowledged writes; answering from it anyway');
    }
  }

  /** Validates and writes a document (CAS on revision or digest, or create-only). */
  async put(input: PutInput, caller: Caller): Promise<{ record: LogRecord; diagnostics: DiagnosticInfo[] }> {
    const { path, info } = requireDocumentPath(input.path);
    this.#checkSize(path, input.content);
    await this.#settleForWrite(path);
    const diagnostics = await this.#validate(path, info, input.content, input.parsed);
    const expected = casExpectation(this.#o.mirror, path, input);
    const record = await this.#append(
      {
        path,
        op: 'put',
        content: input.content,
        ...(expected !== undefined ? { expectedRevision: expected } : {}),
        author: caller.author,
        message: input.message ?? '',
      },
      Boolean(input.createOnly || input.expectedRevision === 0),
      caller,
    );
    return { record, diagnostics };
  }

  /** Deletes a document (a tombstone revision). */
  async delete(input: DeleteInput, caller: Caller): Promise<LogRecord> {
    const { path } = requireDocumentPath(input.path);
    await this.#settleForWrite(path);
    const current = this.#o.mirror.getCurrent(path);
    if (!current && !input.expectedRevision) throw new ConfigdError('not-found', `'${path}' does not exist`, { path });
    // A delete always expects the revision it saw alive: of two concurrent deletes only one
    // succeeds, the other is refused (it would only stack a second tombstone).
    const expected = casExpectation(this.#o.mirror, path, input) ?? current?.revision;
    return this.#append(
      {
        path,
        op: 'delete',
        content: EMPTY,
        ...(expected !== undefined ? { expectedRevision: expected } : {}),
        author: caller.author,
        message: input.message ?? '',
      },
      false,
      caller,
    );
  }

  /** Writes a retained revision's content as a new revision (CAS on the current one). */
  async rollback(
    input: { path: string; revision: number; expectedRevision?: number; message?: string },
    caller: Caller,
  ): Promise<LogRecord> {
    const { path, info } = requireDocumentPath(input.path);
    await this.#settleForWrite(path);
    const m = this.#o.mirror;
    const target = m.getRevision(path, input.revision);
    if (!target) throw new ConfigdError('not-found', `revision ${input.revision} of '${path}' is not retained`, { path });
    const last = m.lastRecordOf(path);
    const expected = input.expectedRevision ?? last?.revision ?? 0;
    if (last && last.revision !== expected && m.revision >= expected) {
      throw conflictError(path, m.getCurrent(path), `expected revision ${expected}`);
    }
    const message = input.message || `rollback to revision ${input.revision}`;
    if (target.op === 'delete') {
      if (!m.getCurrent(path)) throw new ConfigdError('conflict', `'${path}' is already deleted`, { path });
      return this.#append({ path, op: 'delete', content: EMPTY, expectedRevision: expected, author: caller.author, message }, false, caller);
    }
    const content = target.content ?? EMPTY;
    this.#checkSize(path, content);
    await this.#validate(path, info, content);
    return this.#append({ path, op: 'put', content, expectedRevision: expected, author: caller.author, message }, false, caller);
  }

  /**
   * Validates a whole tree first; writes nothing when any document has errors (unless
   * `force`). Documents whose content is unchanged are skipped. The changed ones are written
   * all or nothing (`writeAtomically`: one batch, CAS against the revision seen at validation
   * time on every document); the answer names every document written.
   */
  async import(
    docs: readonly { path: string; content: Uint8Array }[],
    opts: { force?: boolean; dryRun?: boolean; message?: string },
    caller: Caller,
  ): Promise<{ written: LogRecord[]; unchanged: string[]; diagnostics: DiagnosticInfo[] }> {
    checkMessage(opts.message ?? '');
    const entries: { path: string; info: DocumentPathInfo; content: Uint8Array }[] = [];
    const seen = new Set<string>();
    for (const d of docs) {
      const { path, info } = requireDocumentPath(d.path);
      if (seen.has(path)) throw new ConfigdError('invalid-argument', `'${path}' appears twice in the import`, { path });
      seen.add(path);
      this.#checkSize(path, d.content);
      entries.push({ path, info, content: d.content });
    }
    await this.settle();
    const overlay = new Map(entries.map((e) => [e.path, e.content]));
    const diagnostics: DiagnosticInfo[] = [];
    for (const e of entries) {
      diagnostics.push(...(await this.#o.validator.validate({ path: e.path, content: e.content, ...this.contextFor(e.path, e.info, overlay) })));
    }
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0 && !opts.force) {
      throw new ConfigdError(
        'invalid-document',
        `import refused: ${errors.length} error${errors.length === 1 ? '' : 's'} in ${new Set(errors.map((d) => d.path)).size} document(s); nothing was written`,
        { diagnostics },
      );
    }
    const written: LogRecord[] = [];
    const unchanged: string[] = [];
    if (opts.dryRun) return { written, unchanged, diagnostics };
    const changed = entries.filter((e) => {
      const current = this.#o.mirror.getCurrent(e.path);
      const same = current !== undefined && current.digest === sha256Hex(e.content);
      if (same) unchanged.push(e.path);
      return !same;
    });
    if (changed.length === 0) return { written, unchanged, diagnostics };
    // cluster.fw first: the mirrors apply the batch at once anyway; the order only matters to readers of the raw stream.
    changed.sort((a, b) => (a.path === 'firewall/cluster.fw' ? -1 : b.path === 'firewall/cluster.fw' ? 1 : a.path.localeCompare(b.path)));
    const mirror = this.#o.mirror;
    written.push(
      ...(await writeAtomically(changed, { author: caller.author, message: opts.message || 'import', deadlineMs: caller.deadlineMs }, {
        append: (write, deadlineMs) =>
          this.#append(write, false, { ...caller, deadlineMs: Math.min(deadlineMs, caller.deadlineMs ?? Infinity) }),
        lastRevisionOf: (path) => mirror.lastRecordOf(path)?.revision ?? 0,
        waitForRevision: (revision, timeoutMs) => mirror.waitForRevision(revision, timeoutMs, caller.signal),
        outcomeOf: (id) => mirror.batchOutcome(id),
        now: () => Date.now(),
      })),
    );
    return { written, unchanged, diagnostics };
  }

  /** Streams changes under prefixes (see `watchMirror`). */
  async *watch(opts: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const prefixes = opts.prefixes.map(requirePrefix);
    await this.settle(signal);
    yield* watchMirror(this.#o.mirror, { ...opts, prefixes }, signal);
  }
}

/** Refuses a write message longer than `MAX_MESSAGE_BYTES` (it is copied into the revision's headers). */
function checkMessage(message: string): void {
  const bytes = Buffer.byteLength(message, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new ConfigdError('invalid-argument', `the message is ${bytes} bytes; messages are limited to ${MAX_MESSAGE_BYTES} bytes`);
  }
}
