/**
 * Keeps the kernel on the ruleset the node's documents compile to. Runs through a coalescer
 * (a few ms after the last change, at least every `maxDelayMs` during a stream of changes);
 * recompiles only when an input or a fact changed; sends nothing when the compiled text is
 * byte-identical to the one in force. A refusal or a failed apply leaves the previous ruleset in
 * force; failed applies are retried with exponential backoff.
 */
import { createHash } from 'node:crypto';
import type { Clock, Logger } from '@palisade/service-kit';
import { createNodeCompiler, type NodeCompileOutput } from '../compile/node-compiler.js';
import type { AddressFacts } from '../facts/address-facts.js';
import { createCoalescer, type Coalescer } from '../follow/coalescer.js';
import type { NodeDocuments } from '../follow/node-documents.js';
import type { AgentStatus } from '../state/agent-status.js';
import { NO_METRICS, type AgentMetrics } from '../state/agent-metrics.js';
import type { LastKnownGood, StateFile } from '../state/state-file.js';
import type { RulesetInForce } from '../logs/rule-map.js';
import { createSavedOriginsCollector } from '../state/saved-origins.js';
import { applySysctls, wantedSysctls } from './sysctls.js';
import type { RulesetApplier } from './ruleset-applier.js';
import { REQUIRED_SYSCTLS, type CompileResult } from '@palisade/fw-compile';

/**
 * What the reconciler works from, filled by the agent's app from its options; `quietMs` and
 * `maxDelayMs` are the coalescer's bounds, ms (see `CoalescerOptions`).
 */
export interface ReconcilerOptions {
  readonly node: string;
  readonly documents: NodeDocuments;
  readonly facts: () => AddressFacts;
  readonly applier: RulesetApplier;
  /** Where the last-known-good ruleset is kept; absent in dry-run. */
  readonly stateFile?: StateFile;
  readonly netns?: string;
  readonly dryRun: boolean;
  readonly logGroup: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly quietMs: number;
  readonly maxDelayMs: number;
  /** First retry delay after a failed apply, ms (doubles up to `retryMaxMs`). */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** Default: none. */
  readonly metrics?: AgentMetrics;
  /**
   * A ruleset is in force: after each apply (with its compile result) and after the restore at
   * start (its text and the rule origins saved with it). The log capture names entries to their rules from it.
   */
  readonly onApplied?: (ruleset: RulesetInForce) => void;
}

/**
 * The agent's single writer of the kernel ruleset: the follower, the address facts, the drift
 * monitor and the agent API report to it, and only it applies (see the file comment).
 */
export interface Reconciler {
  /** Restores the last-known-good ruleset from `--data` unless the kernel already holds it. */
  restore(signal?: AbortSignal): Promise<void>;
  /** The store delivered a complete snapshot: from now on the documents are the store's. */
  synced(): void;
  /**
   * An input document or a fact changed; `writtenAtMs` is the write's revision time when a
   * document did (for the propagation lag).
   */
  changed(writtenAtMs?: number): void;
  /** Something changed in the kernel's ruleset: compare Palisade's tables with what was applied, repair a difference. */
  suspectDrift(): void;
  /** Connection and revision reports of the follower. */
  setConnected(connected: boolean): void;
  setStoreRevision(revision: number): void;
  status(): AgentStatus;
  /** The transaction in force ("" when none), its digest and revision. */
  ruleset(): { readonly text: string; readonly digest: string; readonly revision: number };
  /**
   * The compiled result the transaction in force was rendered from (simulate, counters);
   * undefined before the first apply of this run (a ruleset restored from `--data` is text only).
   */
  compiledInForce(): CompileResult | undefined;
  /**
   * Removes Palisade's tables on purpose (the node is then open) and applies nothing until an
   * input document changes; the state file then holds "no tables", so a restart before that
   * change does not bring the old ruleset back. Resolves with the tables removed.
   */
  flush(signal?: AbortSignal): Promise<string[]>;
  /** Resolves when nothing is pending or running (tests). */
  idle(): Promise<void>;
  /** Stops scheduling; a running apply finishes. The ruleset in force stays in force. */
  close(): Promise<void>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Where one change's time went, ms, for the 'ruleset applied' log line: write (the writing
 * configd's revision time) → delivered here → compile started (coalescer) → compiled → apply
 * started (sysctls) → the kernel acknowledged; `appliedAtMs` is the wall clock of the last.
 */
export interface PropagationStages {
  readonly deliveryMs?: number;
  readonly queuedMs?: number;
  readonly compileMs: number;
  readonly preApplyMs: number;
  readonly applyMs: number;
  readonly totalMs?: number;
  readonly appliedAtMs: number;
}

function stagesOf(writtenMs: number | undefined, deliveredMs: number | undefined, compileStart: number, compileEnd: number, applyStart: number, applied: number): PropagationStages {
  return {
    ...(writtenMs !== undefined && deliveredMs !== undefined ? { deliveryMs: deliveredMs - writtenMs } : {}),
    ...(deliveredMs !== undefined ? { queuedMs: compileStart - deliveredMs } : {}),
    compileMs: compileEnd - compileStart,
    preApplyMs: applyStart - compileEnd,
    applyMs: applied - applyStart,
    ...(writtenMs !== undefined ? { totalMs: applied - writtenMs } : {}),
    appliedAtMs: applied,
  };
}

/** Palisade's own tables when nothing was applied yet (what the compiler creates). */
const PALISADE_TABLES = [
  { family: 'inet', name: 'palisade' },
  { family: 'bridge', name: 'palisade' },
] as const;

/** The transaction that removes `tables` (creating first, so it works when one is absent). */
function flushText(tables: readonly { readonly family: string; readonly name: string }[]): string {
  return tables.map((t) => `table ${t.family} ${t.name}\ndelete table ${t.family} ${t.name}\n`).join('');
}

/**
 * Creates an idle reconciler: nothing is compiled before `synced()` (earlier changes wait).
 * Refusals and failed applies are logged and kept in `status()`, not thrown; only `restore()`
 * rejects, when the state file or the kernel's ruleset cannot be read or the apply fails.
 */
export function createReconciler(o: ReconcilerOptions): Reconciler {
  const log = o.logger.child({ component: 'reconciler' });
  // Keeps the previous compile's parses, guest parts and chain texts: a guest's change costs that guest.
  const nodeCompiler = createNodeCompiler();
  const st: Mutable<AgentStatus> = {
    node: o.node,
    dryRun: o.dryRun,
    applier: o.applier.kind,
    appliedRevision: 0,
    rulesetDigest: '',
    storeRevision: 0,
    inSync: false,
    connected: false,
    enabled: false,
    restored: 'none',
    flushed: false,
    errors: [],
    sysctlFailures: [],
    facts: { hostAddresses: [], interfaces: [] },
    counters: { compiles: 0, applies: 0, applyFailures: 0, skippedIdentical: 0, driftRepairs: 0 },
  };
  const counters = st.counters as Mutable<AgentStatus['counters']>;
  /** The transaction in force (its text joined only when read: the state write, the API), undefined when none. */
  let inForce: { readonly text: string } | undefined;
  let appliedOwnTables: readonly { readonly family: string; readonly name: string }[] = [];
  /** The kernel's digest of Palisade's tables right after the last apply ("" unknown). */
  let kernelDigest = '';
  let driftSuspected = false;
  const metrics = o.metrics ?? NO_METRICS;
  /** Revision time of the newest input change not yet compiled, and of the compile in `last`. */
  let newestWriteMs: number | undefined;
  let compiledWriteMs: number | undefined;
  /** When the oldest change not yet compiled reached the agent, and that of the compile in `last` (stage timings). */
  let pendingSinceMs: number | undefined;
  let compiledSinceMs: number | undefined;
  let lastKey: string | undefined;
  let last: Extract<NodeCompileOutput, { ok: true }> | undefined;
  let lastRevision = 0;
  let sysctlsKey: string | undefined;
  let failures = 0;
  let refusals = 0;
  let appliedCompiled: CompileResult | undefined;
  /** The documents' version at the last flush: nothing is applied while it is unchanged. */
  let flushedAtVersion: number | undefined;
  let deadmanTick = 0;
  let cancelDeadman: (() => void) | undefined;
  const abort = new AbortController();

  const armDeadman = (atMs: number | undefined): void => {
    cancelDeadman?.();
    cancelDeadman = undefined;
    if (atMs === undefined) {
      delete st.deadmanAtMs;
      return;
    }
    st.deadmanAtMs = atMs;
    cancelDeadman = o.clock.setTimer(() => {
      log.warn({ deadmanAtMs: atMs }, "cluster enable timestamp older than 60 s and not confirmed with 'enable: 1': the firewall is disabled");
      deadmanTick++;
      coalescer.poke();
    }, Math.max(0, atMs - o.clock.now()));
  };

  const setSysctls = async (settings: [string, string][]): Promise<void> => {
    if (o.dryRun) return;
    const key = JSON.stringify(settings);
    if (key === sysctlsKey) return;
    st.sysctlFailures = await applySysctls(o.netns, settings, abort.signal);
    sysctlsKey = key;
    if (st.sysctlFailures.length > 0) log.warn({ sysctlFailures: st.sysctlFailures }, 'some kernel settings the ruleset needs could not be set');
  };

  const repairDrift = async (): Promise<void> => {
    driftSuspected = false;
    if (o.dryRun || inForce === undefined || !kernelDigest) return;
    const text = inForce;
    try {
      const current = await o.applier.readCurrent(appliedOwnTables, abort.signal);
      if (current.digest === kernelDigest) return;
      log.warn({ rulesetDigest: st.rulesetDigest }, "Palisade's tables were changed outside the agent; applying the ruleset in force again");
      await o.applier.apply({ get text() { return text.text; }, digest: st.rulesetDigest, ownTables: appliedOwnTables }, abort.signal);
      kernelDigest = (await o.applier.readCurrent(appliedOwnTables, abort.signal)).digest;
      counters.driftRepairs++;
      metrics.driftRepaired();
    } catch (err) {
      if (abort.signal.aborted) return;
      log.error({ err }, 'drift check or repair failed; retrying');
      driftSuspected = true;
      coalescer.pokeAfter(o.retryInitialMs);
    }
  };

  const run = async (): Promise<void> => {
    if (abort.signal.aborted) return;
    const appliesBefore = counters.applies;
    await reconcile();
    // An apply replaces Palisade's tables wholesale: a drift check is only needed without one.
    if (counters.applies !== appliesBefore) driftSuspected = false;
    if (driftSuspected) await repairDrift();
  };

  /**
   * State-file writes (two fsyncs) run behind the applies, one at a time, so the next change
   * does not wait for the disk; a write superseded by a newer one before it started is skipped.
   * The state is built only when its write starts, after the events already received (a change
   * delivered meanwhile compiles first): the rule origins (cached per chain) and the text joined
   * from its pieces are the write's work, not the apply's.
   */
  let persisting: Promise<void> = Promise.resolve();
  let newestState: (() => LastKnownGood) | undefined;
  const originsOf = createSavedOriginsCollector();
  const keepLastKnownGood = (state: () => LastKnownGood): void => {
    newestState = state;
    persisting = persisting.then(async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const newest = newestState;
      newestState = undefined;
      if (!newest || !o.stateFile) return;
      await o.stateFile.write(newest()).catch((err: unknown) => log.error({ err }, 'cannot keep the last-known-good ruleset; a restart without configd would restore an older one'));
    });
  };
  let compileStartedMs = 0;
  let compileEndedMs = 0;
  const reconcile = async (): Promise<void> => {
    if (!st.inSync) return;
    if (flushedAtVersion !== undefined) {
      if (o.documents.version === flushedAtVersion) return;
      flushedAtVersion = undefined;
      st.flushed = false;
    }
    const facts = o.facts();
    const key = `${o.documents.version} ${deadmanTick} ${JSON.stringify(facts)}`;
    if (key !== lastKey) {
      lastKey = key;
      lastRevision = st.storeRevision;
      compiledWriteMs = newestWriteMs;
      newestWriteMs = undefined;
      compiledSinceMs = pendingSinceMs;
      pendingSinceMs = undefined;
      compileStartedMs = o.clock.now();
      const out = nodeCompiler.compile({ node: o.node, documents: o.documents.inputs(), facts, nowMs: o.clock.now(), logGroup: o.logGroup });
      compileEndedMs = o.clock.now();
      log.debug({ timings: nodeCompiler.lastTimings, revision: st.storeRevision }, 'compiled');
      counters.compiles++;
      st.errors = out.problems;
      if (!out.ok) {
        // Compiled again with backoff (facts or the clock may be what it depends on); a change compiles at once.
        const retryInMs = Math.min(o.retryMaxMs, o.retryInitialMs * 2 ** Math.min(refusals, 16));
        refusals++;
        st.refusal = { ...out.refusal, retryInMs };
        last = undefined;
        lastKey = undefined;
        metrics.refused();
        log.error({ refusal: out.refusal, revision: lastRevision, retryInMs }, 'configuration refused; the previous ruleset stays in force');
        coalescer.pokeAfter(retryInMs);
        return;
      }
      refusals = 0;
      delete st.refusal;
      last = out;
      st.facts = {
        hostAddresses: out.hostAddresses,
        ...(out.compiled.topology.localNetwork !== undefined ? { localNetwork: out.compiled.topology.localNetwork } : {}),
        interfaces: facts.interfaces,
      };
      armDeadman(out.deadmanAtMs);
      if (out.problems.length > 0) log.warn({ problems: out.problems, revision: lastRevision }, 'rules skipped or reported');
    }
    if (!last) return;
    const out = last;
    if (out.digest === st.rulesetDigest) {
      if (st.appliedRevision !== lastRevision) {
        counters.skippedIdentical++;
        st.appliedRevision = Math.max(st.appliedRevision, lastRevision);
      }
      return;
    }
    if (out.compiled.enabled) await setSysctls(wantedSysctls(out.hostDocument));
    const startedAt = o.clock.now();
    try {
      // the text stays unjoined: the netlink applier plans from the IR (nft -f reads it)
      const r = await o.applier.apply({ get text() { return out.text; }, digest: out.digest, compiled: out.compiled, ownTables: out.compiled.ownTables }, abort.signal);
      failures = 0;
      counters.applies++;
      delete st.applyError;
      st.rulesetDigest = out.digest;
      inForce = out;
      appliedCompiled = out.compiled;
      appliedOwnTables = out.compiled.ownTables;
      kernelDigest = '';
      st.appliedRevision = lastRevision;
      st.enabled = out.compiled.enabled;
      st.lastApply = { atMs: startedAt, durationMs: r.durationMs, revision: lastRevision };
      o.onApplied?.({ get text() { return out.text; }, compiled: out.compiled });
      metrics.applied(r.durationMs, compiledWriteMs !== undefined ? o.clock.now() - compiledWriteMs : undefined);
      log.info({ status: snapshot(), stages: stagesOf(compiledWriteMs, compiledSinceMs, compileStartedMs, compileEndedMs, startedAt, o.clock.now()) }, 'ruleset applied');
      compiledSinceMs = undefined;
      compiledWriteMs = undefined;
      if (!o.stateFile && !o.dryRun) kernelDigest = (await o.applier.readCurrent(out.compiled.ownTables, abort.signal).catch(() => ({ digest: '' }))).digest;
      if (o.stateFile) {
        try {
          // Read back after the status says applied: the kernel's digest is only needed by the next start.
          const kernel = await o.applier.readCurrent(out.compiled.ownTables, abort.signal);
          kernelDigest = kernel.digest;
          const revision = lastRevision;
          keepLastKnownGood(() => ({
            node: o.node,
            revision,
            rulesetDigest: out.digest,
            kernelDigest: kernel.digest,
            rulesetText: out.text,
            ownTables: out.compiled.ownTables,
            appliedAtMs: startedAt,
            ruleOrigins: originsOf(out.compiled),
          }));
        } catch (err) {
          log.error({ err }, 'cannot keep the last-known-good ruleset; a restart without configd would restore an older one');
        }
      }
    } catch (err) {
      if (abort.signal.aborted) return;
      counters.applyFailures++;
      metrics.applyFailed();
      const retryInMs = Math.min(o.retryMaxMs, o.retryInitialMs * 2 ** Math.min(failures, 16));
      failures++;
      st.applyError = { message: err instanceof Error ? err.message : String(err), atMs: startedAt, retryInMs };
      log.error({ err, revision: lastRevision, retryInMs }, 'apply failed; the previous ruleset stays in force');
      coalescer.pokeAfter(retryInMs);
    }
  };
  const coalescer: Coalescer = createCoalescer({ run, clock: o.clock, quietMs: o.quietMs, maxDelayMs: o.maxDelayMs });
  const snapshot = (): AgentStatus => structuredClone(st);

  return {
    async restore(signal) {
      if (o.dryRun || !o.stateFile) return;
      const saved = await o.stateFile.read();
      if (!saved) return;
      if (saved.node !== o.node) {
        log.warn({ stateNode: saved.node }, 'state in --data is for another node; not restored');
        return;
      }
      const current = await o.applier.readCurrent(saved.ownTables, signal);
      if (current.digest === saved.kernelDigest) {
        st.restored = 'kernel-already-holds';
        kernelDigest = current.digest;
      } else {
        await setSysctls(REQUIRED_SYSCTLS.map(([k, v]) => [k, v]));
        const r = await o.applier.apply({ text: saved.rulesetText, digest: saved.rulesetDigest, ownTables: saved.ownTables }, signal);
        st.restored = 'applied';
        kernelDigest = (await o.applier.readCurrent(saved.ownTables, signal)).digest;
        st.lastApply = { atMs: o.clock.now(), durationMs: r.durationMs, revision: saved.revision };
        counters.applies++;
      }
      st.rulesetDigest = saved.rulesetDigest;
      inForce = { text: saved.rulesetText };
      appliedOwnTables = saved.ownTables;
      st.appliedRevision = saved.revision;
      st.enabled = saved.rulesetText.includes('{');
      o.onApplied?.({ text: saved.rulesetText, ...(saved.ruleOrigins ? { savedOrigins: saved.ruleOrigins } : {}) });
      log.info({ restored: st.restored, revision: saved.revision, rulesetDigest: saved.rulesetDigest }, 'last-known-good ruleset in force');
    },
    synced() {
      st.inSync = true;
      coalescer.poke();
    },
    changed(writtenAtMs) {
      if (writtenAtMs !== undefined) newestWriteMs = Math.max(newestWriteMs ?? 0, writtenAtMs);
      pendingSinceMs ??= o.clock.now();
      if (st.inSync) coalescer.poke();
    },
    suspectDrift() {
      driftSuspected = true;
      coalescer.poke();
    },
    setConnected(connected) {
      st.connected = connected;
    },
    setStoreRevision(revision) {
      st.storeRevision = Math.max(st.storeRevision, revision);
    },
    status: snapshot,
    ruleset: () => ({ text: inForce?.text ?? '', digest: st.rulesetDigest, revision: st.appliedRevision }),
    compiledInForce: () => appliedCompiled,
    async flush(signal) {
      const tables = appliedOwnTables.length > 0 ? appliedOwnTables : PALISADE_TABLES;
      const text = flushText(tables);
      const digest = createHash('sha256').update(text).digest('hex');
      if (!o.dryRun) await o.applier.apply({ text, digest, ownTables: tables }, signal);
      flushedAtVersion = o.documents.version;
      st.flushed = true;
      st.enabled = false;
      st.rulesetDigest = '';
      inForce = undefined;
      appliedCompiled = undefined;
      kernelDigest = '';
      lastKey = undefined;
      last = undefined;
      cancelDeadman?.();
      delete st.deadmanAtMs;
      log.warn({ tables: tables.map((t) => `${t.family} ${t.name}`) }, "Palisade's tables removed on request (flush): the node is open until its documents change");
      if (o.stateFile) {
        newestState = undefined;
        await persisting;
        await o.stateFile.write({ node: o.node, revision: st.appliedRevision, rulesetDigest: digest, kernelDigest: '', rulesetText: text, ownTables: tables, appliedAtMs: o.clock.now() });
      }
      return tables.map((t) => `${t.family} ${t.name}`);
    },
    async idle() {
      await coalescer.idle();
      await persisting;
    },
    async close() {
      cancelDeadman?.();
      await coalescer.close();
      await persisting;
      abort.abort();
    },
  };
}
