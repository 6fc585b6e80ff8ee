/**
 * The logger's NATS credentials from its flags, as configd takes them: `--nats-user NAME
 * --nats-password-file FILE`, `--nats-creds FILE` or `--nats-token-file FILE`, and `--nats-ca
 * FILE` for servers with client TLS. Secrets come from files, never from the command line.
 */
import type { NatsAuth } from '@palisade/nats-kit';
import { LoggerError } from './errors.js';

export interface NatsCredentialFlags {
  readonly user?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly credsFile?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly caFile?: string | undefined;
}

/** What the NATS connection gets: credentials and the servers' CA. */
export interface NatsSecurity {
  readonly auth?: NatsAuth;
  readonly tlsCa?: string;
}

/** Resolves the flags, reading files with `readFile`; fails `invalid-argument` naming the flags. */
export function natsSecurityFromFlags(f: NatsCredentialFlags, readFile: (path: string, flag: string) => Buffer): NatsSecurity {
  const kinds = [f.user !== undefined || f.passwordFile !== undefined ? '--nats-user' : '', f.credsFile ? '--nats-creds' : '', f.tokenFile ? '--nats-token-file' : ''].filter(Boolean);
  if (kinds.length > 1) throw new LoggerError('invalid-argument', `${kinds.join(' and ')}: give one kind of NATS credentials`);
  if ((f.user === undefined) !== (f.passwordFile === undefined)) throw new LoggerError('invalid-argument', '--nats-user and --nats-password-file go together');
  const secret = (path: string, flag: string): string => {
    const v = readFile(path, flag).toString('utf8').trim();
    if (v === '') throw new LoggerError('invalid-argument', `${flag} ${path} is empty`);
    return v;
  };
  const withCa = f.caFile ? { tlsCa: readFile(f.caFile, '--nats-ca').toString('utf8') } : {};
  if (f.user !== undefined && f.passwordFile !== undefined) return { auth: { kind: 'user', user: f.user, password: secret(f.passwordFile, '--nats-password-file') }, ...withCa };
  if (f.credsFile) return { auth: { kind: 'creds', creds: Uint8Array.from(readFile(f.credsFile, '--nats-creds')) }, ...withCa };
  if (f.tokenFile) return { auth: { kind: 'token', token: secret(f.tokenFile, '--nats-token-file') }, ...withCa };
  return withCa;
}
