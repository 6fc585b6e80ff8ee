/**
 * The replicated home of pending confirmations: a JetStream KV bucket next to the documents'
 * (`<bucket>-confirm`, same replica count), one key per document path. Every write is a
 * compare-and-set on the key's revision, which is what lets exactly one of `Confirm` and the
 * rollback timers of all configd instances win.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { ConfigdError } from '../errors.js';
import { decodePending, encodePending, type PendingConfirmation } from './pending-record.js';

/** A pending record with the KV revision a compare-and-set must name. */
export interface PendingEntry {
  readonly record: PendingConfirmation;
  readonly seq: number;
}

/** An event of `watch`: a record's current state, or its removal. */
export type PendingEvent = { readonly kind: 'put'; readonly key: string; readonly entry: PendingEntry } | { readonly kind: 'gone'; readonly key: string };

/**
 * The pending confirmations in their KV bucket, keyed by document path. A write that lost its
 * compare-and-set returns undefined or false instead of throwing, so that the caller learns it lost
 * the race; NATS failures are `unavailable`.
 */
export class ConfirmBucket {
  readonly #kv: KV;

  private constructor(kv: KV) {
    this.#kv = kv;
  }

  /**
   * Creates the bucket, or binds to it when it exists, and resolves once it answers reads (a new
   * replicated bucket needs a moment before its replicas serve direct gets).
   */
  static async open(nc: NatsConnection, name: string, replicas: number, signal: AbortSignal): Promise<ConfirmBucket> {
    const kv = await new Kvm(nc).create(name, { history: 1, replicas: Math.max(1, replicas), storage: 'file', description: 'Palisade commit-confirmed: changes waiting for confirmation' } as never);
    for (let attempt = 0; ; attempt++) {
      try {
        await kv.get('palisade-probe');
        break;
      } catch (err) {
        if (attempt >= 50 || signal.aborted) throw unavailable(err);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return new ConfirmBucket(kv);
  }

  /** Creates the record; undefined when the key exists already (another change waits). */
  async create(record: PendingConfirmation): Promise<number | undefined> {
    try {
      return await this.#kv.create(record.path, encodePending(record));
    } catch (err) {
      if (isWrongSequence(err)) return undefined;
      throw unavailable(err);
    }
  }

  /** Replaces the record at `seq`; undefined when it changed or went away meanwhile. */
  async update(record: PendingConfirmation, seq: number): Promise<number | undefined> {
    try {
      return await this.#kv.update(record.path, encodePending(record), seq);
    } catch (err) {
      if (isWrongSequence(err)) return undefined;
      throw unavailable(err);
    }
  }

  /** Removes the record at `seq`; false when it changed or went away meanwhile. */
  async remove(path: string, seq: number): Promise<boolean> {
    try {
      await this.#kv.delete(path, { previousSeq: seq });
      return true;
    } catch (err) {
      if (isWrongSequence(err)) return false;
      throw unavailable(err);
    }
  }

  async get(path: string): Promise<PendingEntry | undefined> {
    const e = await this.#kv.get(path).catch((err: unknown) => {
      throw unavailable(err);
    });
    if (!e || e.operation !== 'PUT') return undefined;
    const record = decodePending(e.value);
    return record ? { record, seq: e.revision } : undefined;
  }

  /** Every record now, read from the bucket (not from a watch that may lag). */
  async all(): Promise<PendingEntry[]> {
    const out: PendingEntry[] = [];
    try {
      const keys: string[] = [];
      for await (const k of await this.#kv.keys()) keys.push(k);
      for (const k of keys) {
        const e = await this.get(k);
        if (e) out.push(e);
      }
    } catch (err) {
      throw unavailable(err);
    }
    return out;
  }

  /** Every record now, then every change, until `signal` aborts. */
  async *watch(signal: AbortSignal): AsyncGenerator<PendingEvent> {
    const it = await this.#kv.watch({ key: '>' });
    const stop = (): void => void it.stop();
    signal.addEventListener('abort', stop, { once: true });
    // An abort that came while the watch was being opened would otherwise never stop it.
    if (signal.aborted) stop();
    try {
      for await (const e of it) {
        const record = e.operation === 'PUT' ? decodePending(e.value) : undefined;
        yield record ? { kind: 'put', key: e.key, entry: { record, seq: e.revision } } : { kind: 'gone', key: e.key };
      }
    } finally {
      signal.removeEventListener('abort', stop);
      it.stop();
    }
  }
}

/** A compare-and-set that lost (JetStream "wrong last sequence", API error 10071). */
function isWrongSequence(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; api_error?: { err_code?: number } };
  return e?.api_error?.err_code === 10071 || (typeof e?.message === 'string' && /wrong last sequence|key exists/i.test(e.message));
}

function unavailable(err: unknown): ConfigdError {
  return new ConfigdError('unavailable', `commit-confirmed records unavailable: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
}
