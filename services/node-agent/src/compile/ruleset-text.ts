/**
 * The transaction text the agent keeps and shows (`nft -f` input with a `counter` in every rule
 * that has an origin), rendered piece by piece with each chain's and set's text cached by the
 * IR object: the incremental compiler hands back the same chain objects for guests that did
 * not change, so a one-guest change renders two chains instead of 2,000 (the whole text of a
 * 1,000-guest node is 2.5 MB). The pieces are rendered by `renderNftText` and
 * `withRuleCounters` themselves, so the text is theirs byte for byte.
 *
 * The digest is composed, not taken over the whole text: the SHA-256 of the sequence of the
 * pieces' SHA-256 digests, each cached with its piece, so a change hashes the pieces it
 * rendered and ~2,000 digests of 32 bytes instead of 2.5 MB. It is a function of the pieces, and
 * the pieces a function of the text's content, so the same ruleset always has the same digest.
 * The whole text is joined only when something reads it (the state write behind the apply, the
 * agent API, the `nft -f` applier), never on the way to the kernel through netlink.
 */
import { createHash } from 'node:crypto';
import { renderNftText, type Chain, type CompileResult, type NamedSet, type Table } from '@palisade/fw-compile';
import { withRuleCounters } from '../inspect/rule-counters.js';

/** A rendered transaction: its digest at once, its text when first read. */
export interface RenderedRuleset {
  /** `withRuleCounters(renderNftText(compiled.ruleset, compiled.ownTables), compiled)`, joined on first read. */
  readonly text: string;
  /** Lower-case hex SHA-256 over the pieces' SHA-256 digests (see the module comment), composed on first read. */
  readonly digest: string;
}

/** Renders whole transactions, reusing the text and digest of chain and set objects seen before. */
export interface RulesetTextRenderer {
  render(compiled: CompileResult): RenderedRuleset;
}

/** A piece of the text with its SHA-256 (the 32 bytes as a binary, i.e. latin1, string). */
interface Piece {
  readonly text: string;
  readonly sha: string;
}

const piece = (text: string): Piece => ({ text, sha: createHash('sha256').update(text).digest('binary') });

/** The digest of a text given as pieces (what {@link RulesetTextRenderer.render} reports). */
function composedDigest(pieces: readonly Piece[]): string {
  // one update of all digests side by side: ~2,000 calls into the hash (or copies of Buffers) cost more than the hashing
  let all = '';
  for (const p of pieces) all += p.sha;
  return createHash('sha256').update(all, 'binary').digest('hex');
}

/** A text joined when first read, its digest composed when first read. */
function rendered(pieces: readonly Piece[]): RenderedRuleset {
  let text: string | undefined;
  let digest: string | undefined;
  return {
    get text() {
      text ??= pieces.map((p) => p.text).join('');
      return text;
    },
    get digest() {
      digest ??= composedDigest(pieces);
      return digest;
    },
  };
}

/** The lines `renderNftText` writes for a table holding only `body`, without the table's own first and last line. */
function bodyOf(table: Table, body: Partial<Pick<Table, 'sets' | 'chains' | 'valueSets' | 'ctHelpers'>>): string {
  const alone: Table = { family: table.family, name: table.name, sets: body.sets ?? [], ctHelpers: body.ctHelpers ?? [], chains: body.chains ?? [], ...(body.valueSets ? { valueSets: body.valueSets } : {}) };
  const text = renderNftText({ tables: [alone] }, []);
  // "\ntable F N {\n" … "}\n"
  const start = text.indexOf('{\n') + 2;
  return text.slice(start, text.length - 2);
}

/** A renderer with its own caches (one per agent). */
export function createRulesetTextRenderer(): RulesetTextRenderer {
  // By table: a chain's text does not name its table, but a chain object could sit in two.
  const chainsByTable = new Map<string, WeakMap<Chain, Piece>>();
  const sets = new WeakMap<NamedSet, Piece>();

  const chainsOf = (t: Table): WeakMap<Chain, Piece> => {
    const key = `${t.family} ${t.name}`;
    let chains = chainsByTable.get(key);
    if (!chains) chainsByTable.set(key, (chains = new WeakMap()));
    return chains;
  };
  const chainPiece = (t: Table, chains: WeakMap<Chain, Piece>, c: Chain): Piece => {
    let p = chains.get(c);
    if (p !== undefined) return p;
    const alone: CompileResult = { ruleset: { tables: [{ ...t, sets: [], ctHelpers: [], chains: [c] }] }, ownTables: [], topology: { node: '', hostAddresses: [], bridges: [], nics: [] }, diagnostics: [], enabled: true };
    p = piece(withRuleCounters(bodyOf(t, { chains: [c] }), alone));
    chains.set(c, p);
    return p;
  };
  const setPiece = (t: Table, set: NamedSet): Piece => {
    let p = sets.get(set);
    if (p === undefined) {
      p = piece(bodyOf(t, { sets: [set] }));
      sets.set(set, p);
    }
    return p;
  };

  return {
    render(compiled) {
      const out: Piece[] = [];
      for (const t of compiled.ownTables) out.push(piece(`table ${t.family} ${t.name}\ndelete table ${t.family} ${t.name}\n`));
      for (const t of compiled.ruleset.tables) {
        out.push(piece(`\ntable ${t.family} ${t.name} {\n`));
        for (const s of t.sets) out.push(setPiece(t, s));
        if ((t.valueSets?.length ?? 0) > 0 || t.ctHelpers.length > 0) out.push(piece(bodyOf(t, { ...(t.valueSets ? { valueSets: t.valueSets } : {}), ctHelpers: t.ctHelpers })));
        const chains = chainsOf(t);
        for (const c of t.chains) out.push(chainPiece(t, chains, c));
        out.push(piece('}\n'));
      }
      // renderNftText's text of nothing at all is one newline.
      return rendered(out.length > 0 ? out : [piece('\n')]);
    },
  };
}
