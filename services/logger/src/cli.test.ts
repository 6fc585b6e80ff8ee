/**
 * `palisade log` end to end against a logger fed through a real JetStream server: pvefw-logger
 * lines by default, `--json` objects, filters, `--top`, `--follow --count`, `log explain`,
 * tokens and exit codes.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '@palisade/cli';
import { formatPvefwLine, type PacketLogEntry } from '@palisade/log-model';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { parseTokensFile } from './rpc/auth.js';
import { syntheticEntry } from './synthetic-entries.js';
import { TestLogger, TestPublisher } from './test-harness.js';

const READER = 'reader-secret-0123456789';
const AGENT = 'agent-secret-01234567890';
const START_US = Date.UTC(2025, 1, 3, 9, 15, 42) * 1000;
const entries = Array.from({ length: 300 }, (_, i) => syntheticEntry(i, { startUs: START_US, stepUs: 1_000_000, bootId: 'c1' }));
let nats: NatsClusterHandle;
let pub: TestPublisher;
let logger: TestLogger;

beforeAll(async () => {
  nats = await startNats({ size: 1, syncAlways: false });
  pub = await TestPublisher.connect(nats.urls);
  logger = await new TestLogger({ natsServers: nats.urls, retentionMs: 0, tokens: parseTokensFile(`ro reader ${READER}\nnode agent ${AGENT}\n`) }).start();
  await pub.publish(entries);
  for (let i = 0; i < 600 && logger.service.store.count < entries.length; i++) await new Promise((r) => setTimeout(r, 50));
}, 60_000);

afterAll(async () => {
  await logger?.remove();
  await pub?.close();
  await nats?.close();
});

async function run(args: string[], token: string | null = READER): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await main(['log', ...args, '--logger', logger.service.address, ...(token ? ['--token', token] : [])]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

describe('palisade log', () => {
  it('prints the newest entries as pvefw-logger lines, oldest first', async () => {
    const r = await run(['--node', 'pve1', '--limit', '3', '--time-zone', 'Europe/Berlin']);
    expect(r.code).toBe(0);
    const want = entries.filter((e) => e.node === 'pve1').slice(-3).map((e) => formatPvefwLine(e, 'Europe/Berlin'));
    expect(lines(r.out)).toEqual(want);
    expect(want[0]).toMatch(/^1\d\d 6 tap1\d\di0-IN 03\/Feb\/2025:10:\d\d:\d\d \+0100 (ACCEPT|DROP|REJECT): IN=fwbr/);
  });

  it('prints one JSON object per entry with the documented fields, filtered', async () => {
    const r = await run(['--vm', '103', '--action', 'drop', '--dport', '3306', '--proto', 'tcp', '--source', '10.0.0.0/8', '--dest', '192.168.3.10', '--limit', '0', '--json']);
    expect(r.code).toBe(0);
    const got = lines(r.out).map((l) => JSON.parse(l) as Record<string, unknown>);
    const want = entries.filter((e) => e.vmid === 103 && e.action === 'DROP' && e.dport === 3306);
    expect(want.length).toBeGreaterThan(0);
    expect(got.map((o) => o.id)).toEqual(want.map((e) => e.id));
    for (const k of ['time', 'node', 'vmid', 'chain', 'action', 'proto', 'src', 'dst', 'sport', 'dport', 'rule']) expect(got[0]).toHaveProperty(k);
    expect(got[0]).toMatchObject({ vmid: 103, action: 'DROP', proto: 'tcp', dport: 3306, rule: want[0]!.ruleId, ruleAt: `${want[0]!.rule!.path}:${want[0]!.rule!.line}` });
  });

  it('honours --since/--until and --rule', async () => {
    const since = String(START_US / 1e6 + 10);
    const until = String(START_US / 1e6 + 19);
    const r = await run(['--since', since, '--until', until, '--limit', '0', '--json']);
    expect(lines(r.out)).toHaveLength(10);
    const byRule = await run(['--rule', 'r5', '--limit', '0', '--json']);
    expect(lines(byRule.out).map((l) => (JSON.parse(l) as { rule: string }).rule)).toEqual(entries.filter((e) => e.ruleId === 'r5').map(() => 'r5'));
  });

  it('prints the top destination ports', async () => {
    const r = await run(['--top', 'dport', '--limit', '2']);
    expect(r.code).toBe(0);
    expect(lines(r.out).map((l) => l.trim().split(/\s+/))).toEqual([
      ['38', '22'],
      ['38', '3306'],
    ]);
  });

  it('follows new entries', async () => {
    const more = Array.from({ length: 6 }, (_, i) => syntheticEntry(1000 + i, { startUs: START_US, stepUs: 1_000_000, bootId: 'c2' }));
    const running = run(['--follow', '--limit', '0', '--count', '6', '--json']);
    await new Promise((r) => setTimeout(r, 500));
    await pub.publish(more);
    const r = await running;
    expect(r.code).toBe(0);
    expect(lines(r.out).map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(more.map((e) => e.id));
  });

  it('explains an entry: its rule with document:line', async () => {
    const e = entries[42] as PacketLogEntry;
    const r = await run(['explain', e.id]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`rule ${e.ruleId} at ${e.rule!.path}:${e.rule!.line}\n  ${e.rule!.text}`);
    const missing = await run(['explain', 'pve1:nope:1']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("no log entry with id 'pve1:nope:1'");
  });

  it('needs a reader token; usage errors exit 2', async () => {
    const open = await run(['--limit', '1'], null);
    expect(open.code).toBe(2);
    const agent = await run(['--limit', '1'], AGENT);
    expect(agent.code).toBe(1);
    expect(agent.err).toMatch(/role agent/);
    expect((await run(['--dport', '70000'])).code).toBe(2);
    expect((await run(['--since', 'yesterday-ish'])).code).toBe(2);
    const bad = await run(['--source', '10.0.0.0/99']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('src');
  });
});
