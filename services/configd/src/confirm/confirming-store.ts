/**
 * The document store as the RPC services see it: a write whose caller carries a confirm window
 * (`ConfirmCaller.confirmWindowMs`) becomes a commit-confirmed change; every other call goes to
 * the store unchanged. The firewall API writes through this too, so every `palisade fw …`
 * write can be commit-confirmed without the firewall API knowing about it.
 */
import type { Caller, DeleteInput, DocumentStore, PutInput } from '../store/document-store.js';
import type { Confirmations } from './confirmations.js';

/** A caller that asks for commit-confirmed writes. */
export interface ConfirmCaller extends Caller {
  /** 0 or absent: an ordinary write. */
  readonly confirmWindowMs?: number;
}

/** The caller with a confirm window (none when `windowMs` is 0 or absent). */
export function withConfirmWindow<C extends Caller>(caller: C, windowMs: number | undefined): C & ConfirmCaller {
  return windowMs ? { ...caller, confirmWindowMs: windowMs } : caller;
}

/** Wraps `store`: put and delete honour a caller's confirm window; the result of a confirmed put carries its deadline. */
export function confirmingStore(store: DocumentStore, confirmations: Confirmations): DocumentStore {
  const put = async (input: PutInput, caller: ConfirmCaller): ReturnType<DocumentStore['put']> => {
    if (!caller.confirmWindowMs) return store.put(input, caller);
    const own = input.expectedRevision !== undefined || Boolean(input.expectedDigest) || Boolean(input.createOnly);
    return confirmations.guarded({ path: input.path, windowMs: caller.confirmWindowMs, author: caller.author, ownExpectation: own }, (expectedRevision) =>
      store.put(expectedRevision === undefined ? input : { ...input, expectedRevision }, caller),
    );
  };
  const del = async (input: DeleteInput, caller: ConfirmCaller): ReturnType<DocumentStore['delete']> => {
    if (!caller.confirmWindowMs) return store.delete(input, caller);
    const own = input.expectedRevision !== undefined || Boolean(input.expectedDigest);
    const r = await confirmations.guarded({ path: input.path, windowMs: caller.confirmWindowMs, author: caller.author, ownExpectation: own }, async (expectedRevision) => ({
      record: await store.delete(expectedRevision === undefined ? input : { ...input, expectedRevision }, caller),
    }));
    return r.record;
  };
  // Methods are bound to the real store: its private fields only exist there.
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'put') return put;
      if (prop === 'delete') return del;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
