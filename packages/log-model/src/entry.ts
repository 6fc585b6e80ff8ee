/**
 * The log entry contract shared by the node agent (which publishes) and the logger (which
 * stores and answers). Changes must be compatible: new optional fields only.
 */

/** JetStream stream that carries every node's log entries. */
export const LOG_STREAM = 'PALISADE_LOG';
/** Subjects are `palisade.log.<node>`, one per node. */
export const LOG_SUBJECT_PREFIX = 'palisade.log.';
/** The stream's subject filter: every node's subject. */
export const LOG_STREAM_SUBJECTS = 'palisade.log.>';
/** The stream's least duplicate window (Nats-Msg-Id de-duplication), ms. */
export const LOG_STREAM_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
/**
 * Age limit of the stream, ms, when an agent or a logger creates it (7 days): the loggers' own
 * retention does not shrink the stream, so without one it would grow without bound.
 */
export const LOG_STREAM_DEFAULT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** The settings of the log stream that do not depend on the cluster (JetStream's field names; durations in ns). */
export interface LogStreamSettings {
  readonly name: string;
  readonly subjects: string[];
  readonly duplicate_window: number;
  readonly max_age: number;
  readonly description: string;
}

/**
 * What an agent or a logger creates the log stream with, whichever comes first (the creator adds
 * the storage and, for a logger, the replicas): one definition so that the two cannot differ.
 */
export function logStreamSettings(maxAgeMs: number = LOG_STREAM_DEFAULT_MAX_AGE_MS): LogStreamSettings {
  return {
    name: LOG_STREAM,
    subjects: [LOG_STREAM_SUBJECTS],
    duplicate_window: LOG_STREAM_DUPLICATE_WINDOW_MS * 1_000_000,
    max_age: maxAgeMs * 1_000_000,
    description: 'Palisade firewall log entries of every node (palisade.log.<node>)',
  };
}

/** Largest encoded entry (bytes) {@link decodeLogEntry} accepts and {@link encodeLogEntry} produces. */
export const LOG_ENTRY_MAX_BYTES = 16 * 1024;

/** The verdict class of a logged packet. */
export type LogAction = 'ACCEPT' | 'DROP' | 'REJECT' | 'OTHER';
/** All {@link LogAction}s, for validation and option parsing. */
export const LOG_ACTIONS: readonly LogAction[] = ['ACCEPT', 'DROP', 'REJECT', 'OTHER'];
/** Which way the logging chain faces. */
export type LogDirection = 'in' | 'out' | 'unknown';
/** All {@link LogDirection}s. */
export const LOG_DIRECTIONS: readonly LogDirection[] = ['in', 'out', 'unknown'];
/** Why entries were lost before they reached the stream. */
export type LossReason = 'kernel-sequence-gap' | 'kernel-enobufs' | 'spool-overflow' | 'decode-error';
/** All {@link LossReason}s. */
export const LOSS_REASONS: readonly LossReason[] = ['kernel-sequence-gap', 'kernel-enobufs', 'spool-overflow', 'decode-error'];

/** Where a logged rule is written: document path, 1-based line, the rule's text. */
export interface LogRuleOrigin {
  readonly path: string;
  readonly line: number;
  readonly text: string;
}

/** One packet a log rule matched. */
export interface PacketLogEntry {
  readonly kind: 'packet';
  /** `${node}:${bootId}:${seq}`, unique; also the Nats-Msg-Id header. */
  readonly id: string;
  readonly node: string;
  /** µs since epoch, UTC: kernel NFLOG timestamp, else receive time. */
  readonly timeUs: number;
  /** Guest the rule protected (for group chains: from PHYSIN/PHYSOUT/iif/oif), 0 = host. */
  readonly vmid: number;
  /** 0–7 from the prefix (6 when the prefix is not Palisade's). */
  readonly level: number;
  /** From the prefix, '-' when unparseable. */
  readonly chain: string;
  /** The prefix's message without the trailing ': ', e.g. 'DROP', 'policy DROP'. */
  readonly verdict: string;
  readonly action: LogAction;
  readonly isPolicy: boolean;
  /** From the chain name (-IN/-OUT, HOST-IN/OUT). */
  readonly direction: LogDirection;
  /** The compiler's stable rule id carried in the prefix. */
  readonly ruleId?: string;
  readonly rule?: LogRuleOrigin;
  readonly iif?: string;
  readonly oif?: string;
  readonly physIn?: string;
  readonly physOut?: string;
  /** Raw link-layer header, colon hex, as pvefw-logger prints MAC=. */
  readonly mac?: string;
  readonly family?: 4 | 6 | 'arp';
  /** 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | … or the number as text. */
  readonly proto?: string;
  readonly src?: string;
  readonly dst?: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly len?: number;
  readonly tcpFlags?: readonly string[];
  readonly mark?: number;
  /**
   * The packet part of pvefw-logger's line, exactly as it prints it after "<verdict>: "
   * ("IN=… OUT=… PHYSIN=… MAC=… SRC=… DST=… LEN=… … PROTO=TCP SPT=… DPT=… …").
   */
  readonly packet: string;
}

/** Entries lost on a node between two times, so a query can say so. */
export interface LossLogEntry {
  readonly kind: 'loss';
  readonly id: string;
  readonly node: string;
  readonly timeUs: number;
  /** Entries lost (exact where the kernel's sequence numbers tell). */
  readonly count: number;
  readonly fromUs: number;
  readonly untilUs: number;
  readonly reason: LossReason;
}

/** What the stream carries. */
export type LogEntry = PacketLogEntry | LossLogEntry;
