/**
 * An ipset-only change between two compiled rulesets, as element updates of interval sets:
 * the compiler's `diffSetElements` produces it, the netlink codec sends it as one batch.
 */
import type { AddrInterval } from './ir.js';

/** The elements removed from and added to one named set between two compiles. */
export interface SetElementChange {
  readonly family: string;
  readonly table: string;
  readonly set: string;
  readonly removed: readonly AddrInterval[];
  readonly added: readonly AddrInterval[];
}
