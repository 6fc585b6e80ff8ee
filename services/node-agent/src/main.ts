#!/usr/bin/env node
/**
 * `palisade-agent`: the only place that reads argv, files named on the command line and
 * signals, and calls process.exit. Exit codes: 0 clean stop, 1 runtime failure, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createRootLogger, exitOnStopSignals, LOG_LEVELS, type LogLevel, isEntryPoint } from '@palisade/service-kit';
import { createNodeAgent } from './app.js';
import { AgentError } from './errors.js';
import { AGENT_DEFAULTS } from './options.js';
import { parseAgentApiTokens } from './rpc/agent-service.js';
import { AGENT_VERSION } from './version.js';
import { NATS_CREDENTIAL_ARGS, natsCredentialFlags, natsSecurityFromFlags, type NatsSecurity } from '@palisade/nats-kit';

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
  --log-level LEVEL      fatal, error, warn, info, debug, trace (default info)
  -h, --help             show this help
  -V, --version          show the version

Coalescing: a change is applied ${AGENT_DEFAULTS.quietMs} ms after the last one, and at least every ${AGENT_DEFAULTS.maxDelayMs} ms
during a continuous stream of changes; nothing is sent when the compiled ruleset is
byte-identical to the one in force. A failed apply is retried after ${AGENT_DEFAULTS.retryInitialMs} ms, doubling up to
${AGENT_DEFAULTS.retryMaxMs / 1000} s. Cluster "enable: 0" removes Palisade's tables (as Proxmox does); "enable: <unix
time>" keeps the firewall enabled until 60 s after that time unless "enable: 1" is written.

Signals: SIGTERM/SIGINT stop gracefully (the watch ends, a running apply finishes; the ruleset
stays in force); a second signal forces the exit.
`;

function usage(message: string): never {
  process.stderr.write(`palisade-agent: ${message}\nTry 'palisade-agent --help'.\n`);
  process.exit(2);
}

export async function main(argv: readonly string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        node: { type: 'string' },
        configd: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        'tls-ca': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        data: { type: 'string' },
        netns: { type: 'string' },
        listen: { type: 'string' },
        'api-tokens': { type: 'string' },
        metrics: { type: 'string' },
        nats: { type: 'string' },
        ...NATS_CREDENTIAL_ARGS,
        'nflog-group': { type: 'string' },
        'dry-run': { type: 'boolean' },
        applier: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(`palisade-agent ${AGENT_VERSION}\n`);
    return;
  }
  for (const name of ['node', 'data'] as const) if (!values[name]) usage(`--${name} is required`);
  if (values.token && values['token-file']) usage('--token and --token-file exclude each other');
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) usage('--tls-cert and --tls-key go together');
  if (values['tls-cert'] && !values['tls-ca']) usage('--tls-cert needs --tls-ca');
  const level = values['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) usage(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  const nflog = values['nflog-group'];
  if (nflog !== undefined && !/^\d+$/.test(nflog)) usage(`--nflog-group expects a number, got '${nflog}'`);
  const readFile = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      usage(`cannot read ${what} ${path}: ${(err as Error).message}`);
    }
  };
  const token = values['token-file'] ? (readFile(values['token-file'], '--token-file').toString('utf8').split('\n')[0] ?? '').trim() : values.token;
  const apiTokensFile = values['api-tokens'];
  let apiTokens;
  try {
    apiTokens = apiTokensFile !== undefined ? parseAgentApiTokens(readFile(apiTokensFile, '--api-tokens').toString('utf8'), apiTokensFile) : undefined;
  } catch (err) {
    usage(`--api-tokens: ${(err as Error).message}`);
  }
  const logger = createRootLogger({ service: 'node-agent', node: values.node!, version: AGENT_VERSION, level: level as LogLevel });
  let natsSecurity: NatsSecurity = {};
  try {
    natsSecurity = natsSecurityFromFlags(natsCredentialFlags(values), readFile);
  } catch (err) {
    usage((err as Error).message);
  }
  let agent;
  try {
    agent = await createNodeAgent({
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
      ...(apiTokens ? { apiTokens } : {}),
      ...(values.nats ? { nats: values.nats.split(',').map((u) => u.trim()).filter(Boolean) } : {}),
      ...(natsSecurity.auth || natsSecurity.tlsCa ? { natsSecurity } : {}),
      dryRun: values['dry-run'] ?? false,
      ...(values.applier ? { applierKind: values.applier as 'netlink' | 'nft' } : {}),
      logger,
    });
  } catch (err) {
    if (err instanceof AgentError && err.code === 'invalid-argument') usage(err.message);
    if (err instanceof Error && (err.name === 'AddressError' || err.name === 'GrpcServerError' || err.name === 'MetricsServerError') && (err as { code?: string }).code === 'invalid-argument') usage(err.message);
    logger.fatal({ err }, 'node agent failed to start');
    process.exit(1);
  }
  exitOnStopSignals(agent, { logger, signals: process, exit: (code) => process.exit(code) });
}

if (isEntryPoint(import.meta.url)) await main(process.argv.slice(2));
