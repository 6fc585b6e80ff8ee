/**
 * A packet entry checked and copied in one pass: the decoder's half of the contract (the
 * encoder's is `packet-json.ts`). Each field is read once by name and checked by the shared
 * value checks of `field-checks.ts`, in the order of the copy, so the first bad field is the
 * one named; the fields whose values repeat are checked once per value (`repeating-fields.ts`).
 * The copy holds only the known fields that are present, in one fixed order.
 */
import type { LogRuleOrigin, PacketLogEntry } from './entry.js';
import { LOG_ACTIONS, LOG_DIRECTIONS } from './entry.js';
import { FIELD_LIMITS, ID_RULE, PACKET_RULE, checkAddress, checkBoolean, checkFamily, checkFlags, checkInt, checkMac, checkOneOf, checkText, describe, fail, type Json } from './field-checks.js';
import { REPEATING } from './repeating-fields.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function ruleCopy(r: unknown): LogRuleOrigin {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) fail('rule', `expected an object, got ${describe(r)}`);
  const rj = r as Json;
  return { path: REPEATING.rulePath.checked(rj.path), line: checkInt(rj.line, 'line', 1, FIELD_LIMITS.ruleLineMax), text: REPEATING.ruleText.checked(rj.text) };
}

/**
 * The checked copy of a packet entry (`kind: 'packet'`); throws `invalid-log-entry` naming the
 * first bad field. `textsClean`: the caller has proven that no string of `o` holds a control
 * character (see `jsonTextsClean`), so the long packet text is not scanned again.
 */
export function checkedPacketCopy(o: Json, textsClean = false): PacketLogEntry {
  // Property order of the literal is evaluation order: the checks run in field order.
  const e = {
    kind: 'packet',
    id: checkText(o.id, 'id', ID_RULE),
    node: REPEATING.node.checked(o.node),
    timeUs: checkInt(o.timeUs, 'timeUs', 0, Number.MAX_SAFE_INTEGER),
    vmid: checkInt(o.vmid, 'vmid', 0, FIELD_LIMITS.vmidMax),
    level: checkInt(o.level, 'level', 0, FIELD_LIMITS.levelMax),
    chain: REPEATING.chain.checked(o.chain),
    verdict: REPEATING.verdict.checked(o.verdict),
    action: checkOneOf(o.action, 'action', LOG_ACTIONS),
    isPolicy: checkBoolean(o.isPolicy, 'isPolicy'),
    direction: checkOneOf(o.direction, 'direction', LOG_DIRECTIONS),
  } as Mutable<PacketLogEntry>; // `packet` follows the optional fields, as in the encoder's text
  const { ruleId, rule, iif, oif, physIn, physOut, mac, family, proto, src, dst, sport, dport, icmpType, icmpCode, len, tcpFlags, mark } = o;
  if (ruleId !== undefined) e.ruleId = REPEATING.ruleId.checked(ruleId);
  if (rule !== undefined) e.rule = ruleCopy(rule);
  if (iif !== undefined) e.iif = REPEATING.iif.checked(iif);
  if (oif !== undefined) e.oif = REPEATING.oif.checked(oif);
  if (physIn !== undefined) e.physIn = REPEATING.physIn.checked(physIn);
  if (physOut !== undefined) e.physOut = REPEATING.physOut.checked(physOut);
  if (mac !== undefined) e.mac = checkMac(mac);
  if (family !== undefined) e.family = checkFamily(family);
  if (proto !== undefined) e.proto = REPEATING.proto.checked(proto);
  if (src !== undefined) e.src = checkAddress(src, 'src');
  if (dst !== undefined) e.dst = checkAddress(dst, 'dst');
  if (sport !== undefined) e.sport = checkInt(sport, 'sport', 0, FIELD_LIMITS.portMax);
  if (dport !== undefined) e.dport = checkInt(dport, 'dport', 0, FIELD_LIMITS.portMax);
  if (icmpType !== undefined) e.icmpType = checkInt(icmpType, 'icmpType', 0, FIELD_LIMITS.icmpMax);
  if (icmpCode !== undefined) e.icmpCode = checkInt(icmpCode, 'icmpCode', 0, FIELD_LIMITS.icmpMax);
  if (len !== undefined) e.len = checkInt(len, 'len', 0, FIELD_LIMITS.lenMax);
  if (tcpFlags !== undefined) e.tcpFlags = [...checkFlags(tcpFlags)];
  if (mark !== undefined) e.mark = checkInt(mark, 'mark', 0, FIELD_LIMITS.markMax);
  const packet = o.packet;
  e.packet = textsClean && typeof packet === 'string' && packet.length <= PACKET_RULE.maxChars ? packet : checkText(packet, 'packet', PACKET_RULE);
  return e;
}

/**
 * Whether no string JSON.parse makes of these UTF-8 bytes can hold a control character: JSON
 * allows C0 characters in a string only as escapes (a backslash), and DEL only raw; a
 * multi-byte UTF-8 sequence never decodes to either. One native scan of the message for the two
 * bytes (Buffer's indexOf is memchr; a Uint8Array's is a loop) instead of one per string.
 */
export function jsonTextsClean(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.indexOf(0x5c) < 0 && b.indexOf(0x7f) < 0;
}
