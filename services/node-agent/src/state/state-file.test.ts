import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError } from '../errors.js';
import { STATE_FILE_NAME, createStateFile, type LastKnownGood } from './state-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'palisade-state-'));
  dirs.push(d);
  return d;
};
const STATE: LastKnownGood = {
  node: 'pve1',
  revision: 7,
  rulesetDigest: 'a'.repeat(64),
  kernelDigest: 'b'.repeat(64),
  rulesetText: 'table inet palisade\ndelete table inet palisade\n',
  ownTables: [{ family: 'inet', name: 'palisade' }],
  appliedAtMs: 1,
};

describe('state file', () => {
  it('is absent at first, then round-trips, leaving no temporary file', async () => {
    const d = dir();
    const f = createStateFile(join(d, 'sub'));
    expect(await f.read()).toBeUndefined();
    await f.write(STATE);
    await f.write({ ...STATE, revision: 8 });
    expect(await f.read()).toEqual({ ...STATE, revision: 8 });
    expect(readdirSync(join(d, 'sub'))).toEqual([STATE_FILE_NAME]);
  });

  it('writes the text after a header line, unescaped; still reads the older one-object form', async () => {
    const d = dir();
    const f = createStateFile(d);
    const state = { ...STATE, rulesetText: 'table inet palisade {\n\tchain "x\\" {\n\t}\n}\n', ruleOrigins: [['r1', 'firewall/100.fw', 3, 'IN ACCEPT -log info'] as const] };
    await f.write(state);
    const raw = readFileSync(join(d, STATE_FILE_NAME), 'utf8');
    expect(raw.endsWith(`\n${state.rulesetText}`)).toBe(true);
    expect(await f.read()).toEqual(state);
    writeFileSync(join(d, STATE_FILE_NAME), JSON.stringify(STATE));
    expect(await f.read()).toEqual(STATE);
  });

  it('refuses a file whose text is not as long as its header says (cut short)', async () => {
    const d = dir();
    const f = createStateFile(d);
    await f.write(STATE);
    const raw = readFileSync(join(d, STATE_FILE_NAME), 'utf8');
    writeFileSync(join(d, STATE_FILE_NAME), raw.slice(0, raw.length - 3));
    await expect(f.read()).rejects.toBeInstanceOf(AgentError);
  });

  it('refuses a file that is not a state file', async () => {
    const d = dir();
    writeFileSync(join(d, STATE_FILE_NAME), '{"half":');
    await expect(createStateFile(d).read()).rejects.toBeInstanceOf(AgentError);
  });
});
