/**
 * A packet entry's JSON, checked as it is written: one pass per field instead of a check pass
 * and a write pass, and the fields that repeat from entry to entry are checked and quoted once,
 * then looked up (`repeating-fields.ts`; the rule origin by its object).
 * The fields come in the order the decoder's clean copy has them (so the text equals
 * `JSON.stringify` of that copy), which is also the order of the decoder's checks (so the first
 * bad field named is the same). Every refusal is thrown by the shared checks of
 * `field-checks.ts`, so its message is the decoder's (`packet-check.ts`).
 */
import { LOG_ACTIONS, LOG_DIRECTIONS } from './entry.js';
import { FIELD_LIMITS, ID_RULE, PACKET_RULE, checkAddress, checkBoolean, checkFamily, checkFlags, checkInt, checkMac, checkOneOf, describe, fail, type Json } from './field-checks.js';
import { REPEATING, textJson } from './repeating-fields.js';

/** `,"rule":{…}` of each rule origin object seen (the agent's rule map hands out the same object for every hit of a rule). */
const ruleFragments = new WeakMap<object, string>();
function ruleJson(r: unknown): string {
  if (r === undefined) return '';
  if (typeof r !== 'object' || r === null || Array.isArray(r)) fail('rule', `expected an object, got ${describe(r)}`);
  const hit = ruleFragments.get(r);
  if (hit !== undefined) return hit;
  const rj = r as Json;
  const path = REPEATING.rulePath.literal(rj.path);
  const line = checkInt(rj.line, 'line', 1, FIELD_LIMITS.ruleLineMax);
  const fragment = `,"rule":{"path":${path},"line":${line},"text":${REPEATING.ruleText.literal(rj.text)}}`;
  ruleFragments.set(r, fragment);
  return fragment;
}

const optInt = (v: unknown, field: string, min: number, max: number): string => (v === undefined ? '' : `,"${field}":${checkInt(v, field, min, max)}`);
const macJson = (v: unknown): string => (v === undefined ? '' : `,"mac":"${checkMac(v)}"`);
const familyJson = (v: unknown): string => (v === undefined ? '' : `,"family":${JSON.stringify(checkFamily(v))}`);
const addressJson = (v: unknown, field: 'src' | 'dst'): string => (v === undefined ? '' : `,"${field}":"${checkAddress(v, field)}"`);
const flagsJson = (v: unknown): string => (v === undefined ? '' : `,"tcpFlags":[${checkFlags(v).map((f) => `"${f}"`).join(',')}]`);

/**
 * The JSON of a packet entry (`kind: 'packet'`), checked field by field as `validateLogEntry`
 * checks it; throws `invalid-log-entry` naming the first bad field.
 */
export function checkedPacketJson(o: Json): string {
  // One expression in field order: each part checks its field before the next is looked at.
  return (
    `{"kind":"packet","id":${textJson(o.id, 'id', ID_RULE)},"node":${REPEATING.node.literal(o.node)},"timeUs":${checkInt(o.timeUs, 'timeUs', 0, Number.MAX_SAFE_INTEGER)}` +
    `,"vmid":${checkInt(o.vmid, 'vmid', 0, FIELD_LIMITS.vmidMax)},"level":${checkInt(o.level, 'level', 0, FIELD_LIMITS.levelMax)}` +
    `,"chain":${REPEATING.chain.literal(o.chain)},"verdict":${REPEATING.verdict.literal(o.verdict)}` +
    `,"action":"${checkOneOf(o.action, 'action', LOG_ACTIONS)}","isPolicy":${checkBoolean(o.isPolicy, 'isPolicy')}` +
    `,"direction":"${checkOneOf(o.direction, 'direction', LOG_DIRECTIONS)}"${REPEATING.ruleId.optional(o.ruleId)}${ruleJson(o.rule)}` +
    REPEATING.iif.optional(o.iif) +
    REPEATING.oif.optional(o.oif) +
    REPEATING.physIn.optional(o.physIn) +
    REPEATING.physOut.optional(o.physOut) +
    macJson(o.mac) +
    familyJson(o.family) +
    REPEATING.proto.optional(o.proto) +
    addressJson(o.src, 'src') +
    addressJson(o.dst, 'dst') +
    optInt(o.sport, 'sport', 0, FIELD_LIMITS.portMax) +
    optInt(o.dport, 'dport', 0, FIELD_LIMITS.portMax) +
    optInt(o.icmpType, 'icmpType', 0, FIELD_LIMITS.icmpMax) +
    optInt(o.icmpCode, 'icmpCode', 0, FIELD_LIMITS.icmpMax) +
    optInt(o.len, 'len', 0, FIELD_LIMITS.lenMax) +
    flagsJson(o.tcpFlags) +
    optInt(o.mark, 'mark', 0, FIELD_LIMITS.markMax) +
    `,"packet":${textJson(o.packet, 'packet', PACKET_RULE)}}`
  );
}
