import { describe, expect, it } from 'vitest';
import { natsSecurityFromFlags } from './credentials.js';

const files: Record<string, string> = { '/pw': 'secret\n', '/empty': '  \n', '/tok': 'tkn', '/ca': 'PEM' };
const read = (path: string): Buffer => Buffer.from(files[path] ?? '');

describe('natsSecurityFromFlags', () => {
  it('reads a user password, a token or a CA from files, trimmed', () => {
    expect(natsSecurityFromFlags({ user: 'agent', passwordFile: '/pw', caFile: '/ca' }, read)).toEqual({ auth: { kind: 'user', user: 'agent', password: 'secret' }, tlsCa: 'PEM' });
    expect(natsSecurityFromFlags({ tokenFile: '/tok' }, read)).toEqual({ auth: { kind: 'token', token: 'tkn' } });
    expect(natsSecurityFromFlags({}, read)).toEqual({});
  });

  it('refuses contradictions and empty secrets, naming the flags', () => {
    expect(() => natsSecurityFromFlags({ user: 'a', passwordFile: '/pw', tokenFile: '/tok' }, read)).toThrow('--nats-user and --nats-token-file: give one kind of NATS credentials');
    expect(() => natsSecurityFromFlags({ user: 'a' }, read)).toThrow('--nats-user and --nats-password-file go together');
    expect(() => natsSecurityFromFlags({ tokenFile: '/empty' }, read)).toThrow('--nats-token-file /empty is empty');
  });
});
