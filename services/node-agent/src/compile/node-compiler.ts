/**
 * Compiles the node's documents into the transaction the applier puts in force, with
 * `@palisade/fw-compile`: skipped rules are reported (document:line) and the rest compiled; a
 * refusal (a configuration refused as a whole, an unreadable document, an unknown node) yields
 * no ruleset, so the previous one stays in force.
 *
 * A `NodeCompiler` keeps what the previous compile built (issue #10): fw-lang's parse cache
 * (only changed documents are parsed), the incremental compiler (only guests whose inputs
 * changed are compiled; everything when a shared input changes) and the text of every chain
 * and set. On a 1,000-guest node one guest's change then costs that guest, not the node.
 */
import { compileForNode, createIncrementalCompiler, type CompileResult, type IncrementalCompileStats, type NodeCompileRefusal } from '@palisade/fw-compile';
import { createParseCache, loadTree, type FwDocument } from '@palisade/fw-lang';
import type { AddressFacts } from '../facts/address-facts.js';
import { createRulesetTextRenderer } from './ruleset-text.js';

/** A problem with a document, as the status reports it. */
export interface DocumentProblem {
  readonly path?: string;
  readonly line?: number;
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

/**
 * One compile's inputs, assembled by the reconciler from the followed documents and the facts of
 * the moment; the compile reads nothing else.
 */
export interface NodeCompileInput {
  readonly node: string;
  /** The node's input documents by path. */
  readonly documents: ReadonlyMap<string, Uint8Array>;
  readonly facts: AddressFacts;
  /** Now, ms since the epoch (for a cluster `enable: <timestamp>`). */
  readonly nowMs: number;
  /** NFLOG group of the log rules. */
  readonly logGroup: number;
}

/** A ruleset ready to apply, or a refusal. */
export type NodeCompileOutput =
  | {
      readonly ok: true;
      readonly compiled: CompileResult;
      /** The transaction text, joined when first read (the netlink path never needs it whole). */
      readonly text: string;
      /** The text's composed digest (`ruleset-text.ts`: SHA-256 over its pieces' SHA-256). */
      readonly digest: string;
      /** Skipped rules and other reports (never fatal). */
      readonly problems: readonly DocumentProblem[];
      readonly hostDocument: FwDocument | undefined;
      /** When the dead-man switch (cluster `enable: <timestamp>`) turns the firewall off, ms since the epoch. */
      readonly deadmanAtMs?: number;
      readonly hostAddresses: readonly string[];
    }
  | { readonly ok: false; readonly refusal: NodeCompileRefusal | CompileFailure; readonly problems: readonly DocumentProblem[] };

/** The compiler threw (a bug, or input it cannot handle): reported like a refusal, never thrown at the agent. */
export interface CompileFailure {
  readonly code: 'compile-failed';
  readonly message: string;
}

/** Seconds after an `enable: <timestamp>` during which the firewall stays enabled (pve-firewall). */
export const DEADMAN_GRACE_SECONDS = 60;

/** The raw `enable` value of cluster.fw's [OPTIONS] (0 when absent). */
export function clusterEnableValue(cluster: FwDocument | undefined): number {
  if (!cluster) return 0;
  let inOptions = false;
  for (const l of cluster.lines) {
    const text = l.text.trim();
    if (text.startsWith('[')) inOptions = /^\[options\]$/i.test(text);
    else if (inOptions) {
      const m = /^enable\s*:\s*(\d+)\s*$/i.exec(text);
      if (m) return Number(m[1]);
    }
  }
  return 0;
}

/** Host addresses: the node's corosync ring0 address first when the namespace has it. */
function orderAddresses(addresses: readonly string[], ring0: string | undefined): string[] {
  if (!ring0) return [...addresses];
  const i = addresses.findIndex((a) => a.split('/')[0] === ring0);
  if (i <= 0) return [...addresses];
  return [addresses[i]!, ...addresses.slice(0, i), ...addresses.slice(i + 1)];
}

/** Where the last compile of a {@link NodeCompiler} spent its time, ms (wall clock). */
export interface NodeCompileTimings {
  /** loadTree: documents parsed (only changed ones) and checked together. */
  readonly parseMs: number;
  /** The incremental compile. */
  readonly compileMs: number;
  /** The transaction's pieces (only changed chains and sets rendered and hashed; the text is joined later, when read). */
  readonly renderMs: number;
  /** The composed digest over the pieces' digests. */
  readonly digestMs: number;
  /** Documents parsed (not taken from the parse cache). */
  readonly documentsParsed: number;
  /** What the incremental compiler compiled and reused (undefined when refused before compiling). */
  readonly compile?: IncrementalCompileStats;
}

/** Compiles one node's documents again and again, reusing what did not change (one per agent). */
export interface NodeCompiler {
  /** Like {@link compileNodeDocuments}, with the caches of the previous calls. */
  compile(input: NodeCompileInput): NodeCompileOutput;
  /** The timings of the last call (undefined before the first, or when the compiler threw). */
  readonly lastTimings: NodeCompileTimings | undefined;
}

/** A node compiler with empty caches. Its results are those of {@link compileNodeDocuments}. */
export function createNodeCompiler(): NodeCompiler {
  const caches: Caches = { parse: createParseCache(), compiler: createIncrementalCompiler(), text: createRulesetTextRenderer() };
  let lastTimings: NodeCompileTimings | undefined;
  return {
    compile(input) {
      lastTimings = undefined;
      return guarded(() => {
        const out = compileUnguarded(input, caches);
        lastTimings = caches.timings;
        return out;
      });
    },
    get lastTimings() {
      return lastTimings;
    },
  };
}

interface Caches {
  readonly parse: ReturnType<typeof createParseCache>;
  readonly compiler: ReturnType<typeof createIncrementalCompiler>;
  readonly text: ReturnType<typeof createRulesetTextRenderer>;
  timings?: NodeCompileTimings;
}

/** Compiles the node's documents once (no caches kept); a compiler exception becomes a `compile-failed` refusal. */
export function compileNodeDocuments(input: NodeCompileInput): NodeCompileOutput {
  return createNodeCompiler().compile(input);
}

function guarded(compile: () => NodeCompileOutput): NodeCompileOutput {
  try {
    return compile();
  } catch (err) {
    const message = `the compiler failed: ${err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 3).join(' ') : String(err)}`;
    return { ok: false, refusal: { code: 'compile-failed', message }, problems: [] };
  }
}

function compileUnguarded(input: NodeCompileInput, caches: Caches): NodeCompileOutput {
  const t0 = performance.now();
  const tree = loadTree(input.documents, { cache: caches.parse });
  const t1 = performance.now();
  const documentsParsed = caches.parse.parsedLastLoad;
  caches.timings = { parseMs: t1 - t0, compileMs: 0, renderMs: 0, digestMs: 0, documentsParsed };
  const problems: DocumentProblem[] = tree.diagnostics
    .filter((d) => d.severity === 'error' || d.severity === 'warning')
    .map((d) => ({ path: d.path, line: d.line, code: d.code, severity: d.severity === 'error' ? 'error' : 'warning', message: d.message }));
  const ring0 = tree.corosync?.nodes.find((n) => n.name === input.node)?.rings.get(0);
  const hostAddresses = orderAddresses(input.facts.addresses, ring0);
  const nowSeconds = Math.floor(input.nowMs / 1000);
  const outcome = compileForNode(
    tree,
    { node: input.node, ...(hostAddresses.length > 0 ? { hostAddresses } : {}), nowSeconds },
    { logGroup: input.logGroup, refuseDocumentErrors: true, compiler: caches.compiler },
  );
  if (!outcome.ok) return { ok: false, refusal: outcome.refusal, problems };
  const compiled = outcome.compiled;
  const t2 = performance.now();
  for (const d of compiled.diagnostics) {
    problems.push({ ...(d.path !== undefined ? { path: d.path } : {}), ...(d.line !== undefined ? { line: d.line } : {}), code: d.code, severity: 'warning', message: d.message });
  }
  // Counters on the rules with an origin: `palisade agent counters` reads them from the kernel.
  const rendered = caches.text.render(compiled);
  const t3 = performance.now();
  const digest = rendered.digest;
  const t4 = performance.now();
  const stats = caches.compiler.lastStats;
  caches.timings = { parseMs: t1 - t0, compileMs: t2 - t1, renderMs: t3 - t2, digestMs: t4 - t3, documentsParsed, ...(stats ? { compile: stats } : {}) };
  const enable = clusterEnableValue(tree.cluster);
  const deadmanAtMs = enable > 1 && compiled.enabled ? (enable + DEADMAN_GRACE_SECONDS + 1) * 1000 : undefined;
  return {
    ok: true,
    compiled,
    get text() {
      return rendered.text;
    },
    digest,
    problems,
    hostDocument: tree.hosts.get(input.node),
    ...(deadmanAtMs !== undefined ? { deadmanAtMs } : {}),
    hostAddresses,
  };
}
