/**
 * `palisade.log.v1.LogEntry` ⇄ `@palisade/log-model`'s `LogEntry`: the logger sends what it
 * stores, clients get back the model's entry (and with it pvefw-logger's line format).
 */
import { validateLogEntry, type LogEntry as ModelEntry, type PacketLogEntry } from '@palisade/log-model';
import type { LogEntry, PacketEntry } from './gen/palisade/log/v1/log_service.js';

/** The wire message of a model entry. */
export function logEntryToProto(e: ModelEntry): LogEntry {
  if (e.kind === 'loss') {
    return { id: e.id, node: e.node, timeUs: e.timeUs, body: { $case: 'loss', value: { count: e.count, fromUs: e.fromUs, untilUs: e.untilUs, reason: e.reason } } };
  }
  const p: PacketEntry = {
    vmid: e.vmid,
    level: e.level,
    chain: e.chain,
    verdict: e.verdict,
    action: e.action,
    isPolicy: e.isPolicy,
    direction: e.direction,
    ruleId: e.ruleId ?? '',
    rule: e.rule ? { ...e.rule } : undefined,
    iif: e.iif ?? '',
    oif: e.oif ?? '',
    physIn: e.physIn ?? '',
    physOut: e.physOut ?? '',
    mac: e.mac ?? '',
    family: e.family === undefined ? '' : String(e.family),
    proto: e.proto ?? '',
    src: e.src ?? '',
    dst: e.dst ?? '',
    sport: e.sport,
    dport: e.dport,
    icmpType: e.icmpType,
    icmpCode: e.icmpCode,
    len: e.len,
    tcpFlags: [...(e.tcpFlags ?? [])],
    mark: e.mark,
    packet: e.packet,
  };
  return { id: e.id, node: e.node, timeUs: e.timeUs, body: { $case: 'packet', value: p } };
}

/**
 * The model entry of a wire message, validated as the log-model codec validates (throws its
 * `LogModelError` naming the field when the server sent something off the contract).
 */
export function logEntryFromProto(m: LogEntry): ModelEntry {
  const base = { id: m.id, node: m.node, timeUs: m.timeUs };
  if (m.body?.$case === 'loss') return validateLogEntry({ kind: 'loss', ...base, ...m.body.value });
  const p = m.body?.value;
  const opt = <K extends keyof PacketLogEntry>(k: K, v: PacketLogEntry[K] | '' | undefined): Partial<PacketLogEntry> =>
    v === undefined || v === '' ? {} : ({ [k]: v });
  return validateLogEntry({
    kind: p ? 'packet' : undefined,
    ...base,
    ...(p
      ? {
          vmid: p.vmid,
          level: p.level,
          chain: p.chain,
          verdict: p.verdict,
          action: p.action,
          isPolicy: p.isPolicy,
          direction: p.direction,
          ...opt('ruleId', p.ruleId),
          ...(p.rule ? { rule: { ...p.rule } } : {}),
          ...opt('iif', p.iif),
          ...opt('oif', p.oif),
          ...opt('physIn', p.physIn),
          ...opt('physOut', p.physOut),
          ...opt('mac', p.mac),
          ...(p.family === '' ? {} : { family: p.family === 'arp' ? 'arp' : Number(p.family) }),
          ...opt('proto', p.proto),
          ...opt('src', p.src),
          ...opt('dst', p.dst),
          ...opt('sport', p.sport),
          ...opt('dport', p.dport),
          ...opt('icmpType', p.icmpType),
          ...opt('icmpCode', p.icmpCode),
          ...opt('len', p.len),
          ...(p.tcpFlags.length > 0 ? { tcpFlags: [...p.tcpFlags] } : {}),
          ...opt('mark', p.mark),
          packet: p.packet,
        }
      : {}),
  });
}
