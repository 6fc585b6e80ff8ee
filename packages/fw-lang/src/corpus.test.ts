/**
 * The real-world corpus (documents written by Proxmox users, kept byte for byte) and our own
 * golden corpus: every document round-trips exactly; golden documents produce exactly the
 * diagnostics in their `.diagnostics` file. Regenerate goldens with UPDATE_GOLDENS=1.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFwDocument } from './parse-fw.js';
import { printDocumentBytes } from './print.js';
import { formatDiagnostic } from './diagnostics.js';
import type { FwDocumentKind } from './model.js';

const TEST_DIR = join(import.meta.dirname, '..', 'test');
const REALWORLD = join(TEST_DIR, 'corpus', 'realworld');
const GOLDEN = join(TEST_DIR, 'golden');

function kindOf(name: string): FwDocumentKind {
  const m = /-(cluster|host|guest|vnet|other)\.fw$/.exec(name);
  const k = m?.[1];
  return k === 'host' || k === 'guest' || k === 'vnet' ? k : 'cluster';
}

describe('real-world corpus', () => {
  const files = readdirSync(REALWORLD).filter((f) => f.endsWith('.fw')).sort();
  it('has the 45 documents', () => {
    expect(files).toHaveLength(45);
  });
  it.each(files)('%s round-trips byte for byte and diagnostics point at existing lines', (name) => {
    const bytes = new Uint8Array(readFileSync(join(REALWORLD, name)));
    const doc = parseFwDocument(bytes, { path: name, kind: kindOf(name) });
    expect(Buffer.from(printDocumentBytes(doc)).equals(Buffer.from(bytes))).toBe(true);
    for (const d of doc.diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.line).toBeLessThanOrEqual(Math.max(1, doc.lines.length));
    }
  });
});

describe('golden corpus', () => {
  const files = readdirSync(GOLDEN).filter((f) => f.endsWith('.fw')).sort();
  it('is not empty', () => {
    expect(files.length).toBeGreaterThan(10);
  });
  it.each(files)('%s', (name) => {
    const bytes = new Uint8Array(readFileSync(join(GOLDEN, name)));
    const doc = parseFwDocument(bytes, { path: name, kind: kindOf(name) });
    expect(Buffer.from(printDocumentBytes(doc)).equals(Buffer.from(bytes))).toBe(true);
    const actual = doc.diagnostics.map((d) => formatDiagnostic(d)).join('\n') + (doc.diagnostics.length ? '\n' : '');
    const expectedFile = join(GOLDEN, name.replace(/\.fw$/, '.diagnostics'));
    if (process.env['UPDATE_GOLDENS'] === '1' || !existsSync(expectedFile)) {
      if (process.env['UPDATE_GOLDENS'] !== '1') throw new Error(`missing ${expectedFile}; run with UPDATE_GOLDENS=1`);
      writeFileSync(expectedFile, actual);
    }
    expect(actual).toBe(readFileSync(expectedFile, 'utf8'));
  });
});
