import { describe, expect, it } from 'vitest';
import { createNodeCompiler, type NodeCompileInput } from '../compile/node-compiler.js';
import { createSavedOriginsCollector, savedRuleOrigins } from './saved-origins.js';

const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function input(documents: Map<string, Uint8Array>): NodeCompileInput {
  return { node: 'pve1', documents: new Map(documents), facts: { addresses: ['172.16.1.2/24'], interfaces: ['eth0'] }, nowMs: 0, logGroup: 7401 };
}

describe('saved rule origins, chain by chain', () => {
  it('equal savedRuleOrigins over a sequence of incremental compiles', () => {
    const docs = new Map<string, Uint8Array>();
    docs.set('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n\n[group web]\nIN ACCEPT -p tcp -dport 80 -log info\n'));
    for (let g = 0; g < 8; g++) {
      docs.set(`nodes/pve1/qemu-server/${100 + g}.conf`, text(`net0: virtio=02:00:00:00:0${g}:01,bridge=vmbr0,firewall=1\n`));
      docs.set(`firewall/${100 + g}.fw`, text(`[OPTIONS]\nenable: 1\n\n[RULES]\nGROUP web\nIN DROP -p tcp -dport ${1000 + g} -log info\nIN ACCEPT -p tcp -dport 22\n`));
    }
    const compiler = createNodeCompiler();
    const collect = createSavedOriginsCollector();
    const edits: [string, string][] = [
      ['firewall/103.fw', '[OPTIONS]\nenable: 1\n\n[RULES]\nIN REJECT -p udp -dport 53 -log warning\n'],
      ['firewall/105.fw', '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 443\n'],
      ['firewall/cluster.fw', '[OPTIONS]\nenable: 1\n\n[group web]\nIN ACCEPT -p tcp -dport 8080 -log info\n'],
    ];
    let logged = 0;
    for (const [path, content] of [['', ''] as [string, string], ...edits]) {
      if (path) docs.set(path, text(content));
      const out = compiler.compile(input(docs));
      if (!out.ok) throw new Error(out.refusal.message);
      const expected = savedRuleOrigins(out.compiled);
      expect(collect(out.compiled)).toStrictEqual(expected);
      logged += expected.length;
    }
    expect(logged).toBeGreaterThan(8);
  });
});
