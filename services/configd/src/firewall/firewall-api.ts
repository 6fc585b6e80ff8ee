/**
 * The Proxmox firewall API over configd's documents: every read parses the scope's `.fw`
 * document from the local mirror; every write is a read-modify-write through
 * `@palisade/fw-lang`'s editor (only the lines concerned change; comments, order and unknown
 * lines stay) and a compare-and-set put of the whole document.
 *
 * Rule identifiers: `r` + 10 hex digits of SHA-256 over what the rule matches and does (type,
 * action, macro, iface, source, dest, proto, ports, icmp-type, log level), plus `-N` for the
 * N-th identical rule of the same list. They survive moves, inserts and deletes of other
 * rules, enable/disable and comment edits.
 */
import { createHash } from 'node:crypto';
import {
  MACROS,
  apiOptionValue,
  editFwDocument,
  parseFwDocument,
  ruleToSpec,
  type Diagnostic,
  type EditContext,
  type EditResult,
  type FwDocument,
  type FwDocumentKind,
  type FwEdit,
  type Rule,
  type RuleSpec,
  type RuleSpecField,
} from '@palisade/fw-lang';
import { ConfigdError, type DiagnosticInfo } from '../errors.js';
import type { Caller, DocumentStore } from '../store/document-store.js';
import { requireDocumentPath } from '../store/document-path.js';
import type { LogRecord } from '../store/lmdb-mirror.js';
import { ParseCache, type ParseContextKey } from './parse-cache.js';

/** Which document a firewall call addresses. */
export type FwScope =
  | { readonly kind: 'cluster' }
  | { readonly kind: 'host'; readonly node: string }
  | { readonly kind: 'guest'; readonly vmid: number }
  | { readonly kind: 'vnet'; readonly vnet: string };

export interface Precondition {
  /** List digest from the matching read. */
  readonly digest?: string;
  /** Document revision from a read. */
  readonly expectedRevision?: number;
}

/** A rule as the API shows it. */
export interface RuleView {
  readonly id: string;
  readonly pos: number;
  readonly line: number;
  readonly type: string;
  readonly action: string;
  readonly macro?: string;
  readonly iface?: string;
  readonly source?: string;
  readonly dest?: string;
  readonly proto?: string;
  readonly dport?: string;
  readonly sport?: string;
  readonly icmpType?: string;
  readonly log?: string;
  readonly comment?: string;
  readonly enable: boolean;
  readonly ipversion: number;
  readonly errors: readonly { field: string; code: string; message: string }[];
}

/** Address of a rule: its id (preferred) or its 0-based position. */
export type RuleRef = { readonly id: string } | { readonly pos: number };

export interface WriteResult {
  readonly record: LogRecord;
  readonly digest: string;
}

const EMPTY = new Uint8Array(0);

function pathOf(scope: FwScope): { path: string; kind: FwDocumentKind } {
  switch (scope.kind) {
    case 'cluster':
      return { path: 'firewall/cluster.fw', kind: 'cluster' };
    case 'host':
      return { path: requireDocumentPath(`nodes/${scope.node}/host.fw`).path, kind: 'host' };
    case 'guest':
      return { path: requireDocumentPath(`firewall/${scope.vmid}.fw`).path, kind: 'guest' };
    case 'vnet':
      return { path: requireDocumentPath(`sdn/firewall/${scope.vnet}.fw`).path, kind: 'vnet' };
  }
}

function sha1(parts: readonly string[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Proxmox's list digest: SHA-1 over every entry's `key:value\n`, keys sorted. */
export function listDigest(entries: readonly Readonly<Record<string, string | number | undefined>>[]): string {
  const parts: string[] = [];
  for (const e of entries) {
    for (const k of Object.keys(e).sort()) {
      const v = e[k];
      if (v !== undefined) parts.push(`${k}:${v}\n`);
    }
  }
  return sha1(parts);
}

function ruleIdentity(r: Rule): string {
  return [r.type.toLowerCase(), r.action, r.macro, r.iface, r.source, r.dest, r.proto, r.dport, r.sport, r.icmpType, r.log]
    .map((x) => x ?? '')
    .join('\u001f');
}

/** Views of a rule list with stable ids. */
export function ruleViews(rules: readonly Rule[]): RuleView[] {
  const seen = new Map<string, number>();
  return rules.map((r, pos) => {
    const key = ruleIdentity(r);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const id = `r${createHash('sha256').update(key).digest('hex').slice(0, 10)}${n > 0 ? `-${n}` : ''}`;
    return {
      id,
      pos,
      line: r.line,
      ...ruleToSpec(r),
      enable: r.enabled,
      ipversion: r.ipVersion ?? 0,
      errors: r.errors.map((e) => ({ field: e.field, code: e.code, message: e.message })),
    };
  });
}

/**
 * Digest of a rule list exactly as Proxmox computes it (`copy_list_with_digest` over the parsed
 * rules): Proxmox key names, no `pos` (added after the digest), `ipversion` when known.
 */
export function rulesDigest(views: readonly RuleView[]): string {
  return listDigest(
    views.map((v) => ({
      type: v.type,
      action: v.action,
      macro: v.macro,
      iface: v.iface,
      source: v.source,
      dest: v.dest,
      proto: v.proto,
      dport: v.dport,
      sport: v.sport,
      'icmp-type': v.icmpType,
      log: v.log,
      comment: v.comment,
      enable: v.enable ? 1 : 0,
      ipversion: v.ipversion || undefined,
    })),
  );
}

function toDiagnosticInfo(d: Diagnostic): DiagnosticInfo {
  return { path: d.path, line: d.line, column: d.column ?? 0, severity: d.severity, code: d.code, message: d.message };
}

/** Where a rule edit puts the rule, to name its wrong fields when the edit is refused. */
interface RuleSlot {
  readonly group?: string;
  readonly pos: number;
}

function ruleFields(r: Extract<EditResult, { ok: false }>, slot: RuleSlot | undefined): Record<string, string> | undefined {
  if (!slot || !r.document) return undefined;
  const rules = slot.group ? r.document.groups.get(slot.group)?.rules : r.document.rules;
  const errors = rules?.[slot.pos]?.errors ?? [];
  if (errors.length === 0) return undefined;
  return Object.fromEntries(errors.map((e) => [e.field, e.message]));
}

function editError(r: Extract<EditResult, { ok: false }>, path: string, slot?: RuleSlot): ConfigdError {
  switch (r.code) {
    case 'not-found':
      return new ConfigdError('not-found', r.message, { path });
    case 'exists':
      return new ConfigdError('already-exists', r.message, { path });
    case 'not-empty':
      return new ConfigdError('failed-precondition', r.message, { path });
    case 'invalid': {
      const fields = ruleFields(r, slot);
      return new ConfigdError('invalid-document', `${path}: ${r.message}`, {
        path,
        diagnostics: (r.diagnostics ?? []).map(toDiagnosticInfo),
        ...(fields ? { fields } : {}),
      });
    }
    case 'not-allowed':
      return new ConfigdError('invalid-argument', r.message, { path });
  }
}

interface Loaded {
  readonly path: string;
  readonly kind: FwDocumentKind;
  readonly record: LogRecord | undefined;
  readonly doc: FwDocument;
  readonly context: EditContext;
  /** What the parse depended on (the cache key of an edited revision). */
  readonly contextKey: ParseContextKey;
}

/** Rule fields a client may remove with `delete`. */
const DELETABLE: Readonly<Record<string, RuleSpecField>> = {
  macro: 'macro',
  iface: 'iface',
  source: 'source',
  dest: 'dest',
  proto: 'proto',
  dport: 'dport',
  sport: 'sport',
  icmp_type: 'icmpType',
  'icmp-type': 'icmpType',
  icmpType: 'icmpType',
  log: 'log',
  comment: 'comment',
};

const CLUSTER_PATH = 'firewall/cluster.fw';

export class FirewallApi {
  readonly #store: DocumentStore;
  readonly #parses: ParseCache;

  /** `parses`: the parse cache (default one with `ParseCache`'s default bounds). */
  constructor(store: DocumentStore, parses: ParseCache = new ParseCache()) {
    this.#store = store;
    this.#parses = parses;
  }

  /** Hits and misses of the parse cache. */
  get parseCacheStats(): ParseCache['stats'] {
    return this.#parses.stats;
  }

  /** Waits until the mirror shows every write this configd acknowledged (read-your-writes). */
  settle(signal?: AbortSignal): Promise<void> {
    return this.#store.settle(signal);
  }

  /**
   * The scope's document and its context, parsed once per revision (`ParseCache`): only a
   * revision not seen before costs a parse.
   */
  #load(scope: FwScope): Loaded {
    const { path, kind } = pathOf(scope);
    const mirror = this.#store.mirror;
    const record = mirror.getCurrent(path);
    const info = requireDocumentPath(path).info;
    let cluster: FwDocument | undefined;
    let clusterRevision = 0;
    if (path !== CLUSTER_PATH) {
      const clusterRecord = mirror.getCurrent(CLUSTER_PATH);
      if (clusterRecord?.content) {
        clusterRevision = clusterRecord.revision;
        const content = clusterRecord.content;
        cluster = this.#parses.getOrParse(CLUSTER_PATH, clusterRevision, { clusterRevision: 0 }, content.length, () =>
          parseFwDocument(content, { path: CLUSTER_PATH, kind: 'cluster' }),
        );
      }
    }
    const guestType = info.kind === 'guest' ? this.#store.contextFor(path, info).guestType : undefined;
    const context: EditContext = { ...(cluster ? { cluster } : {}), ...(guestType ? { guestType } : {}) };
    const contextKey: ParseContextKey = { clusterRevision, guestType };
    const content = record?.content ?? EMPTY;
    const doc = this.#parses.getOrParse(path, record?.revision ?? 0, contextKey, content.length, () => parseFwDocument(content, { path, kind, ...context }));
    return { path, kind, record, doc, context, contextKey };
  }

  #check(loaded: Loaded, pre: Precondition | undefined, digest: () => string): void {
    const current = loaded.record?.revision ?? 0;
    if (pre?.expectedRevision !== undefined && pre.expectedRevision !== current) {
      throw new ConfigdError('conflict', `conflict: '${loaded.path}' is at revision ${current}, expected ${pre.expectedRevision}`, {
        path: loaded.path,
        currentRevision: current,
        currentDigest: loaded.record?.digest ?? '',
      });
    }
    if (pre?.digest && pre.digest !== digest()) {
      throw new ConfigdError('conflict', 'detected modified configuration - file changed by other user? Try again.', {
        path: loaded.path,
        currentRevision: current,
        currentDigest: loaded.record?.digest ?? '',
      });
    }
  }

  /** Applies edits in order and writes the result with CAS on the revision read. */
  async #write(loaded: Loaded, edits: readonly FwEdit[], caller: Caller, message: string): Promise<{ record: LogRecord; doc: FwDocument }> {
    let doc = loaded.doc;
    let text: string | undefined;
    for (const edit of edits) {
      const r = editFwDocument(doc, edit, loaded.context);
      if (!r.ok) throw editError(r, loaded.path, ruleSlotOf(edit, doc));
      doc = r.document;
      text = r.text;
    }
    if (text === undefined) throw new ConfigdError('invalid-argument', 'nothing to change');
    const content = Buffer.from(text, 'utf8');
    const { record } = await this.#store.put({ path: loaded.path, content, expectedRevision: loaded.record?.revision ?? 0, message }, caller);
    // The editor parsed the new text against the same context: the next call on this revision
    // needs no parse.
    this.#parses.put(loaded.path, record.revision, loaded.contextKey, content.length, doc);
    return { record, doc };
  }

  // ---- rules ----

  #rules(doc: FwDocument, group: string | undefined, path: string): readonly Rule[] {
    if (!group) return doc.rules;
    const g = doc.groups.get(group.toLowerCase());
    if (!g) throw new ConfigdError('not-found', `no such security group '${group}'`, { path });
    return g.rules;
  }

  #ruleScope(scope: FwScope, group: string | undefined): FwScope {
    if (group && scope.kind !== 'cluster') throw new ConfigdError('invalid-argument', 'security groups live in the cluster scope');
    return scope;
  }

  listRules(scope: FwScope, group?: string): { rules: RuleView[]; digest: string; revision: number } {
    const l = this.#load(this.#ruleScope(scope, group));
    const rules = ruleViews(this.#rules(l.doc, group, l.path));
    return { rules, digest: rulesDigest(rules), revision: l.record?.revision ?? 0 };
  }

  #resolve(views: readonly RuleView[], ref: RuleRef, path: string): RuleView {
    const v = 'id' in ref ? views.find((r) => r.id === ref.id) : views[ref.pos];
    if (!v) {
      throw new ConfigdError('not-found', 'id' in ref ? `no rule with id '${ref.id}'` : `no rule at position ${ref.pos}`, { path });
    }
    return v;
  }

  getRule(scope: FwScope, group: string | undefined, ref: RuleRef): { rule: RuleView; digest: string; revision: number } {
    const { rules, digest, revision } = this.listRules(scope, group);
    return { rule: this.#resolve(rules, ref, pathOf(scope).path), digest, revision };
  }

  async #ruleWrite(
    scope: FwScope,
    group: string | undefined,
    pre: Precondition | undefined,
    caller: Caller,
    message: string,
    build: (views: readonly RuleView[]) => { edit: FwEdit; resultPos: (after: readonly RuleView[]) => number | undefined },
  ): Promise<WriteResult & { rule?: RuleView }> {
    const l = this.#load(this.#ruleScope(scope, group));
    const views = ruleViews(this.#rules(l.doc, group, l.path));
    this.#check(l, pre, () => rulesDigest(views));
    const { edit, resultPos } = build(views);
    const { record, doc } = await this.#write(l, [edit], caller, message);
    const after = ruleViews(this.#rules(doc, group, l.path));
    const pos = resultPos(after);
    const rule = pos === undefined ? undefined : after[Math.min(pos, after.length - 1)];
    return { record, digest: rulesDigest(after), ...(rule ? { rule } : {}) };
  }

  createRule(scope: FwScope, group: string | undefined, rule: RuleSpec, pos: number | undefined, pre: Precondition | undefined, caller: Caller) {
    if (!rule.type || !rule.action) throw new ConfigdError('invalid-argument', 'a rule needs type and action');
    return this.#ruleWrite(scope, group, pre, caller, 'firewall: create rule', () => ({
      edit: { op: 'rule.add', rule, pos: pos ?? 0, ...(group ? { group: group.toLowerCase() } : {}) },
      resultPos: (after) => Math.min(pos ?? 0, after.length - 1),
    }));
  }

  updateRule(
    scope: FwScope,
    group: string | undefined,
    ref: RuleRef,
    set: Partial<RuleSpec>,
    remove: readonly string[],
    pre: Precondition | undefined,
    caller: Caller,
  ) {
    const del = remove.map((f) => {
      const field = DELETABLE[f];
      if (!field) throw new ConfigdError('invalid-argument', `cannot delete rule property '${f}'`);
      return field;
    });
    return this.#ruleWrite(scope, group, pre, caller, 'firewall: update rule', (views) => {
      const v = this.#resolve(views, ref, pathOf(scope).path);
      return {
        edit: { op: 'rule.update', pos: v.pos, set, delete: del, ...(group ? { group: group.toLowerCase() } : {}) },
        resultPos: () => v.pos,
      };
    });
  }

  deleteRule(scope: FwScope, group: string | undefined, ref: RuleRef, pre: Precondition | undefined, caller: Caller) {
    return this.#ruleWrite(scope, group, pre, caller, 'firewall: delete rule', (views) => {
      const v = this.#resolve(views, ref, pathOf(scope).path);
      return { edit: { op: 'rule.delete', pos: v.pos, ...(group ? { group: group.toLowerCase() } : {}) }, resultPos: () => undefined };
    });
  }

  /** Moves a rule so that it ends at index `to` (not Proxmox's off-by-one `moveto`). */
  moveRule(scope: FwScope, group: string | undefined, ref: RuleRef, to: number, pre: Precondition | undefined, caller: Caller) {
    return this.#ruleWrite(scope, group, pre, caller, 'firewall: move rule', (views) => {
      const v = this.#resolve(views, ref, pathOf(scope).path);
      const target = Math.min(to, views.length - 1);
      // Proxmox moveto inserts before the element originally at `moveto`: moving down lands at moveto - 1.
      const moveto = target > v.pos ? target + 1 : target;
      return {
        edit: { op: 'rule.update', pos: v.pos, moveto, ...(group ? { group: group.toLowerCase() } : {}) },
        resultPos: () => target,
      };
    });
  }

  // ---- security groups ----

  listGroups(): { groups: { group: string; comment: string; rules: number }[]; digest: string; revision: number } {
    const l = this.#load({ kind: 'cluster' });
    const groups = [...l.doc.groups.values()]
      .map((g) => ({ group: g.name, comment: g.comment ?? '', rules: g.rules.length }))
      .sort((a, b) => (a.group < b.group ? -1 : 1));
    return { groups, digest: listDigest(groups.map((g) => ({ group: g.group, comment: g.comment || undefined }))), revision: l.record?.revision ?? 0 };
  }

  async createGroup(name: string, comment: string | undefined, rename: string, pre: Precondition | undefined, caller: Caller): Promise<WriteResult> {
    const l = this.#load({ kind: 'cluster' });
    this.#check(l, pre, () => this.listGroups().digest);
    if (!rename) {
      const { record } = await this.#write(l, [{ op: 'group.create', name, ...(comment !== undefined ? { comment } : {}) }], caller, `firewall: create group ${name}`);
      return { record, digest: this.listGroups().digest };
    }
    if (rename.toLowerCase() === name.toLowerCase()) {
      // As Proxmox: `rename` equal to `group` only sets the comment.
      if (!l.doc.groups.has(name.toLowerCase())) throw new ConfigdError('not-found', `no such security group '${rename}'`, { path: l.path });
      if (comment === undefined) return { record: l.record!, digest: this.listGroups().digest };
      const { record } = await this.#write(l, [{ op: 'group.comment', name, comment }], caller, `firewall: comment of group ${name}`);
      return { record, digest: this.listGroups().digest };
    }
    const renameEdits: FwEdit[] = [
      { op: 'group.rename', name: rename.toLowerCase(), newName: name },
      ...(comment !== undefined ? [{ op: 'group.comment' as const, name, comment }] : []),
    ];
    const { record } = await this.#write(l, renameEdits, caller, `firewall: rename group ${rename} to ${name}`);
    // Like Proxmox: references in host and guest documents follow the rename.
    const others = this.#store.mirror
      .list('')
      .filter((r) => /^nodes\/[^/]+\/host\.fw$|^firewall\/\d+\.fw$|^sdn\/firewall\/[^/]+\.fw$/.test(r.path));
    for (const r of others) {
      const scope = scopeOfPath(r.path);
      if (!scope) continue;
      const lo = this.#load(scope);
      const res = editFwDocument(lo.doc, { op: 'group.rename-references', name: rename, newName: name }, lo.context);
      if (res.ok && res.text !== new TextDecoder().decode(lo.record?.content ?? EMPTY)) {
        await this.#store.put(
          { path: lo.path, content: Buffer.from(res.text, 'utf8'), expectedRevision: lo.record?.revision ?? 0, message: `firewall: group ${rename} renamed to ${name}` },
          caller,
        );
      }
    }
    return { record, digest: this.listGroups().digest };
  }

  async deleteGroup(name: string, pre: Precondition | undefined, caller: Caller): Promise<WriteResult> {
    const l = this.#load({ kind: 'cluster' });
    this.#check(l, pre, () => this.listGroups().digest);
    const group = l.doc.groups.get(name.toLowerCase());
    if (group && group.rules.length > 0) {
      // As Proxmox: a group with rules cannot be deleted (there is no force flag).
      throw new ConfigdError('failed-precondition', `Security group '${name}' is not empty`, { path: l.path });
    }
    const { record } = await this.#write(l, [{ op: 'group.delete', name }], caller, `firewall: delete group ${name}`);
    return { record, digest: this.listGroups().digest };
  }

  // ---- IP sets ----

  listIpSets(scope: FwScope): { ipsets: { name: string; comment: string; entries: number }[]; digest: string; revision: number } {
    const l = this.#load(scope);
    const ipsets = [...l.doc.ipsets.values()]
      .map((s) => ({ name: s.name, comment: s.comment ?? '', entries: s.entries.length }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    return { ipsets, digest: listDigest(ipsets.map((s) => ({ name: s.name, comment: s.comment || undefined }))), revision: l.record?.revision ?? 0 };
  }

  listIpSetEntries(scope: FwScope, name: string): { entries: { cidr: string; nomatch: boolean; comment: string; error: string }[]; digest: string; revision: number } {
    const l = this.#load(scope);
    const set = l.doc.ipsets.get(name.toLowerCase());
    if (!set) throw new ConfigdError('not-found', `no such IPSet '${name}'`, { path: l.path });
    const entries = set.entries.map((e) => ({ cidr: e.cidr, nomatch: e.nomatch, comment: e.comment ?? '', error: e.error?.message ?? '' }));
    return {
      entries,
      digest: listDigest(entries.map((e) => ({ cidr: e.cidr, nomatch: e.nomatch ? 1 : undefined, comment: e.comment || undefined }))),
      revision: l.record?.revision ?? 0,
    };
  }

  async #simple(scope: FwScope, pre: Precondition | undefined, digest: () => string, edit: FwEdit, caller: Caller, message: string, after: () => string): Promise<WriteResult> {
    const l = this.#load(scope);
    this.#check(l, pre, digest);
    const { record } = await this.#write(l, [edit], caller, message);
    return { record, digest: after() };
  }

  /**
   * Creates an IP set, or with `rename` (the old name) renames it and/or sets its comment
   * (`rename` equal to `name` only sets the comment; `comment` undefined keeps it). As
   * Proxmox, rules using `+old` are not rewritten.
   */
  createIpSet(scope: FwScope, name: string, comment: string | undefined, pre: Precondition | undefined, caller: Caller, rename = '') {
    const d = () => this.listIpSets(scope).digest;
    if (rename) {
      const edit: FwEdit = { op: 'ipset.update', name: rename, newName: name, ...(comment !== undefined ? { comment } : {}) };
      const message = rename.toLowerCase() === name.toLowerCase() ? `firewall: comment of ipset ${name}` : `firewall: rename ipset ${rename} to ${name}`;
      return this.#simple(scope, pre, d, edit, caller, message, d);
    }
    return this.#simple(scope, pre, d, { op: 'ipset.create', name, ...(comment ? { comment } : {}) }, caller, `firewall: create ipset ${name}`, d);
  }

  deleteIpSet(scope: FwScope, name: string, force: boolean, pre: Precondition | undefined, caller: Caller) {
    const d = () => this.listIpSets(scope).digest;
    return this.#simple(scope, pre, d, { op: 'ipset.delete', name, force }, caller, `firewall: delete ipset ${name}`, d);
  }

  addIpSetEntry(scope: FwScope, set: string, cidr: string, nomatch: boolean, comment: string, pre: Precondition | undefined, caller: Caller) {
    const d = () => this.listIpSetEntries(scope, set).digest;
    return this.#simple(scope, pre, d, { op: 'ipset.entry.add', set, cidr, nomatch, ...(comment ? { comment } : {}) }, caller, `firewall: add ${cidr} to ipset ${set}`, d);
  }

  updateIpSetEntry(scope: FwScope, set: string, cidr: string, nomatch: boolean, comment: string, pre: Precondition | undefined, caller: Caller) {
    const d = () => this.listIpSetEntries(scope, set).digest;
    return this.#simple(scope, pre, d, { op: 'ipset.entry.update', set, cidr, nomatch, ...(comment ? { comment } : {}) }, caller, `firewall: update ${cidr} in ipset ${set}`, d);
  }

  deleteIpSetEntry(scope: FwScope, set: string, cidr: string, pre: Precondition | undefined, caller: Caller) {
    const d = () => this.listIpSetEntries(scope, set).digest;
    return this.#simple(scope, pre, d, { op: 'ipset.entry.delete', set, cidr }, caller, `firewall: remove ${cidr} from ipset ${set}`, d);
  }

  // ---- aliases ----

  listAliases(scope: FwScope): { aliases: { name: string; cidr: string; comment: string; ipversion: number }[]; digest: string; revision: number } {
    const l = this.#load(scope);
    const aliases = [...l.doc.aliases.values()]
      .map((a) => ({ name: a.name, cidr: a.cidr, comment: a.comment ?? '', ipversion: a.ipVersion }))
      .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
    return {
      aliases,
      // As Proxmox: over name, cidr, ipversion and comment of the name-sorted list.
      digest: listDigest(aliases.map((a) => ({ name: a.name, cidr: a.cidr, ipversion: a.ipversion, comment: a.comment || undefined }))),
      revision: l.record?.revision ?? 0,
    };
  }

  createAlias(scope: FwScope, name: string, cidr: string, comment: string, pre: Precondition | undefined, caller: Caller) {
    const d = () => this.listAliases(scope).digest;
    return this.#simple(scope, pre, d, { op: 'alias.add', name, cidr, ...(comment ? { comment } : {}) }, caller, `firewall: create alias ${name}`, d);
  }

  updateAlias(scope: FwScope, name: string, cidr: string, comment: string, rename: string, pre: Precondition | undefined, caller: Caller) {
    const d = () => this.listAliases(scope).digest;
    return this.#simple(
      scope,
      pre,
      d,
      { op: 'alias.update', name, cidr, ...(comment ? { comment } : {}), ...(rename ? { rename } : {}) },
      caller,
      `firewall: update alias ${name}`,
      d,
    );
  }

  deleteAlias(scope: FwScope, name: string, pre: Precondition | undefined, caller: Caller) {
    const d = () => this.listAliases(scope).digest;
    return this.#simple(scope, pre, d, { op: 'alias.delete', name }, caller, `firewall: delete alias ${name}`, d);
  }

  // ---- options ----

  /**
   * The scope's options as written, except that a cluster `enable` timestamp more than 60 s
   * before `nowMs` reads as `0`; the digest is Proxmox's (`copy_opject_with_digest`).
   */
  getOptions(scope: FwScope, nowMs = Date.now()): { options: Record<string, string>; digest: string; revision: number } {
    const { options, digest, revision } = this.getTypedOptions(scope, nowMs);
    return { options: Object.fromEntries(Object.entries(options).map(([k, v]) => [k, String(v)])), digest, revision };
  }

  /** The scope's options as the Proxmox API shows them: booleans and integers as numbers. */
  getTypedOptions(scope: FwScope, nowMs = Date.now()): { options: Record<string, string | number>; digest: string; revision: number } {
    const l = this.#load(scope);
    const nowSeconds = Math.floor(nowMs / 1000);
    const options: Record<string, string | number> = {};
    for (const [k, o] of l.doc.options ?? []) options[k] = apiOptionValue(l.kind, k, o.value, nowSeconds);
    return { options, digest: listDigest([options]), revision: l.record?.revision ?? 0 };
  }

  /**
   * Sets and deletes options (deletes first, as Proxmox). The anti-lockout switch: a cluster
   * `enable` above 1 is stored as the UNIX time of `nowMs`; it reads as 0 (and the agents turn
   * the firewall off) 60 s later unless `enable: 1` follows.
   */
  async setOptions(
    scope: FwScope,
    set: Readonly<Record<string, string>>,
    remove: readonly string[],
    pre: Precondition | undefined,
    caller: Caller,
    nowMs = Date.now(),
  ): Promise<WriteResult> {
    const l = this.#load(scope);
    this.#check(l, pre, () => this.getOptions(scope, nowMs).digest);
    const stamp = (name: string, value: string): string =>
      l.kind === 'cluster' && name.toLowerCase() === 'enable' && /^\d+$/.test(value) && Number(value) > 1 ? String(Math.floor(nowMs / 1000)) : value;
    const edits: FwEdit[] = [
      ...remove.map((name) => ({ op: 'option.delete' as const, name })),
      ...Object.entries(set).map(([name, value]) => ({ op: 'option.set' as const, name, value: stamp(name, value) })),
    ];
    if (edits.length === 0) throw new ConfigdError('invalid-argument', 'no option to set or delete');
    const { record } = await this.#write(l, edits, caller, `firewall: options ${[...Object.keys(set), ...remove.map((r) => `-${r}`)].join(' ')}`);
    return { record, digest: this.getOptions(scope, nowMs).digest };
  }

  // ---- refs and macros ----

  listRefs(scope: FwScope, type: string): { type: string; name: string; ref: string; scope: string; comment: string }[] {
    if (type !== '' && type !== 'alias' && type !== 'ipset') throw new ConfigdError('invalid-argument', `type must be alias or ipset, not '${type}'`);
    const out: { type: string; name: string; ref: string; scope: string; comment: string }[] = [];
    const add = (doc: FwDocument, where: 'dc' | 'guest'): void => {
      if (type !== 'ipset') for (const a of doc.aliases.values()) out.push({ type: 'alias', name: a.name, ref: a.name, scope: where, comment: a.comment ?? '' });
      if (type !== 'alias') for (const s of doc.ipsets.values()) out.push({ type: 'ipset', name: s.name, ref: `+${s.name}`, scope: where, comment: s.comment ?? '' });
    };
    add(this.#load({ kind: 'cluster' }).doc, 'dc');
    if (scope.kind === 'guest') add(this.#load(scope).doc, 'guest');
    return out;
  }

  listMacros(): { macro: string; descr: string }[] {
    return MACROS.map((m) => ({ macro: m.name, descr: m.description }));
  }
}

/** The rule position an edit writes, for naming the wrong fields of a refused edit. */
function ruleSlotOf(edit: FwEdit, doc: FwDocument): RuleSlot | undefined {
  if (edit.op === 'rule.add') {
    const rules = edit.group ? doc.groups.get(edit.group)?.rules : doc.rules;
    return { ...(edit.group ? { group: edit.group } : {}), pos: Math.min(edit.pos ?? 0, rules?.length ?? 0) };
  }
  if (edit.op === 'rule.update' && edit.moveto === undefined) return { ...(edit.group ? { group: edit.group } : {}), pos: edit.pos };
  return undefined;
}

/** The firewall scope a document path belongs to, if any. */
export function scopeOfPath(path: string): FwScope | undefined {
  let m: RegExpExecArray | null;
  if (path === 'firewall/cluster.fw') return { kind: 'cluster' };
  if ((m = /^nodes\/([^/]+)\/host\.fw$/.exec(path))) return { kind: 'host', node: m[1]! };
  if ((m = /^firewall\/(\d+)\.fw$/.exec(path))) return { kind: 'guest', vmid: Number(m[1]) };
  if ((m = /^sdn\/firewall\/([^/]+)\.fw$/.exec(path))) return { kind: 'vnet', vnet: m[1]! };
  return undefined;
}
