import { describe, expect, it } from 'vitest';
import { ipsetKernelName, resolveAlias, resolveIpSet } from './names.js';
import { parseFwDocument } from './parse-fw.js';

const cluster = parseFwDocument('[ALIASES]\nshared 10.0.0.1\nonlydc 10.0.0.2\n[IPSET both]\n1.1.1.1\n[IPSET dconly]\n2.2.2.2\n', {
  path: 'c',
  kind: 'cluster',
});
const guest = parseFwDocument('[ALIASES]\nshared 10.9.9.9\n[IPSET both]\n3.3.3.3\n', { path: 'g', kind: 'guest', cluster });

describe('name resolution by scope (spec §4.2, §4.3)', () => {
  it.each([
    ['shared', 'guest', '10.9.9.9'],
    ['SHARED', 'guest', '10.9.9.9'],
    ['dc/shared', 'guest', '10.0.0.1'],
    ['guest/shared', 'guest', '10.9.9.9'],
    ['onlydc', 'guest', '10.0.0.2'],
    ['guest/onlydc', 'guest', undefined],
    ['shared', 'cluster', '10.0.0.1'],
    ['dc/shared', 'cluster', '10.0.0.1'],
    ['guest/shared', 'cluster', undefined],
  ] as const)('alias %s from %s → %s', (ref, from, cidr) => {
    expect(resolveAlias(ref, from, cluster, from === 'guest' ? guest : undefined)?.cidr).toBe(cidr);
  });

  it.each([
    ['both', 'guest', 'guest'],
    ['dc/both', 'guest', 'cluster'],
    ['guest/both', 'guest', 'guest'],
    ['dconly', 'guest', 'cluster'],
    ['guest/dconly', 'guest', undefined],
    ['both', 'cluster', 'cluster'],
    ['guest/both', 'cluster', undefined],
    ['Both', 'guest', undefined],
    ['sdn/both', 'guest', undefined],
  ] as const)('ipset %s from %s → %s', (ref, from, owner) => {
    expect(resolveIpSet(ref, from, cluster, from === 'guest' ? guest : undefined)?.owner).toBe(owner);
  });
});

describe('kernel IP set names', () => {
  it.each([
    [0, 'management', 4, 'PVEFW-0-management-v4'],
    [100, 'ipfilter-net0', 4, 'PVEFW-100-ipfilter-net0-v4'],
    [100, 'ipfilter-net10', 4, 'PVEFW-239002E4'],
    [100, 'a-longer-name-which-translates-into-fnv-digest', 4, 'PVEFW-4ABB0882'],
    [100, 'a-longer-name-which-translates-into-fnv-digest', 6, 'PVEFW-48BB055C'],
  ] as const)('%i %s v%i → %s', (vmid, name, version, expected) => {
    expect(ipsetKernelName(vmid, name, version)).toBe(expected);
  });
});
