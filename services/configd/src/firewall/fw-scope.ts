/**
 * Which `.fw` document a firewall call addresses, and back: the scope of a document path.
 */
import type { FwDocumentKind } from '@palisade/fw-lang';
import { requireDocumentPath } from '../store/document-path.js';

/** Which document a firewall call addresses. */
export type FwScope =
  | { readonly kind: 'cluster' }
  | { readonly kind: 'host'; readonly node: string }
  | { readonly kind: 'guest'; readonly vmid: number }
  | { readonly kind: 'vnet'; readonly vnet: string };

/** The cluster document: the scope of security groups and `dc/` names. */
export const CLUSTER_PATH = 'firewall/cluster.fw';

/** The document of a scope and its kind; refuses a malformed node or vnet name (`invalid-argument`). */
export function documentOfScope(scope: FwScope): { path: string; kind: FwDocumentKind } {
  switch (scope.kind) {
    case 'cluster':
      return { path: CLUSTER_PATH, kind: 'cluster' };
    case 'host':
      return { path: requireDocumentPath(`nodes/${scope.node}/host.fw`).path, kind: 'host' };
    case 'guest':
      return { path: requireDocumentPath(`firewall/${scope.vmid}.fw`).path, kind: 'guest' };
    case 'vnet':
      return { path: requireDocumentPath(`sdn/firewall/${scope.vnet}.fw`).path, kind: 'vnet' };
  }
}

/** Documents whose `GROUP` references follow a group rename: host, guest and vnet `.fw`. */
export const GROUP_REFERRING_PATH = /^nodes\/[^/]+\/host\.fw$|^firewall\/\d+\.fw$|^sdn\/firewall\/[^/]+\.fw$/;

/** The firewall scope a document path belongs to, if any. */
export function scopeOfPath(path: string): FwScope | undefined {
  let m: RegExpExecArray | null;
  if (path === CLUSTER_PATH) return { kind: 'cluster' };
  if ((m = /^nodes\/([^/]+)\/host\.fw$/.exec(path))) return { kind: 'host', node: m[1]! };
  if ((m = /^firewall\/(\d+)\.fw$/.exec(path))) return { kind: 'guest', vmid: Number(m[1]) };
  if ((m = /^sdn\/firewall\/([^/]+)\.fw$/.exec(path))) return { kind: 'vnet', vnet: m[1]! };
  return undefined;
}
