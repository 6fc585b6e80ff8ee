/**
 * The closed catalogue of diagnostic codes. Codes are stable: tools may match on them.
 * A code never changes meaning; retired codes are not reused.
 */
import type { DiagnosticEffect, Severity } from './model.js';

interface CodeInfo {
  readonly severity: Severity;
  readonly effect: DiagnosticEffect;
  readonly summary: string;
}

/** Every diagnostic code of the language with its meaning; codes are stable (tools match on them). */
export const DIAGNOSTIC_CODES = {
  // Document as a whole (FW00xx)
  FW0001: { severity: 'error', effect: 'document', summary: 'document larger than the size limit' },
  FW0002: { severity: 'error', effect: 'document', summary: 'binary content (NUL byte)' },
  FW0003: { severity: 'error', effect: 'document', summary: 'invalid UTF-8' },
  FW0004: { severity: 'error', effect: 'document', summary: 'CRLF line ending (breaks section headers)' },
  FW0005: { severity: 'error', effect: 'document', summary: 'byte order mark at the start of the document' },
  FW0006: { severity: 'warning', effect: 'document', summary: 'very long line' },
  FW0007: { severity: 'error', effect: 'document', summary: 'unknown document path' },

  // Sections (FW01xx)
  FW0101: { severity: 'error', effect: 'dropped', summary: 'line outside any section' },
  FW0102: { severity: 'error', effect: 'dropped', summary: 'invalid security group or IP set name in header' },
  FW0103: { severity: 'error', effect: 'note', summary: 'section not allowed in this kind of document' },
  FW0104: { severity: 'warning', effect: 'note', summary: 'repeated group or IP set section discards earlier content' },

  // Options (FW02xx)
  FW0201: { severity: 'error', effect: 'dropped', summary: 'option line cannot be parsed' },
  FW0202: { severity: 'error', effect: 'dropped', summary: 'unknown option for this document kind' },
  FW0203: { severity: 'error', effect: 'dropped', summary: 'invalid option value' },
  FW0204: { severity: 'error', effect: 'dropped', summary: 'invalid log_ratelimit (fatal for the whole cluster configuration)' },
  FW0205: { severity: 'warning', effect: 'note', summary: 'option value is a timestamp: enabled only within 60 s of it' },
  FW0206: { severity: 'warning', effect: 'note', summary: 'option outside its documented range' },

  // Rule tokenising: line dropped (FW03xx)
  FW0301: { severity: 'error', effect: 'dropped', summary: 'unable to parse rule' },
  FW0302: { severity: 'error', effect: 'dropped', summary: 'unable to parse rule parameters' },
  FW0303: { severity: 'error', effect: 'dropped', summary: 'aliases give mixed IPv4/IPv6 addresses in rule' },

  // Rule validation: rule kept with errors (FW04xx)
  FW0401: { severity: 'error', effect: 'rule-error', summary: 'rule type not allowed here' },
  FW0402: { severity: 'error', effect: 'rule-error', summary: 'unknown action' },
  FW0403: { severity: 'error', effect: 'rule-error', summary: 'REJECT not allowed on forward rules' },
  FW0404: { severity: 'error', effect: 'rule-error', summary: 'invalid security group reference' },
  FW0405: { severity: 'error', effect: 'rule-error', summary: 'interface option not allowed or invalid' },
  FW0406: { severity: 'error', effect: 'rule-error', summary: 'unknown macro' },
  FW0407: { severity: 'error', effect: 'rule-error', summary: 'unknown protocol' },
  FW0408: { severity: 'error', effect: 'rule-error', summary: 'invalid port or port list' },
  FW0409: { severity: 'error', effect: 'rule-error', summary: 'option requires a protocol' },
  FW0410: { severity: 'error', effect: 'rule-error', summary: 'protocol does not support ports' },
  FW0411: { severity: 'error', effect: 'rule-error', summary: 'invalid ICMP type' },
  FW0412: { severity: 'error', effect: 'rule-error', summary: 'invalid address or address list' },
  FW0413: { severity: 'error', effect: 'rule-error', summary: 'mixed IPv4/IPv6 in rule' },
  FW0414: { severity: 'error', effect: 'rule-error', summary: 'invalid or unknown IP set reference' },
  FW0415: { severity: 'error', effect: 'rule-error', summary: 'unknown alias' },
  FW0416: { severity: 'error', effect: 'rule-error', summary: 'option conflicts with the macro' },
  FW0417: { severity: 'warning', effect: 'note', summary: 'security group not defined (behaves as an empty group)' },
  FW0418: { severity: 'warning', effect: 'note', summary: 'reference resolves only outside its scope (skipped at compile time)' },
  FW0419: { severity: 'warning', effect: 'note', summary: 'rule never compiled for this IP version' },

  // Aliases (FW05xx)
  FW0501: { severity: 'error', effect: 'dropped', summary: 'malformed alias line' },
  FW0502: { severity: 'error', effect: 'dropped', summary: 'invalid alias value' },
  FW0503: { severity: 'warning', effect: 'note', summary: 'alias redefined' },
  FW0504: { severity: 'warning', effect: 'note', summary: 'alias name not accepted by the API' },

  // IP set entries (FW06xx)
  FW0601: { severity: 'error', effect: 'entry-error', summary: 'malformed IP set entry' },
  FW0602: { severity: 'error', effect: 'entry-error', summary: 'IP set entry refers to an unknown alias' },
  FW0603: { severity: 'error', effect: 'entry-error', summary: 'invalid IP set entry address' },
  FW0604: { severity: 'warning', effect: 'entry-error', summary: 'duplicate IP set entry' },
  FW0605: { severity: 'error', effect: 'entry-error', summary: 'zero prefix length in IP set entry' },

  // Guest configs (FW07xx)
  FW0701: { severity: 'error', effect: 'dropped', summary: 'invalid network device' },
  FW0702: { severity: 'warning', effect: 'note', summary: 'malformed guest config line' },

  // corosync.conf (FW08xx)
  FW0801: { severity: 'error', effect: 'document', summary: 'corosync.conf syntax error' },
  FW0802: { severity: 'warning', effect: 'note', summary: 'corosync node without a usable ring address' },
  FW0803: { severity: 'warning', effect: 'note', summary: 'corosync node defined more than once (the later definition is used)' },

  // Cross-document checks (FW09xx)
  FW0901: { severity: 'warning', effect: 'note', summary: 'guest firewall document without a guest config' },
  FW0902: { severity: 'error', effect: 'note', summary: 'guest id configured on more than one node' },
} as const satisfies Record<string, CodeInfo>;

/** One of {@link DIAGNOSTIC_CODES}. */
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
