import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

  it('refuses a file that is not a state file', async () => {
    const d = dir();
    writeFileSync(join(d, STATE_FILE_NAME), '{"half":');
    await expect(createStateFile(d).read()).rejects.toBeInstanceOf(AgentError);
  });
});
