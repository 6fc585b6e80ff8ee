/**
 * `@palisade/lab`: network-namespace topologies that load a compiled Palisade ruleset and send
 * real packets through it. Needs root and the programs of `LAB_TOOLS` (checked by
 * `labPrerequisites()`); touches only namespaces it creates.
 */
export { runLab, skipReason, LabTopology, DEFAULT_PROBE_TIMEOUT_MS, type LabCaseResult, type LabOptions, type LabSkipKind, type LabVerdict } from './lab.js';
export {
  LabError,
  labPrerequisites,
  missingToolError,
  run,
  ipBatch,
  LAB_ERROR_CODES,
  LAB_TOOLS,
  type IpBatchOptions,
  type LabErrorCode,
  type LabPrerequisiteOptions,
  type LabTool,
  type RunOptions,
  type RunResult,
} from './exec.js';
export { NamespaceAgent, type AgentReply, type NamespaceAgentOptions } from './agent.js';
