/**
 * `@palisade/fw-compile`: compiles the firewall configuration of one node into an nftables
 * ruleset (an intermediate representation rendered to nft text and libnftables JSON) and
 * evaluates packets against that ruleset. Pure: no I/O, no clock, no logging.
 */
export {
  compileNode,
  COMPILE_CODES,
  DEFAULT_COMPILE_OPTIONS,
  REQUIRED_SYSCTLS,
  type CompileCode,
  type CompileDiagnostic,
  type CompileOptions,
  type CompileResult,
  type CompileTree,
  type NodeFacts,
  type Topology,
  type TopologyNic,
} from './compile.js';
export {
  compileForNode,
  knownNodes,
  NODE_COMPILE_REFUSALS,
  type CompileForNodeOptions,
  type NodeCompileOutcome,
  type NodeCompileRefusal,
  type NodeCompileRefusalCode,
} from './compile-for-node.js';
// The IR, its fingerprints and the ICMP run rule live in @palisade/nft-ir (the netlink codec
// needs them without the compiler); passed through whole, so this package's API keeps them.
export * from '@palisade/nft-ir';
export { shareRepeatedSets } from './shared-sets.js';
export { createIncrementalCompiler, type IncrementalCompiler, type IncrementalCompileStats } from './incremental-compile.js';
export { renderNftText, renderRule, renderMatch, renderStmt, type RenderTextOptions } from './nft-text.js';
export {
  flattenLongestPrefix,
  formatAddress,
  formatInterval,
  parseCidr,
  parseAddress,
  type Cidr,
} from './ip.js';
export {
  simulate,
  simulatePrepared,
  prepareCase,
  type PreparedCase,
  resolveZone,
  formatSimResult,
  simOutcomeJson,
  SIM_DEFAULT_DEST,
  SIM_DEFAULT_DEST_V6,
  SIM_DEFAULT_SOURCE,
  SIM_DEFAULT_SOURCE_V6,
  OUTSIDE_PORT,
  NFVM_PORT,
  type SimCase,
  type SimDecision,
  type SimHop,
  type SimOutcome,
  type SimResult,
  type SimVerdict,
  type Zone,
} from './simulate.js';
export { renderNftJson, type JsonValue } from './nft-json.js';
export { diffSetElements, renderSetUpdate, sameChain } from './set-update.js';
export { RULE_ID_LENGTH, RULE_ID_PATTERN, canonicalRuleText, documentRuleIds, ruleId } from './rule-id.js';
export { DEFAULT_LOG_GROUP, LOG_CHAIN_MAX, NFT_LOG_PREFIX_MAX, formatLogPrefix, parseLogPrefix, type ParsedLogPrefix } from './log-prefix.js';
