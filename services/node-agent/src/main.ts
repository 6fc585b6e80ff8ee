#!/usr/bin/env node
/**
 * `palisade-agent`: the only place that reads argv, files named on the command line and
 * signals, and calls process.exit. Exit codes: 0 clean stop, 1 runtime failure, 2 usage.
 */
import { createRootLogger, isEntryPoint, parseServiceCommandLine, splitList, stringArgs } from '@palisade/service-kit';
import { createNodeAgent } from './app.js';
import { AgentError } from './errors.js';
import { AGENT_DEFAULTS } from './options.js';
import { parseAgentApiTokens } from './rpc/agent-service.js';
import { AGENT_VERSION } from './version.js';
import { NATS_CREDENTIAL_ARGS, natsCredentialFlags, natsSecurityFromFlags } from '@palisade/nats-kit';

const HELP = `Usage: palisade-agent --node NAME --data DIR [options]

The node agent follows configd and keeps this node's nftables ruleset in the kernel: it
compiles cluster.fw, the node's host.fw, its guests' configs and .fw documents, corosync.conf
and sdn/firewall/*.fw, and applies the result as one atomic transaction that replaces only
Palisade's own tables. It never opens the node: a refused configuration or a failed apply keeps
the previous ruleset, a restart restores the last-known-good one from --data before configd
answers, and stopping or killing the agent leaves the ruleset in force.

Required:
  --node NAME            this node's name (nodes/NAME/ in the store)
  --data DIR             state directory: the last-known-good ruleset and its revision

Options:
  --configd HOST:PORT    configd to follow (default ${AGENT_DEFAULTS.configd})
  --token T              bearer token for configd (role "agent" or "admin")
  --token-file F         read the token from file F (first line); instead of --token
  --tls-ca F             connect to configd over TLS, trusting this CA (PEM)
  --tls-cert F           client certificate for mutual TLS (PEM; with --tls-key)
  --tls-key F            key of --tls-cert (PEM)
  --netns NS             apply to, and read facts from, network namespace NS instead of the
                         agent's own (the demo and tests: one namespace per node)
  --nflog-group N        NFLOG group the compiled log rules send to and the log capture
                         listens on (default ${AGENT_DEFAULTS.nflogGroup}; not 0, pvefw-logger's and ulogd's)
  --applier netlink|nft  how rulesets reach the kernel (default netlink): netlink sends one
                         atomic batch of only what changed (nothing when the compile is the
                         same); nft runs nft -f - with the whole text (netlink falls back to it
                         only for a last-known-good text restored after a restart)
  --dry-run              compile and report (log lines with the status), never touch the
                         kernel and never write --data
  --listen HOST:PORT     agent API (palisade.agent.v1: status, ruleset, simulate, counters,
                         flush) (default ${AGENT_DEFAULTS.listen}; "none": no API); without
                         --api-tokens open access, so loopback only
  --api-tokens F         tokens of the agent API (configd's tokens file: "name role secret"
                         per line); every role reads, only admin may flush
  --metrics HOST:PORT    Prometheus metrics on GET /metrics (default: none): applies, apply
                         duration, propagation lag, failures, refusals, drift repairs
  --nats URL[,URL...]    capture the firewall log (NFLOG, in --netns) and publish each entry
                         to JetStream stream PALISADE_LOG, subject palisade.log.NODE; spooled
                         (bounded) while NATS is away, losses sent as entries (default: no capture)
  --nats-user NAME       NATS user for the log entries (deploy/nats/: user "agent"), with its
  --nats-password-file F password in file F; or --nats-creds FILE (a .creds file) or
                         --nats-token-file FILE
  --nats-ca F            CA of the NATS servers' certificates (tls:// URLs)
  --log-batch-entries N  log entries per JetStream message, 1-4096 (default ${AGENT_DEFAULTS.logBatchEntries}, and at most
                         256 KiB); 1 publishes one entry per message, the form loggers older than
                         batch messages read (update the loggers before the agents)
  --log-level LEVEL      fatal, error, warn, info, debug, trace (default info)
  -h, --help             show this help
  -V, --version          show the version

Coalescing: a change that finds the agent idle is applied at once; a burst ${AGENT_DEFAULTS.quietMs} ms after its last change,
and at least every ${AGENT_DEFAULTS.maxDelayMs} ms during a continuous stream of changes; nothing is sent when the compiled ruleset is
byte-identical to the one in force. A failed apply is retried after ${AGENT_DEFAULTS.retryInitialMs} ms, doubling up to
${AGENT_DEFAULTS.retryMaxMs / 1000} s. Changes to Palisade's tables made outside the agent are found within ${AGENT_DEFAULTS.driftCheckMs / 1000} s (the
ruleset generation is read that often) and repaired. Cluster "enable: 0" removes Palisade's tables (as Proxmox does); "enable: <unix
time>" keeps the firewall enabled until 60 s after that time unless "enable: 1" is written.

Signals: SIGTERM/SIGINT stop gracefully (the watch ends, a running apply finishes; the ruleset
stays in force); a second signal forces the exit.
`;

const OPTIONS = {
  ...stringArgs('node', 'configd', 'token', 'token-file', 'tls-ca', 'tls-cert', 'tls-key', 'data', 'netns', 'listen'),
  ...stringArgs('api-tokens', 'metrics', 'nats', 'nflog-group', 'applier', 'log-batch-entries'),
  ...NATS_CREDENTIAL_ARGS,
  'dry-run': { type: 'boolean' },
} as const;

/** Start errors of the agent's parts that are the user's: an option they refused. */
function isUsageError(err: unknown): boolean {
  if (err instanceof AgentError) return err.code === 'invalid-argument';
  const named = err instanceof Error && (err.name === 'AddressError' || err.name === 'GrpcServerError' || err.name === 'MetricsServerError');
  return named && (err as { code?: string }).code === 'invalid-argument';
}

/** The `palisade-agent` command: parses `argv` (after `node main.js`), runs the agent until a signal, exits 0, 1 or 2 (file header). */
export async function main(argv: readonly string[]): Promise<void> {
  const cli = parseServiceCommandLine(
    { program: 'palisade-agent', version: AGENT_VERSION, help: HELP, options: OPTIONS, required: ['node', 'data'] },
    argv,
    process,
  );
  if (!cli) return;
  const { values, usage, readFile } = cli;
  if (values.token && values['token-file']) usage('--token and --token-file exclude each other');
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) usage('--tls-cert and --tls-key go together');
  if (values['tls-cert'] && !values['tls-ca']) usage('--tls-cert needs --tls-ca');
  const nflog = values['nflog-group'];
  if (nflog !== undefined && !/^\d+$/.test(nflog)) usage(`--nflog-group expects a number, got '${nflog}'`);
  const batchEntries = values['log-batch-entries'];
  if (batchEntries !== undefined && !/^\d+$/.test(batchEntries)) usage(`--log-batch-entries expects a number, got '${batchEntries}'`);
  const token = values['token-file'] ? cli.readFirstLine(values['token-file'], '--token-file') : values.token;
  const apiTokensFile = values['api-tokens'];
  const apiTokens = apiTokensFile !== undefined ? cli.parseFile(apiTokensFile, '--api-tokens', parseAgentApiTokens, '--api-tokens: ') : undefined;
  const logger = createRootLogger({ service: 'node-agent', node: values.node!, version: AGENT_VERSION, level: cli.logLevel });
  const natsSecurity = cli.orUsage(() => natsSecurityFromFlags(natsCredentialFlags(values), readFile));
  await cli.startService(
    () =>
      createNodeAgent({
        node: values.node!,
        dataDir: values.data!,
        ...(values.configd ? { configd: values.configd } : {}),
        ...(token ? { token } : {}),
        ...(values['tls-ca']
          ? {
              tls: {
                ca: readFile(values['tls-ca'], '--tls-ca'),
                ...(values['tls-cert'] ? { cert: readFile(values['tls-cert'], '--tls-cert'), key: readFile(values['tls-key']!, '--tls-key') } : {}),
              },
            }
          : {}),
        ...(values.netns ? { netns: values.netns } : {}),
        ...(values.metrics ? { metrics: values.metrics } : {}),
        ...(values.listen ? { listen: values.listen === 'none' ? (false as const) : values.listen } : {}),
        ...(nflog !== undefined ? { nflogGroup: Number(nflog) } : {}),
        ...(batchEntries !== undefined ? { logBatchEntries: Number(batchEntries) } : {}),
        ...(apiTokens ? { apiTokens } : {}),
        ...(values.nats ? { nats: splitList(values.nats) } : {}),
        ...(natsSecurity.auth || natsSecurity.tlsCa ? { natsSecurity } : {}),
        dryRun: values['dry-run'] ?? false,
        ...(values.applier ? { applierKind: values.applier as 'netlink' | 'nft' } : {}),
        logger,
      }),
    { logger, failureMessage: 'node agent failed to start', isUsageError },
  );
}

if (isEntryPoint(import.meta.url)) await main(process.argv.slice(2));
