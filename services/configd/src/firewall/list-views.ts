/**
 * The non-rule lists of the firewall API as views of a parsed document, each with the digest
 * Proxmox computes for it: security groups, IP sets and their entries, aliases, options.
 */
import { apiOptionValue, type FwDocument, type FwDocumentKind } from '@palisade/fw-lang';
import { ConfigdError } from '../errors.js';
import { listDigest } from './list-digest.js';

/**
 * Named things with a comment as listed (security groups, IP sets): sorted by the name in `key`,
 * and the digest over each one's name and comment (the comment left out when empty).
 */
function sortedCommentedList<K extends string, V extends Record<K, string> & { readonly comment: string }>(views: V[], key: K): { list: V[]; digest: string } {
  const list = views.sort((a, b) => (a[key] < b[key] ? -1 : 1));
  return { list, digest: listDigest(list.map((v) => ({ [key]: v[key], comment: v.comment || undefined }))) };
}

/** A security group as listed. */
export interface GroupView {
  readonly group: string;
  readonly comment: string;
  readonly rules: number;
}

/** The cluster document's security groups, name-sorted, and their digest. */
export function groupsView(doc: FwDocument): { groups: GroupView[]; digest: string } {
  const { list, digest } = sortedCommentedList([...doc.groups.values()].map((g) => ({ group: g.name, comment: g.comment ?? '', rules: g.rules.length })), 'group');
  return { groups: list, digest };
}

/** An IP set as listed. */
export interface IpSetView {
  readonly name: string;
  readonly comment: string;
  readonly entries: number;
}

/** A document's IP sets, name-sorted, and their digest. */
export function ipSetsView(doc: FwDocument): { ipsets: IpSetView[]; digest: string } {
  const { list, digest } = sortedCommentedList([...doc.ipsets.values()].map((s) => ({ name: s.name, comment: s.comment ?? '', entries: s.entries.length })), 'name');
  return { ipsets: list, digest };
}

/** An IP set entry as listed (`error`: why it is not used, else ''). */
export interface IpSetEntryView {
  readonly cidr: string;
  readonly nomatch: boolean;
  readonly comment: string;
  readonly error: string;
}

/** The entries of IP set `name` in file order and their digest; `not-found` without the set. */
export function ipSetEntriesView(doc: FwDocument, name: string): { entries: IpSetEntryView[]; digest: string } {
  const set = doc.ipsets.get(name.toLowerCase());
  if (!set) throw new ConfigdError('not-found', `no such IPSet '${name}'`, { path: doc.path });
  const entries = set.entries.map((e) => ({ cidr: e.cidr, nomatch: e.nomatch, comment: e.comment ?? '', error: e.error?.message ?? '' }));
  return {
    entries,
    digest: listDigest(entries.map((e) => ({ cidr: e.cidr, nomatch: e.nomatch ? 1 : undefined, comment: e.comment || undefined }))),
  };
}

/** An alias as listed. */
export interface AliasView {
  readonly name: string;
  readonly cidr: string;
  readonly comment: string;
  readonly ipversion: number;
}

/** A document's aliases, name-sorted (case-insensitively), and their digest. */
export function aliasesView(doc: FwDocument): { aliases: AliasView[]; digest: string } {
  const aliases = [...doc.aliases.values()]
    .map((a) => ({ name: a.name, cidr: a.cidr, comment: a.comment ?? '', ipversion: a.ipVersion }))
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  // As Proxmox: over name, cidr, ipversion and comment of the name-sorted list.
  return { aliases, digest: listDigest(aliases.map((a) => ({ name: a.name, cidr: a.cidr, ipversion: a.ipversion, comment: a.comment || undefined }))) };
}

/**
 * A document's options as the Proxmox API shows them (booleans and integers as numbers; a
 * cluster `enable` timestamp more than 60 s before `nowMs` as 0) and their digest
 * (`copy_opject_with_digest`).
 */
export function optionsView(kind: FwDocumentKind, doc: FwDocument, nowMs: number): { options: Record<string, string | number>; digest: string } {
  const nowSeconds = Math.floor(nowMs / 1000);
  const options: Record<string, string | number> = {};
  for (const [k, o] of doc.options ?? []) options[k] = apiOptionValue(kind, k, o.value, nowSeconds);
  return { options, digest: listDigest([options]) };
}
