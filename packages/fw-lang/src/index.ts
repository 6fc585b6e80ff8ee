/**
 * `@palisade/fw-lang`: the Proxmox VE firewall language — parse, validate, print losslessly,
 * edit, resolve names. Pure: no I/O, no clock, no logging.
 */
export type {
  Action,
  Alias,
  CorosyncConfig,
  CorosyncNode,
  Diagnostic,
  DiagnosticEffect,
  DocumentKind,
  FwDocument,
  FwDocumentKind,
  GuestConfig,
  GuestNic,
  GuestType,
  IpSet,
  IpSetEntry,
  IpVersion,
  LogLevel,
  OptionEntry,
  ParsedDocument,
  Rule,
  RuleEnv,
  RuleError,
  RuleField,
  RuleType,
  Section,
  SectionKind,
  SecurityGroup,
  Severity,
  SourceEncoding,
  SourceLine,
} from './model.js';
export { ACTIONS, FW_DOCUMENT_KINDS, LOG_LEVELS, RULE_TYPES } from './model.js';
export { DIAGNOSTIC_CODES, type DiagnosticCode } from './diagnostic-codes.js';
export { formatDiagnostic, hasErrors, makeDiagnostic, sortDiagnostics } from './diagnostics.js';

// Parsing and printing
export { DEFAULT_MAX_DOCUMENT_BYTES, LONG_LINE_CHARS, encodeUtf8 } from './decode.js';
export { parseFwDocument, type ParseFwOptions, MAX_GROUP_NAME_LENGTH, MAX_IPSET_NAME_LENGTH } from './parse-fw.js';
export { parseGuestConfig } from './guest-config.js';
export { parseCorosyncConfig } from './corosync.js';
export { classifyPath, DOCUMENT_PATH_FORMS, type PathInfo } from './paths.js';
export { loadTree, parseDocument, checkReferences, type LoadTreeOptions, type ParseDocumentContext, type PveTree } from './tree.js';
export { createParseCache, type ParseCache } from './parse-cache.js';
export { printDocument, printDocumentBytes } from './print.js';
export { splitSourceLines, joinSourceLines, decodeUtf8, toText, type DecodedText } from './source-lines.js';

// Options
export {
  clusterOptions,
  guestOptions,
  hostOptions,
  vnetOptions,
  parseOptionLine,
  apiOptionValue,
  isNumericOption,
  OPTION_SYNTAX,
  ENABLE_TIMESTAMP_GRACE_SECONDS,
  type ClusterOptions,
  type GuestOptions,
  type HostOptions,
  type LogRateLimit,
  type VnetOptions,
} from './options.js';

// Names
export {
  ALIAS_REFERENCE,
  IPSET_REFERENCE,
  ipsetKernelName,
  parseAliasValue,
  resolveAlias,
  resolveIpSet,
  type AddressValue,
  type ReferenceOrigin,
  type ResolvedIpSet,
} from './names.js';

// Editing
export {
  editFwDocument,
  cleanIpSetCidr,
  ruleToSpec,
  type EditContext,
  type EditErrorCode,
  type EditResult,
  type FwEdit,
  type RuleTarget,
} from './edit.js';

// The rule-field table
export {
  RULE_FIELDS,
  RULE_ID_FIELDS,
  RULE_OPTION_PATTERNS,
  canonicalRuleText,
  copyRuleFields,
  formatRule,
  pickRuleFields,
  ruleFieldByName,
  type RuleFieldApiFormat,
  type RuleFieldDef,
  type RuleFieldKey,
  type RuleFieldKind,
  type RuleOptionPattern,
  type RuleSpec,
  type RuleSpecField,
  type RuleValues,
} from './rule-fields.js';

// Data tables
export { MACROS, findMacro, macroTemplatesFor, type MacroDef, type MacroTemplate } from './data/macros.js';
export { PROTOCOLS, lookupProtocol, isPortProtocol, icmpProtocolVersion, type ProtocolInfo } from './data/protocols.js';
export { ICMP_TYPES_V4, ICMP_TYPES_V6, icmpTypesFor, isIcmpTypeName, type IcmpTypeInfo } from './data/icmp-types.js';
export { SERVICES, lookupService } from './data/services.js';
export { ETHERTYPES, lookupEthertype, type EthertypeInfo } from './data/ethertypes.js';
export { CONNTRACK_HELPERS, findConntrackHelper, type ConntrackHelper } from './data/conntrack-helpers.js';
export { documentToJson, treeToJson, type JsonValue } from './json.js';

// Values
export { parsePortList, MAX_PORT_LIST_NUMBERS, type PortItem, type PortListResult, type ParsePortListOptions } from './values/ports.js';
export {
  addressBits,
  cidrContains,
  classifyAddressSpec,
  formatIp,
  isIpv4Address,
  isIpv6Address,
  networkOf,
  parseAddressList,
  parseIpCidr,
  parseIpOrCidr,
  parseIpSetEntryToken,
  type AliasValueResult,
  type IpSetEntryToken,
  type AddressItem,
  type AddressListResult,
  type AddressSpec,
  type IpCidr,
  type ParseIpCidrOptions,
} from './values/ip.js';
export { isValidIfaceName, isGuestNicName, guestNicIndex } from './values/iface.js';
export { parseLogRateLimit, parsePropertyString, parsePveBoolean, type LogRateLimitResult } from './values/property-string.js';
export { isValidMac, QEMU_NIC_MODELS, type ParseGuestConfigOptions } from './guest-config.js';
export { DEFAULT_COROSYNC_TRANSPORT, type ParseCorosyncOptions } from './corosync.js';
