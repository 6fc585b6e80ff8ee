/**
 * Request parameters: the query string plus a form-encoded (`application/x-www-form-urlencoded`,
 * what proxmoxer and pvesh send) or JSON body (the Terraform provider), bounded in size.
 */
import type { IncomingMessage } from 'node:http';
import { RestError, paramError } from './rest-error.js';

/** Largest request body read, bytes (Proxmox's API server allows 64 KiB of parameters). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** Reads the whole body; refuses one larger than `maxBytes` (413) without buffering it all. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new RestError('too-large', `request body too large (${declared} > ${maxBytes} bytes)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > maxBytes) throw new RestError('too-large', `request body too large (more than ${maxBytes} bytes)`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function fromSearch(params: URLSearchParams, into: Record<string, unknown>): void {
  for (const [k, v] of params) into[k] = v;
}

/** Merges the query and the body into one parameter object (body wins, as in Proxmox). */
export function parseParams(query: URLSearchParams, contentType: string | undefined, body: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fromSearch(query, out);
  if (body.length === 0) return out;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const textBody = body.toString('utf8');
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(textBody);
    } catch (err) {
      throw paramError({ body: `invalid JSON: ${(err as Error).message}` });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw paramError({ body: 'expected a JSON object' });
    for (const [k, v] of Object.entries(parsed)) {
      // A list (e.g. the Terraform provider's `delete`) is Proxmox's comma-separated string.
      out[k] = Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join(',') : v;
    }
    return out;
  }
  // Form encoding is the default, as in Proxmox's API server.
  fromSearch(new URLSearchParams(textBody), out);
  return out;
}
