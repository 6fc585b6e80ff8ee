import { describe, expect, it } from 'vitest';
import { clusterOptions, guestOptions, hostOptions, vnetOptions } from './options.js';
import { parseFwDocument } from './parse-fw.js';
import type { FwDocumentKind } from './model.js';

const doc = (kind: FwDocumentKind, options: string) => parseFwDocument(`[OPTIONS]\n${options}\n`, { path: 'p', kind });

describe('effective options (spec §2.8)', () => {
  it('cluster: disabled by default, DROP/ACCEPT policies, 1/second log limit', () => {
    expect(clusterOptions(undefined)).toEqual({
      enable: false,
      ebtables: true,
      policyIn: 'DROP',
      policyOut: 'ACCEPT',
      policyForward: 'ACCEPT',
      logRateLimit: { rate: '1/second' },
    });
  });

  it('cluster enable timestamps count only within 60 seconds', () => {
    const d = doc('cluster', 'enable: 1700000000');
    expect(clusterOptions(d, 1700000030).enable).toBe(true);
    expect(clusterOptions(d, 1700000061).enable).toBe(false);
    expect(clusterOptions(doc('cluster', 'enable: 0')).enable).toBe(false);
  });

  it('log_ratelimit: enable key required, burst only when non-zero', () => {
    expect(clusterOptions(doc('cluster', 'log_ratelimit: 1,rate=10/minute,burst=20')).logRateLimit).toEqual({ rate: '10/minute', burst: 20 });
    expect(clusterOptions(doc('cluster', 'log_ratelimit: enable=1,burst=0')).logRateLimit).toEqual({ rate: '1/second' });
    expect(clusterOptions(doc('cluster', 'log_ratelimit: rate=10/minute')).logRateLimit).toBeUndefined();
    expect(clusterOptions(doc('cluster', 'log_ratelimit: enable=0')).logRateLimit).toBeUndefined();
  });

  it('host: enabled, SMURF filter on unless nosmurfs: 0, synflood defaults for 0', () => {
    const h = hostOptions(undefined);
    expect(h).toMatchObject({ enable: true, smurfFilter: true, tcpFlagsFilter: false, ndp: true, synflood: false, synfloodRate: 200, synfloodBurst: 1000, logLevelIn: 'nolog' });
    const custom = hostOptions(doc('host', 'nosmurfs: 0\nprotection_synflood_rate: 0\nlog_level_in:\nnf_conntrack_helpers: ftp,sip'));
    expect(custom).toMatchObject({ smurfFilter: false, synfloodRate: 200, logLevelIn: 'nolog', conntrackHelpers: ['ftp', 'sip'] });
    expect(hostOptions(doc('host', 'nosmurfs: 1')).smurfFilter).toBe(true);
  });

  it('guest: no options table means not firewalled; DHCP on unless dhcp: 0', () => {
    expect(guestOptions(parseFwDocument('[RULES]\nIN ACCEPT\n', { path: 'p', kind: 'guest' }))).toBeUndefined();
    expect(guestOptions(doc('guest', ''))).toMatchObject({ enable: false, dhcp: true, ndp: true, radv: false, macfilter: true, ipfilter: false, policyIn: 'DROP', policyOut: 'ACCEPT' });
    expect(guestOptions(doc('guest', 'dhcp: 0\nenable: 1\npolicy_in: reject'))).toMatchObject({ enable: true, dhcp: false, policyIn: 'REJECT' });
  });

  it('vnet: disabled, forward ACCEPT', () => {
    expect(vnetOptions(undefined)).toEqual({ enable: false, policyForward: 'ACCEPT', logLevelForward: 'nolog' });
  });
});
