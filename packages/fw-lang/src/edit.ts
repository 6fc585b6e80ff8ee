/**
 * Edits through the model. Each edit rewrites only the lines it concerns and leaves every other
 * line byte for byte as it was; new lines are written in the canonical form of the reference's
 * writer (spec §1.8). The result is the new text, re-parsed and checked: an edit that would
 * introduce an error is refused with the diagnostics, and nothing is changed.
 */
import type { Diagnostic, FwDocument, GuestType, Rule, Section, SectionKind, SourceLine } from './model.js';
import { formatRule, pickRuleFields, type RuleSpec, type RuleSpecField } from './rule-fields.js';

// The editor's rule vocabulary is the rule-field table's.
export { formatRule, type RuleSpec, type RuleSpecField } from './rule-fields.js';
import { parseFwDocument } from './parse-fw.js';
import { joinSourceLines } from './source-lines.js';
import { parseAliasValue } from './names.js';
import { networkOf, parseIpOrCidr } from './values/ip.js';

/** Where a rule list lives: `[RULES]`, or a security group of the cluster document. */
export interface RuleTarget {
  readonly group?: string;
}

/**
 * One edit of a `.fw` document, as configd's REST handlers translate Proxmox's API calls; rule
 * positions are 0-based, as Proxmox's `pos`.
 */
export type FwEdit =
  | ({ readonly op: 'rule.add'; readonly rule: RuleSpec; /** 0-based; default 0 (the top, as Proxmox). */ readonly pos?: number } & RuleTarget)
  | ({
      readonly op: 'rule.update';
      readonly pos: number;
      readonly set?: Partial<RuleSpec>;
      readonly delete?: readonly RuleSpecField[];
      /** Proxmox `moveto` semantics (moving down lands at moveto − 1). */
      readonly moveto?: number;
    } & RuleTarget)
  | ({ readonly op: 'rule.delete'; readonly pos: number } & RuleTarget)
  | ({ readonly op: 'rule.replace-all'; readonly rules: readonly RuleSpec[] } & RuleTarget)
  | { readonly op: 'option.set'; readonly name: string; readonly value: string }
  | { readonly op: 'option.delete'; readonly name: string }
  | { readonly op: 'alias.add'; readonly name: string; readonly cidr: string; readonly comment?: string }
  | { readonly op: 'alias.update'; readonly name: string; readonly cidr: string; readonly comment?: string; readonly rename?: string }
  | { readonly op: 'alias.delete'; readonly name: string }
  | { readonly op: 'ipset.create'; readonly name: string; readonly comment?: string }
  | { readonly op: 'ipset.delete'; readonly name: string; readonly force?: boolean }
  | { readonly op: 'ipset.entry.add'; readonly set: string; readonly cidr: string; readonly nomatch?: boolean; readonly comment?: string }
  | {
      readonly op: 'ipset.entry.update';
      readonly set: string;
      readonly cidr: string;
      readonly nomatch?: boolean;
      readonly comment?: string;
    }
  | { readonly op: 'ipset.entry.delete'; readonly set: string; readonly cidr: string }
  | { readonly op: 'group.create'; readonly name: string; readonly comment?: string }
  | { readonly op: 'group.delete'; readonly name: string }
  | { readonly op: 'group.rename'; readonly name: string; readonly newName: string }
  /** Sets (or, with `comment` undefined or blank, removes) a security group's comment. */
  | { readonly op: 'group.comment'; readonly name: string; readonly comment?: string }
  /**
   * Renames an IP set (the section moves to its name-sorted place, as the reference writes it)
   * and/or sets its comment (`comment` undefined keeps it, blank removes it). Rules using
   * `+old` are not rewritten (as the reference).
   */
  | { readonly op: 'ipset.update'; readonly name: string; readonly newName?: string; readonly comment?: string }
  /** Rewrites `GROUP old` rules (in any document) to `GROUP new`, e.g. after `group.rename`. */
  | { readonly op: 'group.rename-references'; readonly name: string; readonly newName: string };

/**
 * Why an edit was refused, so that configd maps each to its own error code (`edit-errors.ts`)
 * without reading the message.
 */
export type EditErrorCode = 'not-found' | 'exists' | 'not-empty' | 'invalid' | 'not-allowed';

/**
 * The outcome of `editFwDocument`: the new text with its parse, or a refusal that leaves the
 * document unchanged.
 */
export type EditResult =
  | { readonly ok: true; readonly text: string; readonly document: FwDocument }
  | {
      readonly ok: false;
      readonly code: EditErrorCode;
      readonly message: string;
      readonly diagnostics?: readonly Diagnostic[];
      /** For `invalid`: the refused result, parsed (to tell which rule fields are wrong). */
      readonly document?: FwDocument;
    };

/**
 * What the edited text is re-parsed against (an edit that adds errors is refused): without
 * `cluster`, cluster aliases and IP sets are unknown names; `guestType` picks VM or CT rules.
 */
export interface EditContext {
  /** Cluster document for name resolution in host, guest and vnet documents. */
  readonly cluster?: FwDocument;
  readonly guestType?: GuestType;
}

/** The API view of a parsed rule: its values and `enable`. */
export function ruleToSpec(rule: Rule): RuleSpec {
  const spec = pickRuleFields(rule) as { -readonly [K in keyof RuleSpec]: RuleSpec[K] };
  spec.enable = rule.enabled;
  return spec;
}

/** Order of sections in the canonical writer. */
const SECTION_RANK: Readonly<Record<SectionKind, number>> = { options: 0, aliases: 1, ipset: 2, rules: 3, group: 4 };

class LineBuffer {
  readonly lines: SourceLine[];
  constructor(lines: readonly SourceLine[]) {
    this.lines = [...lines];
  }
  /** Inserts before 0-based index `at`; a final line without newline gets one first. */
  insert(at: number, texts: readonly string[]): void {
    if (at >= this.lines.length && this.lines.length > 0) {
      const last = this.lines[this.lines.length - 1] as SourceLine;
      if (!last.newline) this.lines[this.lines.length - 1] = { text: last.text, newline: true };
    }
    this.lines.splice(at, 0, ...texts.map((text) => ({ text, newline: true })));
  }
  replace(index: number, text: string): void {
    const old = this.lines[index] as SourceLine;
    this.lines[index] = { text, newline: old.newline };
  }
  remove(index: number, count = 1): void {
    this.lines.splice(index, count);
  }
  text(): string {
    return joinSourceLines(this.lines);
  }
}

function isBlank(line: SourceLine | undefined): boolean {
  return line !== undefined && line.text.trim() === '';
}

function err(code: EditErrorCode, message: string): EditResult {
  return { ok: false, code, message };
}

/** Applies one edit to a parsed `.fw` document. */
export function editFwDocument(doc: FwDocument, edit: FwEdit, context: EditContext = {}): EditResult {
  const buf = new LineBuffer(doc.lines);
  const outcome = applyEdit(doc, buf, edit);
  if (outcome) return outcome;
  return finish(doc, buf, context);
}

function finish(doc: FwDocument, buf: LineBuffer, context: EditContext): EditResult {
  const text = buf.text();
  const cluster = doc.kind === 'cluster' ? undefined : context.cluster;
  const document = parseFwDocument(text, {
    path: doc.path,
    kind: doc.kind,
    ...(cluster ? { cluster } : {}),
    ...(context.guestType ? { guestType: context.guestType } : {}),
  });
  // Refuse the edit when it adds errors; errors that were already there do not block it.
  const before = new Set(doc.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`));
  const added = document.diagnostics.filter((d) => d.severity === 'error' && !before.has(`${d.code} ${d.message}`));
  if (added.length > 0) {
    return { ok: false, code: 'invalid', message: added.map((d) => `line ${d.line}: ${d.message}`).join('; '), diagnostics: added, document };
  }
  return { ok: true, text, document };
}

function rulesOf(doc: FwDocument, target: RuleTarget): readonly Rule[] | undefined {
  if (target.group === undefined) return doc.rules;
  return doc.groups.get(target.group)?.rules;
}

/** 0-based index after which new content of a section goes (the last non-blank line of it). */
function sectionAppendIndex(buf: LineBuffer, header0: number, end0: number): number {
  let i = end0;
  while (i > header0 && isBlank(buf.lines[i])) i -= 1;
  return i + 1;
}

/** Inserts a new section at its canonical place; returns nothing. */
function insertSection(doc: FwDocument, buf: LineBuffer, kind: SectionKind, header: string, body: readonly string[]): void {
  const rank = SECTION_RANK[kind];
  const next = doc.sections.find((s) => SECTION_RANK[s.kind] > rank || (s.kind === kind && kind !== 'rules' && kind !== 'options'));
  const block = [header, '', ...body, ''];
  if (next) {
    buf.insert(next.headerLine - 1, block);
    return;
  }
  const last = buf.lines[buf.lines.length - 1];
  if (buf.lines.length > 0 && !isBlank(last)) buf.insert(buf.lines.length, ['', ...block]);
  else buf.insert(buf.lines.length, block);
}

function findSection(doc: FwDocument, kind: SectionKind, name?: string) {
  return doc.sections.find((s) => s.kind === kind && (name === undefined || s.name === name));
}

function applyEdit(doc: FwDocument, buf: LineBuffer, edit: FwEdit): EditResult | undefined {
  switch (edit.op) {
    case 'rule.add':
      return addRule(doc, buf, edit.rule, edit.pos ?? 0, edit);
    case 'rule.update':
      return updateRule(doc, buf, edit);
    case 'rule.delete': {
      const rules = rulesOf(doc, edit);
      if (!rules) return err('not-found', `no such security group '${edit.group ?? ''}'`);
      const rule = rules[edit.pos];
      if (!rule) return err('not-found', `no rule at position ${edit.pos}`);
      buf.remove(rule.line - 1);
      return undefined;
    }
    case 'rule.replace-all': {
      const rules = rulesOf(doc, edit);
      if (!rules) return err('not-found', `no such security group '${edit.group ?? ''}'`);
      const inGroup = edit.group !== undefined;
      const lines = edit.rules.map((r) => formatRule(r, { inGroup }));
      const first = rules[0];
      // Remove old rule lines from the bottom up so indices stay valid.
      for (const rule of [...rules].reverse()) buf.remove(rule.line - 1);
      if (first) {
        buf.insert(first.line - 1, lines);
        return undefined;
      }
      return lines.length > 0 ? addRuleLines(doc, buf, lines, edit) : undefined;
    }
    case 'option.set':
    case 'option.delete': {
      const name = edit.name.toLowerCase();
      const lines = optionLines(doc, buf, name);
      if (edit.op === 'option.delete') {
        if (lines.length === 0) return undefined;
        for (const i of [...lines].reverse()) buf.remove(i);
        return undefined;
      }
      const text = `${name}: ${edit.value}`;
      const lastIndex = lines[lines.length - 1];
      if (lastIndex !== undefined) {
        buf.replace(lastIndex, text);
        return undefined;
      }
      const section = findSection(doc, 'options');
      if (section) buf.insert(sectionAppendIndex(buf, section.headerLine - 1, section.endLine - 1), [text]);
      else insertSection(doc, buf, 'options', '[OPTIONS]', [text]);
      return undefined;
    }
    case 'alias.add': {
      if (doc.kind !== 'cluster' && doc.kind !== 'guest') return err('not-allowed', `a ${doc.kind} document has no aliases`);
      if (doc.aliases.has(edit.name.toLowerCase())) return err('exists', `alias '${edit.name}' already exists`);
      const text = `${edit.name} ${edit.cidr}${edit.comment ? ` # ${edit.comment}` : ''}`;
      const section = findSection(doc, 'aliases');
      if (!section) {
        insertSection(doc, buf, 'aliases', '[ALIASES]', [text]);
        return undefined;
      }
      // The reference writes aliases sorted by lower-cased name: insert at that place.
      const next = aliasAfter(doc, edit.name.toLowerCase());
      buf.insert(next ? next.line - 1 : sectionAppendIndex(buf, section.headerLine - 1, section.endLine - 1), [text]);
      return undefined;
    }
    case 'alias.update': {
      const alias = doc.aliases.get(edit.name.toLowerCase());
      if (!alias) return err('not-found', `no such alias '${edit.name}'`);
      const name = edit.rename ?? alias.name;
      if (edit.rename !== undefined && edit.rename.toLowerCase() !== alias.name.toLowerCase() && doc.aliases.has(edit.rename.toLowerCase())) {
        return err('exists', `alias '${edit.rename}' already exists`);
      }
      const text = `${name} ${edit.cidr}${edit.comment ? ` # ${edit.comment}` : ''}`;
      const next = aliasAfter(doc, name.toLowerCase(), alias.name.toLowerCase());
      const section = findSection(doc, 'aliases');
      if (name.toLowerCase() === alias.name.toLowerCase() || !section) {
        buf.replace(alias.line - 1, text);
        return undefined;
      }
      // A rename moves the line to its sorted place (the reference rewrites the list sorted).
      const at = next ? next.line - 1 : sectionAppendIndex(buf, section.headerLine - 1, section.endLine - 1);
      moveLine(buf, alias.line - 1, at, text);
      return undefined;
    }
    case 'alias.delete': {
      const alias = doc.aliases.get(edit.name.toLowerCase());
      if (!alias) return err('not-found', `no such alias '${edit.name}'`);
      buf.remove(alias.line - 1);
      return undefined;
    }
    case 'ipset.create': {
      if (doc.kind !== 'cluster' && doc.kind !== 'guest') return err('not-allowed', `a ${doc.kind} document has no IP sets`);
      const name = edit.name.toLowerCase();
      if (doc.ipsets.has(name)) return err('exists', `IP set '${name}' already exists`);
      const header = `[IPSET ${name}]${edit.comment ? ` # ${edit.comment}` : ''}`;
      const after = [...doc.sections].filter((s) => s.kind === 'ipset' && (s.name as string) < name).pop();
      if (after) {
        buf.insert(after.endLine, ['', header, ''].slice(isBlank(buf.lines[after.endLine - 1]) ? 1 : 0));
        return undefined;
      }
      insertSection(doc, buf, 'ipset', header, []);
      return undefined;
    }
    case 'ipset.delete': {
      const set = doc.ipsets.get(edit.name);
      const section = findSection(doc, 'ipset', edit.name);
      if (!set || !section) return err('not-found', `no such IP set '${edit.name}'`);
      if (set.entries.length > 0 && !edit.force) return err('not-empty', `IP set '${edit.name}' is not empty`);
      removeSection(buf, section.headerLine, section.endLine);
      return undefined;
    }
    case 'ipset.entry.add':
    case 'ipset.entry.update':
    case 'ipset.entry.delete': {
      const set = doc.ipsets.get(edit.set);
      const section = findSection(doc, 'ipset', edit.set);
      if (!set || !section) return err('not-found', `no such IP set '${edit.set}'`);
      const cidr = parseAliasValue(edit.cidr)?.cidr ?? edit.cidr;
      const entry = set.entries.find((e) => e.cidr === cidr);
      if (edit.op === 'ipset.entry.delete') {
        if (!entry) return err('not-found', `no entry '${edit.cidr}' in IP set '${edit.set}'`);
        buf.remove(entry.line - 1);
        return undefined;
      }
      if (edit.op === 'ipset.entry.update') {
        if (!entry) return err('not-found', `no entry '${edit.cidr}' in IP set '${edit.set}'`);
        buf.replace(entry.line - 1, `${edit.nomatch ? '!' : ''}${cidr}${edit.comment ? ` # ${edit.comment}` : ''}`);
        return undefined;
      }
      const clean = cleanIpSetCidr(edit.cidr);
      if (set.entries.some((e) => e.cidr === clean)) return err('exists', `IP set '${edit.set}' already contains '${clean}'`);
      // The reference writes entries sorted by address text: insert at that place.
      const next = set.entries.find((e) => e.cidr > clean);
      const text = `${edit.nomatch ? '!' : ''}${clean}${edit.comment ? ` # ${edit.comment}` : ''}`;
      if (next) buf.insert(next.line - 1, [text]);
      else if (set.entries.length > 0) buf.insert(sectionAppendIndex(buf, section.headerLine - 1, section.endLine - 1), [text]);
      else {
        // An empty set: after the header and its blank line, keeping a blank line before what follows.
        const header0 = section.headerLine - 1;
        const at = isBlank(buf.lines[header0 + 1]) ? header0 + 2 : header0 + 1;
        const after = buf.lines[at];
        buf.insert(at, after !== undefined && !isBlank(after) ? [text, ''] : [text]);
      }
      return undefined;
    }
    case 'group.create': {
      if (doc.kind !== 'cluster') return err('not-allowed', 'security groups are defined only in cluster.fw');
      const name = edit.name.toLowerCase();
      if (doc.groups.has(name)) return err('exists', `security group '${name}' already exists`);
      insertSection(doc, buf, 'group', `[group ${name}]${edit.comment ? ` # ${edit.comment}` : ''}`, []);
      return undefined;
    }
    case 'group.delete': {
      const group = doc.groups.get(edit.name);
      const section = findSection(doc, 'group', edit.name);
      if (!group || !section) return err('not-found', `no such security group '${edit.name}'`);
      removeSection(buf, section.headerLine, section.endLine);
      return undefined;
    }
    case 'group.rename': {
      const group = doc.groups.get(edit.name);
      const section = findSection(doc, 'group', edit.name);
      if (!group || !section) return err('not-found', `no such security group '${edit.name}'`);
      const newName = edit.newName.toLowerCase();
      if (doc.groups.has(newName)) return err('exists', `security group '${newName}' already exists`);
      // References first (in place), then the section moves to its name-sorted place, as the
      // reference writes groups.
      renameReferences(doc, buf, edit.name, newName);
      moveSectionSorted(doc, buf, section, `[group ${newName}]${group.comment ? ` # ${group.comment}` : ''}`, newName);
      return undefined;
    }
    case 'group.comment': {
      const group = doc.groups.get(edit.name.toLowerCase());
      const section = findSection(doc, 'group', edit.name.toLowerCase());
      if (!group || !section) return err('not-found', `no such security group '${edit.name}'`);
      buf.replace(section.headerLine - 1, `[group ${group.name}]${edit.comment?.trim() ? ` # ${edit.comment}` : ''}`);
      return undefined;
    }
    case 'ipset.update': {
      const name = edit.name.toLowerCase();
      const set = doc.ipsets.get(name);
      const section = findSection(doc, 'ipset', name);
      if (!set || !section) return err('not-found', `no such IP set '${edit.name}'`);
      const newName = (edit.newName ?? name).toLowerCase();
      if (newName !== name && doc.ipsets.has(newName)) return err('exists', `IP set '${newName}' already exists`);
      const comment = edit.comment ?? set.comment;
      const header = `[IPSET ${newName}]${comment?.trim() ? ` # ${comment}` : ''}`;
      if (newName === name) {
        buf.replace(section.headerLine - 1, header);
        return undefined;
      }
      moveSectionSorted(doc, buf, section, header, newName);
      return undefined;
    }
    case 'group.rename-references':
      renameReferences(doc, buf, edit.name, edit.newName.toLowerCase());
      return undefined;
  }
}

function renameReferences(doc: FwDocument, buf: LineBuffer, from: string, to: string): void {
  for (const rule of doc.rules) {
    if (rule.type === 'group' && rule.action === from) {
      buf.replace(rule.line - 1, formatRule({ ...ruleToSpec(rule), action: to }));
    }
  }
}

function removeSection(buf: LineBuffer, headerLine: number, endLine: number): void {
  let end = endLine;
  // Take the blank line that separated it from the next section with it.
  if (isBlank(buf.lines[end]) && !isBlank(buf.lines[end - 1])) end += 1;
  buf.remove(headerLine - 1, end - headerLine + 1);
}

function optionLines(doc: FwDocument, buf: LineBuffer, name: string): number[] {
  const out: number[] = [];
  for (const s of doc.sections) {
    if (s.kind !== 'options') continue;
    for (let i = s.headerLine; i < s.endLine; i += 1) {
      const text = (buf.lines[i] as SourceLine).text.trim();
      const colon = text.indexOf(':');
      if (colon > 0 && text.slice(0, colon).toLowerCase() === name) out.push(i);
    }
  }
  return out;
}

function addRule(doc: FwDocument, buf: LineBuffer, spec: RuleSpec, pos: number, target: RuleTarget): EditResult | undefined {
  const rules = rulesOf(doc, target);
  if (!rules) return err('not-found', `no such security group '${target.group ?? ''}'`);
  const line = formatRule(spec, { inGroup: target.group !== undefined });
  const before = rules[Math.max(0, pos)];
  if (before) {
    buf.insert(before.line - 1, [line]);
    return undefined;
  }
  const last = rules[rules.length - 1];
  if (last) {
    buf.insert(last.line, [line]);
    return undefined;
  }
  return addRuleLines(doc, buf, [line], target);
}

function addRuleLines(doc: FwDocument, buf: LineBuffer, lines: readonly string[], target: RuleTarget): EditResult | undefined {
  const section = target.group !== undefined ? findSection(doc, 'group', target.group) : findSection(doc, 'rules');
  if (section) {
    // An empty section: after the header and its blank line, keeping a blank line before
    // whatever follows.
    const header0 = section.headerLine - 1;
    const at = isBlank(buf.lines[header0 + 1]) ? header0 + 2 : header0 + 1;
    const next = buf.lines[at];
    buf.insert(at, next !== undefined && !isBlank(next) ? [...lines, ''] : lines);
    return undefined;
  }
  if (target.group !== undefined) return err('not-found', `no such security group '${target.group}'`);
  insertSection(doc, buf, 'rules', '[RULES]', lines);
  return undefined;
}

function updateRule(doc: FwDocument, buf: LineBuffer, edit: Extract<FwEdit, { op: 'rule.update' }>): EditResult | undefined {
  const rules = rulesOf(doc, edit);
  if (!rules) return err('not-found', `no such security group '${edit.group ?? ''}'`);
  const rule = rules[edit.pos];
  if (!rule) return err('not-found', `no rule at position ${edit.pos}`);
  let spec: Record<string, unknown> = { ...ruleToSpec(rule), ...(edit.set ?? {}) };
  for (const field of edit.delete ?? []) {
    const { [field]: _removed, ...rest } = spec;
    spec = rest;
  }
  const text = formatRule(spec as unknown as RuleSpec, { inGroup: edit.group !== undefined });
  if (edit.moveto === undefined) {
    if (edit.set !== undefined || (edit.delete?.length ?? 0) > 0) buf.replace(rule.line - 1, text);
    return undefined;
  }
  // Proxmox: take the rule out, insert it before the element that sat at index `moveto`.
  const target = rules[edit.moveto];
  const changed = edit.set !== undefined || (edit.delete?.length ?? 0) > 0;
  const lineText = changed ? text : (buf.lines[rule.line - 1] as SourceLine).text;
  if (target === rule) {
    if (changed) buf.replace(rule.line - 1, text);
    return undefined;
  }
  const insertAt = target ? target.line - 1 : (rules[rules.length - 1] as Rule).line;
  if (insertAt > rule.line - 1) {
    buf.insert(insertAt, [lineText]);
    buf.remove(rule.line - 1);
  } else {
    buf.remove(rule.line - 1);
    buf.insert(insertAt, [lineText]);
  }
  return undefined;
}

/**
 * An IP set entry as the reference's create call stores it: an alias reference as written;
 * an address with a prefix with its host bits cleared (`10.0.0.11/24` → `10.0.0.0/24`); `/32`
 * and `/128` removed. Text that is neither comes back unchanged (the parser then reports it).
 */
export function cleanIpSetCidr(text: string): string {
  const r = parseIpOrCidr(text);
  if (!r.ok || r.ip === undefined || !text.includes('/')) return r.ok ? r.cidr : text;
  const bits = r.version === 6 ? 128 : 32;
  if (r.ip.prefixLength === bits) return r.cidr;
  return networkOf(r.ip).text;
}

/** The first alias (in file order) whose lower-cased name sorts after `key`, skipping `except`. */
function aliasAfter(doc: FwDocument, key: string, except?: string) {
  return [...doc.aliases.values()].filter((a) => a.name.toLowerCase() !== except).sort((a, b) => a.line - b.line).find((a) => a.name.toLowerCase() > key);
}

/** Moves the line at 0-based `from` so that it stands before 0-based `to` (original indices), with new text. */
function moveLine(buf: LineBuffer, from: number, to: number, text: string): void {
  if (to > from) {
    buf.insert(to, [text]);
    buf.remove(from);
  } else {
    buf.remove(from);
    buf.insert(to, [text]);
  }
}

/** Moves a named section (ipset or group) to its name-sorted place among its kind, with a new header. */
function moveSectionSorted(doc: FwDocument, buf: LineBuffer, section: Section, header: string, newName: string): void {
  const start = section.headerLine - 1;
  const end = section.endLine; // exclusive, 0-based
  const body = buf.lines.slice(start + 1, end).map((l) => l.text);
  while (body.length > 0 && body[body.length - 1]!.trim() === '') body.pop();
  const block = [header, ...body, ''];
  const peers = doc.sections.filter((s) => s.kind === section.kind && s !== section);
  const next = peers.find((s) => (s.name ?? '') > newName);
  const last = peers[peers.length - 1];
  let at: number;
  if (next) at = next.headerLine - 1;
  else if (last && last.headerLine > section.headerLine) at = last.endLine;
  else at = start;
  if (at === start || at === end) {
    buf.remove(start, end - start);
    buf.insert(start, block);
    return;
  }
  const lastLine = buf.lines[at - 1];
  const lead = at > 0 && lastLine !== undefined && lastLine.text.trim() !== '' ? [''] : [];
  if (at > start) {
    buf.insert(at, [...lead, ...block]);
    buf.remove(start, end - start);
  } else {
    buf.remove(start, end - start);
    buf.insert(at, [...lead, ...block]);
  }
}
