/**
 * Renders the intermediate ruleset as libnftables JSON (`nft -j -f -`), the same transaction as
 * the text rendering: declare, delete and re-create each own table, then its content.
 * Set elements are intervals already flattened by the compiler; no `auto-merge` is needed
 * (nft 1.0.6 ignores that key in JSON anyway).
 */
import { icmpRun, type AddrInterval, type IpFamily, type Match, type NamedSet, type Rule, type Ruleset, type Stmt, type Table, type ValueSet } from '@palisade/nft-ir';
import { FAMILY_BITS, formatAddress, formatInterval } from './ip.js';
import { icmpTypeText, l4protoText } from './nft-text.js';

/** A JSON value as libnftables takes it (`nft -j -f`). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
type J = JsonValue;

function intervalJson(iv: AddrInterval): J {
  const text = formatInterval(iv);
  if (text.includes('/')) {
    const [addr, len] = text.split('/') as [string, string];
    return { prefix: { addr, len: Number(len) } };
  }
  if (iv.from !== iv.to) return { range: [formatAddress(iv.family, iv.from), formatAddress(iv.family, iv.to)] };
  return text;
}

function scalarOrSet(items: J[]): J {
  return items.length === 1 ? (items[0] as J) : { set: items };
}

function match(left: J, right: J, op: '==' | '!=' | 'in' = '=='): J {
  return { match: { op, left, right } };
}

function meta(key: string): J {
  return { meta: { key } };
}

function payload(protocol: string, field: string): J {
  return { payload: { protocol, field } };
}

function matchJson(m: Match): J[] {
  const op = (o: 'eq' | 'ne'): '==' | '!=' => (o === 'ne' ? '!=' : '==');
  switch (m.kind) {
    case 'ifname':
      return [match(meta(`${m.dir}name`), scalarOrSet(m.names.map((n) => n)), op(m.op))];
    case 'nfproto':
      return [match(meta('nfproto'), m.family === 4 ? 'ipv4' : 'ipv6')];
    case 'l4proto':
      return [match(meta('l4proto'), scalarOrSet(m.protos.map((p) => l4protoText(p))), op(m.op))];
    case 'addr': {
      const right: J = 'set' in m.value ? `@${m.value.set}` : scalarOrSet(m.value.intervals.map(intervalJson));
      return [match(payload(m.family === 4 ? 'ip' : 'ip6', m.field), right, op(m.op))];
    }
    case 'port':
      if (m.set !== undefined) return [match(payload(m.proto, m.field), `@${m.set}`, op(m.op))];
      return [match(payload(m.proto, m.field), scalarOrSet(m.ranges.map(([a, b]) => (a === b ? a : { range: [a, b] }))), op(m.op))];
    case 'icmp': {
      const proto = m.family === 4 ? 'icmp' : 'icmpv6';
      const out: J[] = [];
      const run = icmpRun(m.types);
      if (m.set !== undefined) out.push(match(payload(proto, 'type'), `@${m.set}`));
      else if (run) out.push(match(payload(proto, 'type'), { range: [icmpTypeText(m.family, run[0]), icmpTypeText(m.family, run[1])] }));
      else if (m.types.length > 0) out.push(match(payload(proto, 'type'), scalarOrSet(m.types.map((t) => icmpTypeText(m.family, t)))));
      else out.push(match(meta('l4proto'), m.family === 4 ? 'icmp' : 'ipv6-icmp'));
      if (m.code !== undefined) out.push(match(payload(proto, 'code'), m.code));
      return out;
    }
    case 'ctstate':
      // a flag list (one bitmask test), not an anonymous set
      return [match({ ct: { key: 'state' } }, m.states.length === 1 ? (m.states[0] as string) : [...m.states], 'in')];
    case 'fibtype':
      return [match({ fib: { result: 'type', flags: [m.field] } }, scalarOrSet([...m.types]))];
    case 'mark':
      return [match({ '&': [meta('mark'), m.mask >>> 0] }, m.value >>> 0, op(m.op))];
    case 'ether':
      return [match(payload('ether', 'saddr'), m.mac, op(m.op))];
    case 'tcpflags':
      return [match({ '&': [payload('tcp', 'flags'), [...m.mask]] }, m.value.length === 0 ? 0 : m.value.length === 1 ? (m.value[0] as string) : [...m.value], op(m.op))];
  }
}

function stmtJson(s: Stmt): J {
  switch (s.kind) {
    case 'accept':
    case 'drop':
    case 'return':
      return { [s.kind]: null };
    case 'jump':
    case 'goto':
      return { [s.kind]: { target: s.target } };
    case 'reject':
      if (s.with.kind === 'tcp-reset') return { reject: { type: 'tcp reset' } };
      return { reject: { type: s.with.family === 4 ? 'icmp' : 'icmpv6', expr: s.with.type } };
    case 'vmap':
      return { vmap: { key: meta(s.key), data: { set: s.entries.map(([k, v]) => [k, { [v.kind]: { target: v.target } }]) } } };
    case 'limit':
      return { limit: { rate: s.rate, per: s.per, ...(s.burst !== undefined ? { burst: s.burst } : {}) } };
    case 'log':
      return { log: { prefix: s.prefix, group: s.group } };
    case 'ctmark-set':
      return { mangle: { key: { ct: { key: 'mark' } }, value: s.value } };
    case 'mark-set':
      return { mangle: { key: meta('mark'), value: { '|': [{ '&': [meta('mark'), s.and >>> 0] }, s.or >>> 0] } } };
    case 'ct-helper-set':
      return { 'ct helper': s.name };
    case 'meter-over': {
      const bits = FAMILY_BITS[s.family];
      const key = payload(s.family === 4 ? 'ip' : 'ip6', 'saddr');
      const mask = ((1n << BigInt(s.prefix)) - 1n) << BigInt(bits - s.prefix);
      const elem: J = s.prefix < bits ? { '&': [key, formatAddress(s.family, mask)] } : key;
      return { set: { op: 'update', elem, set: `@${s.set}`, stmt: [{ limit: { rate: s.rate, per: 'second', burst: s.burst, inv: true } }] } };
    }
    case 'queue':
      // Shape of libnftables' queue_stmt_json (a single flag is a plain string).
      return { queue: { num: s.from === s.to ? s.from : { range: [s.from, s.to] }, ...(s.bypass ? { flags: 'bypass' } : {}) } };
  }
}

function setJson(t: Table, s: NamedSet): J[] {
  const base: { [k: string]: J } = { family: t.family, table: t.name, name: s.name, type: s.family === 4 ? 'ipv4_addr' : 'ipv6_addr' };
  if (s.kind === 'interval') base.flags = ['interval'];
  else {
    base.flags = ['timeout'];
    if (s.timeoutS !== undefined) base.timeout = s.timeoutS;
    if (s.size !== undefined) base.size = s.size;
  }
  if (s.comment !== undefined) base.comment = s.comment;
  const out: J[] = [{ add: { set: base } }];
  if (s.elements.length > 0) {
    out.push({ add: { element: { family: t.family, table: t.name, name: s.name, elem: s.elements.map(intervalJson) } } });
  }
  return out;
}

function valueSetJson(t: Table, s: ValueSet): J[] {
  const interval = s.ranges.some(([a, b]) => a !== b);
  const base: { [k: string]: J } = { family: t.family, table: t.name, name: s.name, type: s.type, ...(interval ? { flags: ['interval'] } : {}) };
  // ICMP types by name, as the matches spell them (a bare number is an integer, not a type)
  const one = (v: number): J => (s.type === 'inet_service' ? v : icmpTypeText(s.type === 'icmp_type' ? 4 : 6, v));
  const elem: J[] = s.ranges.map(([a, b]) => (a === b ? one(a) : { range: [one(a), one(b)] }));
  return [{ add: { set: base } }, { add: { element: { family: t.family, table: t.name, name: s.name, elem } } }];
}

function ruleJson(t: Table, chain: string, r: Rule): J {
  const expr: J[] = [...r.matches.flatMap(matchJson), ...r.stmts.map(stmtJson)];
  return { add: { rule: { family: t.family, table: t.name, chain, expr, ...(r.comment !== undefined ? { comment: r.comment } : {}) } } };
}

/** Renders the ruleset as one libnftables JSON transaction (`{"nftables": [...]}`). */
export function renderNftJson(ruleset: Ruleset, ownTables: readonly { family: string; name: string }[]): { nftables: J[] } {
  const cmds: J[] = [{ metainfo: { json_schema_version: 1 } }];
  for (const t of ownTables) {
    cmds.push({ add: { table: { family: t.family, name: t.name } } });
    cmds.push({ delete: { table: { family: t.family, name: t.name } } });
  }
  for (const t of ruleset.tables) {
    cmds.push({ add: { table: { family: t.family, name: t.name } } });
    for (const s of t.sets) cmds.push(...setJson(t, s));
    for (const s of t.valueSets ?? []) cmds.push(...valueSetJson(t, s));
    for (const h of t.ctHelpers) {
      cmds.push({ add: { 'ct helper': { family: t.family, table: t.name, name: h.name, type: h.type, protocol: h.protocol, l3proto: h.l3proto ?? 'inet' } } });
    }
    for (const c of t.chains) {
      const chain: { [k: string]: J } = { family: t.family, table: t.name, name: c.name };
      if (c.base) Object.assign(chain, { type: 'filter', hook: c.base.hook, prio: c.base.priority, policy: c.base.policy });
      cmds.push({ add: { chain } });
    }
    for (const c of t.chains) for (const r of c.rules) cmds.push(ruleJson(t, c.name, r));
  }
  return { nftables: cmds };
}

export type { IpFamily };
