/**
 * Golden tests: every case under test/golden/<case>/ (a tree, or `meta.json` naming one) is
 * compiled and rendered; the nft text must equal `expected.nft` and the compile diagnostics
 * `expected-diagnostics.txt`. Goldens are rewritten only with UPDATE_GOLDENS=1.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderNftJson } from './nft-json.js';
import { renderNftText } from './nft-text.js';
import { GOLDEN_DIR, loadScenario } from './test-trees.js';

const update = process.env.UPDATE_GOLDENS === '1';
const cases = readdirSync(GOLDEN_DIR)
  .filter((d) => statSync(join(GOLDEN_DIR, d)).isDirectory())
  .sort();

function check(file: string, actual: string): void {
  if (update || !existsSync(file)) {
    if (!update) throw new Error(`missing golden ${file}: run with UPDATE_GOLDENS=1 to create it`);
    writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('golden nftables output', () => {
  for (const name of cases) {
    it(name, () => {
      const dir = join(GOLDEN_DIR, name);
      const { compiled, tree } = loadScenario(dir);
      const text = renderNftText(compiled.ruleset, compiled.ownTables, { header: [`golden case ${name}`] });
      check(join(dir, 'expected.nft'), text);
      const diags = [
        ...tree.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.path}:${d.line}: ${d.code} ${d.message}`),
        ...compiled.diagnostics.map((d) => `${d.path ?? '-'}:${d.line ?? 0}: ${d.code} ${d.message}`),
      ];
      check(join(dir, 'expected-diagnostics.txt'), diags.map((l) => `${l}\n`).join(''));
      // Deterministic: a second compile of the same input gives the same bytes.
      const again = loadScenario(dir).compiled;
      expect(renderNftText(again.ruleset, again.ownTables, { header: [`golden case ${name}`] })).toBe(text);
      expect(JSON.stringify(renderNftJson(again.ruleset, again.ownTables))).toBe(JSON.stringify(renderNftJson(compiled.ruleset, compiled.ownTables)));
    });
  }
});
