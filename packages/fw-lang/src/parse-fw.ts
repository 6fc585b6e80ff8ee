/**
 * Parser of `.fw` documents (cluster, host, guest, vnet), line by line as the reference does
 * (spec §1–§4): sections, options, rules with validation, aliases, IP sets and groups.
 * Never throws for user input; every problem is a diagnostic with path and line.
 */
import { decodeSource } from './decode.js';
import { makeDiagnostic } from './diagnostics.js';
import type { DiagnosticCode } from './diagnostic-codes.js';
import type {
  Alias,
  Diagnostic,
  FwDocument,
  FwDocumentKind,
  GuestType,
  IpSet,
  IpSetEntry,
  OptionEntry,
  Rule,
  RuleEnv,
  Section,
  SecurityGroup,
} from './model.js';
import { parseOptionLine } from './options.js';
import { parseRuleLine, splitComment, type NameTables } from './rule.js';
import { checkIpSetEntryToken, parseAliasValue } from './names.js';

/** Options of `parseFwDocument`. */
export interface ParseFwOptions {
  /** Document path used in diagnostics (e.g. `firewall/100.fw`). */
  readonly path: string;
  readonly kind: FwDocumentKind;
  /** For guest documents: decides the rule environment (`vm` or `ct`); default `qemu`. */
  readonly guestType?: GuestType;
  /** The parsed cluster document: names in host, guest and vnet documents resolve against it. */
  readonly cluster?: FwDocument;
  /** Size limit in bytes (default 1 MiB). */
  readonly maxBytes?: number;
}

/** Security group names: 2–18 characters (spec §1.4). */
export const MAX_GROUP_NAME_LENGTH = 18;
/** IP set names: 2–64 characters. */
export const MAX_IPSET_NAME_LENGTH = 64;
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9\-_]+$/;

const ALLOWED_SECTIONS: Readonly<Record<FwDocumentKind, ReadonlySet<string>>> = {
  cluster: new Set(['options', 'rules', 'aliases', 'ipset', 'group']),
  host: new Set(['options', 'rules']),
  guest: new Set(['options', 'rules', 'aliases', 'ipset']),
  vnet: new Set(['options', 'rules']),
};

/** Horizontal whitespace only: a trailing CR stays part of the line, as in the reference. */
function trimHorizontal(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 0x20 || text.charCodeAt(start) === 0x09)) start += 1;
  while (end > start && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end -= 1;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

interface HeaderMatch {
  readonly kind: 'options' | 'rules' | 'aliases' | 'ipset' | 'group';
  readonly name?: string;
  readonly comment?: string;
}

function matchHeader(line: string): HeaderMatch | undefined {
  if (!line.startsWith('[')) return undefined;
  if (/^\[options\]$/i.test(line)) return { kind: 'options' };
  if (/^\[rules\]$/i.test(line)) return { kind: 'rules' };
  if (/^\[aliases\]$/i.test(line)) return { kind: 'aliases' };
  const m = /^\[(group|ipset)\s+(\S+)\]\s*(?:#\s*(.*?)\s*)?$/i.exec(line);
  if (m) {
    const kind = (m[1] as string).toLowerCase() as 'group' | 'ipset';
    return { kind, name: m[2] as string, ...(m[3] ? { comment: m[3] } : {}) };
  }
  return undefined;
}

function ruleEnvFor(kind: FwDocumentKind, guestType: GuestType | undefined): RuleEnv {
  if (kind === 'guest') return guestType === 'lxc' ? 'ct' : 'vm';
  return kind;
}

interface MutableSet {
  name: string;
  comment?: string;
  line: number;
  entries: IpSetEntry[];
  /** Normalised tokens seen so far, for the duplicate check. */
  seen: Set<string>;
}

interface MutableGroup {
  name: string;
  comment?: string;
  line: number;
  rules: Rule[];
}

/** Parses a `.fw` document. The result always holds every source line, for lossless printing. */
export function parseFwDocument(input: string | Uint8Array, options: ParseFwOptions): FwDocument {
  const { path, kind, cluster } = options;
  const decoded = decodeSource(input, { path, ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}) });
  const diagnostics: Diagnostic[] = [...decoded.diagnostics];
  const sections: Section[] = [];
  const optionMap = new Map<string, OptionEntry>();
  let hasOptions = false;
  const rules: Rule[] = [];
  const aliases = new Map<string, Alias>();
  const ipsets = new Map<string, MutableSet>();
  const groups = new Map<string, MutableGroup>();
  const env = ruleEnvFor(kind, options.guestType);
  const diag = (code: DiagnosticCode, line: number, message: string, column?: number): void => {
    diagnostics.push(makeDiagnostic(code, path, line, message, column !== undefined ? { column } : {}));
  };

  // Name tables as the reference sees them while validating: the cluster document itself grows
  // line by line; other documents see the whole cluster plus their own names parsed so far.
  const tables: NameTables =
    kind === 'cluster'
      ? { clusterAliases: aliases, clusterIpsets: ipsets, localAliases: undefined, localIpsets: undefined, from: 'cluster' }
      : {
          clusterAliases: cluster?.aliases ?? new Map(),
          clusterIpsets: cluster?.ipsets ?? new Map(),
          localAliases: kind === 'guest' ? aliases : undefined,
          localIpsets: kind === 'guest' ? ipsets : undefined,
          from: kind === 'guest' ? 'guest' : 'cluster',
        };

  let current: { kind: HeaderMatch['kind']; name?: string; headerLine: number } | undefined;
  let lastContentLine = 0;
  const closeSection = (): void => {
    if (current) {
      sections.push({
        kind: current.kind,
        ...(current.name !== undefined ? { name: current.name } : {}),
        headerLine: current.headerLine,
        endLine: Math.max(current.headerLine, lastContentLine),
      });
    }
  };

  const lines = decoded.interpret ? decoded.lines : [];
  for (let i = 0; i < lines.length; i += 1) {
    const lineNo = i + 1;
    let text = trimHorizontal((lines[i] as { text: string }).text);
    if (i === 0 && text.startsWith('\uFEFF')) text = trimHorizontal(text.slice(1));
    // Intent over quirk: a CR before the newline is read as line end (FW0004 reports it).
    if (text.endsWith('\r')) text = trimHorizontal(text.slice(0, -1));
    if (text === '' || text.startsWith('#')) {
      if (current) lastContentLine = lineNo;
      continue;
    }

    const header = matchHeader(text);
    if (header && ALLOWED_SECTIONS[kind].has(header.kind)) {
      closeSection();
      current = undefined;
      lastContentLine = lineNo;
      if (header.kind === 'group' || header.kind === 'ipset') {
        const name = (header.name as string).toLowerCase();
        const max = header.kind === 'group' ? MAX_GROUP_NAME_LENGTH : MAX_IPSET_NAME_LENGTH;
        const what = header.kind === 'group' ? 'security group' : 'ipset';
        if (name.length > max) {
          diag('FW0102', lineNo, `${what} name too long: '${name}' has ${name.length} characters, at most ${max} allowed; section ignored`);
          continue;
        }
        if (!NAME_PATTERN.test(name)) {
          diag('FW0102', lineNo, `invalid ${what} name '${name}' (letters, digits, '-' and '_', starting with a letter, at least 2 characters); section ignored`);
          continue;
        }
        const table = header.kind === 'group' ? groups : ipsets;
        if (table.has(name)) {
          diag('FW0104', lineNo, `[${header.kind.toUpperCase()} ${name}] repeated: the earlier section of that name is discarded`);
        }
        const comment = header.comment !== undefined && header.comment !== '' ? { comment: header.comment } : {};
        if (header.kind === 'group') groups.set(name, { name, line: lineNo, rules: [], ...comment });
        else ipsets.set(name, { name, line: lineNo, entries: [], seen: new Set(), ...comment });
        current = { kind: header.kind, name, headerLine: lineNo };
      } else {
        if (header.kind === 'options') hasOptions = true;
        current = { kind: header.kind, headerLine: lineNo };
      }
      continue;
    }
    if (header) {
      diag(
        'FW0103',
        lineNo,
        `section [${header.kind.toUpperCase()}] is not allowed in a ${kind} document; the line is read as content of the current section`,
      );
    }

    if (!current) {
      diag('FW0101', lineNo, 'line outside any section (skipped)');
      continue;
    }
    lastContentLine = lineNo;

    switch (current.kind) {
      case 'options': {
        const result = parseOptionLine(kind, text);
        if (!result.ok) {
          diag(result.code, lineNo, result.message);
          break;
        }
        if (kind === 'cluster' && result.name === 'enable' && Number(result.value) > 1) {
          diag('FW0205', lineNo, `enable: ${result.value} is a timestamp: the firewall is enabled only within 60 seconds of it`);
        }
        optionMap.set(result.name, { name: result.name, value: result.value, line: lineNo });
        break;
      }
      case 'rules':
      case 'group': {
        const group = current.kind === 'group' ? groups.get(current.name as string) : undefined;
        const parsed = parseRuleLine(text, { env: group ? 'group' : env, line: lineNo, tables });
        if (!parsed.ok) {
          diag(parsed.code, lineNo, parsed.message, parsed.column);
          break;
        }
        for (const e of parsed.rule.errors) diag(e.code, lineNo, `${e.field}: ${e.message}`);
        if (group) group.rules.push(parsed.rule);
        else rules.push(parsed.rule);
        break;
      }
      case 'aliases': {
        const result = parseAliasLine(text, lineNo);
        if (!result.ok) {
          diag(result.code, lineNo, result.message);
          break;
        }
        const key = result.alias.name.toLowerCase();
        if (aliases.has(key)) diag('FW0503', lineNo, `alias '${result.alias.name}' redefined: this definition replaces the earlier one`);
        aliases.set(key, result.alias);
        break;
      }
      case 'ipset': {
        const set = ipsets.get(current.name as string) as MutableSet;
        const entry = parseIpSetEntryLine(text, lineNo, set, tables);
        if (entry.error) diag(entry.error.code, lineNo, entry.error.message);
        set.entries.push(entry);
        break;
      }
    }
  }
  closeSection();

  const frozenSets = new Map<string, IpSet>();
  for (const [k, { seen: _seen, ...set }] of ipsets) frozenSets.set(k, set);
  const frozenGroups = new Map<string, SecurityGroup>();
  for (const [k, g] of groups) frozenGroups.set(k, g);
  return {
    kind,
    path,
    lines: decoded.lines,
    ...(decoded.encoding === 'latin1' ? { encoding: 'latin1' as const } : {}),
    sections,
    options: hasOptions ? optionMap : undefined,
    rules,
    aliases,
    ipsets: frozenSets,
    groups: frozenGroups,
    diagnostics,
  };
}

type AliasLineResult = { ok: true; alias: Alias } | { ok: false; code: DiagnosticCode; message: string };

/** `<name><one whitespace><value>[ # comment]` (spec §4.2). */
export function parseAliasLine(text: string, line: number): AliasLineResult {
  let body = text;
  let comment: string | undefined;
  const m = /\s*#\s*(.*?)\s*$/.exec(body);
  if (m) {
    comment = m[1];
    body = body.slice(0, m.index);
  }
  const parts = /^(\S+)\s(\S+)$/.exec(body);
  if (!parts) {
    return {
      ok: false,
      code: 'FW0501',
      message: `malformed alias line '${body}' (expected 'name address' separated by exactly one space)`,
    };
  }
  const name = parts[1] as string;
  const value = parseAliasValue(parts[2] as string);
  if (!value) {
    return { ok: false, code: 'FW0502', message: `invalid alias value '${parts[2] as string}' for '${name}' (expected an IP address or CIDR)` };
  }
  return {
    ok: true,
    alias: { name, cidr: value.cidr, ipVersion: value.version, line, ...(comment ? { comment } : {}) },
  };
}

function parseIpSetEntryLine(text: string, line: number, set: MutableSet, tables: NameTables): IpSetEntry {
  const { body, comment } = splitComment(text);
  const withComment = comment ? { comment } : {};
  const parts = /^(!)?\s*(\S+)\s*$/.exec(body);
  if (!parts) {
    return {
      cidr: body.trim(),
      nomatch: body.trim().startsWith('!'),
      line,
      ...withComment,
      error: { field: 'source', code: 'FW0601', message: `malformed IP set entry '${body.trim()}' (one address, CIDR or alias per line)` },
    };
  }
  const nomatch = parts[1] === '!';
  const token = parts[2] as string;
  const result = checkIpSetEntryToken(token, tables);
  const cidr = result.cidr;
  let error = result.error;
  if (!error && set.seen.has(cidr)) {
    error = { field: 'source', code: 'FW0604', message: `duplicate entry '${cidr}' in IP set '${set.name}' (the first one is used)` };
  }
  set.seen.add(cidr);
  return { cidr, nomatch, line, ...withComment, ...(error ? { error } : {}) };
}
