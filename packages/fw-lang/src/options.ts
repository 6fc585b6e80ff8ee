/**
 * `[OPTIONS]` lines: what each document kind accepts (spec §2), how a line is parsed, and the
 * typed view with the reference's effective defaults.
 */
import { findConntrackHelper } from './data/conntrack-helpers.js';
import { lookupEthertype } from './data/ethertypes.js';
import type { DiagnosticCode } from './diagnostic-codes.js';
import { LOG_LEVELS, type Action, type FwDocument, type FwDocumentKind, type LogLevel } from './model.js';
import { parseLogRateLimit } from './values/property-string.js';

type ValueKind =
  | 'bool'
  | 'uint'
  | 'policy'
  | 'policy-accept-drop'
  | 'loglevel-or-empty'
  | 'loglevel'
  | 'ratelimit'
  | 'helpers'
  | 'queues'
  | 'ethertypes';

/** The options each document kind accepts, with the value syntax of the reference parser. */
export const OPTION_SYNTAX: Readonly<Record<FwDocumentKind, Readonly<Record<string, ValueKind>>>> = {
  cluster: {
    enable: 'uint',
    ebtables: 'bool',
    policy_in: 'policy',
    policy_out: 'policy',
    policy_forward: 'policy',
    log_ratelimit: 'ratelimit',
  },
  host: {
    enable: 'bool',
    nosmurfs: 'bool',
    tcpflags: 'bool',
    ndp: 'bool',
    log_nf_conntrack: 'bool',
    nf_conntrack_allow_invalid: 'bool',
    protection_synflood: 'bool',
    nftables: 'bool',
    log_level_in: 'loglevel-or-empty',
    log_level_out: 'loglevel-or-empty',
    log_level_forward: 'loglevel-or-empty',
    tcp_flags_log_level: 'loglevel-or-empty',
    smurf_log_level: 'loglevel-or-empty',
    nf_conntrack_helpers: 'helpers',
    nf_conntrack_max: 'uint',
    nf_conntrack_tcp_timeout_established: 'uint',
    nf_conntrack_tcp_timeout_syn_recv: 'uint',
    protection_synflood_rate: 'uint',
    protection_synflood_burst: 'uint',
    protection_limit: 'uint',
  },
  guest: {
    enable: 'bool',
    dhcp: 'bool',
    ndp: 'bool',
    radv: 'bool',
    macfilter: 'bool',
    ipfilter: 'bool',
    ips: 'bool',
    policy_in: 'policy',
    policy_out: 'policy',
    log_level_in: 'loglevel-or-empty',
    log_level_out: 'loglevel-or-empty',
    ips_queues: 'queues',
    layer2_protocols: 'ethertypes',
  },
  vnet: {
    enable: 'uint',
    policy_forward: 'policy-accept-drop',
    log_level_forward: 'loglevel',
  },
};

/** An option line parsed: its name and value, or the diagnostic. */
export type OptionLineResult =
  | { readonly ok: true; readonly name: string; readonly value: string }
  | { readonly ok: false; readonly code: DiagnosticCode; readonly message: string };

const LEVEL_SET: ReadonlySet<string> = new Set(LOG_LEVELS);

function fail(code: DiagnosticCode, message: string): OptionLineResult {
  return { ok: false, code, message };
}

/**
 * Parses one trimmed option line for a document kind. Values come back normalised the way the
 * reference stores them (policies upper-case, log levels and helper lists lower-case).
 */
export function parseOptionLine(kind: FwDocumentKind, line: string): OptionLineResult {
  const colon = line.indexOf(':');
  if (colon <= 0 || !/^[A-Za-z0-9_]+$/.test(line.slice(0, colon))) {
    return fail('FW0201', `can't parse option '${line}' (expected 'name: value')`);
  }
  const written = line.slice(0, colon);
  const name = written.toLowerCase();
  const syntax = OPTION_SYNTAX[kind][name];
  if (syntax === undefined) {
    return fail('FW0202', `unknown option '${written}' for a ${kind} document`);
  }
  if (syntax === 'ratelimit' && written !== name) {
    return fail('FW0202', `option name 'log_ratelimit' must be written in lower case, not '${written}'`);
  }
  // The reference's patterns are `name:\s*VALUE\s*$`, where \s also matches a CR.
  const value = line.slice(colon + 1).replace(/^\s+|\s+$/g, '');
  const bad = (expected: string): OptionLineResult => {
    const hint = value.includes('#') ? ' (option lines cannot carry a # comment)' : '';
    return fail('FW0203', `invalid value '${value}' for option '${name}': expected ${expected}${hint}`);
  };
  switch (syntax) {
    case 'bool':
      return value === '0' || value === '1' ? { ok: true, name, value } : bad('0 or 1');
    case 'uint':
      return /^\d+$/.test(value) ? { ok: true, name, value } : bad('a non-negative integer');
    case 'policy':
      return /^(ACCEPT|DROP|REJECT)$/i.test(value) ? { ok: true, name, value: value.toUpperCase() } : bad('ACCEPT, DROP or REJECT');
    case 'policy-accept-drop':
      return /^(ACCEPT|DROP)$/i.test(value) ? { ok: true, name, value: value.toUpperCase() } : bad('ACCEPT or DROP');
    case 'loglevel-or-empty':
    case 'loglevel': {
      const lower = value.toLowerCase();
      if (value === '' && syntax === 'loglevel-or-empty') return { ok: true, name, value: '' };
      return LEVEL_SET.has(lower) ? { ok: true, name, value: lower } : bad(`a log level (${LOG_LEVELS.join(', ')})`);
    }
    case 'ratelimit': {
      if (!/^\S+$/.test(value)) return fail('FW0204', `invalid log_ratelimit '${value}': expected [enable=]0|1[,rate=N/unit][,burst=N]`);
      const parsed = parseLogRateLimit(value);
      if (!parsed.ok) {
        return fail('FW0204', `invalid log_ratelimit '${value}': ${parsed.message} (pve-firewall refuses the whole cluster configuration)`);
      }
      return { ok: true, name, value };
    }
    case 'helpers': {
      const items = value.toLowerCase().split(',').filter((s) => s !== '');
      if (items.length === 0 || /\s/.test(value)) return bad('a comma-separated list of conntrack helpers');
      const unknown = items.find((h) => findConntrackHelper(h) === undefined);
      if (unknown !== undefined) return bad(`conntrack helper names; '${unknown}' is not one`);
      return { ok: true, name, value: value.toLowerCase() };
    }
    case 'queues':
      return /^\d+(:\d+)?$/.test(value) ? { ok: true, name, value } : bad('a queue number or range N:M');
    case 'ethertypes': {
      const items = value.split(',').filter((s) => s !== '');
      if (items.length === 0 || /\s/.test(value)) return bad('a comma-separated list of ethertypes');
      const unknown = items.find((t) => lookupEthertype(t) === undefined);
      if (unknown !== undefined) return bad(`ethertype names from /etc/ethertypes; '${unknown}' is not one`);
      return { ok: true, name, value };
    }
  }
}

// ---------------------------------------------------------------------------------------
// Typed views with effective defaults (spec §2.8)

function raw(doc: FwDocument | undefined, name: string): string | undefined {
  return doc?.options?.get(name)?.value;
}

function flag(doc: FwDocument | undefined, name: string): number | undefined {
  const v = raw(doc, name);
  return v === undefined ? undefined : Number(v);
}

function level(doc: FwDocument | undefined, name: string): LogLevel {
  const v = raw(doc, name);
  return v === undefined || v === '' ? 'nolog' : (v as LogLevel);
}

function int(doc: FwDocument | undefined, name: string): number | undefined {
  const v = raw(doc, name);
  return v === undefined ? undefined : Number(v);
}

/** Global rate limit of every log rule (spec §2.7); `undefined` means unlimited. */
export interface LogRateLimit {
  /** `N/second|minute|hour|day`. */
  readonly rate: string;
  /** Burst; absent means the kernel default of 5. */
  readonly burst?: number;
}

/** The options of cluster.fw with their defaults applied. */
export interface ClusterOptions {
  /** Firewall on for the whole cluster (after the 60-second rule for timestamp values). */
  readonly enable: boolean;
  readonly ebtables: boolean;
  readonly policyIn: Action;
  readonly policyOut: Action;
  readonly policyForward: Action;
  readonly logRateLimit: LogRateLimit | undefined;
}

/** Seconds a cluster `enable: <timestamp>` stays in force (the API's anti-lockout switch). */
export const ENABLE_TIMESTAMP_GRACE_SECONDS = 60;

/**
 * Effective cluster options. `nowSeconds` decides whether an `enable` timestamp is still in
 * force; without it such a value counts as enabled.
 */
export function clusterOptions(doc: FwDocument | undefined, nowSeconds?: number): ClusterOptions {
  const enableRaw = int(doc, 'enable') ?? 0;
  let enable = enableRaw > 0;
  if (enableRaw > 1 && nowSeconds !== undefined && nowSeconds - enableRaw > ENABLE_TIMESTAMP_GRACE_SECONDS) enable = false;
  let logRateLimit: LogRateLimit | undefined = { rate: '1/second' };
  const rl = raw(doc, 'log_ratelimit');
  if (rl !== undefined) {
    const parsed = parseLogRateLimit(rl);
    if (parsed.ok && parsed.enable === true) {
      logRateLimit = {
        rate: parsed.rate ?? '1/second',
        ...(parsed.burst !== undefined && parsed.burst !== 0 ? { burst: parsed.burst } : {}),
      };
    } else {
      logRateLimit = undefined;
    }
  }
  return {
    enable,
    ebtables: flag(doc, 'ebtables') !== 0,
    policyIn: (raw(doc, 'policy_in') as Action | undefined) ?? 'DROP',
    policyOut: (raw(doc, 'policy_out') as Action | undefined) ?? 'ACCEPT',
    policyForward: (raw(doc, 'policy_forward') as Action | undefined) ?? 'ACCEPT',
    logRateLimit,
  };
}

/** The options of a host.fw with their defaults applied. */
export interface HostOptions {
  readonly enable: boolean;
  readonly logLevelIn: LogLevel;
  readonly logLevelOut: LogLevel;
  readonly logLevelForward: LogLevel;
  readonly tcpFlagsLogLevel: LogLevel;
  readonly smurfLogLevel: LogLevel;
  /** SMURF filter on (the option `nosmurfs` turns it off only when explicitly 0). */
  readonly smurfFilter: boolean;
  readonly tcpFlagsFilter: boolean;
  readonly ndp: boolean;
  readonly allowInvalid: boolean;
  readonly conntrackHelpers: readonly string[];
  readonly conntrackMax?: number;
  readonly tcpTimeoutEstablished?: number;
  readonly tcpTimeoutSynRecv?: number;
  readonly synflood: boolean;
  /** SYNs per second per source; 0 or absent gives 200. */
  readonly synfloodRate: number;
  /** 0 or absent gives 1000. */
  readonly synfloodBurst: number;
  readonly logConntrack: boolean;
  readonly nftables: boolean;
}

/** The options of a host.fw (defaults for an absent document or option). */
export function hostOptions(doc: FwDocument | undefined): HostOptions {
  const helpers = raw(doc, 'nf_conntrack_helpers');
  const conntrackMax = int(doc, 'nf_conntrack_max');
  const established = int(doc, 'nf_conntrack_tcp_timeout_established');
  const synRecv = int(doc, 'nf_conntrack_tcp_timeout_syn_recv');
  return {
    enable: flag(doc, 'enable') !== 0,
    logLevelIn: level(doc, 'log_level_in'),
    logLevelOut: level(doc, 'log_level_out'),
    logLevelForward: level(doc, 'log_level_forward'),
    tcpFlagsLogLevel: level(doc, 'tcp_flags_log_level'),
    smurfLogLevel: level(doc, 'smurf_log_level'),
    smurfFilter: flag(doc, 'nosmurfs') !== 0,
    tcpFlagsFilter: flag(doc, 'tcpflags') === 1,
    ndp: flag(doc, 'ndp') !== 0,
    allowInvalid: flag(doc, 'nf_conntrack_allow_invalid') === 1,
    conntrackHelpers: helpers ? helpers.split(',').filter((s) => s !== '') : [],
    ...(conntrackMax !== undefined ? { conntrackMax } : {}),
    ...(established !== undefined ? { tcpTimeoutEstablished: established } : {}),
    ...(synRecv !== undefined ? { tcpTimeoutSynRecv: synRecv } : {}),
    synflood: flag(doc, 'protection_synflood') === 1,
    synfloodRate: int(doc, 'protection_synflood_rate') || 200,
    synfloodBurst: int(doc, 'protection_synflood_burst') || 1000,
    logConntrack: flag(doc, 'log_nf_conntrack') === 1,
    nftables: flag(doc, 'nftables') === 1,
  };
}

/** The options of a guest `.fw` with their defaults applied. */
export interface GuestOptions {
  readonly enable: boolean;
  /** DHCP allowed unless `dhcp: 0` (the code's behaviour, not the schema's default). */
  readonly dhcp: boolean;
  readonly ndp: boolean;
  readonly radv: boolean;
  readonly macfilter: boolean;
  readonly ipfilter: boolean;
  readonly policyIn: Action;
  readonly policyOut: Action;
  readonly logLevelIn: LogLevel;
  readonly logLevelOut: LogLevel;
  readonly ips: boolean;
  readonly ipsQueues?: string;
  readonly layer2Protocols?: readonly string[];
}

/**
 * Effective guest options; `undefined` when the document has no options table (missing or
 * empty file), which means the guest is not firewalled at all (spec §1.6).
 */
export function guestOptions(doc: FwDocument | undefined): GuestOptions | undefined {
  if (doc?.options === undefined) return undefined;
  const queues = raw(doc, 'ips_queues');
  const l2 = raw(doc, 'layer2_protocols');
  return {
    enable: flag(doc, 'enable') === 1,
    dhcp: flag(doc, 'dhcp') !== 0,
    ndp: flag(doc, 'ndp') !== 0,
    radv: flag(doc, 'radv') === 1,
    macfilter: flag(doc, 'macfilter') !== 0,
    ipfilter: flag(doc, 'ipfilter') === 1,
    policyIn: (raw(doc, 'policy_in') as Action | undefined) ?? 'DROP',
    policyOut: (raw(doc, 'policy_out') as Action | undefined) ?? 'ACCEPT',
    logLevelIn: level(doc, 'log_level_in'),
    logLevelOut: level(doc, 'log_level_out'),
    ips: flag(doc, 'ips') === 1,
    ...(queues !== undefined ? { ipsQueues: queues } : {}),
    ...(l2 !== undefined ? { layer2Protocols: l2.split(',').filter((s) => s !== '') } : {}),
  };
}

/** The options of an SDN vnet `.fw` with their defaults applied. */
export interface VnetOptions {
  readonly enable: boolean;
  readonly policyForward: Action;
  readonly logLevelForward: LogLevel;
}

/** The options of a vnet `.fw` (defaults for an absent document or option). */
export function vnetOptions(doc: FwDocument | undefined): VnetOptions {
  return {
    enable: (int(doc, 'enable') ?? 0) > 0,
    policyForward: (raw(doc, 'policy_forward') as Action | undefined) ?? 'ACCEPT',
    logLevelForward: level(doc, 'log_level_forward'),
  };
}

/**
 * The value of a stored option as the Proxmox API returns it: booleans and integers as numbers
 * (the reference parser `int()`s them), everything else as text. A cluster `enable` holding a
 * timestamp (the anti-lockout switch) reads as 0 once it is more than
 * {@link ENABLE_TIMESTAMP_GRACE_SECONDS} older than `nowSeconds` (as `parse_clusterfw_option`).
 */
export function apiOptionValue(kind: FwDocumentKind, name: string, value: string, nowSeconds: number): string | number {
  const syntax = OPTION_SYNTAX[kind][name];
  if (syntax !== 'bool' && syntax !== 'uint') return value;
  const n = Number(value);
  if (kind === 'cluster' && name === 'enable' && n > 1 && nowSeconds - n > ENABLE_TIMESTAMP_GRACE_SECONDS) return 0;
  return n;
}

/** Whether an option of `kind` holds a number (`bool` 0/1 or a non-negative integer). */
export function isNumericOption(kind: FwDocumentKind, name: string): boolean {
  const syntax = OPTION_SYNTAX[kind][name];
  return syntax === 'bool' || syntax === 'uint';
}
