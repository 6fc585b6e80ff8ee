/**
 * The Proxmox firewall API over configd's documents: every read parses the scope's `.fw`
 * document as the store shows it to this caller (read-your-writes: `DocumentStore.readCurrent`
 * waits, bounded, until the mirror shows every write this configd acknowledged, as the
 * document reads do); every write is a read-modify-write through `@palisade/fw-lang`'s editor (only the
 * lines concerned change; comments, order and unknown lines stay) and a compare-and-set put of
 * the whole document. Rule views and ids: `rule-views.ts`; the other lists: `list-views.ts`.
 */
import {
  MACROS,
  editFwDocument,
  parseFwDocument,
  type EditContext,
  type FwDocument,
  type FwDocumentKind,
  type FwEdit,
  type Rule,
  type RuleSpec,
} from '@palisade/fw-lang';
import { ConfigdError } from '../errors.js';
import type { Caller, DocumentStore, ParsedForWrite } from '../store/document-store.js';
import { toDiagnosticInfo } from '../store/document-validator.js';
import { requireDocumentPath } from '../store/document-path.js';
import type { LogRecord } from '../store/lmdb-mirror.js';
import { editError } from './edit-errors.js';
import { CLUSTER_PATH, GROUP_REFERRING_PATH, documentOfScope, scopeOfPath, type FwScope } from './fw-scope.js';
import { aliasesView, groupsView, ipSetEntriesView, ipSetsView, optionsView, type AliasView, type GroupView, type IpSetEntryView, type IpSetView } from './list-views.js';
import { ParseCache, type ParseContextKey } from './parse-cache.js';
import { deletableRuleFields, resolveRule, ruleViews, rulesDigest, type RuleRef, type RuleView } from './rule-views.js';

export { scopeOfPath, type FwScope } from './fw-scope.js';
export { listDigest } from './list-digest.js';
export { ruleViews, rulesDigest, type RuleRef, type RuleView } from './rule-views.js';

/** Preconditions of a write. */
export interface Precondition {
  /** List digest from the matching read. */
  readonly digest?: string;
  /** Document revision from a read. */
  readonly expectedRevision?: number;
}

/** What a write stored, and the digest of the list it changed (as it reads now). */
export interface WriteResult {
  readonly record: LogRecord;
  readonly digest: string;
}

/** A list read: the entries, their digest and the document's revision (0: no document). */
export type Listed<T> = T & { readonly digest: string; readonly revision: number };

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

interface Loaded {
  readonly path: string;
  readonly kind: FwDocumentKind;
  readonly record: LogRecord | undefined;
  readonly doc: FwDocument;
  readonly context: EditContext;
  /** What the parse depended on (the cache key of an edited revision). */
  readonly contextKey: ParseContextKey;
}

const groupOf = (group: string | undefined): { group?: string } => (group ? { group: group.toLowerCase() } : {});

/**
 * The firewall API of one configd. Every call takes the caller's `signal`: a read waits at
 * most the store's `applyWaitMs` for the mirror, and stops waiting on abort.
 */
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

  /**
   * The scope's document and its context as this caller may read them, parsed once per
   * revision (`ParseCache`): only a revision not seen before costs a parse.
   */
  async #load(scope: FwScope, signal: AbortSignal | undefined): Promise<Loaded> {
    const { path, kind } = documentOfScope(scope);
    const record = await this.#store.readCurrent(path, signal);
    const info = requireDocumentPath(path).info;
    let cluster: FwDocument | undefined;
    let clusterRevision = 0;
    if (path !== CLUSTER_PATH) {
      const clusterRecord = await this.#store.readCurrent(CLUSTER_PATH, signal);
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
    const conflict = (message: string): ConfigdError =>
      new ConfigdError('conflict', message, { path: loaded.path, currentRevision: current, currentDigest: loaded.record?.digest ?? '' });
    if (pre?.expectedRevision !== undefined && pre.expectedRevision !== current) {
      throw conflict(`conflict: '${loaded.path}' is at revision ${current}, expected ${pre.expectedRevision}`);
    }
    if (pre?.digest && pre.digest !== digest()) throw conflict('detected modified configuration - file changed by other user? Try again.');
  }

  /** Applies edits in order and writes the result with CAS on the revision read. */
  async #write(loaded: Loaded, edits: readonly FwEdit[], caller: Caller, message: string): Promise<{ record: LogRecord; doc: FwDocument }> {
    let doc = loaded.doc;
    let text: string | undefined;
    for (const edit of edits) {
      const r = editFwDocument(doc, edit, loaded.context);
      if (!r.ok) throw editError(r, loaded.path, edit, doc);
      doc = r.document;
      text = r.text;
    }
    if (text === undefined) throw new ConfigdError('invalid-argument', 'nothing to change');
    const content = Buffer.from(text, 'utf8');
    // the editor parsed the new text against the context read: the store's validation reuses it
    const parsed: ParsedForWrite = { diagnostics: doc.diagnostics.map(toDiagnosticInfo), ...loaded.contextKey };
    const { record } = await this.#store.put({ path: loaded.path, content, expectedRevision: loaded.record?.revision ?? 0, message, parsed }, caller).catch((err: unknown) => {
      // Absent when read, there now: for a read-modify-write that is a changed list (as
      // Proxmox words it), not a refused create.
      if (err instanceof ConfigdError && err.code === 'already-exists' && !loaded.record) {
        throw new ConfigdError('conflict', 'detected modified configuration - file changed by other user? Try again.', { ...err.context }, { cause: err });
      }
      throw err;
    });
    // The editor parsed the new text against the same context: the next call on this revision
    // needs no parse.
    this.#parses.put(loaded.path, record.revision, loaded.contextKey, content.length, doc);
    return { record, doc };
  }

  /** Loads, checks the precondition against `digest`, applies the edits; the digest of the result. */
  async #edit(
    scope: FwScope,
    pre: Precondition | undefined,
    caller: Caller,
    digest: (doc: FwDocument) => string,
    edits: (l: Loaded) => readonly FwEdit[],
    message: string,
  ): Promise<WriteResult> {
    const l = await this.#load(scope, caller.signal);
    this.#check(l, pre, () => digest(l.doc));
    const { record, doc } = await this.#write(l, edits(l), caller, message);
    return { record, digest: digest(doc) };
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

  /** The rules of a scope (or of a security group of the cluster scope) with ids and digest. */
  async listRules(scope: FwScope, group?: string, signal?: AbortSignal): Promise<Listed<{ rules: RuleView[] }>> {
    const l = await this.#load(this.#ruleScope(scope, group), signal);
    const rules = ruleViews(this.#rules(l.doc, group, l.path));
    return { rules, digest: rulesDigest(rules), revision: l.record?.revision ?? 0 };
  }

  /** One rule by id or position, with the list's digest. */
  async getRule(scope: FwScope, group: string | undefined, ref: RuleRef, signal?: AbortSignal): Promise<Listed<{ rule: RuleView }>> {
    const { rules, digest, revision } = await this.listRules(scope, group, signal);
    return { rule: resolveRule(rules, ref, documentOfScope(scope).path), digest, revision };
  }

  async #ruleWrite(
    scope: FwScope,
    group: string | undefined,
    pre: Precondition | undefined,
    caller: Caller,
    message: string,
    build: (views: readonly RuleView[], path: string) => { edit: FwEdit; resultPos: (after: readonly RuleView[]) => number | undefined },
  ): Promise<WriteResult & { rule?: RuleView }> {
    const l = await this.#load(this.#ruleScope(scope, group), caller.signal);
    const views = ruleViews(this.#rules(l.doc, group, l.path));
    this.#check(l, pre, () => rulesDigest(views));
    const { edit, resultPos } = build(views, l.path);
    const { record, doc } = await this.#write(l, [edit], caller, message);
    const after = ruleViews(this.#rules(doc, group, l.path));
    const pos = resultPos(after);
    const rule = pos === undefined ? undefined : after[Math.min(pos, after.length - 1)];
    return { record, digest: rulesDigest(after), ...(rule ? { rule } : {}) };
  }

  /** Inserts a rule at `pos` (default 0, the top, as Proxmox). */
  createRule(scope: FwScope, group: string | undefined, rule: RuleSpec, pos: number | undefined, pre: Precondition | undefined, caller: Caller) {
    if (!rule.type || !rule.action) throw new ConfigdError('invalid-argument', 'a rule needs type and action');
    return this.#ruleWrite(scope, group, pre, caller, 'firewall: create rule', () => ({
      edit: { op: 'rule.add', rule, pos: pos ?? 0, ...groupOf(group) },
      resultPos: (after) => Math.min(pos ?? 0, after.length - 1),
    }));
  }

  /** Sets the fields of `set` and removes those named in `remove` (Proxmox or property names). */
  updateRule(
    scope: FwScope,
    group: string | undefined,
    ref: RuleRef,
    set: Partial<RuleSpec>,
    remove: readonly string[],
    pre: Precondition | undefined,
    caller: Caller,
  ) {
    const del = deletableRuleFields(remove);
    return this.#ruleWrite(scope, group, pre, caller, 'firewall: update rule', (views, path) => {
      const v = resolveRule(views, ref, path);
      return { edit: { op: 'rule.update', pos: v.pos, set, delete: del, ...groupOf(group) }, resultPos: () => v.pos };
    });
  }

  /** Deletes a rule by id or position. */
  deleteRule(scope: FwScope, group: string | undefined, ref: RuleRef, pre: Precondition | undefined, caller: Caller) {
    return this.#ruleWrite(scope, group, pre, caller, 'firewall: delete rule', (views, path) => {
      const v = resolveRule(views, ref, path);
      return { edit: { op: 'rule.delete', pos: v.pos, ...groupOf(group) }, resultPos: () => undefined };
    });
  }

  /** Moves a rule so that it ends at index `to` (not Proxmox's off-by-one `moveto`). */
  moveRule(scope: FwScope, group: string | undefined, ref: RuleRef, to: number, pre: Precondition | undefined, caller: Caller) {
    return this.#ruleWrite(scope, group, pre, caller, 'firewall: move rule', (views, path) => {
      const v = resolveRule(views, ref, path);
      const target = Math.min(to, views.length - 1);
      // Proxmox moveto inserts before the element originally at `moveto`: moving down lands at moveto - 1.
      const moveto = target > v.pos ? target + 1 : target;
      return { edit: { op: 'rule.update', pos: v.pos, moveto, ...groupOf(group) }, resultPos: () => target };
    });
  }

  // ---- security groups ----

  /** The security groups of the cluster document. */
  async listGroups(signal?: AbortSignal): Promise<Listed<{ groups: GroupView[] }>> {
    const l = await this.#load({ kind: 'cluster' }, signal);
    return { ...groupsView(l.doc), revision: l.record?.revision ?? 0 };
  }

  /**
   * Creates a group, or with `rename` (the old name) renames it, rewriting the `GROUP`
   * references of host, guest and vnet documents as Proxmox; `rename` equal to `name` only
   * sets the comment.
   */
  async createGroup(name: string, comment: string | undefined, rename: string, pre: Precondition | undefined, caller: Caller): Promise<WriteResult> {
    const l = await this.#load({ kind: 'cluster' }, caller.signal);
    const digest = (doc: FwDocument): string => groupsView(doc).digest;
    this.#check(l, pre, () => digest(l.doc));
    const write = async (edits: readonly FwEdit[], message: string): Promise<WriteResult> => {
      const { record, doc } = await this.#write(l, edits, caller, message);
      return { record, digest: digest(doc) };
    };
    if (!rename) return write([{ op: 'group.create', name, ...(comment !== undefined ? { comment } : {}) }], `firewall: create group ${name}`);
    if (rename.toLowerCase() === name.toLowerCase()) {
      // As Proxmox: `rename` equal to `group` only sets the comment.
      if (!l.doc.groups.has(name.toLowerCase())) throw new ConfigdError('not-found', `no such security group '${rename}'`, { path: l.path });
      if (comment === undefined) return { record: l.record!, digest: digest(l.doc) };
      return write([{ op: 'group.comment', name, comment }], `firewall: comment of group ${name}`);
    }
    const result = await write(
      [{ op: 'group.rename', name: rename.toLowerCase(), newName: name }, ...(comment !== undefined ? [{ op: 'group.comment' as const, name, comment }] : [])],
      `firewall: rename group ${rename} to ${name}`,
    );
    await this.#renameGroupReferences(rename, name, caller);
    return result;
  }

  async #renameGroupReferences(from: string, to: string, caller: Caller): Promise<void> {
    const others = this.#store.mirror.currentPaths('').filter((p) => GROUP_REFERRING_PATH.test(p));
    for (const path of others) {
      const scope = scopeOfPath(path);
      if (!scope) continue;
      const lo = await this.#load(scope, caller.signal);
      const res = editFwDocument(lo.doc, { op: 'group.rename-references', name: from, newName: to }, lo.context);
      if (res.ok && res.text !== decoder.decode(lo.record?.content ?? EMPTY)) {
        await this.#store.put(
          { path: lo.path, content: Buffer.from(res.text, 'utf8'), expectedRevision: lo.record?.revision ?? 0, message: `firewall: group ${from} renamed to ${to}` },
          caller,
        );
      }
    }
  }

  /** Deletes an empty security group (as Proxmox, a group with rules is refused: `failed-precondition`). */
  async deleteGroup(name: string, pre: Precondition | undefined, caller: Caller): Promise<WriteResult> {
    return this.#edit(
      { kind: 'cluster' },
      pre,
      caller,
      (doc) => groupsView(doc).digest,
      (l) => {
        const group = l.doc.groups.get(name.toLowerCase());
        // As Proxmox: a group with rules cannot be deleted (there is no force flag).
        if (group && group.rules.length > 0) throw new ConfigdError('failed-precondition', `Security group '${name}' is not empty`, { path: l.path });
        return [{ op: 'group.delete', name }];
      },
      `firewall: delete group ${name}`,
    );
  }

  // ---- IP sets ----

  /** The IP sets of a scope. */
  async listIpSets(scope: FwScope, signal?: AbortSignal): Promise<Listed<{ ipsets: IpSetView[] }>> {
    const l = await this.#load(scope, signal);
    return { ...ipSetsView(l.doc), revision: l.record?.revision ?? 0 };
  }

  /** The entries of one IP set; `not-found` without it. */
  async listIpSetEntries(scope: FwScope, name: string, signal?: AbortSignal): Promise<Listed<{ entries: IpSetEntryView[] }>> {
    const l = await this.#load(scope, signal);
    return { ...ipSetEntriesView(l.doc, name), revision: l.record?.revision ?? 0 };
  }

  /**
   * Creates an IP set, or with `rename` (the old name) renames it and/or sets its comment
   * (`rename` equal to `name` only sets the comment; `comment` undefined keeps it). As
   * Proxmox, rules using `+old` are not rewritten.
   */
  createIpSet(scope: FwScope, name: string, comment: string | undefined, pre: Precondition | undefined, caller: Caller, rename = '') {
    const d = (doc: FwDocument): string => ipSetsView(doc).digest;
    if (rename) {
      const edit: FwEdit = { op: 'ipset.update', name: rename, newName: name, ...(comment !== undefined ? { comment } : {}) };
      const message = rename.toLowerCase() === name.toLowerCase() ? `firewall: comment of ipset ${name}` : `firewall: rename ipset ${rename} to ${name}`;
      return this.#edit(scope, pre, caller, d, () => [edit], message);
    }
    return this.#edit(scope, pre, caller, d, () => [{ op: 'ipset.create', name, ...(comment ? { comment } : {}) }], `firewall: create ipset ${name}`);
  }

  /** Deletes an IP set (with entries only with `force`). */
  deleteIpSet(scope: FwScope, name: string, force: boolean, pre: Precondition | undefined, caller: Caller) {
    return this.#edit(scope, pre, caller, (doc) => ipSetsView(doc).digest, () => [{ op: 'ipset.delete', name, force }], `firewall: delete ipset ${name}`);
  }

  /** Adds an entry to IP set `set`. */
  addIpSetEntry(scope: FwScope, set: string, cidr: string, nomatch: boolean, comment: string, pre: Precondition | undefined, caller: Caller) {
    const edit: FwEdit = { op: 'ipset.entry.add', set, cidr, nomatch, ...(comment ? { comment } : {}) };
    return this.#edit(scope, pre, caller, (doc) => ipSetEntriesView(doc, set).digest, () => [edit], `firewall: add ${cidr} to ipset ${set}`);
  }

  /** Replaces the flags and comment of an entry of IP set `set`. */
  updateIpSetEntry(scope: FwScope, set: string, cidr: string, nomatch: boolean, comment: string, pre: Precondition | undefined, caller: Caller) {
    const edit: FwEdit = { op: 'ipset.entry.update', set, cidr, nomatch, ...(comment ? { comment } : {}) };
    return this.#edit(scope, pre, caller, (doc) => ipSetEntriesView(doc, set).digest, () => [edit], `firewall: update ${cidr} in ipset ${set}`);
  }

  /** Removes an entry from IP set `set`. */
  deleteIpSetEntry(scope: FwScope, set: string, cidr: string, pre: Precondition | undefined, caller: Caller) {
    const edit: FwEdit = { op: 'ipset.entry.delete', set, cidr };
    return this.#edit(scope, pre, caller, (doc) => ipSetEntriesView(doc, set).digest, () => [edit], `firewall: remove ${cidr} from ipset ${set}`);
  }

  // ---- aliases ----

  /** The aliases of a scope. */
  async listAliases(scope: FwScope, signal?: AbortSignal): Promise<Listed<{ aliases: AliasView[] }>> {
    const l = await this.#load(scope, signal);
    return { ...aliasesView(l.doc), revision: l.record?.revision ?? 0 };
  }

  /** Creates an alias. */
  createAlias(scope: FwScope, name: string, cidr: string, comment: string, pre: Precondition | undefined, caller: Caller) {
    const edit: FwEdit = { op: 'alias.add', name, cidr, ...(comment ? { comment } : {}) };
    return this.#edit(scope, pre, caller, (doc) => aliasesView(doc).digest, () => [edit], `firewall: create alias ${name}`);
  }

  /** Replaces an alias' address and comment, renaming it with `rename`. */
  updateAlias(scope: FwScope, name: string, cidr: string, comment: string, rename: string, pre: Precondition | undefined, caller: Caller) {
    const edit: FwEdit = { op: 'alias.update', name, cidr, ...(comment ? { comment } : {}), ...(rename ? { rename } : {}) };
    return this.#edit(scope, pre, caller, (doc) => aliasesView(doc).digest, () => [edit], `firewall: update alias ${name}`);
  }

  /** Deletes an alias. */
  deleteAlias(scope: FwScope, name: string, pre: Precondition | undefined, caller: Caller) {
    return this.#edit(scope, pre, caller, (doc) => aliasesView(doc).digest, () => [{ op: 'alias.delete', name }], `firewall: delete alias ${name}`);
  }

  // ---- options ----

  /**
   * The scope's options as written, except that a cluster `enable` timestamp more than 60 s
   * before `nowMs` reads as `0`; the digest is Proxmox's (`copy_opject_with_digest`).
   */
  async getOptions(scope: FwScope, nowMs = Date.now(), signal?: AbortSignal): Promise<Listed<{ options: Record<string, string> }>> {
    const { options, digest, revision } = await this.getTypedOptions(scope, nowMs, signal);
    return { options: Object.fromEntries(Object.entries(options).map(([k, v]) => [k, String(v)])), digest, revision };
  }

  /** The scope's options as the Proxmox API shows them: booleans and integers as numbers. */
  async getTypedOptions(scope: FwScope, nowMs = Date.now(), signal?: AbortSignal): Promise<Listed<{ options: Record<string, string | number> }>> {
    const l = await this.#load(scope, signal);
    return { ...optionsView(l.kind, l.doc, nowMs), revision: l.record?.revision ?? 0 };
  }

  /**
   * Sets and deletes options (deletes first, as Proxmox). The anti-lockout switch: a cluster
   * `enable` above 1 is stored as the UNIX time of `nowMs`; it reads as 0 (and the agents turn
   * the firewall off) 60 s later unless `enable: 1` follows.
   */
  setOptions(
    scope: FwScope,
    set: Readonly<Record<string, string>>,
    remove: readonly string[],
    pre: Precondition | undefined,
    caller: Caller,
    nowMs = Date.now(),
  ): Promise<WriteResult> {
    const { kind } = documentOfScope(scope);
    const stamp = (name: string, value: string): string =>
      kind === 'cluster' && name.toLowerCase() === 'enable' && /^\d+$/.test(value) && Number(value) > 1 ? String(Math.floor(nowMs / 1000)) : value;
    const edits: FwEdit[] = [
      ...remove.map((name) => ({ op: 'option.delete' as const, name })),
      ...Object.entries(set).map(([name, value]) => ({ op: 'option.set' as const, name, value: stamp(name, value) })),
    ];
    if (edits.length === 0) throw new ConfigdError('invalid-argument', 'no option to set or delete');
    const message = `firewall: options ${[...Object.keys(set), ...remove.map((r) => `-${r}`)].join(' ')}`;
    return this.#edit(scope, pre, caller, (doc) => optionsView(kind, doc, nowMs).digest, () => edits, message);
  }

  // ---- refs and macros ----

  /** The aliases and IP sets a rule of `scope` may name (`type`: '', 'alias' or 'ipset'). */
  async listRefs(scope: FwScope, type: string, signal?: AbortSignal): Promise<{ type: string; name: string; ref: string; scope: string; comment: string }[]> {
    if (type !== '' && type !== 'alias' && type !== 'ipset') throw new ConfigdError('invalid-argument', `type must be alias or ipset, not '${type}'`);
    const out: { type: string; name: string; ref: string; scope: string; comment: string }[] = [];
    const add = (doc: FwDocument, where: 'dc' | 'guest'): void => {
      if (type !== 'ipset') for (const a of doc.aliases.values()) out.push({ type: 'alias', name: a.name, ref: a.name, scope: where, comment: a.comment ?? '' });
      if (type !== 'alias') for (const s of doc.ipsets.values()) out.push({ type: 'ipset', name: s.name, ref: `+${s.name}`, scope: where, comment: s.comment ?? '' });
    };
    add((await this.#load({ kind: 'cluster' }, signal)).doc, 'dc');
    if (scope.kind === 'guest') add((await this.#load(scope, signal)).doc, 'guest');
    return out;
  }

  /** The firewall macros with their descriptions. */
  listMacros(): { macro: string; descr: string }[] {
    return MACROS.map((m) => ({ macro: m.name, descr: m.description }));
  }
}
