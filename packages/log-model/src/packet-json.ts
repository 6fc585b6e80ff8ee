/**
 * A packet entry's JSON, checked as it is written: one pass per field instead of a check pass
 * and a write pass, and the fields that repeat from entry to entry (node, chain, verdict, rule
 * id, device names, protocol, the rule's origin) are checked and quoted once, then looked up.
 * The fields come in the order the decoder's clean copy has them (so the text equals
 * `JSON.stringify` of that copy), which is also the order of the decoder's checks (so the first
 * bad field named is the same). Every refusal is thrown by the shared checks of
 * `field-checks.ts`, so its message is the decoder's.
 */
import { isIpAddress } from './address.js';
import { LOG_ACTIONS, LOG_DIRECTIONS, LOG_ENTRY_MAX_BYTES } from './entry.js';
import { FIELD_LIMITS, MAX_ID_CHARS, MAX_IFNAME_CHARS, MAX_NAME_CHARS, describe, fail, int, isColonHex, isFlagName, isUnicodeSpace, oneOf, text, type Json } from './field-checks.js';
import { isValidNodeName } from './subject.js';

/** How a text field is checked (as `text()` in field-checks.ts takes them). */
interface TextRule {
  readonly maxChars: number;
  /** White space allowed (default true). */
  readonly spaces?: boolean;
  /** The empty string allowed (default false). */
  readonly empty?: boolean;
}

/**
 * The JSON literal of a checked text field. The fast path is one scan; anything it does not
 * pass goes through `text()`, which throws the decoder's refusal (or passes, and the value is
 * quoted as `JSON.stringify` quotes it).
 */
function textJson(o: Json, field: string, rule: TextRule): string {
  const v = o[field];
  if (typeof v === 'string' && v.length <= rule.maxChars && (v.length > 0 || rule.empty === true)) {
    let plain = true;
    let i = 0;
    for (; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c < 0x20 || c === 0x7f) break;
      if (c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) plain = false;
      else if (rule.spaces === false && (c === 0x20 || (c >= 0xa0 && isUnicodeSpace(c)))) break;
    }
    if (i === v.length) return plain ? `"${v}"` : JSON.stringify(v);
  }
  return JSON.stringify(text(o, field, rule.maxChars, rule));
}

/** Checked literals of one repeating field, bounded (emptied when full: a ruleset has a few hundred values). */
class LiteralCache {
  readonly #literals = new Map<string, string>();
  constructor(
    readonly field: string,
    readonly rule: TextRule,
    readonly extra?: (v: string) => void,
  ) {}

  /** `"<literal>"` of `o[field]`, checked the first time a value is seen. */
  literal(o: Json): string {
    const v = o[this.field];
    if (typeof v === 'string') {
      const hit = this.#literals.get(v);
      if (hit !== undefined) return hit;
    }
    const lit = textJson(o, this.field, this.rule);
    this.extra?.(v as string);
    if (this.#literals.size >= 1024) this.#literals.clear();
    this.#literals.set(v as string, lit);
    return lit;
  }

  /** `,"<field>":<literal>` when present, '' when absent. */
  optional(o: Json): string {
    return o[this.field] === undefined ? '' : `,"${this.field}":${this.literal(o)}`;
  }
}

const NO_SPACES = { maxChars: MAX_NAME_CHARS, spaces: false } as const;
const nodes = new LiteralCache('node', { maxChars: FIELD_LIMITS.nodeChars }, (v) => {
  if (!isValidNodeName(v)) fail('node', `invalid node name ${describe(v)}`);
});
const chains = new LiteralCache('chain', NO_SPACES);
const verdicts = new LiteralCache('verdict', { maxChars: MAX_NAME_CHARS });
const ruleIds = new LiteralCache('ruleId', { maxChars: MAX_ID_CHARS, spaces: false });
const DEVICE = { maxChars: MAX_IFNAME_CHARS, spaces: false } as const;
const iifs = new LiteralCache('iif', DEVICE);
const oifs = new LiteralCache('oif', DEVICE);
const physIns = new LiteralCache('physIn', DEVICE);
const physOuts = new LiteralCache('physOut', DEVICE);
const protos = new LiteralCache('proto', { maxChars: FIELD_LIMITS.protoChars, spaces: false });

/** `,"rule":{…}` of each rule origin object seen (the agent's rule map hands out the same object for every hit of a rule). */
const ruleFragments = new WeakMap<object, string>();
function ruleJson(r: unknown): string {
  if (r === undefined) return '';
  if (typeof r !== 'object' || r === null || Array.isArray(r)) fail('rule', `expected an object, got ${describe(r)}`);
  const hit = ruleFragments.get(r);
  if (hit !== undefined) return hit;
  const rj = r as Json;
  const path = textJson(rj, 'path', { maxChars: FIELD_LIMITS.rulePathChars });
  const line = int(rj, 'line', 1, FIELD_LIMITS.ruleLineMax);
  const fragment = `,"rule":{"path":${path},"line":${line},"text":${textJson(rj, 'text', { maxChars: FIELD_LIMITS.ruleTextChars, empty: true })}}`;
  ruleFragments.set(r, fragment);
  return fragment;
}

const optInt = (o: Json, field: string, min: number, max: number): string => (o[field] === undefined ? '' : `,"${field}":${int(o, field, min, max)}`);

function macJson(o: Json): string {
  if (o.mac === undefined) return '';
  const mac = text(o, 'mac', FIELD_LIMITS.macChars);
  if (!isColonHex(mac)) fail('mac', `expected colon-separated hex bytes, got ${describe(mac)}`);
  return `,"mac":"${mac}"`;
}

function familyJson(f: unknown): string {
  if (f === undefined) return '';
  if (f === 4 || f === 6) return `,"family":${f}`;
  if (f === 'arp') return ',"family":"arp"';
  return fail('family', `expected 4, 6 or "arp", got ${describe(f)}`);
}

function addressJson(o: Json, field: 'src' | 'dst'): string {
  if (o[field] === undefined) return '';
  const a = text(o, field, FIELD_LIMITS.addressChars);
  if (!isIpAddress(a)) fail(field, `expected an IPv4 or IPv6 address, got ${describe(a)}`);
  return `,"${field}":"${a}"`;
}

function flagsJson(flags: unknown): string {
  if (flags === undefined) return '';
  if (!Array.isArray(flags) || flags.length > 16) fail('tcpFlags', `expected an array of up to 16 flag names, got ${describe(flags)}`);
  for (const f of flags) if (!isFlagName(f)) fail('tcpFlags', `expected flag names like "SYN", got ${describe(f)}`);
  return `,"tcpFlags":[${(flags as string[]).map((f) => `"${f}"`).join(',')}]`;
}

/**
 * The JSON of a packet entry (`kind: 'packet'`), checked field by field as `validateLogEntry`
 * checks it; throws `invalid-log-entry` naming the first bad field.
 */
export function checkedPacketJson(o: Json): string {
  // One expression in field order: each part checks its field before the next is looked at.
  return (
    `{"kind":"packet","id":${textJson(o, 'id', { maxChars: MAX_ID_CHARS, spaces: false })},"node":${nodes.literal(o)},"timeUs":${int(o, 'timeUs', 0, Number.MAX_SAFE_INTEGER)}` +
    `,"vmid":${int(o, 'vmid', 0, FIELD_LIMITS.vmidMax)},"level":${int(o, 'level', 0, FIELD_LIMITS.levelMax)},"chain":${chains.literal(o)},"verdict":${verdicts.literal(o)}` +
    `,"action":"${oneOf(o, 'action', LOG_ACTIONS)}","isPolicy":${typeof o.isPolicy === 'boolean' ? o.isPolicy : fail('isPolicy', `expected a boolean, got ${describe(o.isPolicy)}`)}` +
    `,"direction":"${oneOf(o, 'direction', LOG_DIRECTIONS)}"${ruleIds.optional(o)}${ruleJson(o.rule)}` +
    iifs.optional(o) +
    oifs.optional(o) +
    physIns.optional(o) +
    physOuts.optional(o) +
    macJson(o) +
    familyJson(o.family) +
    protos.optional(o) +
    addressJson(o, 'src') +
    addressJson(o, 'dst') +
    optInt(o, 'sport', 0, FIELD_LIMITS.portMax) +
    optInt(o, 'dport', 0, FIELD_LIMITS.portMax) +
    optInt(o, 'icmpType', 0, FIELD_LIMITS.icmpMax) +
    optInt(o, 'icmpCode', 0, FIELD_LIMITS.icmpMax) +
    optInt(o, 'len', 0, FIELD_LIMITS.lenMax) +
    flagsJson(o.tcpFlags) +
    optInt(o, 'mark', 0, FIELD_LIMITS.markMax) +
    `,"packet":${textJson(o, 'packet', { maxChars: LOG_ENTRY_MAX_BYTES, empty: true })}}`
  );
}
