/**
 * Proxmox's response envelope: `{"data": …}` on success; on failure the message as the HTTP
 * status line (what proxmoxer and the Terraform provider show), and a body of `{"data": null}`
 * with `errors` for parameter failures and `message` for the rest.
 */
import type { ServerResponse } from 'node:http';
import type { RestError } from './rest-error.js';

function send(res: ServerResponse, status: number, reason: string | undefined, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  // A status line carries no control characters; Proxmox's messages end in "\n".
  if (reason !== undefined) res.statusMessage = reason.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
  res.setHeader('content-type', 'application/json;charset=UTF-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('cache-control', 'max-age=0');
  res.end(text);
}

/** A result with Proxmox's top-level `total` beside `data` (the log endpoints). */
export class WithTotal {
  constructor(
    readonly data: unknown,
    readonly total: number,
  ) {}
}

/** Answers 200 with `{"data": data}` (`null` for writes, as Proxmox), plus `total` for a {@link WithTotal}. */
export function sendData(res: ServerResponse, data: unknown): void {
  if (data instanceof WithTotal) send(res, 200, undefined, { data: data.data, total: data.total });
  else send(res, 200, undefined, { data: data ?? null });
}

/** Answers with the error's status, its message as the status line. */
export function sendError(res: ServerResponse, err: RestError): void {
  const body: Record<string, unknown> = { data: null };
  if (err.context.errors) body.errors = err.context.errors;
  else body.message = `${err.message}\n`;
  if (err.status === 401) res.setHeader('www-authenticate', 'PVEAPIToken');
  send(res, err.status, err.message, body);
}
