/**
 * A whole `/etc/pve`-like tree: every document parsed with the right context (cluster names
 * for guests, guest type from where the guest config sits) plus cross-document checks.
 */
import { parseCorosyncConfig } from './corosync.js';
import { makeDiagnostic } from './diagnostics.js';
import { parseGuestConfig } from './guest-config.js';
import type { CorosyncConfig, Diagnostic, FwDocument, GuestConfig, GuestType, ParsedDocument, Rule } from './model.js';
import { ALIAS_REFERENCE, IPSET_REFERENCE, resolveAlias, resolveIpSet, type ReferenceOrigin } from './names.js';
import { cachedClassify, cachedParse, cachedReferences, pruneParseCache, sortedPaths, type ParseCache } from './parse-cache.js';
import { parseFwDocument, MAX_GROUP_NAME_LENGTH } from './parse-fw.js';
import { classifyPath } from './paths.js';

/** A parsed /etc/pve tree: every firewall document, guest config and corosync.conf, with all diagnostics. */
export interface PveTree {
  readonly cluster?: FwDocument;
  /** host.fw by node name. */
  readonly hosts: ReadonlyMap<string, FwDocument>;
  /** Guest `.fw` documents by vmid. */
  readonly guests: ReadonlyMap<number, FwDocument>;
  /** Guest configs by vmid, with the node they sit on (their placement). */
  readonly guestConfigs: ReadonlyMap<number, { readonly node: string; readonly config: GuestConfig }>;
  readonly vnets: ReadonlyMap<string, FwDocument>;
  readonly corosync?: CorosyncConfig;
  /** Every parsed document by path. */
  readonly documents: ReadonlyMap<string, ParsedDocument>;
  /** All diagnostics: each document's own plus cross-document ones. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Options of `loadTree`. */
export interface LoadTreeOptions {
  /** Per-document size limit in bytes (default 1 MiB). */
  readonly maxBytes?: number;
  /**
   * Keep parsed documents here and take back those whose input and context did not change
   * since the last load with the same cache (the same objects). Default: parse everything.
   */
  readonly cache?: ParseCache;
}

/** What parsing one document needs from the rest of the tree (the cluster document for names). */
export interface ParseDocumentContext {
  readonly cluster?: FwDocument;
  readonly guestType?: GuestType;
  readonly maxBytes?: number;
}

/**
 * Parses one document, choosing the parser from its path. `undefined` when the path names
 * no Palisade document (see `classifyPath`).
 */
export function parseDocument(
  path: string,
  input: string | Uint8Array,
  context: ParseDocumentContext = {},
): ParsedDocument | undefined {
  const info = classifyPath(path);
  if (!info) return undefined;
  const limits = context.maxBytes !== undefined ? { maxBytes: context.maxBytes } : {};
  switch (info.kind) {
    case 'qemu-config':
      return parseGuestConfig(input, { path, guestType: 'qemu' });
    case 'lxc-config':
      return parseGuestConfig(input, { path, guestType: 'lxc' });
    case 'corosync':
      return parseCorosyncConfig(input, { path });
    default:
      return parseFwDocument(input, {
        path,
        kind: info.kind,
        ...(context.cluster ? { cluster: context.cluster } : {}),
        ...(context.guestType ? { guestType: context.guestType } : {}),
        ...limits,
      });
  }
}

/** Parses every document of a tree (paths relative to its root) and checks them together. */
export function loadTree(files: ReadonlyMap<string, string | Uint8Array>, options: LoadTreeOptions = {}): PveTree {
  const diagnostics: Diagnostic[] = [];
  const documents = new Map<string, ParsedDocument>();
  const hosts = new Map<string, FwDocument>();
  const guests = new Map<number, FwDocument>();
  const guestConfigs = new Map<number, { node: string; config: GuestConfig }>();
  const vnets = new Map<string, FwDocument>();
  const limits = options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {};
  let corosync: CorosyncConfig | undefined;
  const cache = options.cache;
  if (cache) cache.parsedLastLoad = 0;
  const maxBytes = options.maxBytes;

  const { sorted: paths, unchanged: samePaths } = sortedPaths(cache, files);
  const clusterInput = files.get('firewall/cluster.fw');
  const cluster =
    clusterInput !== undefined
      ? cachedParse(cache, 'firewall/cluster.fw', clusterInput, { maxBytes }, () => parseFwDocument(clusterInput, { path: 'firewall/cluster.fw', kind: 'cluster', ...limits }))
      : undefined;
  if (cluster) documents.set(cluster.path, cluster);

  // Guest configs first: they say which guests are containers.
  for (const path of paths) {
    const info = cachedClassify(cache, path);
    if (!info || (info.kind !== 'qemu-config' && info.kind !== 'lxc-config')) continue;
    const input = files.get(path) as string | Uint8Array;
    const config = cachedParse(cache, path, input, { maxBytes }, () => parseDocument(path, input, limits) as GuestConfig);
    documents.set(path, config);
    const vmid = info.vmid as number;
    const previous = guestConfigs.get(vmid);
    if (previous) {
      diagnostics.push(
        makeDiagnostic('FW0902', path, 1, `guest ${vmid} is also configured on node '${previous.node}' (${previous.config.path}); a guest id must be unique in the cluster`),
      );
      continue;
    }
    guestConfigs.set(vmid, { node: info.node as string, config });
  }

  for (const path of paths) {
    const info = cachedClassify(cache, path);
    const input = files.get(path) as string | Uint8Array;
    if (!info) {
      diagnostics.push(makeDiagnostic('FW0007', path, 1, 'not a Palisade document path'));
      continue;
    }
    switch (info.kind) {
      case 'cluster':
      case 'qemu-config':
      case 'lxc-config':
        break;
      case 'guest': {
        const vmid = info.vmid as number;
        const guestType = guestConfigs.get(vmid)?.config.guestType;
        const doc = cachedParse(cache, path, input, { cluster, guestType, maxBytes }, () =>
          parseFwDocument(input, { path, kind: 'guest', ...(cluster ? { cluster } : {}), ...(guestType ? { guestType } : {}), ...limits }),
        );
        guests.set(vmid, doc);
        documents.set(path, doc);
        if (guestConfigs.size > 0 && !guestConfigs.has(vmid)) {
          diagnostics.push(makeDiagnostic('FW0901', path, 1, `no guest config for guest ${vmid} on any node: this document is not used`));
        }
        break;
      }
      case 'host': {
        const doc = cachedParse(cache, path, input, { cluster, maxBytes }, () => parseFwDocument(input, { path, kind: 'host', ...(cluster ? { cluster } : {}), ...limits }));
        hosts.set(info.node as string, doc);
        documents.set(path, doc);
        break;
      }
      case 'vnet': {
        const doc = cachedParse(cache, path, input, { cluster, maxBytes }, () => parseFwDocument(input, { path, kind: 'vnet', ...(cluster ? { cluster } : {}), ...limits }));
        vnets.set(info.vnet as string, doc);
        documents.set(path, doc);
        break;
      }
      case 'corosync': {
        const doc = cachedParse(cache, path, input, {}, () => parseCorosyncConfig(input, { path }));
        corosync = doc;
        documents.set(path, doc);
        break;
      }
    }
  }

  for (const doc of documents.values()) {
    // Without cluster.fw, a name that a host or guest rule takes from the cluster cannot be
    // checked: say so as a warning instead of claiming it does not exist.
    const unresolvable = !cluster && doc.kind !== 'cluster' && doc.kind !== 'corosync';
    for (const d of doc.diagnostics) {
      if (unresolvable && /^FW041[45]$/.test(d.code) && d.message.includes('no such')) {
        diagnostics.push({ ...d, severity: 'warning', message: `${d.message} (no cluster.fw to resolve it against)` });
      } else {
        diagnostics.push(d);
      }
    }
  }
  if (cluster) diagnostics.push(...cachedReferences(cache, cluster, cluster, () => checkReferences(cluster, 'cluster', cluster, undefined)));
  for (const doc of hosts.values()) diagnostics.push(...cachedReferences(cache, doc, cluster, () => checkReferences(doc, 'cluster', cluster, undefined)));
  for (const doc of vnets.values()) diagnostics.push(...cachedReferences(cache, doc, cluster, () => checkReferences(doc, 'cluster', cluster, undefined)));
  for (const doc of guests.values()) diagnostics.push(...cachedReferences(cache, doc, cluster, () => checkReferences(doc, 'guest', cluster, doc)));
  if (!samePaths) pruneParseCache(cache, paths);

  return {
    ...(cluster ? { cluster } : {}),
    hosts,
    guests,
    guestConfigs,
    vnets,
    ...(corosync ? { corosync } : {}),
    documents,
    diagnostics,
  };
}

/**
 * References that validation accepts but compilation cannot use: security groups that do not
 * exist under the name written, and aliases or IP sets that exist only outside the scope the
 * reference asks for (spec §4.2–§4.4).
 */
export function checkReferences(
  doc: FwDocument,
  from: ReferenceOrigin,
  cluster: FwDocument | undefined,
  guest: FwDocument | undefined,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const visit = (rule: Rule, origin: ReferenceOrigin): void => {
    if (rule.errors.length > 0) return;
    if (rule.type === 'group') {
      const name = rule.action;
      if (name.length > MAX_GROUP_NAME_LENGTH) {
        out.push(makeDiagnostic('FW0404', doc.path, rule.line, `security group name '${name}' is longer than ${MAX_GROUP_NAME_LENGTH} characters: the rule cannot be compiled`, { severity: 'error' }));
      } else if (!cluster?.groups.has(name)) {
        const hint = cluster?.groups.has(name.toLowerCase()) ? ` (group names are case-sensitive: write '${name.toLowerCase()}')` : '';
        out.push(makeDiagnostic('FW0417', doc.path, rule.line, `no such security group '${name}': it behaves as an empty group${hint}`));
      }
      return;
    }
    for (const field of ['source', 'dest'] as const) {
      const value = rule[field];
      if (value === undefined) continue;
      if (value.startsWith('+')) {
        const m = IPSET_REFERENCE.exec(value.slice(1));
        if (m && m[1] !== 'sdn' && !resolveIpSet(value.slice(1), origin, cluster, guest)) {
          out.push(makeDiagnostic('FW0418', doc.path, rule.line, `${field}: ipset '${value}' does not exist in the scope this rule sees; the rule is skipped at compile time`));
        }
      } else if (ALIAS_REFERENCE.test(value) && !resolveAlias(value, origin, cluster, guest)) {
        out.push(makeDiagnostic('FW0418', doc.path, rule.line, `${field}: alias '${value}' does not exist in the scope this rule sees; the rule is skipped at compile time`));
      }
    }
  };
  for (const rule of doc.rules) visit(rule, from);
  for (const group of doc.groups.values()) for (const rule of group.rules) visit(rule, 'cluster');
  return out;
}
