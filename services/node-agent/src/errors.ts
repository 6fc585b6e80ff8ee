/**
 * The node agent's one error class. Document mistakes are not errors: they are diagnostics
 * reported in the status; these codes are for what the agent itself cannot do.
 */
import { COMMON_ERROR_CODES, PalisadeError } from '@palisade/service-kit';

/** Every code an `AgentError` can carry: the common ones and the agent's own. */
export const AGENT_ERROR_CODES = [
  ...COMMON_ERROR_CODES,
  /** An option is missing, malformed or contradicts another. */
  'invalid-argument',
  /** The kernel refused a transaction or a command failed (`nft`, `ip`, `sysctl`). */
  'apply-failed',
  /** The state directory cannot be read or written. */
  'state-failed',
] as const;
/** One of {@link AGENT_ERROR_CODES}. */
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];

/** The typed context of an `AgentError`. */
export interface AgentErrorContext {
  /** The option at fault (`invalid-argument`). */
  readonly field?: string;
  /** A command's exit code and stderr (`apply-failed`). */
  readonly exitCode?: number | null;
  readonly stderr?: string;
  readonly path?: string;
}

/** The error the agent's modules throw (a closed code, typed context and `cause`). */
export class AgentError extends PalisadeError<AgentErrorCode, AgentErrorContext> {}
