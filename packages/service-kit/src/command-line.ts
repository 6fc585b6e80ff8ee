/**
 * The command line of a service's `main.ts`: parseArgs with the flags every service has
 * (`--log-level`, `-h/--help`, `-V/--version`), usage errors in one form (`PROGRAM: message`,
 * `Try 'PROGRAM --help'.`, exit 2), files named by flags, server TLS flags and the start of the
 * service up to its stop signals. It touches only the `process` its caller passes in.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exitOnStopSignals, type Closable, type SignalSource } from './lifecycle.js';
import { LOG_LEVELS, type LogLevel, type Logger } from './logger.js';

/** One parseArgs option of a service. */
export interface ServiceArgConfig {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

/** The flags every service has, added to its own. */
export const COMMON_SERVICE_ARGS = {
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** `--tls-cert`, `--tls-key`, `--tls-ca` of a TLS server (see `ServiceCommandLine.serverTls`). */
export const SERVER_TLS_ARGS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
} as const;

/** parseArgs options `{ name: { type: 'string' } }` for each name. */
export function stringArgs<const N extends string>(...names: readonly N[]): { readonly [K in N]: { readonly type: 'string' } } {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as { readonly [K in N]: { readonly type: 'string' } };
}

/** The values parseArgs gives for a service's options plus `COMMON_SERVICE_ARGS`. */
export type ServiceArgValues<O extends Readonly<Record<string, ServiceArgConfig>>> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof COMMON_SERVICE_ARGS; strict: true; allowPositionals: false }>
>['values'];

/** What of `process` the command line uses (main.ts passes `process`). */
export interface ServiceProcess extends SignalSource {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  exit(code: number): never;
}

/** A service's program name, version, help text and own options. */
export interface ServiceCommandLineSpec<O extends Readonly<Record<string, ServiceArgConfig>>> {
  /** The executable's name, e.g. `palisade-configd`: in `--version` and usage errors. */
  readonly program: string;
  readonly version: string;
  /** Printed as is by `--help`. */
  readonly help: string;
  /** The service's own options (`COMMON_SERVICE_ARGS` are added). */
  readonly options: O;
  /** Flags that must be given (a usage error `--NAME is required` names the first missing). */
  readonly required?: readonly (keyof O & string)[];
}

/** Certificate chain, key and optional client CA read from `SERVER_TLS_ARGS`. */
export interface ServerTlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

/** How a service's start is turned into an exit: usage (2) or fatal (1). */
export interface StartServiceOptions {
  readonly logger: Logger;
  /** Logged at fatal with the error when the start fails, e.g. `configd failed to start`. */
  readonly failureMessage: string;
  /** Whether a start error is the user's (an option the service refused): exit 2 with its message. */
  readonly isUsageError: (err: unknown) => boolean;
}

/** A parsed command line and the helpers that turn bad input into usage errors. */
export interface ServiceCommandLine<V> {
  readonly values: V;
  /** `--log-level`, checked against `LOG_LEVELS` (default `info`). */
  readonly logLevel: LogLevel;
  /** Prints `PROGRAM: message` and the hint to stderr and exits 2. */
  readonly usage: (message: string) => never;
  /** The file's bytes; a usage error `cannot read FLAG PATH: reason` when it cannot be read. */
  readonly readFile: (path: string, flag: string) => Buffer;
  /** The file's first line, trimmed (a token or secret file). */
  readonly readFirstLine: (path: string, flag: string) => string;
  /** A non-negative integer flag value, undefined when absent; a usage error otherwise. */
  readonly integer: (value: string | undefined, flag: string) => number | undefined;
  /** Runs `parse`; what it throws becomes a usage error with its message (after `prefix`). */
  readonly orUsage: <T>(parse: () => T, prefix?: string) => T;
  /** Reads the file of `flag` and parses its text; a thrown error becomes a usage error (after `prefix`). */
  readonly parseFile: <T>(path: string, flag: string, parse: (text: string, path: string) => T, prefix?: string) => T;
  /**
   * `{ tls }` from `SERVER_TLS_ARGS` (empty without `--tls-cert`); usage errors when
   * `--tls-cert` and `--tls-key` are not given together or `--tls-ca` comes without them.
   */
  readonly serverTls: () => { tls?: ServerTlsFiles };
  /**
   * Starts the service; a usage error or a fatal log line and exit 1 when that fails. Once
   * started, the first SIGTERM/SIGINT closes it gracefully, a second forces the exit.
   */
  readonly startService: <S extends Closable & { force?: () => void }>(start: () => Promise<S>, o: StartServiceOptions) => Promise<S>;
}

/** Splits a comma-separated list of URLs or addresses, dropping empty items. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * Parses `argv` for a service. Returns undefined after printing `--help` or `--version` (the
 * caller returns, exit 0); exits 2 with a usage error on unknown flags, a missing required
 * flag or a bad `--log-level`.
 */
export function parseServiceCommandLine<const O extends Readonly<Record<string, ServiceArgConfig>>>(
  spec: ServiceCommandLineSpec<O>,
  argv: readonly string[],
  proc: ServiceProcess,
): ServiceCommandLine<ServiceArgValues<O>> | undefined {
  const usage = (message: string): never => {
    proc.stderr.write(`${spec.program}: ${message}\nTry '${spec.program} --help'.\n`);
    return proc.exit(2);
  };
  const orUsage = <T>(parse: () => T, prefix = ''): T => {
    try {
      return parse();
    } catch (err) {
      return usage(`${prefix}${(err as Error).message}`);
    }
  };
  const values = orUsage<ServiceArgValues<O>>(
    () => parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: { ...spec.options, ...COMMON_SERVICE_ARGS } }).values,
  );
  const flags = values as Readonly<Record<string, string | boolean | undefined>>;
  if (flags.help) {
    proc.stdout.write(spec.help);
    return undefined;
  }
  if (flags.version) {
    proc.stdout.write(`${spec.program} ${spec.version}\n`);
    return undefined;
  }
  for (const name of spec.required ?? []) if (!flags[name]) usage(`--${name} is required`);
  const level = (flags['log-level'] as string | undefined) ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) usage(`--log-level expects one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  const readFile = (path: string, flag: string): Buffer => orUsage(() => readFileSync(path), `cannot read ${flag} ${path}: `);
  return {
    values,
    logLevel: level as LogLevel,
    usage,
    readFile,
    readFirstLine: (path, flag) => (readFile(path, flag).toString('utf8').split('\n')[0] ?? '').trim(),
    integer: (value, flag) => {
      if (value === undefined) return undefined;
      if (!/^\d+$/.test(value)) usage(`${flag} expects a non-negative integer, got '${value}'`);
      return Number(value);
    },
    orUsage,
    parseFile: (path, flag, parse, prefix) => {
      const text = readFile(path, flag).toString('utf8');
      return orUsage(() => parse(text, path), prefix);
    },
    serverTls: () => {
      const cert = flags['tls-cert'] as string | undefined;
      const key = flags['tls-key'] as string | undefined;
      const ca = flags['tls-ca'] as string | undefined;
      if (Boolean(cert) !== Boolean(key)) usage('--tls-cert and --tls-key go together');
      if (ca && !cert) usage('--tls-ca needs --tls-cert and --tls-key');
      if (!cert || !key) return {};
      return { tls: { cert: readFile(cert, '--tls-cert'), key: readFile(key, '--tls-key'), ...(ca ? { ca: readFile(ca, '--tls-ca') } : {}) } };
    },
    startService: async (start, o) => {
      let service;
      try {
        service = await start();
      } catch (err) {
        if (o.isUsageError(err)) usage((err as Error).message);
        o.logger.fatal({ err }, o.failureMessage);
        return proc.exit(1);
      }
      exitOnStopSignals(service, { logger: o.logger, signals: proc, exit: (code) => proc.exit(code) });
      return service;
    },
  };
}
