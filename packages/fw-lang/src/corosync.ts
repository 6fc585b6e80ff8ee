/**
 * `corosync.conf`: what the firewall needs from it (cluster name, transport, IP version and
 * the nodes' link addresses, spec §6.3.2 item 11).
 *
 * The syntax is read the way the reference reads it (`PVE::Corosync::parse_conf`), which is
 * token based: `#` starts a comment anywhere on a line; the rest is split on whitespace;
 * `<name> {` opens a section, `}` closes it, and `<key>: <value>` sets a key (the value is a
 * single token; a later value replaces an earlier one). `node` and `interface` sections may
 * repeat; any other repeated section is an error. Corosync itself is more permissive about
 * spacing, but a file PVE cannot parse is not one the firewall can use.
 */
import { makeDiagnostic } from './diagnostics.js';
import { decodeSource } from './decode.js';
import type { CorosyncConfig, CorosyncNode, Diagnostic } from './model.js';

/** Options of {@link parseCorosyncConfig}. */
export interface ParseCorosyncOptions {
  /** Document path as given by the caller, used in diagnostics. */
  readonly path: string;
  /** Size limit in bytes (default: the package's document limit, 1 MiB). */
  readonly maxBytes?: number;
}

/** The transport corosync 3 uses when `totem.transport` is absent. */
export const DEFAULT_COROSYNC_TRANSPORT = 'knet';

/** Sections that may appear more than once (`$conf_array_sections` of the reference). */
const ARRAY_SECTIONS: ReadonlySet<string> = new Set(['node', 'interface']);

/** Link address keys the reference uses: `ring<digit>_addr` and `link<digit>_addr`. */
const LINK_ADDR = /^(ring|link)([0-9])_addr$/;

interface Token {
  readonly text: string;
  readonly line: number;
}

interface ConfSection {
  readonly line: number;
  readonly keys: Map<string, Token>;
  readonly sections: Map<string, ConfSection | ConfSection[]>;
}

function newSection(line: number): ConfSection {
  return { line, keys: new Map(), sections: new Map() };
}

/**
 * Parses `corosync.conf`. Never throws: syntax errors become FW0801 diagnostics (with the line)
 * and parsing goes on as well as it can; nodes without any `ringN_addr`/`linkN_addr` get FW0802.
 */
export function parseCorosyncConfig(input: string | Uint8Array, options: ParseCorosyncOptions): CorosyncConfig {
  const { path } = options;
  const decoded = decodeSource(input, options.maxBytes === undefined ? { path } : { path, maxBytes: options.maxBytes });
  // Line endings do not matter to a token-based parser.
  const diagnostics: Diagnostic[] = decoded.diagnostics.filter((d) => d.code !== 'FW0004');
  const base = {
    kind: 'corosync' as const,
    path,
    lines: decoded.lines,
    ...(decoded.encoding === 'latin1' ? { encoding: 'latin1' as const } : {}),
  };
  if (!decoded.interpret) return { ...base, transport: DEFAULT_COROSYNC_TRANSPORT, nodes: [], diagnostics };

  const tokens: Token[] = [];
  decoded.lines.forEach((l, i) => {
    const hash = l.text.indexOf('#');
    const code = hash === -1 ? l.text : l.text.slice(0, hash);
    for (const t of code.split(/\s+/)) if (t !== '') tokens.push({ text: t, line: i + 1 });
  });

  const error = (line: number, message: string): void => {
    diagnostics.push(makeDiagnostic('FW0801', path, line, message));
  };

  const main = newSection(0);
  const stack: { section: ConfSection; name: string; line: number }[] = [];
  let section = main;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    if (next !== undefined && next.text === '{') {
      i += 1;
      const created = newSection(token.line);
      const existing = section.sections.get(token.text);
      if (ARRAY_SECTIONS.has(token.text)) {
        if (Array.isArray(existing)) existing.push(created);
        else section.sections.set(token.text, [created]);
      } else if (existing === undefined) {
        section.sections.set(token.text, created);
      } else {
        error(token.line, `section '${token.text}' already exists and not marked as array`);
      }
      stack.push({ section, name: token.text, line: token.line });
      section = created;
      continue;
    }
    if (token.text === '}') {
      const outer = stack.pop();
      if (outer === undefined) {
        error(token.line, "parse error - unexpected '}'");
        continue;
      }
      section = outer.section;
      continue;
    }
    if (!token.text.endsWith(':')) {
      error(token.line, `missing ':' after key '${token.text}'`);
      continue;
    }
    const key = token.text.slice(0, -1);
    if (next === undefined) {
      error(token.line, `parse error - no value for '${key}'`);
      continue;
    }
    i += 1;
    section.keys.set(key, next);
  }
  for (const open of stack.reverse()) error(open.line, `section '${open.name}' is not closed (missing '}')`);

  const totem = single(main.sections.get('totem'));
  const clusterName = totem?.keys.get('cluster_name')?.text;
  const transport = totem?.keys.get('transport')?.text ?? DEFAULT_COROSYNC_TRANSPORT;
  const ipVersion = totem?.keys.get('ip_version')?.text;

  const nodes = new Map<string, CorosyncNode>();
  const nodelist = single(main.sections.get('nodelist'));
  const nodeSections = nodelist?.sections.get('node');
  for (const n of Array.isArray(nodeSections) ? nodeSections : nodeSections === undefined ? [] : [nodeSections]) {
    const rings = new Map<number, string>();
    const byKey = [...n.keys.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [key, value] of byKey) {
      const m = LINK_ADDR.exec(key);
      if (m === null) continue;
      const ring = Number(m[2]);
      // `ringN_addr` and `linkN_addr` are synonyms in corosync 3; the ring spelling wins.
      if (m[1] === 'link' && rings.has(ring)) continue;
      rings.set(ring, value.text);
    }
    // The reference keys nodes by `name // ring0_addr` (a node with neither is kept under an
    // empty name); the name only serves to recognise the local node and to sort.
    const name = n.keys.get('name')?.text ?? n.keys.get('ring0_addr')?.text ?? n.keys.get('link0_addr')?.text ?? '';
    if (rings.size === 0) {
      diagnostics.push(makeDiagnostic('FW0802', path, n.line, `corosync node '${name}' has no ringN_addr or linkN_addr; no corosync rules for it`));
    }
    const nodeidText = n.keys.get('nodeid')?.text;
    const nodeid = nodeidText !== undefined && /^[0-9]+$/.test(nodeidText) ? Number(nodeidText) : undefined;
    if (nodes.has(name)) {
      diagnostics.push(makeDiagnostic('FW0803', path, n.line, `corosync node '${name}' is defined again; this later definition is used`));
    }
    nodes.set(name, { name, ...(nodeid === undefined ? {} : { nodeid }), rings, line: n.line });
  }

  diagnostics.sort((a, b) => a.line - b.line);
  return {
    ...base,
    ...(clusterName === undefined ? {} : { clusterName }),
    transport,
    ...(ipVersion === undefined ? {} : { ipVersion }),
    nodes: [...nodes.values()],
    diagnostics,
  };
}

function single(s: ConfSection | ConfSection[] | undefined): ConfSection | undefined {
  return Array.isArray(s) ? s[0] : s;
}
