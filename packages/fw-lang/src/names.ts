/**
 * Aliases and IP sets: value syntax, lookup by scope (spec §4.2, §4.3) and kernel set names.
 */
import type { Alias, FwDocument, IpSet, IpVersion, RuleError } from './model.js';
import { parseIpOrCidr, parseIpSetEntryToken } from './values/ip.js';

/** Where a reference is written: guest documents see guest names first. */
export type ReferenceOrigin = 'cluster' | 'guest';

/** Alias reference: `[dc/|guest/]name`. */
export const ALIAS_REFERENCE = /^(?:(dc|guest)\/)?([A-Za-z][A-Za-z0-9_-]+)$/;
/** IP set reference without its `+`: `[dc/|guest/|sdn/]name`. */
export const IPSET_REFERENCE = /^(?:(dc|guest|sdn)\/)?([A-Za-z][A-Za-z0-9_-]+)$/;

/** The name tables a rule or entry is checked against while a document is parsed. */
export interface NameTables {
  readonly clusterAliases: ReadonlyMap<string, Alias>;
  readonly clusterIpsets: ReadonlyMap<string, { readonly name: string }>;
  /** Guest documents only: the guest's own names parsed so far. */
  readonly localAliases: ReadonlyMap<string, Alias> | undefined;
  readonly localIpsets: ReadonlyMap<string, { readonly name: string }> | undefined;
  readonly from: ReferenceOrigin;
}

/** An alias value parsed: the normalised text and its IP version. */
export interface AddressValue {
  /** As written, with a `/32` (IPv4) or `/128` (IPv6) suffix removed. */
  readonly cidr: string;
  readonly version: IpVersion;
}

/**
 * An alias value or IP set address: an IPv4/IPv6 address with an optional `/prefix`, `/32` or
 * `/128` removed, host bits kept. Unlike the reference, a prefix longer than the address
 * (`1.2.3.4/99`) is refused here: iptables/nft would refuse the whole ruleset at apply time.
 */
export function parseAliasValue(text: string): AddressValue | undefined {
  const r = parseIpOrCidr(text);
  return r.ok && r.ip !== undefined ? { cidr: r.cidr, version: r.version } : undefined;
}

function lookupAlias(tables: NameTables, scope: string | undefined, name: string): Alias | undefined {
  const key = name.toLowerCase();
  const local = tables.localAliases?.get(key);
  const global = tables.clusterAliases.get(key);
  if (tables.from === 'guest') {
    if (scope === 'guest') return local;
    if (scope === 'dc') return global;
    return local ?? global;
  }
  return scope === 'guest' ? undefined : global;
}

/**
 * Resolves an alias reference by the scope rules of spec §4.2. `from` is where the reference
 * is written: host, cluster and group rules and cluster IP sets are `cluster`.
 */
export function resolveAlias(
  ref: string,
  from: ReferenceOrigin,
  cluster: FwDocument | undefined,
  guest?: FwDocument,
): Alias | undefined {
  const m = ALIAS_REFERENCE.exec(ref);
  if (!m) return undefined;
  return lookupAlias(
    {
      clusterAliases: cluster?.aliases ?? new Map(),
      clusterIpsets: new Map(),
      localAliases: guest?.aliases,
      localIpsets: undefined,
      from,
    },
    m[1],
    m[2] as string,
  );
}

/** Looks an alias up in parse-time tables (scope-aware). */
export function lookupAliasIn(tables: NameTables, ref: string): Alias | undefined {
  const m = ALIAS_REFERENCE.exec(ref);
  return m ? lookupAlias(tables, m[1], m[2] as string) : undefined;
}

/** True when the alias exists in the cluster or local table, ignoring the scope (what the reference validates). */
export function aliasExistsAnywhere(tables: NameTables, name: string): boolean {
  const key = name.toLowerCase();
  return tables.clusterAliases.has(key) || (tables.localAliases?.has(key) ?? false);
}

/** An IP set reference resolved: the set and the scope that owns it. */
export interface ResolvedIpSet {
  readonly set: IpSet;
  readonly owner: 'cluster' | 'guest' | 'sdn';
}

/**
 * Resolves an IP set reference (without its `+`) by the scope rules of spec §4.3. Names are
 * case-sensitive against the lower-cased definitions. SDN sets are not modelled: `sdn/`
 * references resolve to nothing.
 */
export function resolveIpSet(
  ref: string,
  from: ReferenceOrigin,
  cluster: FwDocument | undefined,
  guest?: FwDocument,
): ResolvedIpSet | undefined {
  const m = IPSET_REFERENCE.exec(ref.startsWith('+') ? ref.slice(1) : ref);
  if (!m) return undefined;
  const scope = m[1];
  const name = m[2] as string;
  const local = from === 'guest' ? guest?.ipsets.get(name) : undefined;
  const global = cluster?.ipsets.get(name);
  if (scope === 'sdn') return undefined;
  if (scope === 'guest') return local ? { set: local, owner: 'guest' } : undefined;
  if (scope === 'dc') return global ? { set: global, owner: 'cluster' } : undefined;
  if (local) return { set: local, owner: 'guest' };
  return global ? { set: global, owner: 'cluster' } : undefined;
}

/** An IP set entry token checked: its normalised text, or the error that makes it unusable. */
export interface EntryTokenResult {
  readonly cidr: string;
  readonly error?: RuleError;
}

/** Checks an IP set entry token (spec §4.3); alias references must resolve in `tables`. */
export function checkIpSetEntryToken(token: string, tables: NameTables): EntryTokenResult {
  const parsed = parseIpSetEntryToken(token);
  if (!parsed.ok) {
    const range = /^[0-9a-fA-F.:]+-[0-9a-fA-F.:]+$/.test(token) ? ' (address ranges are not allowed in IP sets)' : '';
    return { cidr: token, error: { field: 'source', code: parsed.code, message: `${parsed.message}: '${token}'${range}` } };
  }
  if (parsed.kind === 'alias') {
    if (!lookupAliasIn(tables, token)) return { cidr: token, error: { field: 'source', code: 'FW0602', message: `no such alias '${token}'` } };
    return { cidr: token };
  }
  if (parsed.ip === undefined) {
    return { cidr: parsed.cidr, error: { field: 'source', code: 'FW0603', message: `prefix length out of range: '${token}'` } };
  }
  return { cidr: parsed.cidr };
}

/** FNV-1a 32-bit over the UTF-16 code units of an ASCII string, masked to 31 bits. */
function fnv31a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i) & 0xff;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h & 0x7fffffff;
}

/** Longest set id kept verbatim: 31 − len("PVEFW-") − len("_swap"). */
export const MAX_IPSET_ID_LENGTH = 20;

/**
 * Kernel name of a configured IP set (spec §4.3): `PVEFW-<vmid>-<name>-v4|6`, or an FNV hash
 * when that id is longer than 20 characters. `vmid` is 0 for cluster sets.
 */
export function ipsetKernelName(vmid: number, setName: string, version: IpVersion): string {
  const id = `${vmid}-${setName}-v${version}`;
  if (id.length <= MAX_IPSET_ID_LENGTH) return `PVEFW-${id}`;
  return `PVEFW-${fnv31a(id).toString(16).toUpperCase()}`;
}
