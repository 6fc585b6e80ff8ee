/**
 * A structural fingerprint per chain, cached on the chain object: the netlink planner compares
 * two compiles chain by chain by fingerprint instead of walking 45,000 rules (issue #9).
 * `compileNode` computes them while the compile's objects are fresh, so planning costs a map
 * lookup per chain. Everything the kernel holds counts (name, base, every field of every rule
 * except its `origin`, which only names the source); the walk is generic, so a field added to
 * the IR later is included without anyone remembering to. Two independent 32-bit hashes: a
 * collision needs both to collide (about 2^-64 per changed chain). Pure.
 */
import type { Chain, Rule } from './ir.js';

const cache = new WeakMap<Chain, string>();
let h1 = 0;
let h2 = 0;

function mix(n: number): void {
  h1 = Math.imul(h1 ^ n, 2654435761);
  h2 = (Math.imul(h2 ^ n, 1597334677) + 0x9e3779b9) | 0;
}

function mixString(s: string): void {
  mix(s.length + 0x51);
  for (let i = 0; i < s.length; i++) mix(s.charCodeAt(i));
}

function mixValue(v: unknown): void {
  switch (typeof v) {
    case 'number':
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff) mix(v | 0);
      else mixString(String(v));
      mix(0x11);
      return;
    case 'string':
      mixString(v);
      return;
    case 'bigint': {
      let x = v < 0n ? -v : v;
      mix(v < 0n ? 0x23 : 0x22);
      do {
        mix(Number(x & 0xffffffffn) | 0);
        x >>= 32n;
      } while (x > 0n);
      return;
    }
    case 'boolean':
      mix(v ? 0x31 : 0x30);
      return;
    case 'undefined':
      mix(0x40);
      return;
    case 'object':
      if (v === null) {
        mix(0x41);
        return;
      }
      if (Array.isArray(v)) {
        mix(0x50 + v.length);
        for (const x of v) mixValue(x);
        mix(0x5f);
        return;
      }
      mix(0x60);
      for (const key in v) {
        const x = (v as Record<string, unknown>)[key];
        if (x === undefined) continue; // absent and undefined are the same IR
        mixString(key);
        mixValue(x);
      }
      mix(0x6f);
      return;
    default:
      mixString(String(v));
  }
}

function mixRule(r: Rule): void {
  mix(0x70);
  for (const key in r) {
    if (key === 'origin') continue;
    const x = (r as unknown as Record<string, unknown>)[key];
    if (x === undefined) continue;
    mixString(key);
    mixValue(x);
  }
}

/** The fingerprint of `c` (computed once per chain object). Equal fingerprints: the same rules in the kernel. */
export function chainFingerprint(c: Chain): string {
  let f = cache.get(c);
  if (f !== undefined) return f;
  h1 = 0x811c9dc5;
  h2 = 0x01000193;
  mixString(c.name);
  mix(c.rules.length);
  for (const r of c.rules) mixRule(r);
  f = `${(h1 >>> 0).toString(36)}.${(h2 >>> 0).toString(36)}.${c.rules.length}`;
  cache.set(c, f);
  return f;
}

/**
 * A structural hash of one rule's matches and statements (not its comment or origin): rules
 * with equal keys lower to the same netlink expressions, which the lowering reuses.
 */
export function ruleFingerprint(r: Rule): string {
  h1 = 0x811c9dc5;
  h2 = 0x01000193;
  mixValue(r.matches);
  mixValue(r.stmts);
  return `${(h1 >>> 0).toString(36)}.${(h2 >>> 0).toString(36)}`;
}
