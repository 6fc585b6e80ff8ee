/**
 * @palisade/node-agent as a library, for tests and embedding (the demo may run it in-process).
 * The service itself starts from `main.ts` (`palisade-agent`).
 */
export { createNodeAgent, type NodeAgent } from './app.js';
export { AGENT_DEFAULTS, resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './options.js';
export { AGENT_ERROR_CODES, AgentError, type AgentErrorCode, type AgentErrorContext } from './errors.js';
export type { ApplyInput, ApplyResult, KernelRuleset, RulesetApplier } from './apply/ruleset-applier.js';
export { createDryRunApplier, createNftCliApplier, type NftCliApplierOptions } from './apply/nft-cli-applier.js';
export type { AgentStatus } from './state/agent-status.js';
export { AGENT_VERSION } from './version.js';
