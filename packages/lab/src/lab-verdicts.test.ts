/**
 * Kernel test: every case of the verdict suite (packages/fw-compile/test/verdicts) is sent as
 * a real packet through the compiled ruleset in network namespaces; the kernel must agree
 * with `simulate` (and with the expected verdict) on every case it can reproduce. A case the lab
 * skips must be one real packets cannot reproduce (`unsupported`): a case it could not set up or
 * probe fails the test, so lab defects do not hide as skips.
 * Skips with a message when not root or when one of the lab's tools is missing.
 */
import { describe, expect, it } from 'vitest';
import { simulate } from '@palisade/fw-compile';
import { loadScenario, readVerdictCases, VERDICTS_DIR, verdictScenarios } from '@palisade/fw-compile/test-support';
import { labPrerequisites } from './exec.js';
import { runLab } from './lab.js';

/** The scenario's compiled ruleset and its cases (one-sided cases expanded as the runner does). */
function scenario(name: string) {
  const dir = `${VERDICTS_DIR}/${name}`;
  return { compiled: loadScenario(dir).compiled, cases: readVerdictCases(dir) };
}

const names = verdictScenarios();
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
        if (r.verdict === 'SKIP' && r.skip !== 'unsupported') disagreements.push(`${JSON.stringify(r.case)}: ${r.skip ?? 'SKIP'}: ${r.reason ?? ''}`);
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
    expect(sent).toBeGreaterThan(900);
  });
});
