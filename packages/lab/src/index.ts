/**
 * `@palisade/lab`: network-namespace topologies that load a compiled Palisade ruleset and send
 * real packets through it. Needs root; touches only namespaces it creates.
 */
export { runLab, skipReason, LabTopology, DEFAULT_PROBE_TIMEOUT_MS, type LabCaseResult, type LabOptions, type LabVerdict } from './lab.js';
export { LabError, labPrerequisites, run, ipBatch, LAB_ERROR_CODES, type LabErrorCode, type RunOptions, type RunResult } from './exec.js';
export { NamespaceAgent } from './agent.js';
