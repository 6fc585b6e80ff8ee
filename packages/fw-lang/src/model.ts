/**
 * The typed model of Proxmox VE firewall documents and guest configs.
 *
 * The source text is the single source of truth: every parsed document keeps its raw
 * lines, so printing is the concatenation of those lines (lossless by construction) and
 * edits rewrite only the lines they concern before the model is derived again.
 * Line numbers are 1-based everywhere; columns are 1-based and count UTF-16 code units.
 */
import type { DiagnosticCode } from './diagnostic-codes.js';
import type { RuleField, RuleValues } from './rule-fields.js';

export { LOG_LEVELS, RULE_TYPES, type LogLevel, type RuleField, type RuleType } from './rule-fields.js';

/** The kinds of `.fw` document, named after the rule environment they open (spec §1.1). */
export const FW_DOCUMENT_KINDS = ['cluster', 'host', 'guest', 'vnet'] as const;
/** The kinds of `.fw` documents: cluster, host, guest, vnet. */
export type FwDocumentKind = (typeof FW_DOCUMENT_KINDS)[number];

/** Every document kind the language library understands. */
export type DocumentKind = FwDocumentKind | 'qemu-config' | 'lxc-config' | 'corosync';

/** How bad a diagnostic is. `error` makes `palisade check` exit 1 and configd refuse a write. */
export type Severity = 'error' | 'warning' | 'info';

/**
 * What happened to the line a diagnostic points at (spec §3.7). Kept distinct so that an
 * API can show a rule together with its error, and a dropped line as a line that has no rule.
 * - `dropped`: the line is not part of the model at all (tokenising failed, unparseable option…).
 * - `rule-error`: the rule is in the model with `errors` and is never compiled.
 * - `entry-error`: an alias or IP set entry is in the model with an error and is not used.
 * - `document`: about the document as a whole (size, encoding, line endings).
 * - `note`: nothing was lost; advice only.
 */
export type DiagnosticEffect = 'dropped' | 'rule-error' | 'entry-error' | 'document' | 'note';

/** A problem found in a document. Never thrown: returned alongside the model. */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly effect: DiagnosticEffect;
  /** Document path as given by the caller (e.g. `firewall/cluster.fw`). */
  readonly path: string;
  /** 1-based line; 0 only for diagnostics about a document that has no lines. */
  readonly line: number;
  /** 1-based column where it helps locate the problem inside the line. */
  readonly column?: number;
  readonly message: string;
}

/** One physical line of the source, exactly as it was (without its `\n`). */
/**
 * How the lines were decoded: `latin1` only when the bytes were not valid UTF-8 (one character
 * per byte, so printing can give the exact bytes back).
 */
export type SourceEncoding = 'utf-8' | 'latin1';

/** One line of a document as read: its text without the line ending, and whether it had one (kept for printing). */
export interface SourceLine {
  readonly text: string;
  /** False only for the last line of a document that does not end with `\n`. */
  readonly newline: boolean;
}

/** The actions of a rule. */
export const ACTIONS = ['ACCEPT', 'DROP', 'REJECT'] as const;
/** One of {@link ACTIONS}. */
export type Action = (typeof ACTIONS)[number];

/** Rule environment of the reference (spec §3.1): decides allowed types and `-i` values. */
export type RuleEnv = 'cluster' | 'host' | 'vm' | 'ct' | 'group' | 'vnet';

/** An IP version: 4 or 6. */
export type IpVersion = 4 | 6;

/** A problem with one field of a rule (the rule is kept, but not compiled). */
export interface RuleError {
  readonly field: RuleField;
  readonly code: DiagnosticCode;
  readonly message: string;
}

/**
 * A rule line that survived tokenising (spec §3.2). Its values are the fields of `RULE_FIELDS`,
 * kept as written after the reference's own normalisation: `type` lower-cased (one of
 * {@link RULE_TYPES} unless the rule has a `type` error), `action` `ACCEPT`/`DROP`/`REJECT` or
 * the group name for `group`, `macro` canonical (`SSH`) when written as `Macro(ACTION)`.
 */
export interface Rule extends RuleValues {
  /** 1-based line of the rule in its document. */
  readonly line: number;
  /** False for a rule written with a leading `|`. */
  readonly enabled: boolean;
  /** IP version fixed by proto, literal addresses or aliases (spec §3.4); absent = both. */
  readonly ipVersion?: IpVersion;
  /** Validation errors (spec §3.5); a rule with errors is kept but never compiled. */
  readonly errors: readonly RuleError[];
}

/** An option line that parsed. `value` is normalised (policies upper-case, levels lower-case). */
export interface OptionEntry {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

/** An `[ALIASES]` entry: a name for an address or CIDR. */
export interface Alias {
  /** Name as written (display form). Lookups use `name.toLowerCase()`. */
  readonly name: string;
  /** Normalised address or CIDR (`/32`, `/128` removed). */
  readonly cidr: string;
  readonly ipVersion: IpVersion;
  readonly comment?: string;
  readonly line: number;
}

/** One entry of an IP set: an address, CIDR or alias, possibly `!` (nomatch). */
export interface IpSetEntry {
  /** Token as written (address, CIDR or alias reference), `/32` or `/128` removed. */
  readonly cidr: string;
  readonly nomatch: boolean;
  readonly comment?: string;
  readonly line: number;
  /** Set when the entry is unusable (unknown alias, bad address, duplicate, zero prefix). */
  readonly error?: RuleError;
}

/** An `[IPSET name]` section with its entries. */
export interface IpSet {
  /** Lower-cased name. */
  readonly name: string;
  readonly comment?: string;
  /** Line of the `[IPSET name]` header. */
  readonly line: number;
  readonly entries: readonly IpSetEntry[];
}

/** A `[group name]` section of cluster.fw with its rules. */
export interface SecurityGroup {
  /** Lower-cased name. */
  readonly name: string;
  readonly comment?: string;
  /** Line of the `[group name]` header. */
  readonly line: number;
  readonly rules: readonly Rule[];
}

/** Which section a line belongs to; used by editors to find insertion points. */
export type SectionKind = 'options' | 'rules' | 'aliases' | 'ipset' | 'group';

/** A section of a document: its kind, name and line range. */
export interface Section {
  readonly kind: SectionKind;
  /** For ipset and group sections: the lower-cased name. */
  readonly name?: string;
  /** Line of the header. */
  readonly headerLine: number;
  /** Last line that belongs to the section (inclusive; may be blank or comment lines). */
  readonly endLine: number;
}

/** A parsed `.fw` document (cluster, host, guest or vnet). */
export interface FwDocument {
  readonly kind: FwDocumentKind;
  readonly path: string;
  readonly lines: readonly SourceLine[];
  /** Absent means UTF-8. */
  readonly encoding?: SourceEncoding;
  readonly sections: readonly Section[];
  /**
   * Options in effect, by lower-cased name (later lines overwrite earlier ones).
   * `undefined` when the document has no `[OPTIONS]` section: for a guest that means
   * "no options table" (spec §1.6), which is different from an empty one.
   */
  readonly options: ReadonlyMap<string, OptionEntry> | undefined;
  readonly rules: readonly Rule[];
  /** By lower-cased name; later definitions replace earlier ones. */
  readonly aliases: ReadonlyMap<string, Alias>;
  /** By lower-cased name. */
  readonly ipsets: ReadonlyMap<string, IpSet>;
  /** By lower-cased name (cluster only). */
  readonly groups: ReadonlyMap<string, SecurityGroup>;
  readonly diagnostics: readonly Diagnostic[];
}

/** One `netN` device of a guest, with what the firewall needs (spec §1.7). */
export interface GuestNic {
  /** The N of `netN`. */
  readonly index: number;
  readonly line: number;
  /** QEMU model (`virtio`, `e1000`…); absent for LXC. */
  readonly model?: string;
  /** MAC as written, if any. */
  readonly mac?: string;
  readonly bridge?: string;
  readonly firewall: boolean;
  readonly tag?: number;
  /** LXC only: interface name inside the container. */
  readonly name?: string;
  /** LXC only: `ip=` (CIDR, `dhcp` or `manual`). */
  readonly ip?: string;
  /** LXC only: `ip6=` (CIDR, `auto`, `dhcp` or `manual`). */
  readonly ip6?: string;
}

/** A guest is a VM (`qemu`) or a container (`lxc`). */
export type GuestType = 'qemu' | 'lxc';

/** A guest config (`qemu-server/<vmid>.conf` or `lxc/<vmid>.conf`). */
export interface GuestConfig {
  readonly kind: 'qemu-config' | 'lxc-config';
  readonly guestType: GuestType;
  readonly path: string;
  readonly lines: readonly SourceLine[];
  /** Absent means UTF-8. */
  readonly encoding?: SourceEncoding;
  /** From the file name when it is `<vmid>.conf`. */
  readonly vmid?: number;
  /** NICs of the current config (snapshot sections `[name]` are ignored), by index. */
  readonly nics: readonly GuestNic[];
  readonly diagnostics: readonly Diagnostic[];
}

/** A node of corosync.conf: its name, id and ring addresses. */
export interface CorosyncNode {
  readonly name: string;
  readonly nodeid?: number;
  /** `ringN_addr` values by ring number (addresses or host names, as written). */
  readonly rings: ReadonlyMap<number, string>;
  readonly line: number;
}

/** What the firewall needs from `corosync.conf`. */
export interface CorosyncConfig {
  readonly kind: 'corosync';
  readonly path: string;
  readonly lines: readonly SourceLine[];
  /** Absent means UTF-8. */
  readonly encoding?: SourceEncoding;
  readonly clusterName?: string;
  /** `totem.transport` (`knet` when absent, as in corosync 3). */
  readonly transport: string;
  /** `totem.ip_version` as written, if any. */
  readonly ipVersion?: string;
  readonly nodes: readonly CorosyncNode[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Any document the language parses. */
export type ParsedDocument = FwDocument | GuestConfig | CorosyncConfig;
