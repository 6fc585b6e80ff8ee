/**
 * When a service may say "JetStream has lost its quorum": a pure verdict over quorum probes, so
 * that only the quorum being gone reads as "not quorate". A probe that answers decides; a probe
 * that fails counts only when it says something about the servers:
 * - a stream of one replica has no quorum to lose (its server is reachable or not: that is the
 *   connection's state, not a quorum);
 * - a probe whose timeout fired late (the event loop was blocked: the answer may be sitting
 *   unread in the socket) says nothing about the servers and is ignored;
 * - otherwise `failuresForLoss` failures in a row are needed, so one slow answer is not a loss.
 */

/** Bounds of a `QuorumVerdict`; defaults in `QUORUM_VERDICT_DEFAULTS`. */
export interface QuorumVerdictOptions {
  /** Consecutive failed probes (not explained by a stall) before the quorum counts as lost. */
  readonly failuresForLoss?: number;
  /** A failed probe that took longer than its timeout plus this was delayed by the event loop. */
  readonly stallSlackMs?: number;
}

/** Defaults: three failed probes in a row; a timeout 250 ms late is a stall. */
export const QUORUM_VERDICT_DEFAULTS = { failuresForLoss: 3, stallSlackMs: 250 } as const;

/** What a failed probe was. */
export interface FailedProbe {
  /** Wall time from sending the probe to its failure, in ms. */
  readonly elapsedMs: number;
  /** The probe's own timeout, in ms. */
  readonly timeoutMs: number;
  /** Replicas of the stream (0 when unknown). */
  readonly replicas: number;
}

/** The quorum as probes show it; see the module comment. Pure: no clock, no I/O. */
export class QuorumVerdict {
  readonly #failuresForLoss: number;
  readonly #stallSlackMs: number;
  #quorate: boolean;
  #failures = 0;

  constructor(initial = false, o: QuorumVerdictOptions = {}) {
    this.#quorate = initial;
    this.#failuresForLoss = o.failuresForLoss ?? QUORUM_VERDICT_DEFAULTS.failuresForLoss;
    this.#stallSlackMs = o.stallSlackMs ?? QUORUM_VERDICT_DEFAULTS.stallSlackMs;
  }

  /** The current verdict. */
  get quorate(): boolean {
    return this.#quorate;
  }

  /** A probe answered (the stream's leader reported its replicas): the answer decides. */
  answered(quorate: boolean): boolean {
    this.#failures = 0;
    this.#quorate = quorate;
    return quorate;
  }

  /** An acknowledged write is proof of a quorum. */
  acknowledged(): boolean {
    return this.answered(true);
  }

  /** A probe failed (timeout, no responders); returns the verdict after it. */
  failed(p: FailedProbe): boolean {
    if (p.replicas === 1) return this.#quorate;
    if (p.elapsedMs > p.timeoutMs + this.#stallSlackMs) return this.#quorate;
    this.#failures++;
    if (this.#failures >= this.#failuresForLoss) this.#quorate = false;
    return this.#quorate;
  }

  /** Failed probes counted since the last answer. */
  get consecutiveFailures(): number {
    return this.#failures;
  }
}
