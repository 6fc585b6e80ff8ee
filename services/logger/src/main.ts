#!/usr/bin/env node
/**
 * `palisade-logger`: the only place that reads argv, files named on the command line, the host
 * name and signals, and calls process.exit. Exit codes: 0 clean stop, 1 runtime failure, 2 usage.
 */
import { hostname } from 'node:os';
import { SERVER_TLS_ARGS, isEntryPoint, parseServiceCommandLine, splitList, stringArgs } from '@palisade/service-kit';
import { createLogService } from './app.js';
import { LoggerError } from './errors.js';
import { createLogger } from './logger.js';
import { LOGGER_DEFAULTS, parseBytes, parseDuration } from './options.js';
import { parseTokensFile } from './rpc/auth.js';
import { LOGGER_VERSION } from './version.js';
import { NATS_CREDENTIAL_ARGS, natsCredentialFlags, natsSecurityFromFlags } from '@palisade/nats-kit';

const days = (ms: number): string => `${ms / 86_400_000}d`;

const HELP = `Usage: palisade-logger --nats URL[,URL...] --listen HOST:PORT --data DIR [options]

The central firewall log: reads every node's entries from the PALISADE_LOG JetStream stream
(created if missing) with a durable consumer of its own, keeps them in an indexed LMDB store
and answers palisade.log.v1 (Query, Tail, Top, ProxmoxLog) over gRPC. Several loggers may run,
each with its own --consumer and a complete store.

Required:
  --nats URL[,URL...]    NATS servers, local one first (e.g. nats://127.0.0.1:4222)
  --listen HOST:PORT     gRPC address (default port 7402); without --tokens only loopback
  --data DIR             data directory; the store lives in DIR/log

Options:
  --nats-user NAME       NATS user of this logger, with its password in
  --nats-password-file F file F
  --nats-creds FILE      or a NATS .creds file (user JWT and nkey seed)
  --nats-token-file FILE or a NATS token in FILE
  --nats-ca FILE         CA of the NATS servers' client TLS certificates (tls:// URLs)
  --consumer NAME        durable consumer name, unique per logger (default logger-<hostname>)
  --retention DURATION   keep entries this long by their time: 30d, 12h, 90m, 0 = forever
                         (default ${days(LOGGER_DEFAULTS.retentionMs)}); swept every 10 s
  --max-bytes N          keep the store under N bytes of LMDB pages (K, M, G, T suffixes;
                         0 = no limit, the default); the oldest entries go first
  --tokens FILE          access tokens, one "name role secret" per line (configd's file
                         format); roles admin and reader may read the log, agent may not
  --tls-cert FILE        serve gRPC over TLS with this certificate chain (PEM)
  --tls-key FILE         private key of --tls-cert (PEM)
  --tls-ca FILE          require client certificates signed by this CA (mutual TLS)
  --metrics HOST:PORT    serve Prometheus metrics on GET http://HOST:PORT/metrics
  --replicas N|auto      replicas of the stream when the logger creates it (default auto:
                         3 when the NATS cluster has 3 or more servers, else 1)
  --time-zone ZONE       IANA zone of Proxmox-format lines (default: the local zone)
  --log-level LEVEL      pino level: fatal, error, warn, info, debug, trace (default info)
  -h, --help             show this help
  -V, --version          show the version

Signals: SIGTERM/SIGINT stop gracefully (Tail streams end, calls finish, what was read is
committed and acknowledged, LMDB closes); a second signal forces the exit.
`;

function defaultConsumer(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 50) || 'host';
  return `logger-${host}`;
}

const OPTIONS = {
  ...stringArgs('nats', 'listen', 'data', 'consumer', 'retention', 'max-bytes', 'tokens', 'metrics', 'replicas', 'time-zone'),
  ...SERVER_TLS_ARGS,
  ...NATS_CREDENTIAL_ARGS,
} as const;

/**
 * Runs palisade-logger with `argv` (without node and the script); returns after `--help` or
 * `--version`, exits 2 on a usage error and 1 when the logger cannot start.
 */
export async function main(argv: readonly string[]): Promise<void> {
  const cli = parseServiceCommandLine(
    { program: 'palisade-logger', version: LOGGER_VERSION, help: HELP, options: OPTIONS, required: ['nats', 'listen', 'data'] },
    argv,
    process,
  );
  if (!cli) return;
  const { values, usage } = cli;
  const { tls } = cli.serverTls();
  const tokens = values.tokens !== undefined ? cli.parseFile(values.tokens, '--tokens', parseTokensFile) : undefined;
  if (tokens?.length === 0) usage(`${values.tokens} defines no token`);
  const consumer = values.consumer ?? defaultConsumer();
  const retentionMs = values.retention !== undefined ? cli.orUsage(() => parseDuration(values.retention!, '--retention')) : undefined;
  const maxBytes = values['max-bytes'] !== undefined ? cli.orUsage(() => parseBytes(values['max-bytes']!, '--max-bytes')) : undefined;
  let replicas: number | 'auto' | undefined;
  if (values.replicas !== undefined && values.replicas !== 'auto') {
    if (!/^\d+$/.test(values.replicas)) usage(`--replicas expects a number or 'auto', got '${values.replicas}'`);
    replicas = Number(values.replicas);
  }
  const nats = cli.orUsage(() => natsSecurityFromFlags(natsCredentialFlags(values), cli.readFile));
  const logger = createLogger(consumer, cli.logLevel);
  await cli.startService(
    () =>
      createLogService({
        natsServers: splitList(values.nats!),
        listen: values.listen!,
        dataDir: values.data!,
        consumer,
        nats,
        retentionMs,
        maxBytes,
        replicas,
        ...(tokens ? { tokens } : {}),
        ...(tls ? { tls } : {}),
        ...(values.metrics !== undefined ? { metricsListen: values.metrics } : {}),
        ...(values['time-zone'] !== undefined ? { timeZone: values['time-zone'] } : {}),
        logger,
      }),
    { logger, failureMessage: 'logger failed to start', isUsageError: (err) => err instanceof LoggerError && err.code === 'invalid-argument' },
  );
}

if (isEntryPoint(import.meta.url)) await main(process.argv.slice(2));
