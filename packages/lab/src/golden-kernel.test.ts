/**
 * Kernel test: every golden ruleset (packages/fw-compile/test/golden/<case>/expected.nft) is
 * checked with `nft -c`, applied, re-applied (idempotent replacement) and, as libnftables
 * JSON, checked with `nft -j -c`, each in a namespace this test creates and removes.
 *
 * A kernel built without `CONFIG_NFT_QUEUE` (nft_queue) refuses every rule with a `queue`
 * statement (IPS guests, ENOENT "Could not process rule"). On such a kernel a ruleset with queue
 * statements is checked as far as the kernel allows: nft must parse and evaluate all of it
 * (text and JSON), the only errors allowed are that ENOENT on exactly the queue rules, and the
 * same ruleset with each queue statement replaced by `accept` must load and re-load cleanly.
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
const NFQUEUE_VERDICTS = resolve(GOLDEN, '../verdicts-nfqueue');
/** A queue statement as fw-compile renders it (`queue flags bypass to 2-5`). */
const QUEUE_STMT = /\bqueue (?:flags [a-z,]+ )?to \d+(?:-\d+)?/g;
const NO_QUEUE_MODULE = /Error: Could not process rule: No such file or directory/g;

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
  let queueSupported = true;
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...REQUIRED_SYSCTLS.map(([k, v]) => `${k}=${v}`)]);
    const probe = await run('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], { input: 'table inet palisade-probe {\n\tchain c {\n\t\tqueue flags bypass to 0\n\t}\n}\n', check: false });
    queueSupported = probe.code === 0;
    if (!queueSupported) console.warn(`this kernel has no nft_queue: rulesets with queue statements are checked without them (${probe.stderr.trim().split('\n')[0] ?? ''})`);
  });
  afterAll(async () => {
    await run('ip', ['netns', 'del', ns], { check: false });
  });
  for (const name of cases) {
    it(name, async () => {
      const dir = join(GOLDEN, name);
      const full = readFileSync(join(dir, 'expected.nft'), 'utf8');
      const exec = (args: string[], input: string) => run('ip', ['netns', 'exec', ns, 'nft', ...args], { input, check: false, timeoutMs: 60_000 });
      const queueRules = full.split('\n').filter((l) => !l.trimStart().startsWith('#') && (l.match(QUEUE_STMT)?.length ?? 0) > 0).length;
      const withoutQueue = !queueSupported && queueRules > 0;
      if (withoutQueue) {
        // Everything but the kernel's missing queue expression is accepted.
        const c = await exec(['-c', '-f', '-'], full);
        expect(c.code).not.toBe(0);
        expect(c.stderr.match(NO_QUEUE_MODULE)?.length).toBe(queueRules);
        expect(c.stderr.split('\n').filter((l) => l.includes('Error:') && !l.includes('Could not process rule: No such file or directory'))).toEqual([]);
      }
      const text = withoutQueue ? full.replace(QUEUE_STMT, 'accept') : full;
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
      const files = dirname(treeDir) === VERDICTS || dirname(treeDir) === NFQUEUE_VERDICTS ? readFiles(join(VERDICTS, '_base')) : new Map<string, string>();
      for (const [k, v] of readFiles(treeDir)) files.set(k, v);
      const compiled = compileNode(loadTree(files), { node: meta.node ?? 'proxself', hostAddresses: meta.hostIp ?? ['172.16.1.2/24'], nowSeconds: 0 });
      // nft reads JSON only from a file (a pipe from node is a socket it cannot reopen)
      const tmp = mkdtempSync(join(tmpdir(), 'palisade-golden-'));
      try {
        const file = join(tmp, 'ruleset.json');
        const json = JSON.stringify(renderNftJson(compiled.ruleset, compiled.ownTables));
        writeFileSync(file, json);
        const j = await exec(['-j', '-c', '-f', file], '');
        if (withoutQueue) {
          expect(j.code).not.toBe(0);
          expect(j.stderr.match(NO_QUEUE_MODULE)?.length).toBe(queueRules);
          expect(j.stderr.split('\n').filter((l) => l.includes('Error:') && !l.includes('Could not process rule: No such file or directory'))).toEqual([]);
          // JSON queue statements are `{"queue":{...}}` objects; as accept the rest must load.
          writeFileSync(file, json.replace(/\{"queue":\{"num":(?:\d+|\{"range":\[\d+,\d+\]\})(?:,"flags":"bypass")?\}\}/g, '{"accept":null}'));
          const ja = await exec(['-j', '-c', '-f', file], '');
          expect(ja.stderr).toBe('');
          expect(ja.code).toBe(0);
        } else {
          expect(j.stderr).toBe('');
          expect(j.code).toBe(0);
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
});
