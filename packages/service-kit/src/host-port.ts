/** Listen and dial addresses as services accept them: `host:port`, `[v6]:port`. */
import { PalisadeError } from './errors.js';

/** An address option that is not `HOST:PORT`. */
export class AddressError extends PalisadeError<'invalid-argument', { readonly field: string }> {}

/** Splits `host:port` / `[v6]:port`; `field` names the option in the error. */
export function parseHostPort(value: string, field = 'listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new AddressError('invalid-argument', `${field}: expected HOST:PORT, got '${value}'`, { field });
  return { host: m[1] ?? m[2] ?? '', port };
}

/** `host:port` with IPv6 hosts in brackets. */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Whether a host name or address reaches only this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
