/**
 * Reads documents from disk for the CLI: a whole `/etc/pve`-like tree, or single files
 * (found inside their tree when they sit in one, so names resolve across documents).
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { classifyPath, type FwDocumentKind } from '@palisade/fw-lang';

/** Directories of an `/etc/pve` tree that hold documents, with the file pattern of each. */
const TREE_LAYOUT: readonly (readonly [string, RegExp])[] = [
  ['', /^corosync\.conf$/],
  ['firewall', /\.fw$/],
  ['sdn/firewall', /\.fw$/],
];
const NODE_LAYOUT: readonly (readonly [string, RegExp])[] = [
  ['', /^host\.fw$/],
  ['qemu-server', /\.conf$/],
  ['lxc', /\.conf$/],
];

async function listFiles(dir: string, pattern: RegExp): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  return entries.filter((e) => pattern.test(e)).sort();
}

/**
 * Reads every document of the tree rooted at `root`, keyed by its path relative to the root
 * (`firewall/cluster.fw`, `nodes/pve1/host.fw`…). Files that do not belong to the layout are
 * returned under their relative path too, so the caller can report them.
 */
export async function readTree(root: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const realRoot = await realpath(root);
  const add = async (rel: string): Promise<void> => {
    // A symlink (of the file or a directory on the way) may point anywhere: read only what
    // resolves inside the tree, so an import cannot publish a file from elsewhere.
    const real = await realpath(join(root, rel));
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      throw new ReadTreeError(`${join(root, rel)} is a symlink to ${real}, outside the tree ${realRoot}; refusing to read it`);
    }
    files.set(rel, new Uint8Array(await readFile(real)));
  };
  for (const [sub, pattern] of TREE_LAYOUT) {
    for (const name of await listFiles(join(root, sub), pattern)) await add(sub ? `${sub}/${name}` : name);
  }
  let nodes: string[] = [];
  try {
    nodes = (await readdir(join(root, 'nodes'))).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const node of nodes) {
    if (!(await stat(join(root, 'nodes', node))).isDirectory()) continue;
    for (const [sub, pattern] of NODE_LAYOUT) {
      const dir = sub ? `nodes/${node}/${sub}` : `nodes/${node}`;
      for (const name of await listFiles(join(root, dir), pattern)) await add(`${dir}/${name}`);
    }
  }
  return files;
}

/** A tree that cannot be read as it is (a symlink leading out of it). */
export class ReadTreeError extends Error {
  override readonly name = 'ReadTreeError';
}

/** Where a single file sits: inside a tree (with its root) or on its own. */
export interface LocatedFile {
  /** Root of the tree the file belongs to, when its path fits the `/etc/pve` layout. */
  readonly root?: string;
  /** Path relative to the root, or a synthetic tree path for a standalone file. */
  readonly treePath: string;
}

/**
 * Finds the tree a file belongs to by walking up its directories until the relative path is a
 * document path. A standalone file gets a synthetic path from its kind (given, or guessed
 * from its name and content).
 */
export function locateFile(file: string, content: Uint8Array, kind?: FwDocumentKind): LocatedFile {
  const abs = resolve(file);
  if (kind === undefined) {
    let dir = dirname(abs);
    for (;;) {
      const rel = relative(dir, abs).split(sep).join('/');
      if (classifyPath(rel)) return { root: dir, treePath: rel };
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  const chosen = kind ?? guessKind(basename(abs), content);
  switch (chosen) {
    case 'cluster':
      return { treePath: 'firewall/cluster.fw' };
    case 'host':
      return { treePath: 'nodes/localhost/host.fw' };
    case 'vnet':
      return { treePath: 'sdn/firewall/vnet0.fw' };
    case 'guest': {
      const id = /^(\d{3,9})\.fw$/.exec(basename(abs))?.[1] ?? '100';
      return { treePath: `firewall/${id}.fw` };
    }
  }
}

/** Guesses the kind of a standalone `.fw` file: by name first, then by the sections it has. */
export function guessKind(name: string, content: Uint8Array): FwDocumentKind {
  if (/cluster|datacenter/i.test(name)) return 'cluster';
  if (/host|node/i.test(name)) return 'host';
  if (/vnet|sdn/i.test(name)) return 'vnet';
  if (/^\d+\.fw$/.test(name) || /guest|vm|ct/i.test(name)) return 'guest';
  const text = Buffer.from(content).toString('utf8');
  if (/^\s*\[group\s/im.test(text)) return 'cluster';
  if (/^\s*(nosmurfs|tcpflags|nf_conntrack_|protection_synflood|smurf_log_level|tcp_flags_log_level)\s*:/im.test(text)) return 'host';
  if (/^\s*\[(ipset\s|aliases\])/im.test(text)) return 'cluster';
  if (/-i\s+net\d/.test(text) || /^\s*(macfilter|dhcp|radv|ipfilter)\s*:/im.test(text)) return 'guest';
  return 'cluster';
}
