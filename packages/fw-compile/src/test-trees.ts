/**
 * Test support (not part of the build): reads scenario trees of the verdict suite and the
 * golden cases from disk, and expands verdict cases.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTree, type PveTree } from '@palisade/fw-lang';
import { compileNode, type CompileResult } from './compile.js';
import type { SimCase } from './simulate.js';

/** The package directory (tests read their fixtures below it). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The verdict scenarios (`test/verdicts/<name>/`). */
export const VERDICTS_DIR = join(PACKAGE_ROOT, 'test', 'verdicts');
/** The golden compiler cases (`test/golden/<name>/`). */
export const GOLDEN_DIR = join(PACKAGE_ROOT, 'test', 'golden');
/** Verdict scenarios with NFQUEUE (`ips: 1`), kept out of the kernel lab (see its README). */
export const NFQUEUE_VERDICTS_DIR = join(PACKAGE_ROOT, 'test', 'verdicts-nfqueue');

/** Every file under `root`, by path relative to it (forward slashes). */
export function readFiles(root: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${e}` : e;
    if (statSync(join(root, p)).isDirectory()) for (const [k, v] of readFiles(root, p)) out.set(k, v);
    else out.set(p, readFileSync(join(root, p), 'utf8'));
  }
  return out;
}

/** A scenario's `meta.json`: the node and facts to compile it with. */
export interface ScenarioMeta {
  readonly node?: string;
  readonly hostIp?: string[];
  readonly localNetwork?: string;
  /** Golden cases only: a tree directory relative to the case (a verdict scenario gets `_base` laid under it). */
  readonly tree?: string;
}

const TREE_FILE = /^(corosync\.conf|firewall\/.*\.fw|nodes\/[^/]+\/(host\.fw|qemu-server\/\d+\.conf|lxc\/\d+\.conf)|sdn\/firewall\/.*\.fw)$/;

/** Loads a scenario directory (verdict scenarios are laid over `_base`) and compiles it. */
export function loadScenario(dir: string): { meta: ScenarioMeta; tree: PveTree; compiled: CompileResult; files: Map<string, string> } {
  const metaPath = join(dir, 'meta.json');
  const meta: ScenarioMeta = existsSync(metaPath) ? (JSON.parse(readFileSync(metaPath, 'utf8')) as ScenarioMeta) : {};
  const treeDir = meta.tree !== undefined ? resolve(dir, meta.tree) : dir;
  const files = new Map<string, string>();
  if (dirname(treeDir) === VERDICTS_DIR || dirname(treeDir) === NFQUEUE_VERDICTS_DIR) for (const [k, v] of readFiles(join(VERDICTS_DIR, '_base'))) files.set(k, v);
  for (const [k, v] of readFiles(treeDir)) if (TREE_FILE.test(k)) files.set(k, v);
  const tree = loadTree(files);
  const compiled = compileNode(tree, {
    node: meta.node ?? 'proxself',
    hostAddresses: meta.hostIp ?? ['172.16.1.2/24'],
    ...(meta.localNetwork !== undefined ? { localNetwork: meta.localNetwork } : {}),
    nowSeconds: 0,
  });
  return { meta, tree, compiled, files };
}

/** A simulated case with the verdict the scenario expects. */
export interface VerdictCase extends SimCase {
  readonly expect: 'ACCEPT' | 'DROP' | 'REJECT';
  readonly line: number;
}

/** Zones a case with only `from` or only `to` expands to (the reference runner's list). */
export const EXPAND_ZONES = ['host', 'outside', 'nfvm', 'vm100', 'ct200'] as const;

/** Reads `cases.jsonl`, expanding one-sided cases. */
export function readVerdictCases(dir: string): VerdictCase[] {
  const out: VerdictCase[] = [];
  readFileSync(join(dir, 'cases.jsonl'), 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const c = JSON.parse(line) as Partial<VerdictCase>;
      const base = { ...c, line: i + 1 } as VerdictCase;
      if (c.from !== undefined && c.to !== undefined) out.push(base);
      else if (c.from !== undefined) {
        for (const z of EXPAND_ZONES) if (z !== c.from) out.push({ ...base, to: z });
      } else if (c.to !== undefined) {
        for (const z of EXPAND_ZONES) if (z !== c.to) out.push({ ...base, from: z });
      }
    });
  return out;
}

/** Verdict scenario directories of `root` (everything but `_base`). */
export function verdictScenarios(root: string = VERDICTS_DIR): string[] {
  return readdirSync(root)
    .filter((d) => !d.startsWith('_') && statSync(join(root, d)).isDirectory())
    .sort();
}
