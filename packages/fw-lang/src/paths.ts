/**
 * Document paths, relative to the root of an `/etc/pve`-like tree.
 */
import type { DocumentKind } from './model.js';

/** What a path in the tree is: the document kind and the node, vmid or vnet it belongs to. */
export interface PathInfo {
  readonly kind: DocumentKind;
  /** For host documents and guest configs: the node directory. */
  readonly node?: string;
  /** For guest `.fw` documents and guest configs. */
  readonly vmid?: number;
  /** For vnet documents. */
  readonly vnet?: string;
}

/** Node names as Proxmox allows them (a DNS label). */
const NODE = '([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)';
/** Guest ids 100..999999999 as Proxmox allows them. */
const VMID = '([1-9][0-9]{2,8})';
const VNET = '([A-Za-z][A-Za-z0-9]{0,7})';

const PATTERNS: readonly (readonly [RegExp, (m: RegExpExecArray) => PathInfo])[] = [
  [/^firewall\/cluster\.fw$/, () => ({ kind: 'cluster' })],
  [new RegExp(`^firewall/${VMID}\\.fw$`), (m) => ({ kind: 'guest', vmid: Number(m[1]) })],
  [new RegExp(`^nodes/${NODE}/host\\.fw$`), (m) => ({ kind: 'host', node: m[1] })],
  [new RegExp(`^nodes/${NODE}/qemu-server/${VMID}\\.conf$`), (m) => ({ kind: 'qemu-config', node: m[1], vmid: Number(m[2]) })],
  [new RegExp(`^nodes/${NODE}/lxc/${VMID}\\.conf$`), (m) => ({ kind: 'lxc-config', node: m[1], vmid: Number(m[2]) })],
  [/^corosync\.conf$/, () => ({ kind: 'corosync' })],
  [new RegExp(`^sdn/firewall/${VNET}\\.fw$`), (m) => ({ kind: 'vnet', vnet: m[1] })],
];

/**
 * What a path names, or `undefined` for a path that is not a Palisade document. Paths are
 * relative (no leading `/`, no `/etc/pve/` prefix, no `.` or `..` segments).
 */
export function classifyPath(path: string): PathInfo | undefined {
  for (const [re, make] of PATTERNS) {
    const m = re.exec(path);
    if (m) return make(m);
  }
  return undefined;
}

/** The paths `classifyPath` accepts, for help texts and error messages. */
export const DOCUMENT_PATH_FORMS: readonly string[] = [
  'firewall/cluster.fw',
  'firewall/<vmid>.fw',
  'nodes/<node>/host.fw',
  'nodes/<node>/qemu-server/<vmid>.conf',
  'nodes/<node>/lxc/<vmid>.conf',
  'corosync.conf',
  'sdn/firewall/<vnet>.fw',
];
