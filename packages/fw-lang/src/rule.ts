/**
 * One rule line: tokenising (spec §3.2) and validation (spec §3.5, §3.6), with the
 * reference's messages. A line that cannot be tokenised is dropped; a rule that fails
 * validation is kept with its errors.
 */
import { findMacro, type MacroDef } from './data/macros.js';
import { icmpProtocolVersion, isPortProtocol, lookupProtocol } from './data/protocols.js';
import { ICMP_TYPES_V4, ICMP_TYPES_V6 } from './data/icmp-types.js';
import type { DiagnosticCode } from './diagnostic-codes.js';
import type { IpVersion, Rule, RuleEnv, RuleError, RuleField } from './model.js';
import { copyRuleFields, RULE_OPTION_PATTERNS, type RuleValues } from './rule-fields.js';
import { aliasExistsAnywhere, IPSET_REFERENCE, lookupAliasIn, type NameTables } from './names.js';
import { parsePortList } from './values/ports.js';
import { parseAddressList } from './values/ip.js';
import { isValidIfaceName } from './values/iface.js';

export type { NameTables } from './names.js';

/** A rule's values while it is tokenised and validated. */
type MutableRule = { -readonly [K in keyof RuleValues]: RuleValues[K] } & { enabled: boolean };

/** Where a rule line is parsed: its environment, line and the names it may reference. */
export interface ParseRuleContext {
  readonly env: RuleEnv;
  readonly line: number;
  readonly tables: NameTables;
}

/** A rule line parsed, or the diagnostic that drops it. */
export type ParseRuleResult =
  | { readonly ok: true; readonly rule: Rule }
  | { readonly ok: false; readonly code: DiagnosticCode; readonly message: string; readonly column?: number };

/**
 * Splits a rule or IP set entry line at its first `#`: the text before it, and the comment after
 * it with surrounding white space removed (undefined when the line has no `#`).
 */
export function splitComment(text: string): { readonly body: string; readonly comment: string | undefined } {
  const hash = text.indexOf('#');
  if (hash === -1) return { body: text, comment: undefined };
  return { body: text.slice(0, hash), comment: text.slice(hash + 1).replace(/^\s+|\s+$/g, '') };
}

/** Tokenises and validates a trimmed rule line. */
export function parseRuleLine(text: string, ctx: ParseRuleContext): ParseRuleResult {
  // 1. The first '#' starts the comment, even inside a value (the reference does the same).
  const split = splitComment(text);
  let line = split.body;
  const comment = split.comment;
  // 2. Disable flag.
  let enabled = true;
  if (line.startsWith('|')) {
    enabled = false;
    line = line.slice(1);
  }
  // 3. Type and action.
  const head = /^(\S+)\s+(\S+)\s*/.exec(line);
  if (!head) {
    return { ok: false, code: 'FW0301', message: `unable to parse rule: '${text}' (expected 'TYPE ACTION [options]')` };
  }
  const rule: MutableRule = { enabled, type: (head[1] as string).toLowerCase(), action: head[2] as string };
  if (comment !== undefined && comment !== '') rule.comment = comment;
  if (rule.type === 'in' || rule.type === 'out' || rule.type === 'forward') {
    const m = /^(\S+)\((ACCEPT|DROP|REJECT)\)$/.exec(rule.action);
    if (m) {
      rule.macro = m[1];
      rule.action = m[2] as string;
    }
  }
  // 4. Options loop.
  let rest = line.slice(head[0].length);
  while (rest.length > 0) {
    // A GROUP rule takes only -i.
    const group = rule.type === 'group';
    let matched = false;
    for (const { key, pattern, onGroupRule } of RULE_OPTION_PATTERNS) {
      if (group && !onGroupRule) continue;
      const m = pattern.exec(rest);
      if (m) {
        (rule as Record<string, unknown>)[key] = m[1];
        rest = rest.slice(m[0].length);
        matched = true;
        break;
      }
    }
    if (!matched) break;
  }
  // 5. Anything left is an error that drops the line.
  if (rest.length > 0) {
    // Column within the trimmed line: `line` lost only its leading '|' and the comment.
    const column = (enabled ? 0 : 1) + line.length - rest.length + 1;
    return {
      ok: false,
      code: 'FW0302',
      message: `unable to parse rule parameters: '${rest.trimEnd()}'${parameterHint(rest, rule.type)}`,
      column,
    };
  }
  // 6. Validation.
  return validateRule(rule, ctx);
}

function parameterHint(rest: string, type: string): string {
  if (type === 'group' && /^-/.test(rest)) return ' (GROUP rules take only -i)';
  if (/^--?iface\b/.test(rest)) return " (the interface option is '-i')";
  if (/^--?log \S/.test(rest)) return ' (log levels are lower-case: emerg, alert, crit, err, warning, notice, info, debug, nolog)';
  if (/^-{1,2}[a-z-]+(\s{2,}|\t)/.test(rest)) return ' (exactly one space is allowed between an option and its value)';
  if (/^-{1,2}[a-z-]+\s*$/.test(rest)) return ' (option without a value)';
  if (/^-/.test(rest)) return ' (unknown option)';
  return '';
}

const TYPES_BY_ENV: Readonly<Record<RuleEnv, readonly string[]>> = {
  cluster: ['in', 'out', 'forward', 'group'],
  host: ['in', 'out', 'forward', 'group'],
  vm: ['in', 'out', 'group'],
  ct: ['in', 'out', 'group'],
  group: ['in', 'out', 'forward'],
  vnet: ['forward', 'group'],
};

const IFACE_ALLOWED: ReadonlySet<RuleEnv> = new Set<RuleEnv>(['cluster', 'host', 'vm', 'ct']);
const GROUP_NAME = /^[A-Za-z][A-Za-z0-9\-_]+$/;

class ErrorCollector {
  readonly errors: RuleError[] = [];
  add(field: RuleField, code: DiagnosticCode, message: string): void {
    if (!this.errors.some((e) => e.field === field)) this.errors.push({ field, code, message });
  }
  get empty(): boolean {
    return this.errors.length === 0;
  }
}

/** Internal signal: an alias gave the rule a second IP version (the line is dropped). */
class VersionConflict extends Error {
  override readonly name = 'VersionConflict';
}

function validateRule(rule: MutableRule, ctx: ParseRuleContext): ParseRuleResult {
  const errs = new ErrorCollector();
  const { env, tables } = ctx;
  let ipVersion: IpVersion | undefined;
  const setVersion = (v: IpVersion | undefined): void => {
    if (v === undefined) return;
    if (ipVersion !== undefined && ipVersion !== v) throw new VersionConflict('detected mixed ipv4/ipv6 addresses in rule');
    ipVersion = v;
  };

  // 2. type and action
  const type = rule.type;
  if (!TYPES_BY_ENV[env].includes(type)) {
    errs.add('type', 'FW0401', `invalid rule type '${type}' for rule_env '${env}'`);
  }
  if (type === 'in' || type === 'out' || type === 'forward') {
    if (type === 'forward' && rule.action === 'REJECT') {
      errs.add('action', 'FW0403', 'cannot define REJECT rules on forward chain');
    } else if (!/^(ACCEPT|DROP|REJECT)$/.test(rule.action)) {
      errs.add('action', 'FW0402', `unknown action '${rule.action}'`);
    }
  } else if (type === 'group') {
    if (env === 'group') errs.add('type', 'FW0401', 'security groups not allowed');
    if (!GROUP_NAME.test(rule.action)) errs.add('action', 'FW0404', 'invalid characters in security group name');
  }

  // 3. interface
  if (rule.iface !== undefined) {
    if (!IFACE_ALLOWED.has(env)) errs.add('type', 'FW0405', 'parameter -i not allowed for this rule type');
    if (!isValidIfaceName(rule.iface)) errs.add('iface', 'FW0405', `invalid network interface name '${rule.iface}'`);
    if ((env === 'vm' || env === 'ct') && !/^net\d+$/.test(rule.iface)) {
      errs.add('iface', 'FW0405', "value does not match the regex pattern 'net\\d+'");
    }
  }

  // 4. macro
  let macro: MacroDef | undefined;
  if (rule.macro !== undefined) {
    macro = findMacro(rule.macro);
    if (macro) rule.macro = macro.name;
    else errs.add('macro', 'FW0406', `unknown macro '${rule.macro}'`);
  }

  try {
    // 5. protocol
    const proto = rule.proto;
    if (proto !== undefined) {
      if (!lookupProtocol(proto)) errs.add('proto', 'FW0407', `unknown protocol '${proto}'`);
      else setVersion(icmpProtocolVersion(proto));
    }
    const icmpLike = proto !== undefined && icmpProtocolVersion(proto) !== undefined;

    // 6. destination port
    if (rule.dport !== undefined) {
      const parsed = parsePortList(rule.dport, { icmpNames: true });
      if (!parsed.ok) errs.add('dport', 'FW0408', parsed.message);
      if (proto === undefined) errs.add('proto', 'FW0409', "missing property - 'dport' requires this property");
      else if (!isPortProtocol(proto) && !icmpLike) errs.add('dport', 'FW0410', `protocol '${proto}' does not support ports`);
    }

    // 7. ICMP type
    if (rule.icmpType !== undefined) {
      const t = rule.icmpType;
      if (!icmpLike) errs.add('proto', 'FW0409', "missing property - 'icmp-type' requires this property");
      if (rule.dport !== undefined) errs.add('icmp-type', 'FW0411', "'icmp-type' cannot be specified together with 'dport'");
      if (proto === 'icmp' && !ICMP_TYPES_V4.has(t)) errs.add('icmp-type', 'FW0411', `invalid icmp-type '${t}' for proto '${proto}'`);
      if ((proto === 'icmpv6' || proto === 'ipv6-icmp') && !ICMP_TYPES_V6.has(t)) {
        errs.add('icmp-type', 'FW0411', `invalid icmp-type '${t}' for proto '${proto}'`);
      }
    }

    // 8. source port
    if (rule.sport !== undefined) {
      const parsed = parsePortList(rule.sport, { icmpNames: false });
      if (!parsed.ok) errs.add('sport', 'FW0408', parsed.message);
      if (proto === undefined) errs.add('proto', 'FW0409', "missing property - 'sport' requires this property");
      else if (!isPortProtocol(proto)) errs.add('sport', 'FW0410', `protocol '${proto}' does not support ports`);
    }

    // 9. addresses
    for (const field of ['source', 'dest'] as const) {
      const value = rule[field];
      if (value === undefined) continue;
      checkAddress(field, value, errs, setVersion, tables);
    }
  } catch (e) {
    if (e instanceof VersionConflict) {
      return { ok: false, code: 'FW0303', message: `${e.message} (an alias gives a different IP version than the rest of the rule)` };
    }
    throw e;
  }

  // 10. macro expansion in checking mode
  if (macro && errs.empty) checkMacroConflicts(rule, macro, errs);

  const result = copyRuleFields({ line: ctx.line, enabled: rule.enabled }, rule) as { -readonly [K in keyof Rule]: Rule[K] };
  if (ipVersion !== undefined) result.ipVersion = ipVersion;
  result.errors = errs.errors;
  return { ok: true, rule: result };
}

/** Longest IP set reference including its `+` (spec §3.3.3). */
const MAX_IPSET_REF_LENGTH = 65;
const MAX_ALIAS_REF_LENGTH = 64;
const ALIAS_SHAPE = /^(?:(?:dc|guest)\/)?[A-Za-z][A-Za-z0-9_-]+$/;

function checkAddress(
  field: 'source' | 'dest',
  value: string,
  errs: ErrorCollector,
  setVersion: (v: IpVersion | undefined) => void,
  tables: NameTables,
): void {
  if (value.startsWith('+')) {
    if (value.length > MAX_IPSET_REF_LENGTH) {
      errs.add(field, 'FW0414', 'ipset name too long');
      return;
    }
    const m = IPSET_REFERENCE.exec(value.slice(1));
    if (!m) {
      errs.add(field, 'FW0414', `invalid ipset name '${value}'`);
      return;
    }
    const name = m[2] as string;
    if (!tables.clusterIpsets.has(name) && !(tables.localIpsets?.has(name) ?? false)) {
      errs.add(field, 'FW0414', `no such ipset '${name}'`);
    }
    return;
  }
  if (ALIAS_SHAPE.test(value)) {
    if (value.length > MAX_ALIAS_REF_LENGTH) {
      errs.add(field, 'FW0415', 'alias name too long');
      return;
    }
    const name = value.replace(/^(dc|guest)\//, '');
    if (!aliasExistsAnywhere(tables, name)) {
      errs.add(field, 'FW0415', `no such alias '${value}'`);
      return;
    }
    // The version comes from the alias that would be used; a conflict drops the line.
    const alias = lookupAliasIn(tables, value) ?? tables.localAliases?.get(name.toLowerCase()) ?? tables.clusterAliases.get(name.toLowerCase());
    setVersion(alias?.ipVersion);
    return;
  }
  const parsed = parseAddressList(value);
  if (!parsed.ok) {
    errs.add(field, 'FW0412', parsed.message);
    return;
  }
  try {
    setVersion(parsed.version);
  } catch (e) {
    if (e instanceof VersionConflict) errs.add(field, 'FW0413', e.message);
    else throw e;
  }
}

const MACRO_FIELDS = ['proto', 'dport', 'sport'] as const;

function checkMacroConflicts(rule: MutableRule, macro: MacroDef, errs: ErrorCollector): void {
  for (const template of macro.templates) {
    for (const field of MACRO_FIELDS) {
      const mine = rule[field];
      const theirs = template[field];
      if (mine !== undefined && theirs !== undefined && mine !== theirs) {
        errs.add(field, 'FW0416', `parameter '${field}' already define in macro (value = '${theirs}')`);
        return;
      }
    }
  }
}
