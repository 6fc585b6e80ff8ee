#!/usr/bin/env node
/**
 * `palisade-logger`: the only place that reads argv, files named on the command line, the host
 * name and signals, and calls process.exit. Exit codes: 0 clean stop, 1 runtime failure, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { LOG_LEVELS, exitOnStopSignals, type LogLevel, isEntryPoint } from '@palisade/service-kit';
import { createLogService } from './app.js';
import { LoggerError } from './errors.js';
import { createLogger } from './logger.js';
import { LOGGER_DEFAULTS, parseBytes, parseDuration } from './options.js';
import { parseTokensFile } from './rpc/auth.js';
import { LOGGER_VERSION } from './version.js';
import { natsSecurityFromFlags } from '@palisade/nats-kit';

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

function usage(message: string): never {
  process.stderr.write(`palisade-logger: ${message}\nTry 'palisade-logger --help'.\n`);
  process.exit(2);
}

function defaultConsumer(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 50) || 'host';
  return `logger-${host}`;
}

export async function main(argv: readonly string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        nats: { type: 'string' },
        listen: { type: 'string' },
        data: { type: 'string' },
        consumer: { type: 'string' },
        'nats-user': { type: 'string' },
        'nats-password-file': { type: 'string' },
        'nats-creds': { type: 'string' },
        'nats-token-file': { type: 'string' },
        'nats-ca': { type: 'string' },
        retention: { type: 'string' },
        'max-bytes': { type: 'string' },
        tokens: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        metrics: { type: 'string' },
        replicas: { type: 'string' },
        'time-zone': { type: 'string' },
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
    process.stdout.write(`palisade-logger ${LOGGER_VERSION}\n`);
    return;
  }
  for (const name of ['nats', 'listen', 'data'] as const) if (!values[name]) usage(`--${name} is required`);
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) usage('--tls-cert and --tls-key go together');
  if (values['tls-ca'] && !values['tls-cert']) usage('--tls-ca needs --tls-cert and --tls-key');
  const readFile = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      usage(`cannot read ${what} ${path}: ${(err as Error).message}`);
    }
  };
  let tokens;
  if (values.tokens) {
    try {
      tokens = parseTokensFile(readFile(values.tokens, '--tokens').toString('utf8'), values.tokens);
    } catch (err) {
      usage((err as Error).message);
    }
    if (tokens.length === 0) usage(`${values.tokens} defines no token`);
  }
  const level = values['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) usage(`--log-level expects one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  const consumer = values.consumer ?? defaultConsumer();
  let retentionMs: number | undefined;
  let maxBytes: number | undefined;
  let replicas: number | 'auto' | undefined;
  try {
    if (values.retention !== undefined) retentionMs = parseDuration(values.retention, '--retention');
    if (values['max-bytes'] !== undefined) maxBytes = parseBytes(values['max-bytes'], '--max-bytes');
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.replicas !== undefined && values.replicas !== 'auto') {
    if (!/^\d+$/.test(values.replicas)) usage(`--replicas expects a number or 'auto', got '${values.replicas}'`);
    replicas = Number(values.replicas);
  }
  let nats;
  try {
    nats = natsSecurityFromFlags(
      { user: values['nats-user'], passwordFile: values['nats-password-file'], credsFile: values['nats-creds'], tokenFile: values['nats-token-file'], caFile: values['nats-ca'] },
      readFile,
    );
  } catch (err) {
    usage((err as Error).message);
  }
  const logger = createLogger(consumer, level as LogLevel);
  let service;
  try {
    service = await createLogService({
      natsServers: values.nats!.split(',').map((s) => s.trim()).filter(Boolean),
      listen: values.listen!,
      dataDir: values.data!,
      consumer,
      nats,
      retentionMs,
      maxBytes,
      replicas,
      ...(tokens ? { tokens } : {}),
      ...(values['tls-cert']
        ? {
            tls: {
              cert: readFile(values['tls-cert'], '--tls-cert'),
              key: readFile(values['tls-key']!, '--tls-key'),
              ...(values['tls-ca'] ? { ca: readFile(values['tls-ca'], '--tls-ca') } : {}),
            },
          }
        : {}),
      ...(values.metrics !== undefined ? { metricsListen: values.metrics } : {}),
      ...(values['time-zone'] !== undefined ? { timeZone: values['time-zone'] } : {}),
      logger,
    });
  } catch (err) {
    if (err instanceof LoggerError && err.code === 'invalid-argument') usage(err.message);
    logger.fatal({ err }, 'logger failed to start');
    process.exit(1);
  }
  exitOnStopSignals(service, { logger, signals: process, exit: (code) => process.exit(code) });
}

if (isEntryPoint(import.meta.url)) await main(process.argv.slice(2));
