/**
 * How `palisade` reaches configd: connection options shared by the store and firewall commands,
 * and the mapping of failures to output and exit codes.
 *
 * Exit codes: 1 when configd refused the request (conflict, invalid document, not quorate, not
 * found, permission denied…); 2 for usage and connection problems (configd unreachable,
 * deadline, bad token).
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ConfigClientError, createConfigClient, type ConfigClient, type Diagnostic } from '@palisade/api';
import { CliExit, EXIT } from './exit.js';

/** configd address used when neither --server nor PALISADE_SERVER is given. */
export const DEFAULT_SERVER = '127.0.0.1:7400';

/**
 * The connection options as commander parses them (all strings; `timeout` in milliseconds). What
 * is not given falls back in `connect` to `PALISADE_SERVER`, `PALISADE_TOKEN` and the defaults.
 */
export interface ServerOptions {
  readonly server?: string;
  readonly token?: string;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly timeout?: string;
  /** Send a token without TLS to a non-loopback address anyway. */
  readonly insecure?: boolean;
}

/** Deadline of each call when --timeout is not given. */
export const DEFAULT_TIMEOUT_MS = '30000';

/** The connection options, in the order `--help` lists them. */
function serverOptions(withDefaults: boolean): Option[] {
  const timeout = new Option('--timeout <ms>', 'deadline of each call in milliseconds');
  return [
    new Option('--server <host:port>', `configd address (default: $PALISADE_SERVER or ${DEFAULT_SERVER})`),
    new Option('--token <secret>', 'access token (default: $PALISADE_TOKEN)'),
    new Option('--tls-ca <file>', 'use TLS, trusting this CA (PEM)'),
    new Option('--tls-cert <file>', 'client certificate for mutual TLS (PEM)'),
    new Option('--tls-key <file>', 'key of --tls-cert (PEM)'),
    new Option('--insecure', 'send the token in plain text to a non-loopback address (without --tls-ca the CLI refuses)'),
    withDefaults ? timeout.default(DEFAULT_TIMEOUT_MS) : timeout,
  ];
}

/** Adds --server, --token, the TLS options and --timeout to a command. */
export function withServerOptions(cmd: Command): Command {
  for (const o of serverOptions(true)) cmd.addOption(o);
  return cmd;
}

/**
 * Accepts the connection options before the subcommand as well (`palisade --server H:P ls`),
 * as etcdctl, kubectl and pvesh do: the root program knows them too, and before each action
 * a value given there fills the action's option unless the action's own was given explicitly.
 */
export function acceptServerOptionsAnywhere(program: Command): Command {
  const names = serverOptions(false).map((o) => o.attributeName());
  for (const o of serverOptions(false)) program.addOption(o);
  program.hook('preAction', (root, action) => {
    if (action === root) return;
    for (const name of names) {
      if (!action.options.some((o) => o.attributeName() === name)) continue;
      const own = action.getOptionValueSource(name);
      const given = root.getOptionValue(name) as unknown;
      if (given !== undefined && (own === undefined || own === 'default')) action.setOptionValueWithSource(name, given, 'cli');
    }
  });
  return program;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliExit(EXIT.usage, `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** Creates the client from command options and the environment. */
export function connect(opts: ServerOptions): ConfigClient {
  const address = opts.server ?? process.env.PALISADE_SERVER ?? DEFAULT_SERVER;
  if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(address)) throw new CliExit(EXIT.usage, `--server expects HOST:PORT, got '${address}'`);
  const token = opts.token ?? process.env.PALISADE_TOKEN;
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new CliExit(EXIT.usage, '--tls-cert and --tls-key go together');
  const timeoutMs = Number(opts.timeout ?? DEFAULT_TIMEOUT_MS);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliExit(EXIT.usage, '--timeout expects milliseconds');
  const tls =
    opts.tlsCa || opts.tlsCert
      ? {
          ...(opts.tlsCa ? { ca: readPem(opts.tlsCa, '--tls-ca') } : {}),
          ...(opts.tlsCert ? { cert: readPem(opts.tlsCert, '--tls-cert'), key: readPem(opts.tlsKey!, '--tls-key') } : {}),
        }
      : undefined;
  if (token && !tls && !opts.insecure && !isLoopbackAddress(address)) {
    throw new CliExit(
      EXIT.usage,
      `refusing to send the token in plain text to ${address}: give --tls-ca FILE (configd with --tls-cert), or --insecure to send it anyway`,
    );
  }
  return createConfigClient({ address, ...(token ? { token } : {}), ...(tls ? { tls } : {}), timeoutMs });
}

/** Whether `host:port` names this machine (a token sent there in plain text stays on it). */
function isLoopbackAddress(address: string): boolean {
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `path:line: severity CODE message`, the format of `palisade check`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.path}:${d.line}: ${d.severity} ${d.code} ${d.message}`;
}

const CONNECTION_CODES = new Set(['unavailable', 'deadline-exceeded', 'unauthenticated', 'internal', 'cancelled']);

/**
 * Runs a command body against configd: prints the server's diagnostics and message on failure
 * and turns it into the right exit code.
 */
export async function withClient<T>(opts: ServerOptions, body: (client: ConfigClient) => Promise<T>): Promise<T> {
  const client = connect(opts);
  try {
    return await body(client);
  } catch (err) {
    if (err instanceof ConfigClientError) {
      const shown = err.detail?.diagnostics ?? [];
      for (const d of shown) process.stderr.write(`${formatDiagnostic(d)}\n`);
      const total = err.detail?.diagnosticsTotal ?? 0;
      // A refusal carries only the first diagnostics (see configd's limits): say how many in all.
      if (total > shown.length) process.stderr.write(`… ${total - shown.length} more diagnostics not shown (${total} in all; run 'palisade check' locally for every one)\n`);
      const refused = err.detail !== undefined && !CONNECTION_CODES.has(err.detail.code);
      const hint = err.detail === undefined && err.grpcCode === 14 ? ` (is configd running at ${opts.server ?? process.env.PALISADE_SERVER ?? DEFAULT_SERVER}?)` : '';
      throw new CliExit(refused ? EXIT.refused : EXIT.usage, `${err.message}${hint}`);
    }
    throw err;
  } finally {
    client.close();
  }
}

/** Parses a non-negative integer option or argument. */
export function parseRevision(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new CliExit(EXIT.usage, `${what} expects a revision number, got '${value}'`);
  return Number(value);
}
