/**
 * Test helper (used by the rest/*.test.ts files only): a small HTTPS client for configd's REST
 * listener that accepts its self-signed certificate, plus the tokens the tests use.
 */
import { request } from 'node:https';
import { TestkitError } from '@palisade/testkit';
import type { TokenEntry } from '../rpc/auth.js';

/** Tokens of the REST tests: an admin, a reader. */
export const REST_TOKENS: readonly TokenEntry[] = [
  { name: 'terraform', role: 'admin', secret: 'a1b2c3d4-0000-4000-8000-terraform001' },
  { name: 'audit', role: 'reader', secret: 'a1b2c3d4-0000-4000-8000-auditor00001' },
];

/** The Authorization header of a test token for USER@REALM. */
export function tokenHeader(user: string, token: TokenEntry): string {
  return `PVEAPIToken=${user}!${token.name}=${token.secret}`;
}

export interface RestAnswer {
  readonly status: number;
  readonly reason: string;
  readonly body: { data?: unknown; errors?: Record<string, string>; message?: string };
}

/** One call; `form` is sent form-encoded, `json` as JSON. */
export function restCall(
  address: string,
  method: string,
  path: string,
  opts: { auth?: string; form?: Record<string, string | number>; json?: unknown } = {},
): Promise<RestAnswer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  let payload: string | undefined;
  let type: string | undefined;
  if (opts.form) {
    payload = new URLSearchParams(Object.entries(opts.form).map(([k, v]): [string, string] => [k, String(v)])).toString();
    type = 'application/x-www-form-urlencoded';
  } else if (opts.json !== undefined) {
    payload = JSON.stringify(opts.json);
    type = 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        method,
        path: `/api2/json${path}`,
        rejectUnauthorized: false,
        headers: {
          ...(opts.auth ? { authorization: opts.auth } : {}),
          ...(type ? { 'content-type': type, 'content-length': Buffer.byteLength(payload!) } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: RestAnswer['body'] = {};
          try {
            body = JSON.parse(text) as RestAnswer['body'];
          } catch {
            body = { message: text };
          }
          resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', body });
        });
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new TestkitError('deadline-exceeded', 'REST test call timed out')));
    if (payload) req.write(payload);
    req.end();
  });
}
