import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { simulate } from './simulate.js';
import { loadScenario, NFQUEUE_VERDICTS_DIR, readVerdictCases, VERDICTS_DIR, verdictScenarios } from './test-trees.js';

const key = (c: { from: string; to: string; line: number }): string => `${c.from}->${c.to} (line ${c.line})`;

describe('verdict suite (simulate)', () => {
  let total = 0;
  const scenarios = [
    ...verdictScenarios().map((name) => ({ name, dir: join(VERDICTS_DIR, name) })),
    ...verdictScenarios(NFQUEUE_VERDICTS_DIR).map((name) => ({ name: `nfqueue/${name}`, dir: join(NFQUEUE_VERDICTS_DIR, name) })),
  ];
  for (const { name, dir } of scenarios) {
    it(name, () => {
      const { compiled } = loadScenario(dir);
      const cases = readVerdictCases(dir);
      const failures: string[] = [];
      for (const c of cases) {
        const { expect: want, line: _line, ...sc } = c;
        const o = simulate(compiled, sc);
        const got = o.ok ? o.result.verdict : `ERROR ${o.error}`;
        if (got !== want) failures.push(`${key(c)} ${JSON.stringify(sc)}: want ${want}, got ${got}${o.ok && o.result.decision ? ` at ${o.result.decision.chain}: ${o.result.decision.rule}` : ''}`);
      }
      total += cases.length;
      expect(failures).toEqual([]);
    });
  }
  it('has many hundreds of cases', () => {
    expect(total).toBeGreaterThan(300);
  });
});
