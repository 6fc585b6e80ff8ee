/**
 * `palisade agent status|ruleset|simulate|counters|flush --agent HOST:PORT [--json]`: what a
 * node agent has in force, over `palisade.agent.v1.AgentService`. `--token` (or
 * $PALISADE_AGENT_TOKEN) when the agent has `--api-tokens`; flush needs an admin token.
 */
import { Metadata, credentials, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  AgentFlushRequest,
  AgentGetCountersRequest,
  AgentServiceClient,
  AgentSimulateRequest,
  GetAgentStatusRequest,
  GetRulesetRequest,
  type AgentFlushResponse,
  type AgentGetCountersResponse,
  type AgentRuleCounter,
  type AgentSimulateResponse,
  type GetAgentStatusResponse,
  type GetRulesetResponse,
} from '@palisade/api';
import { readCases } from './simulate.js';
import type { Command } from 'commander';
import type { RegisterCommand } from '../command.js';
import { CliExit, EXIT } from '../exit.js';

/** The agent's default API address (palisade-agent --listen). */
export const DEFAULT_AGENT = '127.0.0.1:7401';
const TIMEOUT_MS = 10_000;

interface AgentOpts {
  readonly agent: string;
  readonly json?: boolean;
  readonly token?: string;
}

const out = (s: string): void => void process.stdout.write(s);

function call<Req, Res>(
  opts: AgentOpts,
  fn: (c: AgentServiceClient, req: Req, md: Metadata, cb: (e: ServiceError | null, r: Res) => void) => void,
  req: Req,
): Promise<Res> {
  const address = opts.agent;
  const token = opts.token ?? process.env.PALISADE_AGENT_TOKEN;
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  const client = new AgentServiceClient(address, credentials.createInsecure());
  return new Promise<Res>((resolve, reject) => {
    client.waitForReady(Date.now() + TIMEOUT_MS, (readyErr) => {
      if (readyErr) {
        client.close();
        reject(new CliExit(EXIT.usage, `agent ${address}: ${readyErr.message}`));
        return;
      }
      fn(client, req, md, (e, r) => {
        client.close();
        // Refused by the agent (permission, nothing compiled yet, bad case): 1; unreachable: 2.
        const refused = e !== null && ![GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.UNAUTHENTICATED].includes(e.code);
        if (e) reject(new CliExit(refused ? EXIT.refused : EXIT.usage, `agent ${address}: ${e.details || e.message}`));
        else resolve(r);
      });
    });
  });
}

const time = (ms: number): string => (ms ? new Date(ms).toISOString() : '-');

function statusText(s: GetAgentStatusResponse): string {
  const where = (p: { path: string; line: number }): string => (p.path ? `${p.path}${p.line ? `:${p.line}` : ''}: ` : '');
  const lines = [
    `node: ${s.node}${s.dryRun ? ' (dry run)' : ''}`,
    `applied revision: ${s.appliedRevision} (store ${s.storeRevision}${s.inSync ? '' : ', not in sync'}; configd ${s.connected ? 'connected' : 'NOT connected'})`,
    `ruleset: ${s.rulesetDigest || '(none)'}${s.enabled ? '' : ' (firewall disabled)'}, restored at start: ${s.restored}`,
    `last apply: ${time(s.lastApplyTimeMs)} (${s.lastApplyDurationMs} ms) through ${s.applier}`,
    `counters: ${s.compiles} compiles, ${s.applies} applies, ${s.applyFailures} failed, ${s.skippedIdentical} identical (not sent), ${s.driftRepairs} drift repairs`,
    `facts: host ${s.hostAddresses.join(', ') || '-'}; local network ${s.localNetwork || '-'}; interfaces ${s.interfaces.join(', ')}`,
  ];
  if (s.flushed) lines.push("flushed: Palisade's tables are removed (palisade agent flush) until the node's documents change");
  if (s.logs) {
    const l = s.logs;
    lines.push(
      `log capture: NFLOG group ${l.nflogGroup} ${l.listening ? 'bound' : 'NOT bound'}, NATS ${l.natsConnected ? 'connected' : 'NOT connected'}; ${l.received} received, ${l.published} published, ${l.spoolPending} waiting in the spool; lost: ${l.lostKernel} in the kernel (${l.enobufs} ENOBUFS), ${l.lostSpool} spool full, ${l.decodeErrors} undecodable`,
    );
  }
  for (const p of s.confirmations) {
    lines.push(`confirm timer: ${p.path} revision ${p.changeRevision} by ${p.author} ${p.state === 'armed' ? `rolls back at ${time(p.deadlineMs)} unless 'palisade confirm ${p.changeRevision}'` : 'is being rolled back'}`);
  }
  if (s.confirmationsError) lines.push(`confirm timers unknown (configd): ${s.confirmationsError}`);
  if (s.deadmanAtMs) lines.push(`dead-man switch: firewall disabled at ${time(s.deadmanAtMs)} unless 'enable: 1' is written`);
  if (s.applyError) lines.push(`apply error (retry in ${s.applyRetryInMs} ms): ${s.applyError}`);
  if (s.refusal) lines.push(`refused (previous ruleset in force): ${where(s.refusal)}${s.refusal.code} ${s.refusal.message}`);
  for (const f of s.sysctlFailures) lines.push(`sysctl not set: ${f}`);
  for (const e of s.errors) lines.push(`${where(e)}${e.severity} ${e.code} ${e.message}`);
  return `${lines.join('\n')}\n`;
}

/** Counters summed per source rule (one rule can compile to several kernel rules). */
function countersText(counters: readonly AgentRuleCounter[]): string {
  const per = new Map<string, { where: string; id: string; text: string; packets: number; bytes: number }>();
  for (const c of counters) {
    const key = `${c.path}:${c.line} ${c.ruleId}`;
    const e = per.get(key) ?? { where: `${c.path}:${c.line}`, id: c.ruleId, text: c.ruleText, packets: 0, bytes: 0 };
    e.packets += c.packets;
    e.bytes += c.bytes;
    per.set(key, e);
  }
  return [...per.values()].map((e) => `${String(e.packets).padStart(10)} pkts ${String(e.bytes).padStart(12)} B  ${e.where}${e.id ? ` ${e.id}` : ''}  ${e.text}\n`).join('');
}

const SIM_KEYS = ['from', 'to', 'proto', 'dport', 'sport', 'source', 'dest', 'srctype', 'dsttype'] as const;
type SimFlags = AgentOpts & Partial<Record<(typeof SIM_KEYS)[number], string>> & { readonly cases?: string };

/** A subcommand of `palisade agent` with the options every one takes: `--agent` and `--token`. */
function agentCommand(agent: Command, name: string): Command {
  return agent
    .command(name)
    .option('--agent <host:port>', 'agent API address', DEFAULT_AGENT)
    .option('--token <secret>', 'agent API token (default: $PALISADE_AGENT_TOKEN)');
}

/** `palisade agent status|ruleset|simulate|counters|flush`. */
export const registerAgent: RegisterCommand = (program: Command, setExit) => {
  const agent = program.command('agent').description('Ask a node agent what it has in force (palisade.agent.v1)');
  agentCommand(agent, 'status')
    .description('Applied revision, ruleset digest, errors with document:line, facts, counters (exit 1 when refused or failing)')
    .option('--json', 'print JSON (node, appliedRevision, rulesetDigest, errors, confirmations, ...)')
    .action(async (opts: AgentOpts) => {
      const s = await call<GetAgentStatusRequest, GetAgentStatusResponse>(opts, (c, r, md, cb) => c.getStatus(r, md, cb), GetAgentStatusRequest.fromPartial({}));
      out(opts.json ? `${JSON.stringify(s, null, 2)}\n` : statusText(s));
      if (s.refusal || s.applyError) setExit(EXIT.refused);
    });
  agentCommand(agent, 'ruleset')
    .description('The nft transaction in force')
    .option('--json', 'print JSON (nftText, rulesetDigest, appliedRevision)')
    .action(async (opts: AgentOpts) => {
      const r = await call<GetRulesetRequest, GetRulesetResponse>(opts, (c, q, md, cb) => c.getRuleset(q, md, cb), GetRulesetRequest.fromPartial({}));
      out(opts.json ? `${JSON.stringify(r, null, 2)}\n` : r.nftText);
    });
  agentCommand(agent, 'simulate')
    .description('Evaluate packets against the ruleset in force on the node (the cases of palisade simulate; exit 1 when a case fails)')
    .option('--json', 'print one JSON object per case')
    .option('--from <zone>', 'zone the packet comes from')
    .option('--to <zone>', 'zone the packet goes to')
    .option('--proto <p>', 'protocol (default tcp)')
    .option('--dport <port>', 'destination port, or an ICMP type for icmp')
    .option('--sport <port>', 'source port')
    .option('--source <ip>', 'source address')
    .option('--dest <ip>', 'destination address')
    .option('--srctype <type>', 'source address type')
    .option('--dsttype <type>', 'destination address type')
    .option('--cases <file>', 'JSON lines of cases (- for stdin), as palisade simulate --cases')
    .action(async (opts: SimFlags) => {
      const blank = Object.fromEntries(SIM_KEYS.map((k) => [k, ''])) as Record<(typeof SIM_KEYS)[number], string>;
      let cases: Record<(typeof SIM_KEYS)[number], string>[];
      if (opts.cases !== undefined) {
        if (opts.from !== undefined || opts.to !== undefined) throw new CliExit(EXIT.usage, '--cases cannot be combined with --from/--to');
        const read = await readCases(opts.cases);
        for (const c of read) if (typeof c.value === 'string') throw new CliExit(EXIT.usage, `${opts.cases}:${c.line}: ${c.value}`);
        cases = read.map((c) => ({ ...blank, ...Object.fromEntries(Object.entries(c.value).map(([k, v]) => [k, String(v)])) }));
      } else {
        if (opts.from === undefined || opts.to === undefined) throw new CliExit(EXIT.usage, 'give --from and --to, or --cases FILE');
        cases = [{ ...blank, ...Object.fromEntries(SIM_KEYS.filter((k) => opts[k] !== undefined).map((k) => [k, opts[k]!])) }];
      }
      const r = await call<AgentSimulateRequest, AgentSimulateResponse>(opts, (c, q, md, cb) => c.simulate(q, md, cb), AgentSimulateRequest.fromPartial({ cases }));
      for (const res of r.results) {
        if (res.error) setExit(EXIT.refused);
        if (opts.json || opts.cases !== undefined) out(`${res.resultJson}\n`);
        else out(res.error ? `ERROR ${res.error}\n` : res.text);
      }
    });
  agentCommand(agent, 'counters')
    .description("Packets and bytes each rule matched, read from the node's kernel, per document:line and rule id")
    .option('--json', 'print JSON (every kernel rule: path, line, ruleId, chain, index, packets, bytes)')
    .action(async (opts: AgentOpts) => {
      const r = await call<AgentGetCountersRequest, AgentGetCountersResponse>(opts, (c, q, md, cb) => c.getCounters(q, md, cb), AgentGetCountersRequest.fromPartial({}));
      out(opts.json ? `${JSON.stringify(r, null, 2)}\n` : countersText(r.counters));
    });
  agentCommand(agent, 'flush')
    .description("Remove Palisade's tables from the node's kernel on purpose (the node is OPEN until its documents change); admin token")
    .option('--json', 'print JSON')
    .action(async (opts: AgentOpts) => {
      const r = await call<AgentFlushRequest, AgentFlushResponse>(opts, (c, q, md, cb) => c.flush(q, md, cb), AgentFlushRequest.fromPartial({}));
      out(opts.json ? `${JSON.stringify(r, null, 2)}\n` : `removed: ${r.removedTables.join(', ') || '(nothing)'}\n`);
    });
};
