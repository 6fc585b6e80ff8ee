/**
 * The NFLOG prefix of Palisade's log rules, and how a reader takes it apart.
 *
 * pve-firewall writes `:<vmid>:<level>:<chain>: <msg>` (`<msg>` is `DROP: `, `policy DROP: `…;
 * Palisade, like proxmox-firewall, also for security-group rules, where pve-firewall's iptables
 * prefix has none); pvefw-logger accepts it only in that form (spec
 * api-logs-ux.md §3.3). Palisade appends the stable id of the rule that logged as
 * `RULE=<id> ` after the message, so the form stays parseable by pvefw-logger (which would
 * print `DROP: RULE=… IN=…`), and its own agent strips it before building pvefw-logger's line.
 */
import { RULE_ID_LENGTH } from './rule-id.js';

/** Longest prefix the kernel accepts for an nft `log` statement (NF_LOG_PREFIXLEN 128 incl. NUL). */
export const NFT_LOG_PREFIX_MAX = 127;

/**
 * Palisade's default NFLOG group: not 0 (pvefw-logger and ulogd listen there) and not 1–2
 * (Calico Felix); the agent API's port number, easy to recognise.
 */
export const DEFAULT_LOG_GROUP = 7401;

/** Longest chain name pvefw-logger's prefix parser accepts. */
export const LOG_CHAIN_MAX = 28;

const RULE_ID_SUFFIX = new RegExp(`RULE=([0-9a-f]{${RULE_ID_LENGTH}}) $`);
const PVE_PREFIX = /^:(\d+):([0-7]):([^: ]{1,28}): ([\s\S]*)$/;

/**
 * The prefix of one log statement. `message` is pve-firewall's (`DROP: `, `policy DROP: `);
 * `ruleId` is appended unless the prefix would then exceed the kernel's limit.
 */
export function formatLogPrefix(vmid: number, level: number, chain: string, message: string, ruleId?: string): string {
  const base = `:${vmid}:${level}:${chain}: ${message}`;
  if (ruleId === undefined) return base;
  const withId = `${base}RULE=${ruleId} `;
  return withId.length <= NFT_LOG_PREFIX_MAX ? withId : base;
}

/** A log prefix taken apart as pvefw-logger does, plus Palisade's rule id. */
export interface ParsedLogPrefix {
  /** Whether the prefix had pve-firewall's form (otherwise vmid 0, level 6, chain `-`). */
  readonly palisade: boolean;
  readonly vmid: number;
  readonly level: number;
  readonly chain: string;
  /** What pvefw-logger prints after the chain and time, without the rule id (`DROP: `; the whole prefix when unparseable). */
  readonly message: string;
  readonly ruleId?: string;
}

/** Parses a prefix received from NFLOG (never throws; unparseable prefixes read as pvefw-logger reads them). */
export function parseLogPrefix(prefix: string): ParsedLogPrefix {
  const idMatch = RULE_ID_SUFFIX.exec(prefix);
  const stripped = idMatch ? prefix.slice(0, idMatch.index) : prefix;
  const ruleId = idMatch?.[1];
  const m = PVE_PREFIX.exec(stripped);
  const vmid = m ? Number(m[1]) : NaN;
  if (!m || !Number.isSafeInteger(vmid)) return { palisade: false, vmid: 0, level: 6, chain: '-', message: stripped, ...(ruleId !== undefined ? { ruleId } : {}) };
  return { palisade: true, vmid, level: Number(m[2]), chain: m[3] ?? '-', message: m[4] ?? '', ...(ruleId !== undefined ? { ruleId } : {}) };
}
