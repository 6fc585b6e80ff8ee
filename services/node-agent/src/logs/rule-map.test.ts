import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileNode, renderNftText } from '@palisade/fw-compile';
import { loadTree } from '@palisade/fw-lang';
import { afterEach, describe, expect, it } from 'vitest';
import { createStateFile } from '../state/state-file.js';
import { RuleMap } from './rule-map.js';
import { savedRuleOrigins } from '../state/saved-origins.js';

const CLUSTER = '[OPTIONS]\nenable: 1\n\n[RULES]\n# ssh from the office\nIN ACCEPT -p tcp -dport 22 -log info\nIN DROP -p tcp -dport 23 -log warning\nIN ACCEPT -p tcp -dport 80\n';
const compiled = compileNode(loadTree(new Map([['firewall/cluster.fw', CLUSTER]])), { node: 'pve1', hostAddresses: ['192.0.2.11/24'], nowSeconds: 0 });
const TEXT = renderNftText(compiled.ruleset, compiled.ownTables);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('rule names after a restore at start', () => {
  it('names logged rules by document:line and text from the state file, as the compile did (the kernel comments carry only the id)', async () => {
    const fromCompile = new RuleMap();
    fromCompile.update({ text: TEXT, compiled });
    const ids = [...TEXT.matchAll(/RULE=([0-9a-f]{12})/g)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    // only the rules that log are kept (their ids are all a log entry can carry)
    expect(savedRuleOrigins(compiled).map(([id]) => id).sort()).toEqual([...new Set(ids)].sort());

    const dir = mkdtempSync(join(tmpdir(), 'palisade-rule-map-'));
    dirs.push(dir);
    const state = createStateFile(dir);
    await state.write({ node: 'pve1', revision: 7, rulesetDigest: 'd', kernelDigest: 'k', rulesetText: TEXT, ownTables: compiled.ownTables, appliedAtMs: 0, ruleOrigins: savedRuleOrigins(compiled) });
    const saved = await state.read();

    const restored = new RuleMap();
    restored.update({ text: saved!.rulesetText, ...(saved!.ruleOrigins ? { savedOrigins: saved!.ruleOrigins } : {}) });
    for (const id of ids) expect(restored.lookup(id)).toEqual(fromCompile.lookup(id));
    expect(restored.lookup(ids[0]!)).toMatchObject({ path: 'firewall/cluster.fw', line: 6 });
    expect(restored.lookup(ids[0]!)?.text).toContain('-dport 22');
  });

  it('without saved origins (an older state file), a restored text still yields the rule ids, without lines', () => {
    const m = new RuleMap();
    m.update({ text: TEXT });
    const id = /RULE=([0-9a-f]{12})/.exec(TEXT)![1]!;
    expect(m.lookup(id)).toBeUndefined();
  });
});
