/**
 * `palisade agent status|ruleset --agent HOST:PORT [--json]`: what a node agent has in force,
 * over `palisade.agent.v1.AgentService` (open access on the agent's loopback listener).
 */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { AgentServiceClient, GetAgentStatusRequest, GetRulesetRequest, type GetAgentStatusResponse, type GetRulesetResponse } from '@palisade/api';
import type { Command } from 'commander';
import type { RegisterCommand } from '../command.js';
import { CliExit, EXIT } from '../exit.js';

/** The agent's default API address (palisade-agent --listen). */
export const DEFAULT_AGENT = '127.0.0.1:7401';
const TIMEOUT_MS = 10_000;

interface AgentOpts {
  readonly agent: string;
  readonly json?: boolean;
}

const out = (s: string): void => void process.stdout.write(s);

function call<Req, Res>(address: string, fn: (c: AgentServiceClient, req: Req, cb: (e: ServiceError | null, r: Res) => void) => void, req: Req): Promise<Res> {
  const client = new AgentServiceClient(address, credentials.createInsecure());
  return new Promise<Res>((resolve, reject) => {
    client.waitForReady(Date.now() + TIMEOUT_MS, (readyErr) => {
      if (readyErr) {
        client.close();
        reject(new CliExit(EXIT.usage, `agent ${address}: ${readyErr.message}`));
        return;
      }
      fn(client, req, (e, r) => {
        client.close();
        if (e) reject(new CliExit(EXIT.usage, `agent ${address}: ${e.details || e.message}`));
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
  if (s.deadmanAtMs) lines.push(`dead-man switch: firewall disabled at ${time(s.deadmanAtMs)} unless 'enable: 1' is written`);
  if (s.applyError) lines.push(`apply error (retry in ${s.applyRetryInMs} ms): ${s.applyError}`);
  if (s.refusal) lines.push(`refused (previous ruleset in force): ${where(s.refusal)}${s.refusal.code} ${s.refusal.message}`);
  for (const f of s.sysctlFailures) lines.push(`sysctl not set: ${f}`);
  for (const e of s.errors) lines.push(`${where(e)}${e.severity} ${e.code} ${e.message}`);
  return `${lines.join('\n')}\n`;
}

/** `palisade agent status|ruleset`. */
export const registerAgent: RegisterCommand = (program: Command, setExit) => {
  const agent = program.command('agent').description('Ask a node agent what it has in force (palisade.agent.v1)');
  agent
    .command('status')
    .description('Applied revision, ruleset digest, errors with document:line, facts, counters (exit 1 when refused or failing)')
    .option('--agent <host:port>', 'agent API address', DEFAULT_AGENT)
    .option('--json', 'print JSON (node, appliedRevision, rulesetDigest, errors, ...)')
    .action(async (opts: AgentOpts) => {
      const s = await call<GetAgentStatusRequest, GetAgentStatusResponse>(opts.agent, (c, r, cb) => c.getStatus(r, cb), GetAgentStatusRequest.fromPartial({}));
      out(opts.json ? `${JSON.stringify(s, null, 2)}\n` : statusText(s));
      if (s.refusal || s.applyError) setExit(EXIT.refused);
    });
  agent
    .command('ruleset')
    .description('The nft transaction in force')
    .option('--agent <host:port>', 'agent API address', DEFAULT_AGENT)
    .option('--json', 'print JSON (nftText, rulesetDigest, appliedRevision)')
    .action(async (opts: AgentOpts) => {
      const r = await call<GetRulesetRequest, GetRulesetResponse>(opts.agent, (c, q, cb) => c.getRuleset(q, cb), GetRulesetRequest.fromPartial({}));
      out(opts.json ? `${JSON.stringify(r, null, 2)}\n` : r.nftText);
    });
};
