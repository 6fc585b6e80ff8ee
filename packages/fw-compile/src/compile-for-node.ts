/**
 * Compiling for a named node, with the refusals every caller (the CLI's compile/simulate/lab and
 * the node agent) must make before it compiles: a configuration pve-firewall refuses as a whole,
 * and a node name the configuration does not know. Pure, like the compiler.
 */
import type { Diagnostic, PveTree } from '@palisade/fw-lang';
import { compileNode, type CompileOptions, type CompileResult, type NodeFacts } from './compile.js';
import type { IncrementalCompiler } from './incremental-compile.js';

/** Why a configuration was not compiled at all. */
export const NODE_COMPILE_REFUSALS = {
  /** A diagnostic pve-firewall treats as fatal for the whole configuration (FW0204). */
  'fatal-configuration': 'the whole configuration is refused, as by pve-firewall',
  /** With `refuseDocumentErrors`: a document the node depends on could not be read at all. */
  'unreadable-document': 'a document the node depends on cannot be read',
  /** The node is neither a corosync member nor has documents under `nodes/<name>/`. */
  'unknown-node': 'the node is not part of this configuration',
} as const;
/** Why `compileForNode` refused to compile: one of {@link NODE_COMPILE_REFUSALS}. */
export type NodeCompileRefusalCode = keyof typeof NODE_COMPILE_REFUSALS;

/** A refusal: nothing was compiled. `path`/`line` locate the diagnostic that caused it, if one did. */
export interface NodeCompileRefusal {
  readonly code: NodeCompileRefusalCode;
  readonly message: string;
  readonly path?: string;
  readonly line?: number;
  /** For `unknown-node`: the nodes the configuration knows, sorted. */
  readonly knownNodes?: readonly string[];
}

/** Options of `compileForNode`: the compiler's options plus when to refuse. */
export interface CompileForNodeOptions extends CompileOptions {
  /**
   * Also refuse when a document has an error that makes it unreadable as a whole (diagnostics
   * with effect `document`: size, NUL bytes, bad UTF-8, CRLF, BOM). The parser drops such a
   * document, which would compile the node as if it had no rules there; an agent keeps its
   * previous ruleset instead. Default false (the CLI reports them and compiles the rest).
   */
  readonly refuseDocumentErrors?: boolean;
  /**
   * Compile with this incremental compiler (the same result as `compileNode`, reusing the
   * parts of its previous compile that did not change). Default: a full `compileNode`.
   */
  readonly compiler?: IncrementalCompiler;
}

/** The outcome of {@link compileForNode}: a compiled node or a refusal, never both. */
export type NodeCompileOutcome =
  | { readonly ok: true; readonly compiled: CompileResult }
  | { readonly ok: false; readonly refusal: NodeCompileRefusal };

/** The nodes a tree knows: corosync members and `nodes/<name>/` directories with documents, sorted. */
export function knownNodes(tree: Pick<PveTree, 'corosync' | 'hosts' | 'guestConfigs'>): string[] {
  const names = new Set<string>(tree.corosync?.nodes.map((n) => n.name) ?? []);
  for (const node of tree.hosts.keys()) names.add(node);
  for (const { node } of tree.guestConfigs.values()) names.add(node);
  return [...names].sort();
}

const where = (d: Diagnostic): string => `${d.path}:${d.line}`;

/**
 * Compiles the ruleset of `facts.node` from a loaded tree, or refuses: on a fatal diagnostic
 * (FW0204, as pve-firewall refuses the whole cluster configuration), on an unreadable document
 * when `refuseDocumentErrors` is set, and on a node name the tree does not know (a mistyped name
 * would otherwise compile a host-only ruleset without a word; a tree that knows no node at all
 * is accepted). Rule-level problems are not refusals: those rules are skipped and reported in
 * `compiled.diagnostics` and the tree's own diagnostics.
 */
export function compileForNode(tree: PveTree, facts: NodeFacts, options: CompileForNodeOptions = {}): NodeCompileOutcome {
  const fatal = tree.diagnostics.find((d) => d.code === 'FW0204');
  if (fatal) {
    return refuse({ code: 'fatal-configuration', message: `${where(fatal)}: ${fatal.message} (${NODE_COMPILE_REFUSALS['fatal-configuration']})`, path: fatal.path, line: fatal.line });
  }
  if (options.refuseDocumentErrors) {
    const unreadable = tree.diagnostics.find((d) => d.effect === 'document' && d.severity === 'error');
    if (unreadable) {
      return refuse({ code: 'unreadable-document', message: `${where(unreadable)}: ${unreadable.code} ${unreadable.message}`, path: unreadable.path, line: unreadable.line });
    }
  }
  const known = knownNodes(tree);
  if (known.length > 0 && !known.includes(facts.node)) {
    return refuse({
      code: 'unknown-node',
      message: `unknown node '${facts.node}': not in corosync.conf and no documents under nodes/${facts.node}/ (known: ${known.join(', ')})`,
      knownNodes: known,
    });
  }
  const { refuseDocumentErrors: _ignored, compiler, ...compileOptions } = options;
  return { ok: true, compiled: compiler ? compiler.compile(tree, facts, compileOptions) : compileNode(tree, facts, compileOptions) };
}

function refuse(refusal: NodeCompileRefusal): NodeCompileOutcome {
  return { ok: false, refusal };
}
