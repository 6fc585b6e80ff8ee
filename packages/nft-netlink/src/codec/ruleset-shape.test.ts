import { describe, expect, it } from 'vitest';
import type { Ruleset, Table } from '@palisade/fw-compile';
import { decodeNetlinkMessages } from './decode.js';
import { lowerFullReplace } from './nft-lower.js';
import { encodeNftBatch } from './nft-messages.js';
import { decodeListedShape, diffShapes, expectedShape } from './ruleset-shape.js';
import { PROBE_OWN_TABLES, PROBE_RULESET } from './test-probe.js';

/** The probe's messages as a dump would carry them (the kernel lists NEWCHAIN/NEWRULE/NEWSET). */
function dumpOf(r: Ruleset) {
  const b = encodeNftBatch(lowerFullReplace(r.tables, []), { ack: 'none' });
  if (!b.ok) throw new TypeError(b.error);
  const d = decodeNetlinkMessages(b.value.bytes);
  if (!d.ok) throw new TypeError(d.error);
  return d.value.slice(1, -1);
}

describe('drift shape', () => {
  it('the listed shape of what was sent equals the expected shape', () => {
    const listed = decodeListedShape(dumpOf(PROBE_RULESET), PROBE_OWN_TABLES);
    if (!listed.ok) throw new TypeError(listed.error);
    expect(diffShapes(expectedShape(PROBE_RULESET), listed.value)).toEqual([]);
    expect(listed.value.chains.get('inet palisade INPUT')?.[0]).toBe('1/0/0');
    expect(listed.value.chains.get('inet palisade PRE')?.[0]).toBe('0/-300/1');
  });

  it('reports chains, rules, policies and sets that differ', () => {
    const inet = PROBE_RULESET.tables[0] as Table;
    const changed: Ruleset = {
      tables: [
        {
          ...inet,
          sets: inet.sets.slice(1),
          chains: [...inet.chains.filter((c) => c.name !== 'c2').map((c) => (c.name === 'INPUT' ? { ...c, rules: [], base: { hook: 'input' as const, priority: 0, policy: 'accept' as const } } : c)), { name: 'extra', rules: [] }],
        },
        ...PROBE_RULESET.tables.slice(1),
      ],
    };
    const listed = decodeListedShape(dumpOf(changed), PROBE_OWN_TABLES);
    if (!listed.ok) throw new TypeError(listed.error);
    expect(diffShapes(expectedShape(PROBE_RULESET), listed.value)).toEqual([
      'chain inet palisade c2 is missing',
      'chain inet palisade INPUT hook/priority/policy 1/0/1 (expected 1/0/0)',
      'chain inet palisade extra was added by someone else',
      'set inet palisade s4 is missing',
    ]);
  });

  it('sees an operand or a set element changed with the same expression kinds', () => {
    const inet = PROBE_RULESET.tables[0] as Table;
    const bump = (r: Table['chains'][number]['rules'][number]) => ({ ...r, matches: r.matches.map((m) => (m.kind === 'port' ? { ...m, ranges: m.ranges.map(([a, b]) => [a + 1, b + 1] as const) } : m)) });
    const target = inet.chains.find((c) => c.rules.some((r) => r.matches.some((m) => m.kind === 'port'))) as Table['chains'][number];
    const edited: Ruleset = { tables: [{ ...inet, chains: inet.chains.map((c) => (c === target ? { ...c, rules: c.rules.map(bump) } : c)) }, ...PROBE_RULESET.tables.slice(1)] };
    const listed = decodeListedShape(dumpOf(edited), PROBE_OWN_TABLES);
    if (!listed.ok) throw new TypeError(listed.error);
    expect(diffShapes(expectedShape(PROBE_RULESET), listed.value)).toEqual([expect.stringMatching(new RegExp(`^chain inet palisade ${target.name} has`)) as unknown]);
    const s4 = inet.sets.find((x) => x.name === 's4') as Table['sets'][number];
    const more: Ruleset = { tables: [{ ...inet, sets: inet.sets.map((x) => (x === s4 ? { ...x, elements: [...x.elements, { family: 4, from: 0xcb007163n, to: 0xcb007163n }] } : x)) }, ...PROBE_RULESET.tables.slice(1)] };
    const listed2 = decodeListedShape(dumpOf(more), PROBE_OWN_TABLES);
    if (!listed2.ok) throw new TypeError(listed2.error);
    expect(diffShapes(expectedShape(PROBE_RULESET), listed2.value)).toEqual([expect.stringMatching(/^set inet palisade s4 holds/) as unknown]);
  });

  it('refuses truncated dumps as results', () => {
    const msgs = dumpOf(PROBE_RULESET);
    for (const m of msgs.slice(0, 40)) {
      for (let c = 0; c < m.payload.length; c += 3) expect(typeof decodeListedShape([{ ...m, payload: m.payload.subarray(0, c) }], PROBE_OWN_TABLES).ok).toBe('boolean');
    }
  });
});
