/**
 * Document paths: which /etc/pve-relative paths configd stores, and how a prefix is checked.
 * Paths double as NATS KV keys (subject tokens split on "."), so the character set is narrow.
 */
import { ConfigdError } from '../errors.js';

/** What a path denotes; used to pick validation and firewall scopes. */
export type DocumentPathInfo =
  | { readonly kind: 'cluster-fw' }
  | { readonly kind: 'guest-fw'; readonly vmid: number }
  | { readonly kind: 'host-fw'; readonly node: string }
  | { readonly kind: 'qemu-config'; readonly node: string; readonly vmid: number }
  | { readonly kind: 'lxc-config'; readonly node: string; readonly vmid: number }
  | { readonly kind: 'corosync' }
  | { readonly kind: 'vnet-fw'; readonly vnet: string };

const NODE = '([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)';
const VMID = '([1-9][0-9]{2,8})';
const VNET = '([A-Za-z][A-Za-z0-9_-]{0,63})';
const PATTERNS: readonly [RegExp, (m: RegExpExecArray) => DocumentPathInfo][] = [
  [/^firewall\/cluster\.fw$/, () => ({ kind: 'cluster-fw' })],
  [new RegExp(`^firewall/${VMID}\\.fw$`), (m) => ({ kind: 'guest-fw', vmid: Number(m[1]) })],
  [new RegExp(`^nodes/${NODE}/host\\.fw$`), (m) => ({ kind: 'host-fw', node: m[1] ?? '' })],
  [
    new RegExp(`^nodes/${NODE}/qemu-server/${VMID}\\.conf$`),
    (m) => ({ kind: 'qemu-config', node: m[1] ?? '', vmid: Number(m[2]) }),
  ],
  [
    new RegExp(`^nodes/${NODE}/lxc/${VMID}\\.conf$`),
    (m) => ({ kind: 'lxc-config', node: m[1] ?? '', vmid: Number(m[2]) }),
  ],
  [/^corosync\.conf$/, () => ({ kind: 'corosync' })],
  [new RegExp(`^sdn/firewall/${VNET}\\.fw$`), (m) => ({ kind: 'vnet-fw', vnet: m[1] ?? '' })],
];

/** The paths configd accepts, for error messages and help text. */
export const DOCUMENT_PATH_FORMS: readonly string[] = [
  'firewall/cluster.fw',
  'firewall/<vmid>.fw',
  'nodes/<node>/host.fw',
  'nodes/<node>/qemu-server/<vmid>.conf',
  'nodes/<node>/lxc/<vmid>.conf',
  'corosync.conf',
  'sdn/firewall/<vnet>.fw',
];

/** Strips an optional leading "/etc/pve/" or "/" so both spellings address the same document. */
export function normalizeDocumentPath(path: string): string {
  if (path.startsWith('/etc/pve/')) return path.slice('/etc/pve/'.length);
  if (path.startsWith('/')) return path.slice(1);
  return path;
}

/** Classifies a normalized path; undefined when configd does not store such a document. */
export function classifyDocumentPath(path: string): DocumentPathInfo | undefined {
  for (const [re, make] of PATTERNS) {
    const m = re.exec(path);
    if (m) return make(m);
  }
  return undefined;
}

/** Normalizes and checks a document path; throws `invalid-argument` for unknown paths. */
export function requireDocumentPath(raw: string): { path: string; info: DocumentPathInfo } {
  const path = normalizeDocumentPath(raw);
  if (path === '') throw new ConfigdError('invalid-argument', 'path is empty');
  const info = classifyDocumentPath(path);
  if (!info) {
    throw new ConfigdError(
      'invalid-argument',
      `unknown document path '${raw}': configd stores ${DOCUMENT_PATH_FORMS.join(', ')}`,
      { path: raw },
    );
  }
  return { path, info };
}

const PREFIX_RE = /^[A-Za-z0-9_./-]*$/;

/** Normalizes and checks a listing/watch prefix ("" = everything). */
export function requirePrefix(raw: string): string {
  const prefix = raw === '/' || raw === '/etc/pve' ? '' : normalizeDocumentPath(raw);
  if (!PREFIX_RE.test(prefix) || prefix.length > 512) {
    throw new ConfigdError('invalid-argument', `invalid path prefix '${raw}'`);
  }
  return prefix;
}
