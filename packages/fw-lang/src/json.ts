/**
 * Plain-JSON views of parsed documents (Maps become arrays or objects, raw lines are left out).
 * This is the schema `palisade show --json` prints and the README documents.
 */
import type { CorosyncConfig, Diagnostic, FwDocument, GuestConfig, ParsedDocument, Rule } from './model.js';
import type { PveTree } from './tree.js';

/** A JSON value (the JSON form of documents and trees). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function ruleJson(rule: Rule, pos: number): JsonValue {
  return JSON.parse(JSON.stringify({ pos, ...rule })) as JsonValue;
}

function diagnosticsJson(diagnostics: readonly Diagnostic[]): JsonValue {
  return JSON.parse(JSON.stringify(diagnostics)) as JsonValue;
}

/** A document's JSON: `path` and `kind` first, its own fields, `diagnostics` last (the printed key order). */
function withEnvelope(doc: ParsedDocument, fields: { [key: string]: JsonValue }): JsonValue {
  return { path: doc.path, kind: doc.kind, ...fields, diagnostics: diagnosticsJson(doc.diagnostics) };
}

function fwJson(doc: FwDocument): JsonValue {
  return withEnvelope(doc, {
    options: doc.options ? Object.fromEntries([...doc.options.values()].map((o) => [o.name, o.value])) : null,
    rules: doc.rules.map(ruleJson),
    aliases: [...doc.aliases.values()].map((a) => JSON.parse(JSON.stringify(a)) as JsonValue),
    ipsets: [...doc.ipsets.values()].map((s) => JSON.parse(JSON.stringify(s)) as JsonValue),
    groups: [...doc.groups.values()].map((g) => ({
      name: g.name,
      ...(g.comment !== undefined ? { comment: g.comment } : {}),
      line: g.line,
      rules: g.rules.map(ruleJson),
    })),
  });
}

function guestConfigJson(doc: GuestConfig): JsonValue {
  return withEnvelope(doc, {
    vmid: doc.vmid ?? null,
    nics: JSON.parse(JSON.stringify(doc.nics)) as JsonValue,
  });
}

function corosyncJson(doc: CorosyncConfig): JsonValue {
  return withEnvelope(doc, {
    clusterName: doc.clusterName ?? null,
    transport: doc.transport,
    ipVersion: doc.ipVersion ?? null,
    nodes: doc.nodes.map((n) => ({
      name: n.name,
      nodeid: n.nodeid ?? null,
      rings: Object.fromEntries([...n.rings].map(([k, v]) => [String(k), v])),
      line: n.line,
    })),
  });
}

/** One document as JSON. */
export function documentToJson(doc: ParsedDocument): JsonValue {
  switch (doc.kind) {
    case 'qemu-config':
    case 'lxc-config':
      return guestConfigJson(doc);
    case 'corosync':
      return corosyncJson(doc);
    default:
      return fwJson(doc);
  }
}

/** A whole tree as JSON: every document by path, and all diagnostics. */
export function treeToJson(tree: PveTree, only?: ReadonlySet<string>): JsonValue {
  const documents: { [path: string]: JsonValue } = {};
  for (const [path, doc] of tree.documents) if (!only || only.has(path)) documents[path] = documentToJson(doc);
  const diagnostics = tree.diagnostics.filter((d) => !only || only.has(d.path));
  return { documents, diagnostics: diagnosticsJson(diagnostics) };
}
