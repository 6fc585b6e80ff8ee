import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderNftText } from '@palisade/fw-compile';
import { describe, expect, it } from 'vitest';
import { withRuleCounters } from '../inspect/rule-counters.js';
import { compileNodeDocuments, createNodeCompiler, type NodeCompileInput, type NodeCompileOutput } from './node-compiler.js';

const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const EXAMPLE = fileURLToPath(new URL('../../../../examples/pve', import.meta.url));

function readTree(root: string, rel = ''): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const e of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${e}` : e;
    if (statSync(join(root, p)).isDirectory()) for (const [k, v] of readTree(root, p)) out.set(k, v);
    else out.set(p, readFileSync(join(root, p)));
  }
  return out;
}

/** A node like bench-agent's large one, smaller: guests with 20 rules each, some with IP sets, groups and port lists. */
function generated(guests: number): Map<string, Uint8Array> {
  const docs = new Map<string, Uint8Array>();
  docs.set('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n\n[IPSET admins]\n10.9.0.0/16\n\n[group web]\nIN ACCEPT -p tcp -dport 80,443\n'));
  for (let g = 0; g < guests; g++) {
    const vmid = 1000 + g;
    const rules = Array.from({ length: 20 }, (_, k) => `IN ACCEPT -p tcp -dport ${20_000 + k} -source 10.${g % 250}.${k}.0/24`);
    if (g % 3 === 0) rules.push('GROUP web', 'IN ACCEPT -source +admins -p tcp -dport 22,2222');
    docs.set(`nodes/pve1/qemu-server/${vmid}.conf`, text(`net0: virtio=02:00:00:00:${(g & 0xff).toString(16).padStart(2, '0')}:01,bridge=vmbr0,firewall=1\n`));
    docs.set(`firewall/${vmid}.fw`, text(`[OPTIONS]\nenable: 1\n${g % 4 === 0 ? 'ipfilter: 1\n' : ''}\n[RULES]\n${rules.join('\n')}\n`));
  }
  return docs;
}

function input(node: string, documents: Map<string, Uint8Array>): NodeCompileInput {
  return { node, documents: new Map(documents), facts: { addresses: ['172.16.1.2/24'], interfaces: ['eth0'] }, nowMs: 0, logGroup: 7401 };
}

/** The kept compiler's output is the one-off compile's, and its text is withRuleCounters(renderNftText(...)). */
function expectSameAsFresh(out: NodeCompileOutput, fresh: NodeCompileOutput): void {
  expect(out.ok && fresh.ok).toBe(true);
  if (!out.ok || !fresh.ok) return;
  expect(out.text).toBe(withRuleCounters(renderNftText(fresh.compiled.ruleset, fresh.compiled.ownTables), fresh.compiled));
  expect(out.digest).toBe(fresh.digest);
  expect(out.problems).toStrictEqual(fresh.problems);
  expect(out.compiled).toStrictEqual(fresh.compiled);
}

describe('node compiler (kept between compiles)', () => {
  it('gives the one-off result on the example tree, also compiled again', () => {
    const compiler = createNodeCompiler();
    const docs = readTree(EXAMPLE);
    expectSameAsFresh(compiler.compile(input('pve1', docs)), compileNodeDocuments(input('pve1', docs)));
    expectSameAsFresh(compiler.compile(input('pve1', docs)), compileNodeDocuments(input('pve1', docs)));
    expect(compiler.lastTimings?.documentsParsed).toBe(0);
  });

  it("compiles, parses and renders only a changed guest; a shared change rebuilds everything; each time the one-off result", () => {
    const compiler = createNodeCompiler();
    const docs = generated(60);
    expectSameAsFresh(compiler.compile(input('pve1', docs)), compileNodeDocuments(input('pve1', docs)));
    expect(compiler.lastTimings?.compile).toEqual({ sharedCompiled: true, guestsCompiled: 60, guestsReused: 0 });
    const steps: [string, string][] = [
      ['firewall/1030.fw', '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 30000\n'],
      ['firewall/1000.fw', '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 22,2222\n'],
      ['firewall/1003.fw', '[OPTIONS]\nenable: 0\n'],
      ['nodes/pve1/qemu-server/1004.conf', 'net0: virtio=02:00:00:00:99:01,bridge=vmbr0,firewall=1\nnet1: virtio=02:00:00:00:99:02,bridge=vmbr0,firewall=1\n'],
    ];
    let digest = '';
    for (const [path, content] of steps) {
      docs.set(path, text(content));
      const out = compiler.compile(input('pve1', docs));
      // the composed digest moves with the content
      expect(out.ok && out.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(out.ok && out.digest).not.toBe(digest);
      digest = out.ok ? out.digest : '';
      expect(compiler.lastTimings?.documentsParsed).toBe(1);
      expect(compiler.lastTimings?.compile).toEqual({ sharedCompiled: false, guestsCompiled: 1, guestsReused: 59 });
      expectSameAsFresh(out, compileNodeDocuments(input('pve1', docs)));
    }
    docs.set('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n\n[IPSET admins]\n10.8.0.0/16\n\n[group web]\nIN ACCEPT -p tcp -dport 8080\n'));
    const shared = compiler.compile(input('pve1', docs));
    expect(compiler.lastTimings?.compile).toEqual({ sharedCompiled: true, guestsCompiled: 60, guestsReused: 0 });
    expectSameAsFresh(shared, compileNodeDocuments(input('pve1', docs)));
    // A refused configuration keeps no half state: the next good one compiles as a fresh one would.
    docs.set('firewall/1010.fw', new Uint8Array([0x5b, 0x52, 0x55, 0x4c, 0x45, 0x53, 0x5d, 0x0a, 0x00]));
    expect(compiler.compile(input('pve1', docs)).ok).toBe(false);
    docs.delete('firewall/1010.fw');
    expectSameAsFresh(compiler.compile(input('pve1', docs)), compileNodeDocuments(input('pve1', docs)));
  });
});
