/**
 * Compiles the node's documents into the transaction the applier puts in force, with
 * `@palisade/fw-compile`: skipped rules are reported (document:line) and the rest compiled; a
 * refusal (a configuration refused as a whole, an unreadable document, an unknown node) yields
 * no ruleset, so the previous one stays in force.
 */
import { createHash } from 'node:crypto';
import { compileForNode, renderNftText, type CompileResult, type NodeCompileRefusal } from '@palisade/fw-compile';
import { loadTree, type FwDocument } from '@palisade/fw-lang';
import type { AddressFacts } from '../facts/address-facts.js';
import { withRuleCounters } from '../inspect/rule-counters.js';

/** A problem with a document, as the status reports it. */
export interface DocumentProblem {
  readonly path?: string;
  readonly line?: number;
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

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
      readonly text: string;
      /** SHA-256 of `text`. */
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

/** Compiles the node's documents; a compiler exception becomes a `compile-failed` refusal. */
export function compileNodeDocuments(input: NodeCompileInput): NodeCompileOutput {
  try {
    return compileUnguarded(input);
  } catch (err) {
    const message = `the compiler failed: ${err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 3).join(' ') : String(err)}`;
    return { ok: false, refusal: { code: 'compile-failed', message }, problems: [] };
  }
}

function compileUnguarded(input: NodeCompileInput): NodeCompileOutput {
  const tree = loadTree(input.documents);
  const problems: DocumentProblem[] = tree.diagnostics
    .filter((d) => d.severity === 'error' || d.severity === 'warning')
    .map((d) => ({ path: d.path, line: d.line, code: d.code, severity: d.severity === 'error' ? 'error' : 'warning', message: d.message }));
  const ring0 = tree.corosync?.nodes.find((n) => n.name === input.node)?.rings.get(0);
  const hostAddresses = orderAddresses(input.facts.addresses, ring0);
  const nowSeconds = Math.floor(input.nowMs / 1000);
  const outcome = compileForNode(
    tree,
    { node: input.node, ...(hostAddresses.length > 0 ? { hostAddresses } : {}), nowSeconds },
    { logGroup: input.logGroup, refuseDocumentErrors: true },
  );
  if (!outcome.ok) return { ok: false, refusal: outcome.refusal, problems };
  const compiled = outcome.compiled;
  for (const d of compiled.diagnostics) {
    problems.push({ ...(d.path !== undefined ? { path: d.path } : {}), ...(d.line !== undefined ? { line: d.line } : {}), code: d.code, severity: 'warning', message: d.message });
  }
  // Counters on the rules with an origin: `palisade agent counters` reads them from the kernel.
  const text = withRuleCounters(renderNftText(compiled.ruleset, compiled.ownTables), compiled);
  const enable = clusterEnableValue(tree.cluster);
  const deadmanAtMs = enable > 1 && compiled.enabled ? (enable + DEADMAN_GRACE_SECONDS + 1) * 1000 : undefined;
  return {
    ok: true,
    compiled,
    text,
    digest: createHash('sha256').update(text).digest('hex'),
    problems,
    hostDocument: tree.hosts.get(input.node),
    ...(deadmanAtMs !== undefined ? { deadmanAtMs } : {}),
    hostAddresses,
  };
}
