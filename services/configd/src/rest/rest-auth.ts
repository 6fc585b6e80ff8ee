/**
 * Proxmox API token authentication over configd's tokens file:
 * `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`. TOKENID and SECRET must be a name and
 * its secret from the tokens file; the token's role decides what is allowed (GET needs `read`,
 * writes need `write`). USER@REALM is the author recorded with each write. Without a tokens
 * file (open access, loopback only) every call is allowed; the author is USER@REALM when a
 * header names one, else `anonymous`.
 */
import { AuthError } from '@palisade/grpc-kit';
import type { ConfigdAuthenticator, Permission } from '../rpc/auth.js';
import { RestError } from './rest-error.js';

/** Who a REST call runs as. */
export interface RestPrincipal {
  /** USER@REALM (the author of writes). */
  readonly author: string;
  /** The token's name from the tokens file (`open` without one). */
  readonly token: string;
}

const HEADER = /^PVEAPIToken[= ]([^!\s]+@[^!\s]+)!([^=\s]+)=(\S+)\s*$/;

/** Authenticates and authorizes one call; throws 401 or 403 as Proxmox answers them. */
export function authorizeRest(auth: ConfigdAuthenticator, header: string | undefined, permission: Permission): RestPrincipal {
  const m = header ? HEADER.exec(header) : null;
  if (auth.open) return { author: m?.[1] ?? 'anonymous', token: 'open' };
  if (!header) throw new RestError('unauthenticated', 'No ticket');
  if (!m) throw new RestError('unauthenticated', 'authentication failure: expected "Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET"');
  const [, user, tokenId, secret] = m as unknown as [string, string, string, string];
  let principal;
  try {
    principal = auth.authorize(`Bearer ${secret}`, permission);
  } catch (err) {
    if (err instanceof AuthError && err.code === 'permission-denied') {
      throw new RestError('forbidden', `Permission check failed (token '${tokenId}' may not ${permission})`);
    }
    throw new RestError('unauthenticated', 'invalid token value!');
  }
  // The secret must belong to the named token, not just to any token.
  if (principal.name !== tokenId) throw new RestError('unauthenticated', 'invalid token value!');
  return { author: user, token: tokenId };
}
