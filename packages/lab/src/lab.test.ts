/**
 * Kernel test of the lab's per-case outcomes: a case it cannot reproduce is a SKIP with the
 * reason and the run goes on (a multicast destination used to abort the whole run in its
 * address setup). Needs root and the lab's tools; skips with a message otherwise.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadScenario, VERDICTS_DIR } from '@palisade/fw-compile/test-support';
import { labPrerequisites } from './exec.js';
import { LabTopology, runLab } from './lab.js';
import { renderNftText } from '@palisade/fw-compile';

const why = await labPrerequisites();
if (why) console.warn(`kernel lab tests skipped: ${why}`);

describe.skipIf(why !== undefined)('runLab', () => {
  it('skips a multicast or broadcast destination with the reason, whatever dsttype says, and goes on', { timeout: 60_000 }, async () => {
    const { compiled } = loadScenario(join(VERDICTS_DIR, 'host-out-reject'));
    const results = await runLab(compiled, [
      { from: 'host', to: 'outside', proto: 'udp', dport: 7202, dest: '239.192.158.83', dsttype: 'UNICAST' },
      { from: 'outside', to: 'host', proto: 'udp', dport: 7203, source: '172.16.1.50', dest: '172.16.1.255', dsttype: 'UNICAST' },
      { from: 'host', to: 'outside', proto: 'udp', dport: 7202, dest: 'ff05::1:3' },
      { from: 'host', to: 'outside', proto: 'udp', dport: 7202 },
    ]);
    expect(results.map((r) => [r.verdict, r.skip, r.reason ?? r.observed])).toEqual([
      ['SKIP', 'unsupported', 'destination 239.192.158.83 is a multicast address: the lab sends only to one unicast receiver'],
      ['SKIP', 'unsupported', 'destination 172.16.1.255 is a broadcast address: the lab sends only to one unicast receiver'],
      ['SKIP', 'unsupported', 'destination ff05::1:3 is a multicast address: the lab sends only to one unicast receiver'],
      ['REJECT', undefined, 'ECONNREFUSED'],
    ]);
  });

  it('probes a kept topology against whatever ruleset its host holds now, so a change shows as a new verdict', { timeout: 60_000 }, async () => {
    const { compiled } = loadScenario(join(VERDICTS_DIR, 'host-out-reject'));
    const c = { from: 'host', to: 'outside', proto: 'udp', dport: 7202 } as const;
    const topo = await LabTopology.create(compiled, [c]);
    try {
      expect((await topo.probe(c)).verdict).toBe('ACCEPT');
      await topo.apply(renderNftText(compiled.ruleset, compiled.ownTables));
      expect((await topo.probe(c)).verdict).toBe('REJECT');
    } finally {
      await topo.destroy();
    }
  });
});
