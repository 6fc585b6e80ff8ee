/**
 * The agent API and the "never open" parts against a real nats-server, configd and namespaces
 * this test creates and removes (`pb<pid>n` the node, `pb<pid>c` a client on a veth link):
 * simulate and counters against the ruleset in force, tokens (reader vs admin), flush,
 * commit-confirmed with real packets (a change that blocks a port and is not confirmed: the port
 * answers again; a confirmed one stays), the dead-man switch, and SIGKILL of a `palisade-agent`
 * process (the built dist/main.js): the rules stay.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { AgentServiceClient, AgentSimulateRequest, ErrorCode, toConfigClientError } from '@palisade/api';
import { main } from '@palisade/cli';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNodeAgent, type NodeAgent } from './app.js';
import { parseAgentApiTokens } from './rpc/agent-service.js';
import { startTestConfigd, type TestConfigd } from './test-configd.js';

const NS = `pb${process.pid}n`;
const CLIENT = `pb${process.pid}c`;
const NET = `10.98.${process.pid % 200}`;
const NODE_IP = `${NET}.1`;
const ADMIN = 'admin-secret-0123456789abcdef';
const READER = 'reader-secret-0123456789abcdef';
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const sh = (...argv: string[]): string => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
/** The namespace's ruleset, rule counters zeroed (they count the test's own packets). */
const nftList = (): string => sh('ip', 'netns', 'exec', NS, 'nft', 'list', 'ruleset').replace(/counter packets \d+ bytes \d+/g, 'counter packets 0 bytes 0');

/** Whether a TCP connection from the client to the node's `port` succeeds within 1 s. */
function connects(port: number): boolean {
  try {
    execFileSync('ip', ['netns', 'exec', CLIENT, 'timeout', '1', 'bash', '-c', `exec 3<>/dev/tcp/${NODE_IP}/${port}`], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - start;
}

/** Runs `palisade ARGS`, capturing its output. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const CLUSTER = '[OPTIONS]\nenable: 1\n';
const host = (...ports: number[]): string => `[RULES]\n${ports.map((p) => `IN ACCEPT -p tcp -dport ${p}\n`).join('')}`;

describe('agent API, flush, commit-confirmed, dead-man switch, SIGKILL (nats-server + configd + namespaces)', () => {
  let nats: NatsClusterHandle;
  let configd: TestConfigd;
  let agent: NodeAgent | undefined;
  let listener: ReturnType<typeof spawn> | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'palisade-agent-api-'));
  const put = async (path: string, content: string, confirmWindowMs?: number): Promise<number> =>
    (await configd.call('put', { path, content: text(content), ...(confirmWindowMs ? { confirmWindowMs } : {}) })).meta!.revision;
  const applied = (rev: number) => (): boolean => (agent?.status().appliedRevision ?? 0) >= rev;
  const api = (): string[] => ['--agent', agent!.apiAddress!];

  beforeAll(async () => {
    sh('ip', 'netns', 'add', NS);
    sh('ip', 'netns', 'add', CLIENT);
    sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', CLIENT, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', CLIENT);
    sh('ip', '-n', NS, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0');
    sh('ip', '-n', CLIENT, 'addr', 'add', `${NET}.2/24`, 'dev', 'eth0');
    sh('ip', '-n', NS, 'link', 'set', 'eth0', 'up');
    sh('ip', '-n', CLIENT, 'link', 'set', 'eth0', 'up');
    listener = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', "const n=require('net');for(const p of [8080,8081])n.createServer(s=>s.end()).listen(p,'0.0.0.0')"], { stdio: 'ignore' });
    await waitFor('listeners', () => connects(8080) && connects(8081), 10_000);
    nats = await startNats();
    configd = await startTestConfigd(nats.urls);
    await put('firewall/cluster.fw', CLUSTER);
    const rev = await put('nodes/pve1/host.fw', host(8080));
    agent = await createNodeAgent({
      node: 'pve1',
      dataDir,
      netns: NS,
      configd: configd.address,
      listen: '127.0.0.1:0',
      logger: SILENT_LOGGER,
      reconnectInitialMs: 50,
      retryInitialMs: 50,
      apiTokens: parseAgentApiTokens(`ops admin ${ADMIN}\nview reader ${READER}\n`, 'test tokens'),
    });
    await waitFor('first apply', applied(rev), 10_000);
  }, 60_000);

  afterAll(async () => {
    await agent?.close().catch(() => undefined);
    await configd?.close().catch(() => undefined);
    await nats?.close().catch(() => undefined);
    if (listener?.pid !== undefined && listener.exitCode === null) process.kill(listener.pid, 'SIGKILL');
    for (const ns of [NS, CLIENT]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('simulate and counters answer for the ruleset in force; tokens: none refused, reader reads', async () => {
    expect((await cli(['agent', 'status', ...api()])).code).toBe(2);
    const sim = await cli(['agent', 'simulate', ...api(), '--token', READER, '--from', 'outside', '--to', 'host', '--dport', '8080']);
    expect(sim.code).toBe(0);
    expect(sim.out.split('\n')[0]).toBe('ACCEPT');
    const blocked = await cli(['agent', 'simulate', ...api(), '--token', READER, '--json', '--from', 'outside', '--to', 'host', '--dport', '8081']);
    expect(JSON.parse(blocked.out)).toMatchObject({ verdict: 'DROP' });
    for (let i = 0; i < 3; i++) expect(connects(8080)).toBe(true);
    const counters = await cli(['agent', 'counters', ...api(), '--token', READER, '--json']);
    expect(counters.code).toBe(0);
    const c = (JSON.parse(counters.out) as { counters: { path: string; line: number; packets: number }[] }).counters;
    const rule = c.filter((x) => x.path === 'nodes/pve1/host.fw' && x.line === 2);
    expect(rule.length).toBeGreaterThan(0);
    expect(rule.reduce((n, x) => n + x.packets, 0)).toBeGreaterThanOrEqual(3);
    const textOut = await cli(['agent', 'counters', ...api(), '--token', READER]);
    expect(textOut.out).toMatch(/pkts .* nodes\/pve1\/host\.fw:2 /);
  });

  it("a refused call carries the typed error code in the ErrorDetail trailer, as configd's do", async () => {
    const client = new AgentServiceClient(agent!.apiAddress!, credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${READER}`);
    try {
      const err = await new Promise<ServiceError>((resolve, reject) =>
        client.simulate(AgentSimulateRequest.fromPartial({ cases: [] }), md, (e) => (e ? resolve(e) : reject(new Error('simulate with no cases was accepted')))),
      );
      const typed = toConfigClientError(err);
      expect(typed.code).toBe('invalid-argument');
      expect(typed.detail?.errorCode).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    } finally {
      client.close();
    }
  });

  it('flush needs an admin token, removes the tables on purpose, and holds until a document changes', async () => {
    const denied = await cli(['agent', 'flush', ...api(), '--token', READER]);
    expect(denied.code).toBe(1);
    expect(nftList()).toContain('table inet palisade');
    const ok = await cli(['agent', 'flush', ...api(), '--token', ADMIN]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.out).toContain('inet palisade');
    expect(nftList()).not.toContain('palisade');
    expect(connects(8081)).toBe(true);
    const status = await cli(['agent', 'status', ...api(), '--token', READER, '--json']);
    expect(JSON.parse(status.out)).toMatchObject({ flushed: true, rulesetDigest: '' });
    // Drift repair does not bring them back; a change of the node's documents does.
    await new Promise((r) => setTimeout(r, 300));
    expect(nftList()).not.toContain('palisade');
    const rev = await put('nodes/pve1/host.fw', `${host(8080)}# after flush\n`);
    await waitFor('applied after flush', applied(rev));
    expect(agent!.status().flushed).toBe(false);
    expect(connects(8081)).toBe(false);
    expect(connects(8080)).toBe(true);
  });

  it('commit-confirmed: a change that blocks the port and is not confirmed is rolled back; the port answers again', async () => {
    const windowMs = 3000;
    const t0 = performance.now();
    const rev = await put('nodes/pve1/host.fw', host(8081), windowMs);
    await waitFor('blocking change applied', applied(rev));
    expect(connects(8080)).toBe(false);
    const status = JSON.parse((await cli(['agent', 'status', ...api(), '--token', READER, '--json'])).out) as { confirmations: { path: string; changeRevision: number }[] };
    expect(status.confirmations).toEqual([expect.objectContaining({ path: 'nodes/pve1/host.fw', changeRevision: rev })]);
    expect((await cli(['agent', 'status', ...api(), '--token', READER])).out).toContain(`palisade confirm ${rev}`);
    const rolledBackMs = await waitFor('rollback applied', () => (agent?.status().appliedRevision ?? 0) > rev, windowMs + 10_000);
    await waitFor('port answers again', () => connects(8080), windowMs + 10_000);
    const ms = performance.now() - t0;
    console.log(`commit-confirmed: rollback applied ${(rolledBackMs).toFixed(0)} ms after the status check; port blocked by an unconfirmed change answers again ${ms.toFixed(0)} ms after the write (window ${windowMs} ms)`);
    expect(ms).toBeLessThan(windowMs + 10_000);
    const h = await configd.call('history', { path: 'nodes/pve1/host.fw', limit: 1 });
    expect(h.revisions[0]!.meta!.author).toBe('automatic rollback');
  }, 30_000);

  it('commit-confirmed: a confirmed change stays', async () => {
    const rev = await put('nodes/pve1/host.fw', host(8080, 8081), 2000);
    await waitFor('change applied', applied(rev));
    await configd.call('confirm', { revision: rev });
    await new Promise((r) => setTimeout(r, 3000));
    expect(agent!.status().appliedRevision).toBe(rev);
    expect(connects(8081)).toBe(true);
    const back = await put('nodes/pve1/host.fw', host(8080));
    await waitFor('8081 blocked again', applied(back));
  }, 30_000);

  it("dead-man switch: 'enable: <unix time>' keeps the firewall on until 60 s after it, then the tables go", async () => {
    const enableAt = Math.floor(Date.now() / 1000) - 58;
    const rev = await put('firewall/cluster.fw', `[OPTIONS]\nenable: ${enableAt}\n`);
    await waitFor('applied', applied(rev));
    expect(agent!.status().deadmanAtMs).toBe((enableAt + 61) * 1000);
    expect(nftList()).toContain('table inet palisade');
    expect((await cli(['agent', 'status', ...api(), '--token', READER])).out).toContain('dead-man switch');
    await waitFor('disabled by the dead-man switch', () => !nftList().includes('table inet palisade'), 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual((enableAt + 60) * 1000);
    const on = await put('firewall/cluster.fw', CLUSTER);
    await waitFor('enabled again', () => applied(on)() && nftList().includes('table inet palisade'));
    expect(agent!.status().deadmanAtMs).toBeUndefined();
  }, 30_000);

  it.skipIf(!existsSync(MAIN))('SIGKILL of a palisade-agent process leaves the rules in force', async () => {
    await agent!.close();
    agent = undefined;
    const data = mkdtempSync(join(tmpdir(), 'palisade-agent-kill-'));
    const rev = await put('nodes/pve1/host.fw', `${host(8080)}# process\n`);
    const child = spawn(process.execPath, [MAIN, '--node', 'pve1', '--data', data, '--netns', NS, '--configd', configd.address, '--listen', 'none', '--log-level', 'warn'], { stdio: 'ignore' });
    try {
      // The state file is written right after the process applied the store's ruleset.
      await waitFor('the process applied', () => existsSync(join(data, 'last-known-good.json')), 15_000);
      const before = nftList();
      child.kill('SIGKILL');
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
      expect(nftList()).toBe(before);
      expect(connects(8080)).toBe(true);
      expect(connects(8081)).toBe(false);
      expect(rev).toBeGreaterThan(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  }, 40_000);
});
