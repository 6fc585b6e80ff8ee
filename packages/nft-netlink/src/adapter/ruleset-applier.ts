/**
 * Applies compiled rulesets to the kernel over netlink: plans against the ruleset it applied
 * last, guards the batch with the ruleset generation (`NFNL_BATCH_GENID`: the one its last
 * apply left, so a change costs one round trip; read with `NFT_MSG_GETGEN` before a full
 * replace, after a refusal and when there is nothing to send), and sends it as one transaction. When the generation moved on since its own last apply
 * (someone else changed the ruleset) or it has no previous ruleset, it replaces Palisade's
 * tables whole; when the kernel refuses the batch because the generation moved on between
 * reading it and sending (ERESTART), it reads it again and re-plans, a few times.
 */
import type { Ruleset } from '@palisade/nft-ir';
import { aStr, decodeAttrTree, findAttr } from '../codec/attrs.js';
import { readCString } from '../codec/bytes.js';
import { NfProto, NftaSetElemList, type NftFamily } from '../codec/constants.js';
import { NftObjMsg } from '../codec/nft-constants.js';
import { createSetIdAllocator, lowerStagedLoad, type LowerOptions } from '../codec/nft-lower.js';
import { chunkMessages, delTable, messageBytes } from '../codec/nft-messages.js';
import { decodeListedShape, diffShapes, expectedShape, ownFamilies } from '../codec/ruleset-shape.js';
import { planFullReplace, planRuleset, type OwnTable, type PlanSummary, type RulesetPlan } from '../codec/ruleset-plan.js';
import { NftNetlinkError } from '../errors.js';
import { openNftSession, type NftSession, type NftSessionOptions } from './nft-session.js';

/** ERESTART: the batch's NFNL_BATCH_GENID is not the current generation. */
export const ERESTART = 85;

/** What the applier knows about the kernel: the ruleset it applied and the generation after it. */
export interface AppliedState {
  readonly ruleset: Ruleset;
  readonly ownTables: readonly OwnTable[];
  /** The ruleset generation right after that apply. */
  readonly generation: number;
}

/** Options of `createRulesetApplier`. */
export interface RulesetApplierOptions extends NftSessionOptions {
  /** What was applied before (a state file of an earlier process); undefined: nothing known, first apply is a full replace. */
  readonly state?: AppliedState;
  /** Re-plans this many times when the generation moves on while applying. Default 3. */
  readonly maxRetries?: number;
  /** Lowering beyond nft's (`counters`: a counter in every rule with an origin). */
  readonly lower?: LowerOptions;
}

/** The outcome of one apply. */
export interface RulesetApplyResult {
  /** `planned`: a dry run found changes (nothing was sent). */
  readonly result: 'applied' | 'unchanged' | 'planned';
  readonly plan: RulesetPlan['kind'];
  readonly reason?: string;
  /** Object messages sent in the batch (0 when unchanged). */
  readonly messages: number;
  readonly bytes: number;
  /** Kernel round trip of the batch, ms (0 when nothing was sent). */
  readonly applyMs: number;
  /** Planning (lowering and encoding excluded), ms. */
  readonly planMs: number;
  readonly summary: PlanSummary;
  /** Attempts the generation guard needed (1 = first try). */
  readonly attempts: number;
  /** Batches sent: 1, or more for a staged first load larger than one datagram. */
  readonly batches: number;
  readonly state: AppliedState;
}

/**
 * Applies rulesets over one `NftSession` and remembers the last one applied, which lets the next
 * apply send only the changes; keep `state()` to carry that across a restart. `close()` closes
 * the session.
 */
export interface RulesetApplier {
  /**
   * Applies `ruleset` (owning `ownTables`), atomically. Rejects with `NftNetlinkError`
   * (`KERNEL_ERROR`: nothing applied, `failed` names the message, for a rule its document and
   * line; `TIMEOUT`/`ABORTED`: outcome unknown, the next apply replaces whole).
   */
  apply(ruleset: Ruleset, ownTables: readonly OwnTable[], options?: { readonly signal?: AbortSignal; readonly dryRun?: boolean; readonly replace?: boolean }): Promise<RulesetApplyResult>;
  /** The state after the last successful apply. */
  state(): AppliedState | undefined;
  /**
   * Reads Palisade's tables back and compares them with the last applied ruleset (chains,
   * hooks and policies, rules with every expression's operands and comment, sets and the
   * elements of named sets; `ruleset-shape.ts`): the differences, empty when there is no drift.
   * Without a previous apply, every table is reported missing or extra.
   */
  drift(options?: { readonly signal?: AbortSignal }): Promise<string[]>;
  /** The netlink session (generation, dumps), for read-back. */
  readonly session: NftSession;
  close(): Promise<void>;
}

/**
 * Opens a session (`openNftSession` with the same options) and returns an applier on it; without
 * `options.state` its first apply is a full replace. Rejects as `openNftSession` does.
 */
export async function createRulesetApplier(options: RulesetApplierOptions = {}): Promise<RulesetApplier> {
  const session = await openNftSession(options);
  let state = options.state;
  let unknown = false;
  const maxRetries = options.maxRetries ?? 3;
  const lower = options.lower ?? {};

  const drift = async (expected: AppliedState | undefined, signal?: AbortSignal): Promise<string[]> => {
    const ownTables = expected?.ownTables ?? [];
    const dumped = [];
    for (const family of ownFamilies(ownTables)) {
      for (const msg of [NftObjMsg.GETCHAIN, NftObjMsg.GETRULE, NftObjMsg.GETSET]) dumped.push(...(await session.dump(msg, { family, ...(signal === undefined ? {} : { signal }) })));
    }
    const shape = decodeListedShape(dumped, ownTables);
    if (!shape.ok) throw new NftNetlinkError('PROTOCOL_ERROR', `cannot read the ruleset back: ${shape.error}`);
    // the elements of every named set of ours (the dump of one set at a time)
    for (const key of shape.value.sets) {
      const [family, table, name] = key.split(' ') as [NftFamily, string, string];
      const attrs = [aStr(NftaSetElemList.TABLE, table), aStr(NftaSetElemList.SET, name)];
      dumped.push(...(await session.dump(NftObjMsg.GETSETELEM, { family, attrs, ...(signal === undefined ? {} : { signal }) })));
    }
    const listed = decodeListedShape(dumped, ownTables);
    if (!listed.ok) throw new NftNetlinkError('PROTOCOL_ERROR', `cannot read the ruleset back: ${listed.error}`);
    return diffShapes(expectedShape(expected?.ruleset ?? { tables: [] }, lower), listed.value);
  };

  /** Own tables that exist in the kernel now. */
  const existing = async (ownTables: readonly OwnTable[], signal?: AbortSignal): Promise<string[]> => {
    const names = new Set(ownTables.map((t) => `${t.family} ${t.name}`));
    const byProto = new Map<number, string>(Object.entries(NfProto).map(([k, v]) => [v, k]));
    const out: string[] = [];
    for (const m of await session.dump(NftObjMsg.GETTABLE, signal === undefined ? {} : { signal })) {
      const attrs = decodeAttrTree(m.payload.subarray(4));
      const name = attrs.ok ? findAttr(attrs.value, 1) : undefined;
      const key = `${byProto.get(m.payload[0] ?? 0) ?? '?'} ${name && 'value' in name ? readCString(name.value) : ''}`;
      if (names.has(key)) out.push(key);
    }
    return out;
  };

  /**
   * A first load larger than one datagram: the inert part (tables, regular chains, sets, their
   * rules; no hook registered, no packet sees them) in as many batches as needed, then the base
   * chains with their rules in one batch, which is when the ruleset takes effect, whole. Refused
   * when one of the tables exists (a replace must stay one transaction); on failure the
   * partial tables are removed.
   */
  const stagedLoad = async (ruleset: Ruleset, ownTables: readonly OwnTable[], generation: number, signal?: AbortSignal) => {
    const present = await existing(ownTables, signal);
    if (present.length > 0) {
      throw new NftNetlinkError('BATCH_TOO_LARGE', `a full replace of ${present.join(', ')} does not fit one datagram of ${session.maxBatchBytes} bytes (net.core.wmem_max); nothing was sent`);
    }
    const { inert, live } = lowerStagedLoad(ruleset.tables, createSetIdAllocator(), lower);
    const chunks = [...chunkMessages(inert, session.maxBatchBytes), live];
    let messages = 0;
    let bytes = 0;
    let kernelMs = 0;
    try {
      for (const [i, chunk] of chunks.entries()) {
        const r = await session.send(chunk, { genId: generation + i, ...(signal === undefined ? {} : { signal }) });
        messages += r.messages;
        bytes += r.bytes;
        kernelMs += r.kernelMs;
      }
    } catch (err) {
      const created = await existing(ownTables).catch(() => ownTables.map((t) => `${t.family} ${t.name}`));
      const cleanup = ruleset.tables.filter((t) => created.includes(`${t.family} ${t.name}`)).map((t) => delTable(t.family as NftFamily, t.name));
      if (cleanup.length > 0) await session.send(cleanup).catch(() => undefined);
      throw err;
    }
    return { messages, bytes, kernelMs, batches: chunks.length, generation: generation + chunks.length };
  };

  return {
    session,
    state: () => state,
    drift: (o = {}) => drift(state, o.signal),
    async apply(ruleset, ownTables, o = {}) {
      for (let attempt = 1; ; attempt++) {
        // The first try is optimistic: it plans from our last apply and sends guarded by the
        // generation that apply left, without reading it first (one round trip less per
        // change). If someone else committed since, the kernel refuses the batch whole
        // (ERESTART) and the next try reads the generation and looks for drift.
        const optimistic = attempt === 1 && state !== undefined && !unknown && o.replace !== true && o.dryRun !== true;
        const generation = optimistic && state !== undefined ? state.generation : await session.generation(o.signal);
        // someone else committed since our last apply: if our tables are as we left them
        // (another table changed), plan incrementally from the new generation; else replace
        let driftFound: string | undefined;
        if (!optimistic && state !== undefined && !unknown && state.generation !== generation) {
          const d = await drift(state, o.signal);
          if (d.length === 0) state = { ...state, generation };
          else driftFound = `drift: ${d[0] as string}${d.length > 1 ? ` (and ${d.length - 1} more)` : ''}`;
        }
        const t0 = performance.now();
        const plan =
          state === undefined || unknown || o.replace === true
            ? planFullReplace(ruleset, ownTables, state === undefined ? 'first apply' : unknown ? 'outcome of the previous apply unknown' : 'replace asked for', createSetIdAllocator(), lower)
            : driftFound !== undefined
              ? planFullReplace(ruleset, ownTables, `${driftFound} (ruleset generation ${generation}, not ${state.generation}: changed by someone else)`, createSetIdAllocator(), lower)
              : planRuleset(state.ruleset, ruleset, ownTables, createSetIdAllocator(), lower);
        const planMs = performance.now() - t0;
        const base = { batches: 1, plan: plan.kind, ...(plan.reason === undefined ? {} : { reason: plan.reason }), planMs, summary: plan.summary, attempts: attempt };
        if (plan.messages.length === 0) {
          // nothing sent, so the kernel cannot refuse it: see whether someone else changed things
          if (optimistic && (await session.generation(o.signal)) !== generation) continue;
          state = { ruleset, ownTables, generation };
          return { ...base, result: 'unchanged', messages: 0, bytes: 0, applyMs: 0, state };
        }
        if (o.dryRun) return { ...base, result: 'planned', messages: plan.messages.length, bytes: 0, applyMs: 0, state: state ?? { ruleset, ownTables, generation } };
        const total = plan.messages.reduce((n, m) => n + messageBytes(m), 0);
        if (plan.kind === 'full' && total > session.maxBatchBytes) {
          const staged = await stagedLoad(ruleset, ownTables, generation, o.signal);
          state = { ruleset, ownTables, generation: staged.generation };
          unknown = false;
          return { ...base, batches: staged.batches, result: 'applied', messages: staged.messages, bytes: staged.bytes, applyMs: staged.kernelMs, state };
        }
        try {
          const r = await session.send(plan.messages, { genId: generation, ...(o.signal === undefined ? {} : { signal: o.signal }) });
          state = { ruleset, ownTables, generation: generation + 1 };
          unknown = false;
          return { ...base, result: 'applied', messages: r.messages, bytes: r.bytes, applyMs: r.kernelMs, state };
        } catch (err) {
          if (err instanceof NftNetlinkError && err.code === 'KERNEL_ERROR' && err.errno === ERESTART && attempt <= maxRetries) continue;
          if (err instanceof NftNetlinkError && (err.code === 'TIMEOUT' || err.code === 'ABORTED')) unknown = true;
          throw err;
        }
      }
    },
    close: () => session.close(),
  };
}
