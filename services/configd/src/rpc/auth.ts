/**
 * Token authentication and role permissions.
 *
 * Tokens file: one `name role secret` per line (`#` comments and blank lines ignored).
 * Roles: `admin` reads and writes, `reader` reads, `agent` reads and watches. Without a tokens
 * file access is open (configd then only listens on loopback) and the author is `anonymous`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigdError } from '../errors.js';

export const ROLES = ['admin', 'reader', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['read', 'write', 'watch'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: ['read', 'write', 'watch'],
  reader: ['read'],
  agent: ['read', 'watch'],
};

/** Secrets shorter than this are refused when the file is loaded. */
export const MIN_SECRET_LENGTH = 16;

export interface TokenEntry {
  readonly name: string;
  readonly role: Role;
  readonly secret: string;
}

/** The identity a call runs as. */
export interface Principal {
  readonly name: string;
  readonly role: Role | 'open';
}

/** Parses a tokens file; throws `invalid-argument` naming the line of the first problem. */
export function parseTokensFile(text: string, source = 'tokens file'): TokenEntry[] {
  const out: TokenEntry[] = [];
  const names = new Set<string>();
  const secrets = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const where = `${source}:${i + 1}`;
    if (fields.length !== 3) throw new ConfigdError('invalid-argument', `${where}: expected "name role secret"`);
    const [name, role, secret] = fields as [string, string, string];
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) throw new ConfigdError('invalid-argument', `${where}: invalid token name '${name}'`);
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigdError('invalid-argument', `${where}: unknown role '${role}' (roles: ${ROLES.join(', ')})`);
    }
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigdError('invalid-argument', `${where}: secret of '${name}' is shorter than ${MIN_SECRET_LENGTH} characters`);
    }
    if (names.has(name)) throw new ConfigdError('invalid-argument', `${where}: token name '${name}' repeated`);
    if (secrets.has(secret)) throw new ConfigdError('invalid-argument', `${where}: secret of '${name}' is used by another token`);
    names.add(name);
    secrets.add(secret);
    out.push({ name, role: role as Role, secret });
  });
  return out;
}

const hash = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Checks bearer tokens against the tokens file, in constant time per token. */
export class TokenAuthenticator {
  readonly #entries: readonly { name: string; role: Role; digest: Buffer }[] | undefined;

  /** `undefined` entries = open access. */
  constructor(entries: readonly TokenEntry[] | undefined) {
    this.#entries = entries?.map((e) => ({ name: e.name, role: e.role, digest: hash(e.secret) }));
  }

  get open(): boolean {
    return this.#entries === undefined;
  }

  /**
   * Resolves the principal of an `authorization` header value and checks `permission`.
   * Throws `unauthenticated` (missing or unknown token) or `permission-denied`.
   */
  authorize(authorization: string | undefined, permission: Permission): Principal {
    const entries = this.#entries;
    if (!entries) return { name: 'anonymous', role: 'open' };
    if (!authorization) throw new ConfigdError('unauthenticated', 'missing token: send "authorization: Bearer <secret>"');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new ConfigdError('unauthenticated', 'malformed authorization header: expected "Bearer <secret>"');
    const digest = hash(m[1]!);
    let found: (typeof entries)[number] | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, digest)) found = e;
    if (!found) throw new ConfigdError('unauthenticated', 'unknown token');
    if (!ROLE_PERMISSIONS[found.role].includes(permission)) {
      throw new ConfigdError('permission-denied', `token '${found.name}' (role ${found.role}) may not ${permission}`);
    }
    return { name: found.name, role: found.role };
  }
}
