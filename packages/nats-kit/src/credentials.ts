/**
 * A service's NATS credentials from its command-line flags, the same for configd, the agent
 * and the logger: `--nats-user NAME --nats-password-file FILE`, `--nats-creds FILE` (a `.creds`
 * file: user JWT and nkey seed) or `--nats-token-file FILE`, and `--nats-ca FILE` for servers
 * with client TLS. Secrets come from files, never from the command line (which every local
 * user can read in `ps`).
 */
import type { NatsAuth } from './connect.js';
import { NatsKitError } from './connect.js';

/** The flags, as parsed (file paths). */
export interface NatsCredentialFlags {
  readonly user?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly credsFile?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly caFile?: string | undefined;
}

/** What a NATS connection gets from the flags: credentials and the servers' CA (PEM). */
export interface NatsSecurity {
  readonly auth?: NatsAuth;
  readonly tlsCa?: string;
}

/** `node:util` parseArgs options of the credential flags, to spread into a service's own. */
export const NATS_CREDENTIAL_ARGS = {
  'nats-user': { type: 'string' },
  'nats-password-file': { type: 'string' },
  'nats-creds': { type: 'string' },
  'nats-token-file': { type: 'string' },
  'nats-ca': { type: 'string' },
} as const;

/** The flags out of parseArgs values parsed with `NATS_CREDENTIAL_ARGS`. */
export function natsCredentialFlags(values: { readonly [K in keyof typeof NATS_CREDENTIAL_ARGS]?: string | undefined }): NatsCredentialFlags {
  return { user: values['nats-user'], passwordFile: values['nats-password-file'], credsFile: values['nats-creds'], tokenFile: values['nats-token-file'], caFile: values['nats-ca'] };
}

/**
 * Resolves the flags, reading files with `readFile`. Fails `invalid-argument` naming the flags
 * on a contradiction (two kinds of credentials, a user without a password) or an empty secret.
 */
export function natsSecurityFromFlags(f: NatsCredentialFlags, readFile: (path: string, flag: string) => Buffer): NatsSecurity {
  const bad = (message: string): never => {
    throw new NatsKitError('invalid-argument', message);
  };
  const kinds = [f.user !== undefined || f.passwordFile !== undefined ? '--nats-user' : '', f.credsFile ? '--nats-creds' : '', f.tokenFile ? '--nats-token-file' : ''].filter(Boolean);
  if (kinds.length > 1) bad(`${kinds.join(' and ')}: give one kind of NATS credentials`);
  if ((f.user === undefined) !== (f.passwordFile === undefined)) bad('--nats-user and --nats-password-file go together');
  const secret = (path: string, flag: string): string => {
    const v = readFile(path, flag).toString('utf8').trim();
    return v === '' ? bad(`${flag} ${path} is empty`) : v;
  };
  const withCa = f.caFile ? { tlsCa: readFile(f.caFile, '--nats-ca').toString('utf8') } : {};
  if (f.user !== undefined && f.passwordFile !== undefined) {
    if (f.user === '') bad('--nats-user is empty');
    return { auth: { kind: 'user', user: f.user, password: secret(f.passwordFile, '--nats-password-file') }, ...withCa };
  }
  if (f.credsFile) return { auth: { kind: 'creds', creds: Uint8Array.from(readFile(f.credsFile, '--nats-creds')) }, ...withCa };
  if (f.tokenFile) return { auth: { kind: 'token', token: secret(f.tokenFile, '--nats-token-file') }, ...withCa };
  return withCa;
}
