/**
 * palisade-logger as a process (the built `dist/main.js`): killed with SIGKILL in the middle of
 * ingest and started again on the same data directory, it ends with every entry exactly once
 * (unacknowledged messages are redelivered, stored ones dropped by id). Also: --help, usage
 * errors exit 2, SIGTERM stops it cleanly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogClient } from '@palisade/api';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { syntheticEntry } from './synthetic-entries.js';
import { TestPublisher } from './test-harness.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const built = existsSync(MAIN);
let nats: NatsClusterHandle | undefined;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palisade-logger-proc-'));
  if (built) nats = await startNats({ size: 1 });
}, 60_000);
afterAll(async () => {
  await nats?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Proc {
  readonly child: ChildProcess;
  address: string;
  readonly exited: Promise<number | null>;
  log: string;
}

async function startLogger(): Promise<Proc> {
  const child = spawn(process.execPath, [MAIN, '--nats', nats!.urls.join(','), '--listen', '127.0.0.1:0', '--data', dir, '--consumer', 'proc-test', '--retention', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const p: Proc = { child, exited, log: '', address: '' };
  const address = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`logger did not listen: ${p.log}`)), 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      p.log += `${line}\n`;
      const m = /"msg":"logger listening"/.test(line) ? /"address":"([^"]+)"/.exec(line) : null;
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    void exited.then(() => reject(new Error(`logger exited: ${p.log}`)));
  });
  p.address = address;
  return p;
}

describe.skipIf(!built)('palisade-logger process', () => {
  it('prints help and refuses bad options with exit 2', () => {
    const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--retention DURATION');
    const bad = spawnSync(process.execPath, [MAIN, '--nats', 'nats://127.0.0.1:1', '--listen', '127.0.0.1:0', '--data', dir, '--retention', 'forever'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--retention');
  });

  it('SIGKILL during ingest, then a restart: every entry exactly once', async () => {
    const pub = await TestPublisher.connect(nats!.urls);
    const entries = Array.from({ length: 8000 }, (_, i) => syntheticEntry(i, { startUs: Date.UTC(2025, 0, 1) * 1000, stepUs: 1000, bootId: 'k1' }));
    let p = await startLogger();
    let client = createLogClient({ address: p.address, timeoutMs: 10_000 });
    const total = async (): Promise<number> => Number((await client.top({ by: 'vm', limit: 1000 })).total);
    try {
      // The logger creates the stream once its ingest runs (after it listens).
      await expect.poll(() => pub.streamMessages().catch(() => -1), { timeout: 30_000 }).toBeGreaterThanOrEqual(0);
      const publishing = pub.publish(entries, 200);
      await expect.poll(total, { timeout: 30_000, interval: 20 }).toBeGreaterThan(500);
      p.child.kill('SIGKILL');
      await p.exited;
      client.close();
      await publishing;
      p = await startLogger();
      client = createLogClient({ address: p.address, timeoutMs: 10_000 });
      await expect.poll(total, { timeout: 60_000, interval: 100 }).toBe(8000);
      const page = await client.query({ limit: 10_000 });
      expect(page.entries).toHaveLength(8000);
      expect(new Set(page.entries.map((e) => e.id)).size).toBe(8000);
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.log).toContain('logger stopped');
    } finally {
      client.close();
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      await pub.close();
    }
  }, 120_000);
});
