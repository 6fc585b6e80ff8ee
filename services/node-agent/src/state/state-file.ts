/**
 * The agent's state in `--data`: the last-known-good ruleset (the transaction text last applied
 * successfully), the store revision and digest it came from, and the kernel's digest right after
 * it was applied. Written atomically (temp file, fsync, rename, fsync of the directory), so a
 * crash leaves either the old or the new state, never a torn one.
 *
 * The file is one JSON line of everything but the text (with the text's length), then the text
 * as it is: a 1,000-guest node's 2.5 MB text is written without JSON-escaping it on the agent's
 * event loop (that took ~10 ms after every apply). Files of the older form, one JSON object
 * holding the text, are still read.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.js';

/** File name inside `--data`. */
export const STATE_FILE_NAME = 'last-known-good.json';

/** The first bytes of the current form (a header line, then the text). */
const FORMAT = 'palisade-last-known-good/2';
const HEADER_START = `{"format":"${FORMAT}"`;

/**
 * The state saved after each successful apply and restored at start, so a restarted agent
 * enforces its last ruleset before configd answers.
 */
export interface LastKnownGood {
  readonly node: string;
  /** Store revision the ruleset was compiled from. */
  readonly revision: number;
  /** The digest of `rulesetText` the agent reports (`compile/ruleset-text.ts`). */
  readonly rulesetDigest: string;
  /** Kernel digest right after the apply (`RulesetApplier.readCurrent`). */
  readonly kernelDigest: string;
  readonly rulesetText: string;
  readonly ownTables: readonly { readonly family: string; readonly name: string }[];
  /** When it was applied, ms since the epoch. */
  readonly appliedAtMs: number;
  /**
   * The rules of the ruleset by stable id, as `[id, path, line, text]`: the kernel comments name
   * a rule by `path#id` only, so after a restore this is where log entries get document:line.
   * Absent in state files written before it existed.
   */
  readonly ruleOrigins?: readonly SavedRuleOrigin[];
}

/** One rule of the saved ruleset: `[stable id, document path, line, rule text]`. */
export type SavedRuleOrigin = readonly [id: string, path: string, line: number, text: string];

/** The state file of one `--data` directory; failures are `AgentError` `state-failed`. */
export interface StateFile {
  /** The stored state; undefined when there is none (first start). Throws `state-failed` on an unreadable file. */
  read(): Promise<LastKnownGood | undefined>;
  /** Replaces the stored state atomically. */
  write(state: LastKnownGood): Promise<void>;
  readonly path: string;
}

/** The state file in `dataDir` (created at the first write); opens nothing until `read` or `write`. */
export function createStateFile(dataDir: string): StateFile {
  const path = join(dataDir, STATE_FILE_NAME);
  return {
    path,
    async read() {
      let raw: string;
      try {
        raw = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return undefined;
        throw new AgentError('state-failed', `cannot read ${path}: ${(err as Error).message}`, { path }, { cause: err });
      }
      try {
        const s = raw.startsWith(HEADER_START) ? fromHeaderAndText(raw, path) : (JSON.parse(raw) as LastKnownGood);
        if (typeof s.rulesetText !== 'string' || typeof s.revision !== 'number' || !Array.isArray(s.ownTables)) throw new AgentError('state-failed', 'missing fields', { path });
        return s;
      } catch (err) {
        throw new AgentError('state-failed', `${path} is not a state file: ${(err as Error).message}`, { path }, { cause: err });
      }
    },
    async write(state) {
      try {
        await mkdir(dataDir, { recursive: true });
        const tmp = `${path}.tmp-${process.pid}`;
        const fh = await open(tmp, 'w', 0o600);
        try {
          const { rulesetText, ...rest } = state;
          await fh.write(`${JSON.stringify({ format: FORMAT, ...rest, rulesetTextLength: rulesetText.length })}\n`);
          await fh.write(rulesetText);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
        const dir = await open(dataDir, 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
      } catch (err) {
        throw new AgentError('state-failed', `cannot write ${path}: ${(err as Error).message}`, { path }, { cause: err });
      }
    },
  };
}

/** The current form: the header line, then exactly `rulesetTextLength` characters of text. */
function fromHeaderAndText(raw: string, path: string): LastKnownGood {
  const nl = raw.indexOf('\n');
  if (nl < 0) throw new AgentError('state-failed', 'no text after the header', { path });
  const { format: _format, rulesetTextLength, ...header } = JSON.parse(raw.slice(0, nl)) as Omit<LastKnownGood, 'rulesetText'> & { format: string; rulesetTextLength: number };
  const rulesetText = raw.slice(nl + 1);
  if (rulesetText.length !== rulesetTextLength) throw new AgentError('state-failed', `the text is ${rulesetText.length} characters, the header says ${rulesetTextLength}`, { path });
  return { ...header, rulesetText };
}
