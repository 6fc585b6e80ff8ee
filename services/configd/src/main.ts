#!/usr/bin/env node
/**
 * `palisade-configd`: the only place that reads argv, files named on the command line and
 * signals, and calls process.exit. Exit codes: 0 clean stop, 1 runtime failure, 2 usage.
 */
import { SERVER_TLS_ARGS, isEntryPoint, parseServiceCommandLine, splitList, stringArgs } from '@palisade/service-kit';
import { createConfigd } from './app.js';
import { ConfigdError } from './errors.js';
import { createLogger } from './logger.js';
import { parseTokensFile } from './rpc/auth.js';
import { CONFIGD_DEFAULTS } from './options.js';
import { CONFIGD_VERSION } from './version.js';
import { NATS_CREDENTIAL_ARGS, natsCredentialFlags, natsSecurityFromFlags } from '@palisade/nats-kit';

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

const OPTIONS = {
  ...stringArgs('node', 'nats', 'listen', 'data', 'replicas', 'tokens', 'max-document-bytes', 'history', 'bucket'),
  ...stringArgs('write-timeout-ms', 'write-deadline-ms', 'max-watches', 'max-watches-per-token', 'max-import-bytes', 'metrics'),
  ...stringArgs('rest-listen', 'rest-cert', 'rest-key', 'rest-logger', 'rest-logger-token-file'),
  ...SERVER_TLS_ARGS,
  ...NATS_CREDENTIAL_ARGS,
} as const;

/**
 * The `palisade-configd` command (the bin launcher calls it with `argv` after `node main.js`): runs
 * configd until a stop signal; returns after `--help` or `--version`, exits 2 on a usage error and
 * 1 when configd cannot start.
 */
export async function main(argv: readonly string[]): Promise<void> {
  const cli = parseServiceCommandLine(
    { program: 'palisade-configd', version: CONFIGD_VERSION, help: HELP, options: OPTIONS, required: ['node', 'nats', 'listen', 'data'] },
    argv,
    process,
  );
  if (!cli) return;
  const { values, usage, readFile } = cli;
  const { tls } = cli.serverTls();
  if (Boolean(values['rest-cert']) !== Boolean(values['rest-key'])) usage('--rest-cert and --rest-key go together');
  if (values['rest-cert'] && !values['rest-listen']) usage('--rest-cert needs --rest-listen');
  if (values['rest-logger'] && !values['rest-listen']) usage('--rest-logger needs --rest-listen');
  if (values['rest-logger-token-file'] && !values['rest-logger']) usage('--rest-logger-token-file needs --rest-logger');
  const tokens = values.tokens !== undefined ? cli.parseFile(values.tokens, '--tokens', parseTokensFile) : undefined;
  if (tokens?.length === 0) usage(`${values.tokens} defines no token`);
  const natsSecurity = cli.orUsage(() => natsSecurityFromFlags(natsCredentialFlags(values), readFile));
  const logger = createLogger(values.node!, cli.logLevel);
  const replicas = values.replicas === undefined || values.replicas === 'auto' ? 'auto' : cli.integer(values.replicas, '--replicas');
  await cli.startService(
    () =>
      createConfigd({
        node: values.node!,
        natsServers: splitList(values.nats!),
        listen: values.listen!,
        dataDir: values.data!,
        replicas,
        ...(tokens ? { tokens } : {}),
        natsSecurity,
        ...(tls ? { tls } : {}),
        maxDocumentBytes: cli.integer(values['max-document-bytes'], '--max-document-bytes'),
        historyDepth: cli.integer(values.history, '--history'),
        bucket: values.bucket,
        writeTimeoutMs: cli.integer(values['write-timeout-ms'], '--write-timeout-ms'),
        writeDeadlineMs: cli.integer(values['write-deadline-ms'], '--write-deadline-ms'),
        maxWatches: cli.integer(values['max-watches'], '--max-watches'),
        maxWatchesPerToken: cli.integer(values['max-watches-per-token'], '--max-watches-per-token'),
        grpcMaxImportBytes: cli.integer(values['max-import-bytes'], '--max-import-bytes'),
        ...(values.metrics !== undefined ? { metricsListen: values.metrics } : {}),
        ...(values['rest-listen'] !== undefined ? { restListen: values['rest-listen'] } : {}),
        ...(values['rest-logger']
          ? {
              restLogger: {
                address: values['rest-logger'],
                ...(values['rest-logger-token-file'] ? { token: cli.readFirstLine(values['rest-logger-token-file'], '--rest-logger-token-file') } : {}),
              },
            }
          : {}),
        ...(values['rest-cert'] ? { restTls: { cert: readFile(values['rest-cert'], '--rest-cert'), key: readFile(values['rest-key']!, '--rest-key') } } : {}),
        logger,
      }),
    { logger, failureMessage: 'configd failed to start', isUsageError: (err) => err instanceof ConfigdError && err.code === 'invalid-argument' },
  );
}

if (isEntryPoint(import.meta.url)) await main(process.argv.slice(2));
