/** cyrb53 (public domain, bryc): a fast, well-mixed string hash, for names derived from content. */

/** cyrb53's two 32-bit halves of `s` (unsigned). */
export function cyrb53Pair(s: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

/** cyrb53's 53-bit value of `s` in hex (no padding). */
export function cyrb53Hex(s: string): string {
  const [h1, h2] = cyrb53Pair(s);
  return (4294967296 * (2097151 & h2) + h1).toString(16);
}
