import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { simOutcomeJson, simulate } from './simulate.js';
import { loadScenario, VERDICTS_DIR } from './test-trees.js';

describe('simulate: kernelVerdict', () => {
  const { compiled } = loadScenario(join(VERDICTS_DIR, 'host-out-reject'));
  const run = (c: Parameters<typeof simulate>[1]) => {
    const o = simulate(compiled, c);
    if (!o.ok) throw new Error(o.error);
    return o.result;
  };

  it('REJECT of a packet to a multicast destination is DROP in the kernel (no reset or ICMP error is sent)', () => {
    for (const dsttype of [undefined, 'MULTICAST']) {
      const r = run({ from: 'host', to: 'outside', proto: 'udp', dport: 7202, dest: '239.192.158.83', ...(dsttype ? { dsttype } : {}) });
      expect(r.verdict).toBe('REJECT');
      expect(r.kernelVerdict).toBe('DROP');
      expect(r.kernelDecision?.note).toMatch(/multicast destination/);
    }
    // IPv6 has no reference verdict: the verdict is the kernel's
    const v6 = run({ from: 'host', to: 'outside', proto: 'udp', dport: 7202, dest: 'ff05::1:3' });
    expect(v6.verdict).toBe('DROP');
    expect(v6.kernelVerdict).toBeUndefined();
  });

  it('REJECT of a packet to a unicast destination stays REJECT', () => {
    const r = run({ from: 'host', to: 'outside', proto: 'udp', dport: 7202 });
    expect(r.verdict).toBe('REJECT');
    expect(r.kernelVerdict).toBeUndefined();
  });
});

describe('simOutcomeJson: the JSON of a case for the CLI and the agent', () => {
  const { compiled } = loadScenario(join(VERDICTS_DIR, 'host-out-reject'));

  it('carries the case, the verdict, the deciding rule, the path and what the kernel does', () => {
    const c = { from: 'host', to: 'outside', proto: 'udp', dport: 7202, dest: '239.192.158.83' };
    const json = simOutcomeJson(c, simulate(compiled, c));
    expect(json).toMatchObject({ ...c, verdict: 'REJECT', kernelVerdict: 'DROP' });
    expect(typeof json.rule).toBe('string');
    expect(json.path).toEqual(['inet output oif vmbr0: REJECT PVEFW-HOST-OUT']);
  });

  it('says ERROR with the reason for a case that describes no packet', () => {
    const c = { from: 'nowhere', to: 'outside' };
    const json = simOutcomeJson(c, simulate(compiled, c));
    expect(json).toMatchObject({ ...c, verdict: 'ERROR' });
    expect(String(json.error)).toContain('nowhere');
  });
});
