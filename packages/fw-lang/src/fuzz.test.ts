/**
 * Property tests: random and mutated documents never make the parser throw, always print
 * back exactly, and every diagnostic points at a line that exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FW_DOCUMENT_KINDS, type FwDocument } from './model.js';
import { parseFwDocument } from './parse-fw.js';
import { printDocument, printDocumentBytes } from './print.js';

const TEST_DIR = join(import.meta.dirname, '..', 'test');
const SEEDS = [
  ...readdirSync(join(TEST_DIR, 'golden')).filter((f) => f.endsWith('.fw')).map((f) => join(TEST_DIR, 'golden', f)),
  ...readdirSync(join(TEST_DIR, 'corpus', 'realworld')).filter((f) => f.endsWith('.fw')).map((f) => join(TEST_DIR, 'corpus', 'realworld', f)),
].map((p) => readFileSync(p, 'latin1'));

/** Tokens that matter to the grammar, so random documents reach deep into the parser. */
const TOKENS = [
  '[OPTIONS]', '[RULES]', '[ALIASES]', '[IPSET x1]', '[group g1]', '[IPSET', ']', '#', '|', '\n', '\r\n', ' ', '\t', ':',
  'IN', 'OUT', 'FORWARD', 'GROUP', 'ACCEPT', 'DROP', 'REJECT', 'SSH(ACCEPT)', 'Ping(DROP)', '-i', 'net0', 'vmbr0',
  '-p', 'tcp', 'udp', 'icmp', 'icmpv6', '-dport', '-sport', '22', '80:90', '1,2,3', '-source', '-dest', '10.0.0.1',
  '10.0.0.0/8', '2001:db8::1', '10.0.0.1-10.0.0.9', '+x1', '+dc/x1', 'dc/a1', 'a1', '-log', 'info', '-icmp-type',
  'echo-request', 'enable: 1', 'policy_in: DROP', 'log_ratelimit: enable=1,rate=1/second', '!', 'a1 10.1.1.1',
  '\u0000', '\uFEFF', 'é', '\uD83D\uDE00',
];

function checkInvariants(doc: FwDocument, text: string): void {
  expect(printDocument(doc)).toBe(text);
  for (const d of doc.diagnostics) {
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(Math.max(1, doc.lines.length));
  }
}

describe('parser properties', () => {
  it('random token documents never throw, round-trip, and point at existing lines', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 200 }), fc.constantFrom(...FW_DOCUMENT_KINDS), (tokens, kind) => {
        const text = tokens.join(tokens.length % 3 === 0 ? '' : ' ');
        checkInvariants(parseFwDocument(text, { path: 'fuzz.fw', kind }), text);
      }),
      { numRuns: 1500 },
    );
  });

  it('arbitrary strings never throw and round-trip', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.constantFrom(...FW_DOCUMENT_KINDS), (text, kind) => {
        checkInvariants(parseFwDocument(text, { path: 'fuzz.fw', kind }), text);
      }),
      { numRuns: 1500 },
    );
  });

  it('mutated real documents never throw and round-trip', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.string({ maxLength: 12 })), { maxLength: 8 }),
        fc.constantFrom(...FW_DOCUMENT_KINDS),
        (seed, mutations, kind) => {
          let text = seed;
          for (const [at, del, insert] of mutations) {
            const pos = text.length === 0 ? 0 : at % text.length;
            text = text.slice(0, pos) + insert + text.slice(pos + del);
          }
          checkInvariants(parseFwDocument(text, { path: 'fuzz.fw', kind }), text);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('random bytes never throw and print back the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const doc = parseFwDocument(bytes, { path: 'fuzz.fw', kind: 'cluster' });
        expect(Buffer.from(printDocumentBytes(doc)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  // A super-linear regex would hang here; the test timeout turns that into a failure.
  it('pathological inputs do not hang', { timeout: 10_000 }, () => {
    const long = 'IN ACCEPT ' + '-p '.repeat(20000) + 'x';
    const doc = parseFwDocument(`[RULES]\n${long}\n[OPTIONS]\nnf_conntrack_helpers: ${'ftp,'.repeat(20000)}x\n[ALIASES]\n${'a'.repeat(50000)} ${'1'.repeat(50000)}\n`, {
      path: 'p',
      kind: 'host',
    });
    expect(doc.diagnostics.length).toBeGreaterThan(0);
  });
});

describe('guest configs and corosync.conf', () => {
  it('never throw on random bytes and print back the same bytes', async () => {
    const { parseGuestConfig } = await import('./guest-config.js');
    const { parseCorosyncConfig } = await import('./corosync.js');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, lxc) => {
        const guest = parseGuestConfig(bytes, { path: 'nodes/n/qemu-server/100.conf', guestType: lxc ? 'lxc' : 'qemu' });
        expect(Buffer.from(printDocumentBytes(guest)).equals(Buffer.from(bytes))).toBe(true);
        const coro = parseCorosyncConfig(bytes, { path: 'corosync.conf' });
        expect(Buffer.from(printDocumentBytes(coro)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
