import { describe, expect, it } from 'vitest';
import { createParseCache } from './parse-cache.js';
import { loadTree } from './tree.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function files(): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  out.set('firewall/cluster.fw', bytes('[OPTIONS]\nenable: 1\n\n[ALIASES]\nnet1 10.0.0.0/24\n'));
  out.set('nodes/pve1/host.fw', bytes('[RULES]\nIN ACCEPT -source net1\n'));
  for (const v of [100, 101, 102]) {
    out.set(`nodes/pve1/qemu-server/${v}.conf`, bytes('net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n'));
    out.set(`firewall/${v}.fw`, bytes('[RULES]\nIN ACCEPT -source dc/net1\nIN ACCEPT -source nosuch\n'));
  }
  return out;
}

describe('loadTree with a parse cache', () => {
  it('parses only what changed and gives the same tree as a fresh load', () => {
    const cache = createParseCache();
    const input = files();
    const first = loadTree(input, { cache });
    expect(cache.parsedLastLoad).toBe(8);
    // Equal bytes in a new array are unchanged too.
    input.set('firewall/100.fw', bytes('[RULES]\nIN ACCEPT -source dc/net1\nIN ACCEPT -source nosuch\n'));
    const same = loadTree(input, { cache });
    expect(cache.parsedLastLoad).toBe(0);
    expect(same.guests.get(100)).toBe(first.guests.get(100));
    input.set('firewall/101.fw', bytes('[RULES]\nIN DROP -source net1\n'));
    const changed = loadTree(input, { cache });
    expect(cache.parsedLastLoad).toBe(1);
    expect(changed.guests.get(100)).toBe(first.guests.get(100));
    expect(changed.guests.get(101)).not.toBe(first.guests.get(101));
    expect(changed).toStrictEqual(loadTree(new Map(input)));
  });

  it('a document deleted and another added (the same count): the tree of a fresh load, the deleted one forgotten', () => {
    const cache = createParseCache();
    const input = files();
    loadTree(input, { cache });
    input.delete('firewall/102.fw');
    input.set('firewall/103.fw', bytes('[RULES]\nIN DROP -source net1\n'));
    const next = loadTree(input, { cache });
    expect(cache.parsedLastLoad).toBe(1);
    expect(cache.parses.has('firewall/102.fw')).toBe(false);
    expect([...next.documents.keys()]).toEqual([...loadTree(new Map(input)).documents.keys()]);
    expect(next.diagnostics).toStrictEqual(loadTree(new Map(input)).diagnostics);
    // the same paths again: the sorted list of the last load is reused
    const again = loadTree(new Map(input), { cache });
    expect([...again.documents.keys()]).toEqual([...next.documents.keys()]);
  });

  it('parses every document that reads names from cluster.fw again when cluster.fw changes', () => {
    const cache = createParseCache();
    const input = files();
    const first = loadTree(input, { cache });
    input.set('firewall/cluster.fw', bytes('[OPTIONS]\nenable: 1\n\n[ALIASES]\nnet1 10.0.0.0/24\nnosuch 10.9.9.9\n'));
    const next = loadTree(input, { cache });
    // cluster.fw, host.fw and the three guest documents; the guest configs are unchanged.
    expect(cache.parsedLastLoad).toBe(5);
    expect(next.guestConfigs.get(100)?.config).toBe(first.guestConfigs.get(100)?.config);
    expect(next).toStrictEqual(loadTree(new Map(input)));
    input.delete('firewall/102.fw');
    const removed = loadTree(input, { cache });
    expect(removed.guests.has(102)).toBe(false);
    expect(cache.parses.has('firewall/102.fw')).toBe(false);
    expect(removed).toStrictEqual(loadTree(new Map(input)));
  });
});
