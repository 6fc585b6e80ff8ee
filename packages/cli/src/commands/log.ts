/**
 * `palisade log`: the central firewall log (palisade-logger, `palisade.log.v1`). Lines in
 * pvefw-logger's format by default, `--json` one object per entry, `--follow` to keep reading,
 * `--top` for the most frequent sources, ports, rules or guests; `palisade log explain ID` names
 * the rule behind an entry with document:line.
 *
 * Exit codes: 0 ok, 1 the logger refused or the entry is unknown, 2 usage or connection.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ConfigClientError, LogFilter, createLogClient, type LogClient } from '@palisade/api';
import { formatLossLine, formatPvefwLine, formatPvefwTime, type LogEntry } from '@palisade/log-model';
import type { RegisterCommand } from '../command.js';
import { CliExit, EXIT } from '../exit.js';

/** palisade-logger's address when neither --logger nor PALISADE_LOGGER is given. */
export const DEFAULT_LOGGER = '127.0.0.1:7402';
/** Entries printed without --limit. */
export const DEFAULT_LOG_LIMIT = 50;

interface LogOpts {
  readonly logger?: string;
  readonly token?: string;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly timeout?: string;
  readonly node?: string;
  readonly vm?: string;
  readonly since?: string;
  readonly until?: string;
  readonly action?: string;
  readonly source?: string;
  readonly dest?: string;
  readonly sport?: string;
  readonly dport?: string;
  readonly proto?: string;
  readonly rule?: string;
  readonly chain?: string;
  readonly direction?: string;
  readonly losses?: boolean;
  readonly limit?: string;
  readonly follow?: boolean;
  readonly count?: string;
  readonly json?: boolean;
  readonly top?: string;
  readonly timeZone?: string;
  readonly newestFirst?: boolean;
}

const out = (s: string): void => void process.stdout.write(s);

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliExit(EXIT.usage, `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

function connectLogger(o: LogOpts): { client: LogClient; address: string } {
  const address = o.logger ?? process.env.PALISADE_LOGGER ?? DEFAULT_LOGGER;
  if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(address)) throw new CliExit(EXIT.usage, `--logger expects HOST:PORT, got '${address}'`);
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new CliExit(EXIT.usage, '--tls-cert and --tls-key go together');
  const timeoutMs = Number(o.timeout ?? 30_000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliExit(EXIT.usage, '--timeout expects milliseconds');
  const token = o.token ?? process.env.PALISADE_TOKEN;
  const tls =
    o.tlsCa || o.tlsCert
      ? { ...(o.tlsCa ? { ca: readPem(o.tlsCa, '--tls-ca') } : {}), ...(o.tlsCert ? { cert: readPem(o.tlsCert, '--tls-cert'), key: readPem(o.tlsKey!, '--tls-key') } : {}) }
      : undefined;
  return { client: createLogClient({ address, ...(token ? { token } : {}), ...(tls ? { tls } : {}), timeoutMs }), address };
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A time option as µs since the epoch: epoch seconds (`1735689600`), a span back from now
 * (`15m`, `2h`, `7d`), or a date/time `Date.parse` reads (`2025-02-03T10:00:00Z`, `2025-02-03`).
 */
export function parseLogTime(text: string, what: string, nowMs = Date.now()): number {
  if (/^\d+$/.test(text)) return Number(text) * 1e6;
  const rel = /^(\d+)([smhdw])$/.exec(text);
  if (rel) return (nowMs - Number(rel[1]) * UNIT_MS[rel[2]!]!) * 1000;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliExit(EXIT.usage, `${what} expects epoch seconds, a span like 15m/2h/7d, or a date/time, got '${text}'`);
  return ms * 1000;
}

function intOpt(value: string | undefined, what: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > max) throw new CliExit(EXIT.usage, `${what} expects an integer 0–${max}, got '${value}'`);
  return Number(value);
}

function filterOf(o: LogOpts): LogFilter {
  const vmid = intOpt(o.vm, '--vm', 0xffffffff);
  const sport = intOpt(o.sport, '--sport', 65535);
  const dport = intOpt(o.dport, '--dport', 65535);
  return LogFilter.fromPartial({
    node: o.node ?? '',
    ...(vmid !== undefined ? { vmid } : {}),
    chain: o.chain ?? '',
    direction: o.direction ?? '',
    action: o.action ?? '',
    src: o.source ?? '',
    dst: o.dest ?? '',
    ...(sport !== undefined ? { sport } : {}),
    ...(dport !== undefined ? { dport } : {}),
    proto: o.proto ?? '',
    ruleId: o.rule ?? '',
    kind: o.losses ? 'loss' : '',
    sinceUs: o.since ? parseLogTime(o.since, '--since') : 0,
    untilUs: o.until ? parseLogTime(o.until, '--until') : 0,
  });
}

const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

/** The `--json` object of an entry. */
export function entryJson(e: LogEntry): Record<string, unknown> {
  if (e.kind === 'loss') return { id: e.id, kind: 'loss', time: iso(e.timeUs), timeUs: e.timeUs, node: e.node, count: e.count, from: iso(e.fromUs), until: iso(e.untilUs), reason: e.reason };
  return {
    id: e.id,
    kind: 'packet',
    time: iso(e.timeUs),
    timeUs: e.timeUs,
    node: e.node,
    vmid: e.vmid,
    chain: e.chain,
    direction: e.direction,
    action: e.action,
    verdict: e.verdict,
    policy: e.isPolicy,
    proto: e.proto ?? null,
    src: e.src ?? null,
    dst: e.dst ?? null,
    sport: e.sport ?? null,
    dport: e.dport ?? null,
    rule: e.ruleId ?? null,
    ruleAt: e.rule ? `${e.rule.path}:${e.rule.line}` : null,
    ruleText: e.rule?.text ?? null,
    iif: e.iif ?? null,
    oif: e.oif ?? null,
    physIn: e.physIn ?? null,
    physOut: e.physOut ?? null,
    packet: e.packet,
  };
}

function printer(o: LogOpts): (e: LogEntry) => void {
  const tz = o.timeZone;
  if (tz) {
    try {
      formatPvefwTime(0, tz);
    } catch (err) {
      throw new CliExit(EXIT.usage, `--time-zone: ${(err as Error).message}`);
    }
  }
  return o.json
    ? (e) => out(`${JSON.stringify(entryJson(e))}\n`)
    : (e) => out(`${e.kind === 'packet' ? formatPvefwLine(e, tz) : formatLossLine(e, tz)}\n`);
}

/** Runs a body against the logger, mapping its refusals and connection failures to exit codes. */
async function withLogger(o: LogOpts, body: (c: LogClient) => Promise<void>): Promise<void> {
  const { client, address } = connectLogger(o);
  try {
    await body(client);
  } catch (err) {
    if (err instanceof ConfigClientError) {
      const refused = err.detail !== undefined && !['unavailable', 'deadline-exceeded', 'unauthenticated', 'internal', 'cancelled'].includes(err.detail.code);
      const hint = err.detail === undefined && err.grpcCode === 14 ? ` (is palisade-logger running at ${address}?)` : '';
      throw new CliExit(refused ? EXIT.refused : EXIT.usage, `${err.message}${hint}`);
    }
    throw err;
  } finally {
    client.close();
  }
}

function connectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--logger <host:port>', `palisade-logger address (default: $PALISADE_LOGGER or ${DEFAULT_LOGGER})`))
    .addOption(new Option('--token <secret>', 'access token (default: $PALISADE_TOKEN)'))
    .addOption(new Option('--tls-ca <file>', 'use TLS, trusting this CA (PEM)'))
    .addOption(new Option('--tls-cert <file>', 'client certificate for mutual TLS (PEM)'))
    .addOption(new Option('--tls-key <file>', 'key of --tls-cert (PEM)'))
    .addOption(new Option('--timeout <ms>', 'deadline of each call in milliseconds').default('30000'));
}

async function runLog(o: LogOpts): Promise<void> {
  const filter = filterOf(o);
  const limit = intOpt(o.limit, '--limit', 1_000_000);
  const print = printer(o);
  await withLogger(o, async (client) => {
    if (o.top) {
      if (!['source', 'dport', 'rule', 'vm'].includes(o.top)) throw new CliExit(EXIT.usage, `--top expects source, dport, rule or vm, got '${o.top}'`);
      const r = await client.top({ filter, by: o.top, limit: Math.min(limit ?? 10, 1000) || 10 });
      if (o.json) out(`${JSON.stringify({ by: o.top, total: r.total, groups: r.groups })}\n`);
      else for (const g of r.groups) out(`${String(g.count).padStart(10)} ${g.key}\n`);
      return;
    }
    if (o.follow) {
      const count = intOpt(o.count, '--count', Number.MAX_SAFE_INTEGER);
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let n = 0;
      try {
        if (count === 0) return;
        for await (const e of client.tail({ filter, last: filter.sinceUs ? 0 : (limit ?? 10) }, ac.signal)) {
          print(e);
          if (count !== undefined && ++n >= count) break;
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        ac.abort();
      }
      return;
    }
    // Without --since: the newest entries, printed oldest first (like `tail`). With --since: from then on.
    const newestFirst = o.newestFirst ?? !filter.sinceUs;
    const wanted = limit === 0 ? Infinity : (limit ?? DEFAULT_LOG_LIMIT);
    const got: LogEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.query({ filter, newestFirst, limit: Math.min(10_000, wanted - got.length), ...(cursor ? { cursor } : {}) });
      got.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor && got.length < wanted);
    const ordered = newestFirst && !o.newestFirst ? got.reverse() : got;
    for (const e of ordered) print(e);
  });
}

function explainText(e: LogEntry, tz: string | undefined): string {
  if (e.kind === 'loss') {
    return `${e.id}: ${e.count} entries lost on ${e.node} between ${iso(e.fromUs)} and ${iso(e.untilUs)} (${e.reason}); no rule\n`;
  }
  const lines = [
    `${e.id}: ${e.verdict} on node ${e.node}, ${e.vmid ? `guest ${e.vmid}` : 'host'}, chain ${e.chain} (${e.direction}) at ${iso(e.timeUs)}`,
    e.rule
      ? `rule ${e.ruleId ?? '?'} at ${e.rule.path}:${e.rule.line}\n  ${e.rule.text}`
      : e.ruleId
        ? `rule ${e.ruleId} (the agent did not know its document line)`
        : e.isPolicy
          ? `the chain's default policy (${e.verdict}), not a rule`
          : 'no rule id (the log prefix was not written by Palisade)',
    `line: ${formatPvefwLine(e, tz)}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `palisade log` and `palisade log explain`. */
export const registerLog: RegisterCommand = (program: Command) => {
  const log = connectionOptions(
    program
      .command('log')
      .description('Query or follow the central firewall log (palisade-logger, palisade.log.v1)')
      .option('--node <name>', 'entries of this node')
      .option('--vm <vmid>', 'entries of this guest (0 = host)')
      .option('--since <time>', 'from this time: epoch seconds, 15m/2h/7d ago, or a date/time')
      .option('--until <time>', 'up to this time (same forms)')
      .option('--action <action>', 'ACCEPT, DROP, REJECT or OTHER')
      .option('--source <cidr>', 'source address or CIDR')
      .option('--dest <cidr>', 'destination address or CIDR')
      .option('--sport <port>', 'source port')
      .option('--dport <port>', 'destination port')
      .option('--proto <proto>', 'tcp, udp, icmp, icmpv6, … or a number')
      .option('--rule <id>', 'entries of this rule id')
      .option('--chain <chain>', 'entries of this chain')
      .option('--direction <dir>', 'in, out or unknown')
      .option('--losses', 'only the loss entries (N entries lost on a node between T1 and T2)')
      .option('--limit <n>', `entries (default ${DEFAULT_LOG_LIMIT}, 0 = all; with --follow the backlog, default 10; with --top the groups, default 10)`)
      .option('--newest-first', 'print the newest entry first')
      .option('-f, --follow', 'keep printing new entries as they are stored (Ctrl-C ends)')
      .option('--count <n>', 'with --follow: stop after printing N entries')
      .option('--json', 'one JSON object per entry (time, node, vmid, chain, action, proto, src, dst, sport, dport, rule, …)')
      .option('--top <field>', 'the most frequent source, dport, rule or vm instead of entries')
      .option('--time-zone <zone>', 'IANA zone of the printed times (default: the local zone)'),
  ).action((o: LogOpts) => runLog(o));
  connectionOptions(
    log
      .command('explain')
      .argument('<entry-id>', 'the id of a log entry (see --json)')
      .description("Show an entry's rule with document:line")
      .option('--json', 'print the entry as JSON')
      .option('--time-zone <zone>', 'IANA zone of the printed time'),
  ).action(async (id: string, own: LogOpts, cmd: Command) => {
    // Options given before `explain` belong to `log`.
    const o = cmd.optsWithGlobals<LogOpts>();
    await withLogger(o, async (client) => {
      const e = await client.getEntry(id);
      if (!e) throw new CliExit(EXIT.refused, `no log entry with id '${id}'`);
      out(own.json ? `${JSON.stringify(entryJson(e))}\n` : explainText(e, own.timeZone ?? o.timeZone));
    });
  });
};
