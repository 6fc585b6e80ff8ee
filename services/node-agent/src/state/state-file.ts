/**
 * The agent's state in `--data`: the last-known-good ruleset (the transaction text last applied
 * successfully), the store revision and digest it came from, and the kernel's digest right after
 * it was applied. Written atomically (temp file, fsync, rename, fsync of the directory), so a
 * crash leaves either the old or the new state, never a torn one.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.js';

/** File name inside `--data`. */
export const STATE_FILE_NAME = 'last-known-good.json';

export interface LastKnownGood {
  readonly node: string;
  /** Store revision the ruleset was compiled from. */
  readonly revision: number;
  /** SHA-256 of `rulesetText`. */
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

export interface StateFile {
  /** The stored state; undefined when there is none (first start). Throws `state-failed` on an unreadable file. */
  read(): Promise<LastKnownGood | undefined>;
  /** Replaces the stored state atomically. */
  write(state: LastKnownGood): Promise<void>;
  readonly path: string;
}

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
        const s = JSON.parse(raw) as LastKnownGood;
        if (typeof s.rulesetText !== 'string' || typeof s.revision !== 'number' || !Array.isArray(s.ownTables)) throw new Error('missing fields');
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
          await fh.writeFile(JSON.stringify(state));
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
