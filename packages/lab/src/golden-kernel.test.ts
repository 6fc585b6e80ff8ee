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
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderNftJson, REQUIRED_SYSCTLS } from '@palisade/fw-compile';
import { GOLDEN_DIR as GOLDEN, loadScenario } from '@palisade/fw-compile/test-support';
import { labPrerequisites, run } from './exec.js';

/** A queue statement as fw-compile renders it (`queue flags bypass to 2-5`). */
const QUEUE_STMT = /\bqueue (?:flags [a-z,]+ )?to \d+(?:-\d+)?/g;
const NO_QUEUE_MODULE = /Error: Could not process rule: No such file or directory/g;

const cases = readdirSync(GOLDEN).filter((d) => statSync(join(GOLDEN, d)).isDirectory()).sort();
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
      const { compiled } = loadScenario(dir);
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
