import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const LAUNCHER = pathToFileURL(join(import.meta.dirname, '../launcher/launch-built.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'launch-built-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A service folder laid out like services/X: a committed bin and, when built, dist/main.js. */
function service(name: string, built: boolean): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  const bin = join(root, 'bin', `${name}.js`);
  writeFileSync(bin, `#!/usr/bin/env node\nimport { launchBuilt } from '${LAUNCHER}';\nawait launchBuilt('${name}', new URL('../dist/main.js', import.meta.url));\n`);
  chmodSync(bin, 0o755);
  if (built) {
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist', 'main.js'), `export async function main(argv) { process.stdout.write('main ' + argv.join(' ') + '\\n'); }\n`);
  }
  return bin;
}

describe('launchBuilt', () => {
  it('runs the built main with the arguments', () => {
    const r = spawnSync(service('svc-built', true), ['--version', 'x'], { encoding: 'utf8' });
    expect([r.status, r.stdout]).toEqual([0, 'main --version x\n']);
  });

  it('says to build first, exit 2, when dist/main.js is missing', () => {
    const r = spawnSync(service('svc-unbuilt', false), ['--help'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('svc-unbuilt: not built yet; run `npm run build` in the repository first\n');
  });
});
