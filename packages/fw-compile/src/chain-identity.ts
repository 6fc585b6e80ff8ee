/**
 * Chains kept as the previous compile's objects when they are equal (issue #9): a `cluster.fw`
 * change recompiles every chain of the node, but most come out exactly as before; giving back
 * the previous object lets the planner skip them by identity (instead of comparing 2,000
 * fingerprints), and keeps their text, digest and fingerprint cached. Equality is structural
 * and exact (every field, origins included, keys in the same order), so the result stays
 * byte for byte the fresh compile's. Pure.
 */
import type { Chain } from '@palisade/nft-ir';

/** Whether `a` and `b` are the same IR value: primitives by `===`, arrays and plain objects field by field. */
export function sameIrValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameIrValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i] as string;
    if (k !== kb[i] || !sameIrValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** `c`, or the chain of the same name in `previous` when that one is equal to it. */
export function keptChain(previous: ReadonlyMap<string, Chain> | undefined, c: Chain): Chain {
  const p = previous?.get(c.name);
  return p !== undefined && p !== c && sameIrValue(p, c) ? p : c;
}
