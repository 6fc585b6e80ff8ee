/**
 * configd's roles and what they may do, over grpc-kit's token authenticator.
 *
 * Tokens file: one `name role secret` per line (`#` comments and blank lines ignored).
 * Roles: `admin` reads, writes and watches, `reader` reads, `agent` reads and watches. Without a
 * tokens file access is open (configd then only listens on loopback) and the author is
 * `anonymous`.
 */
import {
  TokenAuthenticator,
  parseTokensFile as parseKitTokensFile,
  type Principal as KitPrincipal,
  type RoleTable,
  type TokenEntry as KitTokenEntry,
} from '@palisade/grpc-kit';

export { MIN_SECRET_LENGTH } from '@palisade/grpc-kit';

/** The roles a token can have. */
export const ROLES = ['admin', 'reader', 'agent'] as const;
/** One of `ROLES`, as the second field of a tokens file line names it. */
export type Role = (typeof ROLES)[number];

/** What an RPC method needs: `read` (Get, List, History, Diff, Status), `write`, `watch`. */
export const PERMISSIONS = ['read', 'write', 'watch'] as const;
/**
 * One of `PERMISSIONS`; each RPC handler names the one it needs, and `ROLE_PERMISSIONS` says which
 * roles have it.
 */
export type Permission = (typeof PERMISSIONS)[number];

/** configd's role → permission table. */
export const ROLE_PERMISSIONS: RoleTable<Role, Permission> = {
  admin: ['read', 'write', 'watch'],
  reader: ['read'],
  agent: ['read', 'watch'],
};

/** One line of the tokens file. */
export type TokenEntry = KitTokenEntry<Role>;
/** The identity a call runs as (`open` without a tokens file). */
export type Principal = KitPrincipal<Role>;
/** The authenticator configd's handlers use. */
export type ConfigdAuthenticator = TokenAuthenticator<Role, Permission>;

/** Parses a tokens file with configd's roles; throws `invalid-argument` naming the line of the first problem. */
export function parseTokensFile(text: string, source = 'tokens file'): TokenEntry[] {
  return parseKitTokensFile(text, ROLES, source);
}

/** The authenticator over `entries` (undefined = open access) and configd's role table. */
export function createAuthenticator(entries: readonly TokenEntry[] | undefined): ConfigdAuthenticator {
  return new TokenAuthenticator(entries, ROLE_PERMISSIONS);
}
