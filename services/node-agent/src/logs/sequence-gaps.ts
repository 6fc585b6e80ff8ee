/**
 * Kernel-side losses from NFLOG's instance sequence numbers (`NFULNL_CFG_F_SEQ`): the kernel
 * numbers every message it builds for the group, also those it then drops for a full socket
 * buffer, so the gap before a received number is the exact count lost. Pure.
 */
export class SequenceGaps {
  #next: number | undefined;

  /** Messages lost before `seq` (0 for the first and for consecutive numbers). */
  observe(seq: number | undefined): number {
    if (seq === undefined) return 0;
    const expected = this.#next;
    this.#next = (seq + 1) >>> 0;
    if (expected === undefined) return seq; // the instance counts from 0 at bind
    const gap = (seq - expected) >>> 0;
    // A number behind the expected one (a rebind restarted the count) is no loss.
    return gap < 0x80000000 ? gap : 0;
  }

  /** A new instance (rebind): the count starts at 0 again. */
  reset(): void {
    this.#next = undefined;
  }
}
