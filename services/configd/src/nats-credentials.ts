/**
 * configd's NATS credentials from its flags: `--nats-user NAME --nats-password-file FILE`,
 * `--nats-creds FILE` (a `.creds` file: user JWT and nkey seed) or `--nats-token-file FILE`,
 * and `--nats-ca FILE` for servers with client TLS. Secrets come from files, never from the
 * command line (which every local user can read in `ps`).
 */
import type { NatsSecurity } from './options.js';
import { ConfigdError } from './errors.js';

/** The flags, as parsed (file paths). */
export interface NatsCredentialFlags {
  readonly user?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly credsFile?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly caFile?: string | undefined;
}

/**
 * Resolves the flags into `NatsSecurity`, reading files with `readFile`. Fails
 * `invalid-argument` naming the flags on a contradiction (two kinds of credentials, a user
 * without a password) or an empty secret.
 */
export function natsSecurityFromFlags(f: NatsCredentialFlags, readFile: (path: string, flag: string) => Buffer): NatsSecurity {
  const kinds = [f.user !== undefined || f.passwordFile !== undefined ? '--nats-user' : '', f.credsFile ? '--nats-creds' : '', f.tokenFile ? '--nats-token-file' : ''].filter(Boolean);
  if (kinds.length > 1) throw new ConfigdError('invalid-argument', `${kinds.join(' and ')}: give one kind of NATS credentials`);
  if ((f.user === undefined) !== (f.passwordFile === undefined)) {
    throw new ConfigdError('invalid-argument', '--nats-user and --nats-password-file go together');
  }
  const secret = (path: string, flag: string): string => {
    const v = readFile(path, flag).toString('utf8').trim();
    if (v === '') throw new ConfigdError('invalid-argument', `${flag} ${path} is empty`);
    return v;
  };
  const tlsCa = f.caFile ? readFile(f.caFile, '--nats-ca').toString('utf8') : undefined;
  const withCa = tlsCa !== undefined ? { tlsCa } : {};
  if (f.user !== undefined && f.passwordFile !== undefined) {
    if (f.user === '') throw new ConfigdError('invalid-argument', '--nats-user is empty');
    return { auth: { kind: 'user', user: f.user, password: secret(f.passwordFile, '--nats-password-file') }, ...withCa };
  }
  if (f.credsFile) return { auth: { kind: 'creds', creds: Uint8Array.from(readFile(f.credsFile, '--nats-creds')) }, ...withCa };
  if (f.tokenFile) return { auth: { kind: 'token', token: secret(f.tokenFile, '--nats-token-file') }, ...withCa };
  return withCa;
}
