/**
 * The logger's roles over grpc-kit's token authenticator. The tokens file is configd's format
 * (`name role secret` per line) and roles, so one file can serve both: `admin` and `reader` may
 * read the log; `agent` tokens (agents publish over NATS, not here) may not.
 */
import { TokenAuthenticator, parseTokensFile as parseKitTokensFile, type RoleTable, type TokenEntry as KitTokenEntry } from '@palisade/grpc-kit';

/** Roles a tokens-file line may name: configd's set, so a file shared with configd parses here too. */
export const ROLES = ['admin', 'reader', 'agent'] as const;
/** A token's role; what it may do in the logger is `ROLE_PERMISSIONS`. */
export type Role = (typeof ROLES)[number];
/** The logger's only permission: every LogService call needs it, so a token reads all or nothing. */
export type Permission = 'read';

/** The logger's role → permission table. */
export const ROLE_PERMISSIONS: RoleTable<Role, Permission> = {
  admin: ['read'],
  reader: ['read'],
  agent: [],
};

/** One line of the tokens file, its role checked against `ROLES`. */
export type TokenEntry = KitTokenEntry<Role>;

/** Parses a tokens file; throws `invalid-argument` naming the line of the first problem. */
export function parseTokensFile(text: string, source = 'tokens file'): TokenEntry[] {
  return parseKitTokensFile(text, ROLES, source);
}

/**
 * The gRPC server's authenticator. Without `entries` access is open (`open` is true), which
 * `resolveLoggerOptions` allows on a loopback address only.
 */
export function createAuthenticator(entries: readonly TokenEntry[] | undefined): TokenAuthenticator<Role, Permission> {
  return new TokenAuthenticator(entries, ROLE_PERMISSIONS);
}
