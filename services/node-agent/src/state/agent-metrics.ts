/**
 * The agent's Prometheus metrics (served on `--metrics` by service-kit's endpoint): applies and
 * their duration, propagation lag (the writing configd's revision time → applied here), apply
 * failures, refusals, drift repairs, and the applied/store revisions.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AgentStatus } from './agent-status.js';

/** What the reconciler reports as it happens. */
export interface AgentMetrics {
  /** A ruleset reached the kernel after `durationMs`; `lagMs` since the newest input change was written (absent: facts or restore). */
  applied(durationMs: number, lagMs: number | undefined): void;
  applyFailed(): void;
  refused(): void;
  driftRepaired(): void;
}

/** Metrics that go nowhere (no `--metrics`). */
export const NO_METRICS: AgentMetrics = { applied: () => undefined, applyFailed: () => undefined, refused: () => undefined, driftRepaired: () => undefined };

const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Registers the agent's metrics in `registry`; `status` is read at scrape time for the gauges. */
export function createAgentMetrics(registry: Registry, status: () => AgentStatus): AgentMetrics {
  const applies = new Counter({ name: 'palisade_agent_applies_total', help: 'Rulesets put in force in the kernel', registers: [registry] });
  const failures = new Counter({ name: 'palisade_agent_apply_failures_total', help: 'Applies the kernel refused or that failed (the previous ruleset stayed)', registers: [registry] });
  const refusals = new Counter({ name: 'palisade_agent_refusals_total', help: 'Configurations refused as a whole (the previous ruleset stayed)', registers: [registry] });
  const drift = new Counter({ name: 'palisade_agent_drift_repairs_total', help: "Times Palisade's tables were changed outside the agent and applied again", registers: [registry] });
  const duration = new Histogram({ name: 'palisade_agent_apply_duration_seconds', help: 'Duration of one apply transaction', buckets: LATENCY_BUCKETS_S, registers: [registry] });
  const lag = new Histogram({
    name: 'palisade_agent_propagation_lag_seconds',
    help: "From the write's revision time (writing configd's clock) to the ruleset applied here",
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
  new Gauge({
    name: 'palisade_agent_applied_revision',
    help: 'Store revision the ruleset in force was compiled from',
    registers: [registry],
    collect() {
      this.set(status().appliedRevision);
    },
  });
  new Gauge({
    name: 'palisade_agent_store_revision',
    help: 'Latest store revision seen',
    registers: [registry],
    collect() {
      this.set(status().storeRevision);
    },
  });
  new Gauge({
    name: 'palisade_agent_configd_connected',
    help: '1 while the watch stream to configd is up',
    registers: [registry],
    collect() {
      this.set(status().connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'palisade_agent_rule_errors',
    help: 'Rules skipped or reported by the latest compile',
    registers: [registry],
    collect() {
      this.set(status().errors.length);
    },
  });
  return {
    applied(durationMs, lagMs) {
      applies.inc();
      duration.observe(durationMs / 1000);
      if (lagMs !== undefined) lag.observe(Math.max(0, lagMs) / 1000);
    },
    applyFailed: () => failures.inc(),
    refused: () => refusals.inc(),
    driftRepaired: () => drift.inc(),
  };
}
