/**
 * Turns the PATH arguments of `check` and `show` into parsed trees: a directory is read as an
 * `/etc/pve`-like tree; a file is parsed within its tree when it sits in one.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCUMENT_PATH_FORMS, FW_DOCUMENT_KINDS, loadTree, type FwDocumentKind, type PveTree } from '@palisade/fw-lang';
import { CliExit, EXIT } from './exit.js';
import { locateFile, readTree } from './read-tree.js';

/**
 * One PATH argument loaded: the whole tree the file belongs to (so references to other documents
 * resolve), the documents to report on, and how to name them in output.
 */
export interface LoadedInput {
  readonly tree: PveTree;
  /** Tree paths this argument asked about (all of them for a directory). */
  readonly focus: ReadonlySet<string> | 'all';
  /** Maps a tree path to what the user should see (their own path). */
  readonly display: (treePath: string) => string;
}

/**
 * Validates `--kind` (undefined when not given). An unknown kind ends the command with exit code
 * 2 rather than being guessed from the path.
 */
export function parseKind(value: string | undefined): FwDocumentKind | undefined {
  if (value === undefined) return undefined;
  if (!(FW_DOCUMENT_KINDS as readonly string[]).includes(value)) {
    throw new CliExit(EXIT.usage, `--kind must be one of ${FW_DOCUMENT_KINDS.join(', ')}`);
  }
  return value as FwDocumentKind;
}

/** Reads and parses one PATH argument; I/O problems end the command with exit code 2. */
export async function loadInput(path: string, kind: FwDocumentKind | undefined, maxBytes?: number): Promise<LoadedInput> {
  const limits = maxBytes !== undefined ? { maxBytes } : {};
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new CliExit(EXIT.usage, `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    if (info.isDirectory()) {
      const files = await readTree(path);
      if (files.size === 0) {
        throw new CliExit(
          EXIT.usage,
          `no documents under ${path}: expected a tree laid out like /etc/pve (${DOCUMENT_PATH_FORMS.join(', ')}); ` +
            `for loose files pass them as arguments (palisade check ${join(path, '*.fw')})`,
        );
      }
      return { tree: loadTree(files, limits), focus: 'all', display: (p) => join(path, p) };
    }
    const content = new Uint8Array(await readFile(path));
    const located = locateFile(path, content, kind);
    const files = located.root !== undefined ? await readTree(located.root) : new Map<string, Uint8Array>();
    files.set(located.treePath, content);
    return {
      tree: loadTree(files, limits),
      focus: new Set([located.treePath]),
      display: (p) => (p === located.treePath ? path : located.root !== undefined ? join(located.root, p) : p),
    };
  } catch (err) {
    if (err instanceof CliExit) throw err;
    throw new CliExit(EXIT.usage, `cannot read ${path}: ${(err as Error).message}`);
  }
}
