/**
 * The README's first command, end to end: the cluster half of `npm run demo` (nats-server,
 * configd, logger, a node agent applying into a namespace, real packets) must run to its end
 * and show what it promises. Needs root and the lab's tools; skips with the reason otherwise.
 */
import { execFile } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { labPrerequisites } from '@palisade/lab';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const why = await labPrerequisites();
if (why) console.warn(`demo test skipped: ${why}`);

function runDemo(): Promise<{ code: number; out: string }> {
  const nats = execFileSync('scripts/install-nats-server.sh', { cwd: ROOT, encoding: 'utf8' }).trim();
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/demo/cluster.mjs', '--nats-server', nats], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const netnsList = (): string => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

describe.skipIf(why !== undefined)('npm run demo (the cluster half)', () => {
  it('runs the whole system to its end, shows verdicts change with the store, and leaves nothing behind', { timeout: 240_000 }, async () => {
    const { code, out } = await runDemo();
    expect(out).not.toContain('demo failed');
    expect(code).toBe(0);
    expect(out).toMatch(/mysql \(guest policy_in DROP[^\n]*kernel verdict DROP/);
    expect(out).toMatch(/mysql now: [^\n]*kernel verdict ACCEPT/);
    expect(out).toMatch(/applied by the agent [\d.]+ ms after the acknowledgement/);
    expect(out).toMatch(/^100 4 tap100i0-IN \S+ [+-]\d{4} policy DROP: IN=fwbr100i0 .*DPT=3306 /m);
    expect(out).toMatch(/web while unconfirmed: [^\n]*kernel verdict DROP/);
    expect(out).toMatch(/web after the rollback: [^\n]*kernel verdict ACCEPT/);
    expect(out).toMatch(/automatic rollback/);
    expect(netnsList()).not.toMatch(/^pd-/m);
  });
});
