/**
 * Consecutive ICMP types: the compiler writes a sorted run of two or more as a range
 * (`icmp type 3-5`, two compares in the kernel) instead of an anonymous set, so the text and
 * JSON renderers, the shared-set pass and the netlink codec must agree on what a run is. Pure.
 */

/** The [first, last] of a sorted run of two or more consecutive ICMP types, else undefined. */
export function icmpRun(types: readonly number[]): readonly [number, number] | undefined {
  if (types.length < 2) return undefined;
  for (let i = 1; i < types.length; i++) if (types[i] !== (types[i - 1] as number) + 1) return undefined;
  return [types[0] as number, types[types.length - 1] as number];
}
