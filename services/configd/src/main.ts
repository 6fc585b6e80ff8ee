#!/usr/bin/env node
/**
 * `palisade-configd`: the only place that reads argv, files named on the command line and
 * signals, and calls process.exit. Exit codes: 0 clean stop, 1 runtime failure, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LOG_LEVELS, exitOnStopSignals, type LogLevel, isEntryPoint } from '@palisade/service-kit';
import { createConfigd } from './app.js';
import { ConfigdError } from './errors.js';
import { createLogger } from './logger.js';
import { parseTokensFile } from './rpc/auth.js';
import { CONFIGD_DEFAULTS } from './options.js';
import { CONFIGD_VERSION } from './version.js';
import { natsSecurityFromFlags } from '@palisade/nats-kit';

const HELP = `Usage: palisade-configd --node NAME --nats URL[,URL...] --listen HOST:PORT --data DIR [options]

configd keeps the cluster's /etc/pve documents, replicates them over NATS JetStream (a KV
bucket created on first start) and serves them over gRPC. One instance per node.

Required:
  --node NAME            this node's name (recorded as the writer of every revision)
  --nats URL[,URL...]    NATS servers, local one first (e.g. nats://127.0.0.1:4222)
  --listen HOST:PORT     gRPC address; without --tokens only loopback is allowed
  --data DIR             data directory; the local LMDB mirror lives in DIR/mirror

Options:
  --replicas N           replicas of the bucket when configd creates it
                         (default: 3 when the NATS cluster has 3 or more servers, else 1)
  --tokens FILE          access tokens, one "name role secret" per line; roles: admin
                         (read/write), reader (read), agent (read, watch). Every call then
                         needs "authorization: Bearer <secret>". Without it access is open.
  --tls-cert FILE        serve gRPC over TLS with this certificate chain (PEM)
  --tls-key FILE         private key of --tls-cert (PEM)
  --tls-ca FILE          require client certificates signed by this CA (mutual TLS)
  --nats-user NAME       NATS user of this configd (deploy/nats/: user "configd"),
  --nats-password-file F with its password in file F
  --nats-creds FILE      or a NATS .creds file (user JWT and nkey seed)
  --nats-token-file FILE or a NATS token in FILE (without any, configd warns: an open
                         NATS lets anyone who reaches it bypass tokens and validation)
  --nats-ca FILE         CA of the NATS servers' client TLS certificates (tls:// URLs)
  --metrics HOST:PORT    serve Prometheus metrics on GET http://HOST:PORT/metrics: writes
                         by result and code, refused calls by code, write latency, the
                         mirror's revision and lag, open watch streams, the follower queue
                         (default: not served)
  --rest-listen HOST:PORT
                         also serve Proxmox's /api2/json firewall API over HTTPS here
                         (clients: proxmoxer, the Terraform provider bpg/proxmox, Ansible);
                         auth "Authorization: PVEAPIToken=USER@REALM!NAME=SECRET" with a
                         NAME and SECRET from --tokens; without --tokens loopback only
                         (default: not served)
  --rest-cert FILE       certificate chain of the REST listener (PEM); without it a
                         self-signed one is generated into DIR/rest/ on first start and
                         its SHA-256 fingerprint logged
  --rest-key FILE        private key of --rest-cert (PEM)
  --rest-logger HOST:PORT
                         palisade-logger that answers the REST log endpoints
                         (GET /nodes/N/firewall/log, .../qemu|lxc/ID/firewall/log)
  --rest-logger-token-file FILE
                         bearer secret for --rest-logger (first line of FILE)
  --max-document-bytes N largest document accepted (default ${CONFIGD_DEFAULTS.maxDocumentBytes}; always kept
                         below what the NATS server can carry)
  --history N            revisions kept per document, 1..64 (default ${CONFIGD_DEFAULTS.historyDepth})
  --bucket NAME          JetStream KV bucket (default "${CONFIGD_DEFAULTS.bucket}")
  --write-timeout-ms N   how long one publish attempt waits for JetStream's ack before
                         the write retries it (default ${CONFIGD_DEFAULTS.writeTimeoutMs})
  --write-deadline-ms N  longest time a write retries through a JetStream leader change
                         or a lost NATS connection (the client's deadline applies when
                         shorter) before failing as "not quorate"; the bucket's duplicate
                         window is raised to at least this (default ${CONFIGD_DEFAULTS.writeDeadlineMs})
  --max-watches N        open watches in all; more are refused RESOURCE_EXHAUSTED
                         (default ${CONFIGD_DEFAULTS.maxWatches})
  --max-watches-per-token N
                         open watches of one token (default ${CONFIGD_DEFAULTS.maxWatchesPerToken})
  --max-import-bytes N   largest Import request; every other request is limited to
                         --max-document-bytes + 64 KiB (default: the larger of 16 MiB and
                         16 × --max-document-bytes)
  --log-level LEVEL      pino level: fatal, error, warn, info, debug, trace (default info)
  -h, --help             show this help
  -V, --version          show the version

Signals: SIGTERM/SIGINT stop gracefully (watch streams end, calls finish, NATS drains, LMDB
closes); a second signal forces the exit.
`;

function usage(message: string): never {
  process.stderr.write(`palisade-configd: ${message}\nTry 'palisade-configd --help'.\n`);
  process.exit(2);
}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) usage(`--${name} expects a non-negative integer, got '${value}'`);
  return Number(value);
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
        nats: { type: 'string' },
        listen: { type: 'string' },
        data: { type: 'string' },
        replicas: { type: 'string' },
        tokens: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'nats-user': { type: 'string' },
        'nats-password-file': { type: 'string' },
        'nats-creds': { type: 'string' },
        'nats-token-file': { type: 'string' },
        'nats-ca': { type: 'string' },
        'max-document-bytes': { type: 'string' },
        history: { type: 'string' },
        bucket: { type: 'string' },
        'write-timeout-ms': { type: 'string' },
        'write-deadline-ms': { type: 'string' },
        'max-watches': { type: 'string' },
        'max-watches-per-token': { type: 'string' },
        'max-import-bytes': { type: 'string' },
        'log-level': { type: 'string' },
        metrics: { type: 'string' },
        'rest-listen': { type: 'string' },
        'rest-cert': { type: 'string' },
        'rest-key': { type: 'string' },
        'rest-logger': { type: 'string' },
        'rest-logger-token-file': { type: 'string' },
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
    process.stdout.write(`palisade-configd ${CONFIGD_VERSION}\n`);
    return;
  }
  for (const name of ['node', 'nats', 'listen', 'data'] as const) {
    if (!values[name]) usage(`--${name} is required`);
  }
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) usage('--tls-cert and --tls-key go together');
  if (values['tls-ca'] && !values['tls-cert']) usage('--tls-ca needs --tls-cert and --tls-key');
  if (Boolean(values['rest-cert']) !== Boolean(values['rest-key'])) usage('--rest-cert and --rest-key go together');
  if (values['rest-cert'] && !values['rest-listen']) usage('--rest-cert needs --rest-listen');
  if (values['rest-logger'] && !values['rest-listen']) usage('--rest-logger needs --rest-listen');
  if (values['rest-logger-token-file'] && !values['rest-logger']) usage('--rest-logger-token-file needs --rest-logger');
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
  let natsSecurity;
  try {
    natsSecurity = natsSecurityFromFlags(
      { user: values['nats-user'], passwordFile: values['nats-password-file'], credsFile: values['nats-creds'], tokenFile: values['nats-token-file'], caFile: values['nats-ca'] },
      readFile,
    );
  } catch (err) {
    usage((err as Error).message);
  }
  const level = values['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) usage(`--log-level expects one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  const logger = createLogger(values.node!, level as LogLevel);
  const replicas = values.replicas === undefined || values.replicas === 'auto' ? 'auto' : intOption(values.replicas, 'replicas');
  let configd;
  try {
    configd = await createConfigd({
      node: values.node!,
      natsServers: values.nats!.split(',').map((s) => s.trim()).filter(Boolean),
      listen: values.listen!,
      dataDir: values.data!,
      replicas,
      ...(tokens ? { tokens } : {}),
      natsSecurity,
      ...(values['tls-cert']
        ? {
            tls: {
              cert: readFile(values['tls-cert'], '--tls-cert'),
              key: readFile(values['tls-key']!, '--tls-key'),
              ...(values['tls-ca'] ? { ca: readFile(values['tls-ca'], '--tls-ca') } : {}),
            },
          }
        : {}),
      maxDocumentBytes: intOption(values['max-document-bytes'], 'max-document-bytes'),
      historyDepth: intOption(values.history, 'history'),
      bucket: values.bucket,
      writeTimeoutMs: intOption(values['write-timeout-ms'], 'write-timeout-ms'),
      writeDeadlineMs: intOption(values['write-deadline-ms'], 'write-deadline-ms'),
      maxWatches: intOption(values['max-watches'], 'max-watches'),
      maxWatchesPerToken: intOption(values['max-watches-per-token'], 'max-watches-per-token'),
      grpcMaxImportBytes: intOption(values['max-import-bytes'], 'max-import-bytes'),
      ...(values.metrics !== undefined ? { metricsListen: values.metrics } : {}),
      ...(values['rest-listen'] !== undefined ? { restListen: values['rest-listen'] } : {}),
      ...(values['rest-logger']
        ? {
            restLogger: {
              address: values['rest-logger'],
              ...(values['rest-logger-token-file']
                ? { token: readFile(values['rest-logger-token-file'], '--rest-logger-token-file').toString('utf8').split('\n')[0]!.trim() }
                : {}),
            },
          }
        : {}),
      ...(values['rest-cert'] ? { restTls: { cert: readFile(values['rest-cert'], '--rest-cert'), key: readFile(values['rest-key']!, '--rest-key') } } : {}),
      logger,
    });
  } catch (err) {
    if (err instanceof ConfigdError && err.code === 'invalid-argument') usage(err.message);
    logger.fatal({ err }, 'configd failed to start');
    process.exit(1);
  }
  exitOnStopSignals(configd, { logger, signals: process, exit: (code) => process.exit(code) });
}

if (isEntryPoint(import.meta.url)) await main(process.argv.slice(2));
