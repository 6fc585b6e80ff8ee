/**
 * Kernel test: every golden ruleset (packages/fw-compile/test/golden/<case>/expected.nft) is
 * checked with `nft -c`, applied, re-applied (idempotent replacement) and, as libnftables
 * JSON, checked with `nft -j -c`, each in a namespace this test creates and removes.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTree } from '@palisade/fw-lang';
import { compileNode, renderNftJson, REQUIRED_SYSCTLS } from '@palisade/fw-compile';
import { labPrerequisites, run } from './exec.js';

const GOLDEN = resolve(dirname(fileURLToPath(import.meta.url)), '../../fw-compile/test/golden');
const VERDICTS = resolve(GOLDEN, '../verdicts');

function readFiles(root: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${e}` : e;
    if (statSync(join(root, p)).isDirectory()) for (const [k, v] of readFiles(root, p)) out.set(k, v);
    else if (/\.(fw|conf)$/.test(p)) out.set(p, readFileSync(join(root, p), 'utf8'));
  }
  return out;
}

const cases = existsSync(GOLDEN) ? readdirSync(GOLDEN).filter((d) => statSync(join(GOLDEN, d)).isDirectory()).sort() : [];
const why = await labPrerequisites();
if (why) console.warn(`kernel golden tests skipped: ${why}`);
const ns = `plg-${process.pid}`;

describe.skipIf(why !== undefined)('golden rulesets load in the kernel', () => {
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...REQUIRED_SYSCTLS.map(([k, v]) => `${k}=${v}`)]);
  });
  afterAll(async () => {
    await run('ip', ['netns', 'del', ns], { check: false });
  });
  for (const name of cases) {
    it(name, async () => {
      const dir = join(GOLDEN, name);
      const text = readFileSync(join(dir, 'expected.nft'), 'utf8');
      const exec = (args: string[], input: string) => run('ip', ['netns', 'exec', ns, 'nft', ...args], { input, check: false, timeoutMs: 60_000 });
      const c = await exec(['-c', '-f', '-'], text);
      expect(c.stderr).toBe('');
      expect(c.code).toBe(0);
      for (let i = 0; i < 2; i++) {
        const a = await exec(['-f', '-'], text);
        expect(a.stderr).toBe('');
        expect(a.code).toBe(0);
      }
      const listed = await exec(['list', 'tables'], '');
      expect(listed.stdout.trim().split('\n').sort()).toEqual(text.includes('table inet palisade {') ? ['table bridge palisade', 'table inet palisade'] : ['']);
      // JSON rendering of the same compile
      const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { tree: string; node?: string; hostIp?: string[] };
      const treeDir = resolve(dir, meta.tree);
      const files = dirname(treeDir) === VERDICTS ? readFiles(join(VERDICTS, '_base')) : new Map<string, string>();
      for (const [k, v] of readFiles(treeDir)) files.set(k, v);
      const compiled = compileNode(loadTree(files), { node: meta.node ?? 'proxself', hostAddresses: meta.hostIp ?? ['172.16.1.2/24'], nowSeconds: 0 });
      // nft reads JSON only from a file (a pipe from node is a socket it cannot reopen)
      const tmp = mkdtempSync(join(tmpdir(), 'palisade-golden-'));
      try {
        const file = join(tmp, 'ruleset.json');
        writeFileSync(file, JSON.stringify(renderNftJson(compiled.ruleset, compiled.ownTables)));
        const j = await exec(['-j', '-c', '-f', file], '');
        expect(j.stderr).toBe('');
        expect(j.code).toBe(0);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
});
