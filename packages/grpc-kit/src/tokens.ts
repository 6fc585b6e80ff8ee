/**
 * Bearer-token authentication with the role → permission table passed in by the service.
 *
 * Tokens file: one `name role secret` per line (`#` comments and blank lines ignored). Secrets
 * are compared as SHA-256 digests in constant time against every entry, so neither the match
 * nor its position leaks through timing. Without a tokens file access is open (the service then
 * listens on loopback only) and calls run as `anonymous`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { status as Status } from '@grpc/grpc-js';
import { PalisadeError, type Logger } from '@palisade/service-kit';
import type { Admit } from './admission.js';
import type { ToServiceError } from './status.js';

/** Secrets shorter than this are refused when the file is loaded. */
export const MIN_SECRET_LENGTH = 16;

/**
 * Why a tokens file or a call was refused: `invalid-argument` for a bad line of the tokens file,
 * `unauthenticated` for a missing, malformed or unknown token, `permission-denied` for a role
 * without the method's permission.
 */
export type AuthErrorCode = 'invalid-argument' | 'unauthenticated' | 'permission-denied';
/** A tokens file that cannot be loaded, or a call without the right token. */
export class AuthError extends PalisadeError<AuthErrorCode, { readonly line?: number; readonly source?: string }> {}

/**
 * One line of a tokens file, as `parseTokensFile` returns it; `TokenAuthenticator` keeps only the
 * SHA-256 of `secret`.
 */
export interface TokenEntry<Role extends string = string> {
  readonly name: string;
  readonly role: Role;
  readonly secret: string;
}

/** The identity a call runs as; `open` when the service runs without tokens. */
export interface Principal<Role extends string = string> {
  readonly name: string;
  readonly role: Role | 'open';
}

/** Which permissions each role has. */
export type RoleTable<Role extends string, Permission extends string> = Readonly<Record<Role, readonly Permission[]>>;

/** Parses a tokens file; throws `invalid-argument` naming the file, line and problem. */
export function parseTokensFile<Role extends string>(text: string, roles: readonly Role[], source = 'tokens file'): TokenEntry<Role>[] {
  const out: TokenEntry<Role>[] = [];
  const names = new Set<string>();
  const secrets = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const where = `${source}:${i + 1}`;
    const fail = (message: string): never => {
      throw new AuthError('invalid-argument', `${where}: ${message}`, { line: i + 1, source });
    };
    if (fields.length !== 3) fail('expected "name role secret"');
    const [name, role, secret] = fields as [string, string, string];
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) fail(`invalid token name '${name}'`);
    if (!(roles as readonly string[]).includes(role)) fail(`unknown role '${role}' (roles: ${roles.join(', ')})`);
    if (secret.length < MIN_SECRET_LENGTH) fail(`secret of '${name}' is shorter than ${MIN_SECRET_LENGTH} characters`);
    if (names.has(name)) fail(`token name '${name}' repeated`);
    if (secrets.has(secret)) fail(`secret of '${name}' is used by another token`);
    names.add(name);
    secrets.add(secret);
    out.push({ name, role: role as Role, secret });
  });
  return out;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Checks `authorization: Bearer <secret>` headers against the tokens and the role table. */
export class TokenAuthenticator<Role extends string, Permission extends string> {
  readonly #entries: readonly { name: string; role: Role; digest: Buffer }[] | undefined;
  readonly #roles: RoleTable<Role, Permission>;

  /** `entries` undefined = open access. */
  constructor(entries: readonly TokenEntry<Role>[] | undefined, roles: RoleTable<Role, Permission>) {
    this.#entries = entries?.map((e) => ({ name: e.name, role: e.role, digest: sha256(e.secret) }));
    this.#roles = roles;
  }

  get open(): boolean {
    return this.#entries === undefined;
  }

  /** Resolves the caller and checks `permission`; throws `unauthenticated` or `permission-denied`. */
  authorize(authorization: string | undefined, permission: Permission): Principal<Role> {
    const found = this.authenticate(authorization);
    if (found.role !== 'open' && !this.#roles[found.role].includes(permission)) {
      throw new AuthError('permission-denied', `token '${found.name}' (role ${found.role}) may not ${permission}`);
    }
    return found;
  }

  /** Resolves the caller without a permission check; throws `unauthenticated`. */
  authenticate(authorization: string | undefined): Principal<Role> {
    const entries = this.#entries;
    if (!entries) return { name: 'anonymous', role: 'open' };
    if (!authorization) throw new AuthError('unauthenticated', 'missing token: send "authorization: Bearer <secret>"');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new AuthError('unauthenticated', 'malformed authorization header: expected "Bearer <secret>"');
    const digest = sha256(m[1]!);
    let found: (typeof entries)[number] | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, digest)) found = e;
    if (!found) throw new AuthError('unauthenticated', 'unknown token');
    return { name: found.name, role: found.role };
  }
}

/**
 * The `admit` of a server with tokens: a call without a known token is refused from its
 * headers, before its body is read, with the service's own status mapping (trailer included).
 */
export function tokenAdmission<Role extends string>(
  auth: TokenAuthenticator<Role, string>,
  toServiceError: ToServiceError,
  logger: Logger,
): Admit {
  return (metadata) => {
    if (auth.open) return undefined;
    const v = metadata.get('authorization')[0];
    try {
      auth.authenticate(typeof v === 'string' ? v : v?.toString('utf8'));
      return undefined;
    } catch (err) {
      const e = toServiceError(err, logger);
      return { code: e.code ?? Status.UNAUTHENTICATED, details: e.details ?? 'unauthenticated', ...(e.metadata ? { metadata: e.metadata } : {}) };
    }
  };
}
