/**
 * Kernel test: every case of the verdict suite (packages/fw-compile/test/verdicts) is sent as
 * a real packet through the compiled ruleset in network namespaces; the kernel must agree
 * with `simulate` (and with the expected verdict) on every case it can reproduce.
 * Skips with a message when not root or when ip/nft are missing.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTree } from '@palisade/fw-lang';
import { compileNode, simulate, type CompileResult, type SimCase } from '@palisade/fw-compile';
import { labPrerequisites } from './exec.js';
import { runLab } from './lab.js';

const VERDICTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../fw-compile/test/verdicts');
const ZONES = ['host', 'outside', 'nfvm', 'vm100', 'ct200'];

function readFiles(root: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${e}` : e;
    if (statSync(join(root, p)).isDirectory()) for (const [k, v] of readFiles(root, p)) out.set(k, v);
    else if (/\.(fw|conf)$/.test(p)) out.set(p, readFileSync(join(root, p), 'utf8'));
  }
  return out;
}

function scenario(name: string): { compiled: CompileResult; cases: (SimCase & { expect: string })[] } {
  const dir = join(VERDICTS, name);
  const files = readFiles(join(VERDICTS, '_base'));
  for (const [k, v] of readFiles(dir)) files.set(k, v);
  const meta = existsSync(join(dir, 'meta.json')) ? (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { hostIp?: string[] }) : {};
  const compiled = compileNode(loadTree(files), { node: 'proxself', hostAddresses: meta.hostIp ?? ['172.16.1.2/24'], nowSeconds: 0 });
  const cases: (SimCase & { expect: string })[] = [];
  for (const raw of readFileSync(join(dir, 'cases.jsonl'), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const c = JSON.parse(line) as SimCase & { expect: string };
    if (c.from !== undefined && c.to !== undefined) cases.push(c);
    else if (c.from !== undefined) for (const z of ZONES) if (z !== c.from) cases.push({ ...c, to: z });
    else for (const z of ZONES) if (z !== c.to) cases.push({ ...c, from: z });
  }
  return { compiled, cases };
}

const names = existsSync(VERDICTS) ? readdirSync(VERDICTS).filter((d) => !d.startsWith('_') && statSync(join(VERDICTS, d)).isDirectory()).sort() : [];
const why = await labPrerequisites();
if (why) console.warn(`kernel lab tests skipped: ${why}`);

describe.skipIf(why !== undefined)('kernel lab agrees with simulate on the verdict suite', () => {
  let sent = 0;
  for (const name of names) {
    it(name, { timeout: 240_000 }, async () => {
      const { compiled, cases } = scenario(name);
      const results = await runLab(compiled, cases, { signal: AbortSignal.timeout(230_000) });
      const disagreements: string[] = [];
      for (const r of results) {
        if (r.verdict === 'SKIP') continue;
        sent++;
        const o = simulate(compiled, r.case);
        // The kernel is compared with what the kernel does (simulate's verdict follows the
        // reference simulator, which short-cuts some chains: see simulate.ts).
        const sim = o.ok ? (o.result.kernelVerdict ?? o.result.verdict) : 'ERROR';
        if (r.verdict !== sim) {
          disagreements.push(`${JSON.stringify(r.case)}: kernel ${r.verdict} (${r.observed ?? ''}), simulate ${sim}${o.ok && o.result.decision ? ` at ${o.result.decision.chain}: ${o.result.decision.rule}` : ''}`);
        }
      }
      expect(disagreements).toEqual([]);
    });
  }
  it('sent real packets for most cases', () => {
    expect(sent).toBeGreaterThan(250);
  });
});
