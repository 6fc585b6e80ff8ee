/**
 * The agent against a real nats-server and configd, applying into network namespaces this test
 * creates and removes: `pa<pid>n` is the node, `pa<pid>c` a client on a veth link
 * (10.99.<x>.1 node, .2 client). Real TCP connections show what the kernel does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { AgentServiceClient, type GetAgentStatusResponse, type GetRulesetResponse } from '@palisade/api';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '@palisade/cli';
import { startTestConfigd, type TestConfigd } from './test-configd.js';
import { createNodeAgent, type NodeAgent } from './app.js';
import { createNftCliApplier } from './apply/nft-cli-applier.js';
import type { RulesetApplier } from './apply/ruleset-applier.js';

const NS = `pa${process.pid}n`;
const CLIENT = `pa${process.pid}c`;
const NS2 = `pa${process.pid}m`;
const NET = `10.99.${process.pid % 200}`;
const NODE_IP = `${NET}.1`;
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
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - start;
}

/** The real applier, counting transactions; `failNext` makes the next ones send a broken batch. */
function countingApplier(): RulesetApplier & { applies: number; failNext: number } {
  const real = createNftCliApplier({ netns: NS });
  const a = {
    kind: 'nft-cli',
    applies: 0,
    failNext: 0,
    apply: (input: Parameters<RulesetApplier['apply']>[0], signal?: AbortSignal) => {
      a.applies++;
      if (a.failNext > 0) {
        a.failNext--;
        return real.apply({ ...input, text: `${input.text}\nadd rule inet palisade NO-SUCH-CHAIN accept\n` }, signal);
      }
      return real.apply(input, signal);
    },
    readCurrent: (...args: Parameters<RulesetApplier['readCurrent']>) => real.readCurrent(...args),
  };
  return a;
}

const CLUSTER = '[OPTIONS]\nenable: 1\n';
/**
 * The prober's agent restarts and configd outages: 20 and 2 here (about 30 s); the issue's
 * scale (100 and 10) runs in `npm run bench` (scripts/bench-agent.mjs sets these variables).
 */
const PROBER_RESTARTS = Number(process.env.PALISADE_PROBER_RESTARTS ?? 20);
const PROBER_OUTAGES = Number(process.env.PALISADE_PROBER_OUTAGES ?? 2);
const host = (port: number): string => `[RULES]\nIN ACCEPT -p tcp -dport ${port}\n`;

describe('node agent (nats-server + configd + namespaces)', () => {
  let nats: NatsClusterHandle;
  let configd: TestConfigd | undefined;
  let agent: NodeAgent | undefined;
  let applier: ReturnType<typeof countingApplier>;
  let listener: ChildProcess | undefined;
  let agent2: NodeAgent | undefined;
  const dataDir2 = mkdtempSync(join(tmpdir(), 'palisade-agent2-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'palisade-agent-'));
  const configdData = mkdtempSync(join(tmpdir(), 'palisade-agent-configd-'));
  let configdAddress = '';

  const start = (): Promise<NodeAgent> =>
    createNodeAgent({ node: 'pve1', dataDir, netns: NS, configd: configdAddress, listen: '127.0.0.1:0', metrics: '127.0.0.1:0', logger: SILENT_LOGGER, reconnectInitialMs: 50, reconnectMaxMs: 200, retryInitialMs: 50, applier });
  const put = async (path: string, content: string): Promise<number> => (await configd!.call('put', { path, content: text(content) })).meta!.revision;
  const applied = (rev: number) => (): boolean => (agent?.status().appliedRevision ?? 0) >= rev;

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
    // Two TCP listeners in the node's namespace.
    listener = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', "const n=require('net');for(const p of [8080,8081])n.createServer(s=>s.end()).listen(p,'0.0.0.0')"], { stdio: 'ignore' });
    await waitFor('listeners', () => connects(8080) && connects(8081), 10_000);
    nats = await startNats();
    configd = await startTestConfigd(nats.urls, { dataDir: configdData });
    configdAddress = configd.address;
    applier = countingApplier();
  }, 60_000);

  afterAll(async () => {
    await agent?.close().catch(() => undefined);
    await configd?.close().catch(() => undefined);
    await nats?.close().catch(() => undefined);
    if (listener?.pid !== undefined && listener.exitCode === null) process.kill(listener.pid, 'SIGKILL');
    await agent2?.close().catch(() => undefined);
    for (const ns of [NS, CLIENT, NS2]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(configdData, { recursive: true, force: true });
    rmSync(dataDir2, { recursive: true, force: true });
  }, 30_000);

  it('applies the store to the kernel: the allowed port answers, the other is dropped', async () => {
    await put('firewall/cluster.fw', CLUSTER);
    const rev = await put('nodes/pve1/host.fw', host(8080));
    agent = await start();
    await waitFor('first apply', applied(rev));
    const s = agent.status();
    expect(s).toMatchObject({ node: 'pve1', enabled: true, inSync: true, connected: true, errors: [] });
    expect(s.rulesetDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(s.facts.hostAddresses).toEqual([`${NODE_IP}/24`]);
    expect(s.facts.localNetwork).toBe(`${NET}.0/24`);
    expect(s.sysctlFailures).toEqual([]);
    expect(sh('ip', 'netns', 'exec', NS, 'sysctl', '-n', 'net.ipv4.fwmark_reflect').trim()).toBe('1');
    expect(nftList()).toContain('table inet palisade');
    expect(connects(8080)).toBe(true);
    expect(connects(8081)).toBe(false);
    // The agent API says the same.
    const api = new AgentServiceClient(agent.apiAddress!, credentials.createInsecure());
    try {
      const unary = <Res>(fn: (cb: (e: Error | null, r: Res) => void) => void): Promise<Res> => new Promise((res, rej) => fn((e, r) => (e ? rej(e) : res(r))));
      const st = await unary<GetAgentStatusResponse>((cb) => api.getStatus({}, cb));
      expect(st).toMatchObject({ node: 'pve1', appliedRevision: rev, rulesetDigest: s.rulesetDigest, errors: [], connected: true, hostAddresses: [`${NODE_IP}/24`] });
      const rs = await unary<GetRulesetResponse>((cb) => api.getRuleset({}, cb));
      expect(rs.nftText).toContain('table inet palisade');
      expect(rs.rulesetDigest).toBe(s.rulesetDigest);
    } finally {
      api.close();
    }
    // And `palisade agent status --json`.
    let printed = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((printed += String(chunk)), true));
    try {
      expect(await main(['agent', 'status', '--agent', agent.apiAddress!, '--json'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(JSON.parse(printed)).toMatchObject({ node: 'pve1', appliedRevision: rev, rulesetDigest: s.rulesetDigest, errors: [] });
  });

  it('a rule change through configd reaches the kernel and real packets', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const port = i % 2 === 0 ? 8081 : 8080;
      const t0 = performance.now();
      const rev = await put('nodes/pve1/host.fw', host(port));
      const acked = performance.now();
      await waitFor(`revision ${rev} applied`, applied(rev));
      times.push(performance.now() - acked);
      expect(t0).toBeLessThan(acked);
    }
    console.log(`write ack -> applied in the kernel (ms): ${times.map((t) => t.toFixed(1)).join(' ')}`);
    const scraped = await (await fetch(`http://${agent!.metricsAddress}/metrics`)).text();
    expect(scraped).toMatch(/palisade_agent_applies_total\{[^}]*\} [1-9]/);
    expect(scraped).toMatch(/palisade_agent_propagation_lag_seconds_count\{[^}]*\} [1-9]/);
    expect(scraped).toContain('palisade_agent_configd_connected');
    expect(nftList()).toContain('dport 8081');
    expect(connects(8081)).toBe(true);
    expect(connects(8080)).toBe(false);
  });

  it('an identical recompile sends nothing; other nodes\u2019 documents cause no work', async () => {
    await agent!.idle();
    const before = agent!.status().counters;
    const applierBefore = applier.applies;
    const r1 = await put('nodes/pve2/host.fw', host(9999));
    const r2 = await put('nodes/pve1/host.fw', `${host(8081)}# a comment changes nothing\n`);
    await waitFor('revision seen', applied(r2));
    await agent!.idle();
    const after = agent!.status().counters;
    expect(r2).toBeGreaterThan(r1);
    expect(applier.applies).toBe(applierBefore);
    expect(after.applies).toBe(before.applies);
    expect(after.compiles).toBe(before.compiles + 1);
    expect(after.skippedIdentical).toBe(before.skippedIdentical + 1);
  });

  it('a document-level error keeps the previous ruleset and is reported', async () => {
    const before = nftList();
    const digest = agent!.status().rulesetDigest;
    await configd!.call('import', { documents: [{ path: 'firewall/cluster.fw', content: text('[OPTIONS]\nenable: 1\nlog_ratelimit: rate=1/week\n') }], force: true });
    await waitFor('refusal reported', () => agent!.status().refusal !== undefined);
    const s = agent!.status();
    expect(s.refusal).toMatchObject({ code: 'fatal-configuration', path: 'firewall/cluster.fw', line: 3 });
    expect(s.rulesetDigest).toBe(digest);
    expect(nftList()).toBe(before);
    expect(connects(8081)).toBe(true);
    expect(connects(8080)).toBe(false);
    // A rule that cannot compile is skipped and reported with document:line; the rest applies.
    // (configd refuses such a write; an import with force stores it, as an older configd might have.)
    const imported = await configd!.call('import', {
      documents: [
        { path: 'firewall/cluster.fw', content: text(CLUSTER) },
        { path: 'nodes/pve1/host.fw', content: text(`${host(8081)}IN ACCEPT -p tcp -dport 8080 -source +nosuchset\n`) },
      ],
      force: true,
    });
    await waitFor('fixed', applied(Math.max(...imported.written.map((m) => m.revision))));
    expect(agent!.status().refusal).toBeUndefined();
    expect(agent!.status().errors.some((e) => e.path === 'nodes/pve1/host.fw' && e.line === 3)).toBe(true);
  });

  it('a failed apply keeps the previous ruleset, is reported and retried', async () => {
    const before = nftList();
    applier.failNext = 2;
    const rev = await put('nodes/pve1/host.fw', host(8080));
    await waitFor('failure reported', () => agent!.status().applyError !== undefined);
    expect(nftList()).toBe(before);
    expect(connects(8081)).toBe(true);
    await waitFor('retried until applied', applied(rev), 5000);
    const s = agent!.status();
    expect(s.applyError).toBeUndefined();
    expect(s.counters.applyFailures).toBeGreaterThanOrEqual(2);
    expect(connects(8080)).toBe(true);
    expect(connects(8081)).toBe(false);
  });

  it('cluster enable: 0 removes the tables, enable: 1 brings them back', async () => {
    const off = await put('firewall/cluster.fw', '[OPTIONS]\nenable: 0\n');
    await waitFor('disabled', applied(off));
    expect(nftList()).not.toContain('palisade');
    expect(connects(8081)).toBe(true);
    const on = await put('firewall/cluster.fw', CLUSTER);
    await waitFor('enabled', applied(on));
    expect(nftList()).toContain('table inet palisade');
    expect(connects(8081)).toBe(false);
  });

  it('follows address changes in the namespace without polling', async () => {
    sh('ip', '-n', NS, 'addr', 'add', '198.51.100.7/24', 'dev', 'eth0');
    await waitFor('new address in use', () => agent!.status().facts.hostAddresses.includes('198.51.100.7/24'), 3000);
    sh('ip', '-n', NS, 'addr', 'del', '198.51.100.7/24', 'dev', 'eth0');
    await waitFor('address gone', () => !agent!.status().facts.hostAddresses.includes('198.51.100.7/24'), 3000);
  });

  it('configd away: the ruleset stays in force; after its restart the agent resumes', async () => {
    const before = nftList();
    const port = Number(configdAddress.split(':').at(-1));
    await configd!.close();
    configd = undefined;
    await waitFor('disconnect seen', () => !agent!.status().connected, 5000);
    expect(nftList()).toBe(before);
    expect(connects(8081)).toBe(false);
    configd = await startTestConfigd(nats.urls, { port, dataDir: configdData });
    const rev = await put('nodes/pve1/host.fw', host(8081));
    await waitFor('change after the restart applied', applied(rev), 5000);
    expect(agent!.status().connected).toBe(true);
    expect(connects(8081)).toBe(true);
    const back = await put('nodes/pve1/host.fw', host(8080));
    await waitFor('and back', applied(back), 5000);
  });

  it("repairs drift: Palisade's table deleted by hand comes back at the next generation check", async () => {
    const before = nftList();
    const repairs = agent!.status().counters.driftRepairs;
    sh('ip', 'netns', 'exec', NS, 'nft', 'delete', 'table', 'inet', 'palisade');
    const ms = await waitFor('drift repaired', () => agent!.status().counters.driftRepairs > repairs, 5000);
    console.log(`drift (table deleted by hand) repaired after ${ms.toFixed(0)} ms`);
    expect(nftList()).toBe(before);
    expect(connects(8081)).toBe(false);
    expect(connects(8080)).toBe(true);
  });

  it('a prober sees the blocked port closed and the allowed one open through agent restarts and configd outages', { timeout: Math.max(60_000, PROBER_RESTARTS * 3000) }, async () => {
    // 8080 allowed, 8081 blocked (the state the previous tests left).
    const script = `const n=require('net');const c={a:0,aFail:0,b:0,bFail:0};let stop=false;
      const probe=(p)=>new Promise(r=>{const s=n.connect({host:'${NODE_IP}',port:p});const t=setTimeout(()=>{s.destroy();r(false)},150);
        s.on('connect',()=>{clearTimeout(t);s.destroy();r(true)});s.on('error',()=>{clearTimeout(t);r(false)})});
      const loop=async(p,ok,fail)=>{while(!stop){(await probe(p))?c[ok]++:c[fail]++;await new Promise(r=>setTimeout(r,10))}};
      Promise.all([loop(8080,'a','aFail'),...[0,1,2,3].map(()=>loop(8081,'b','bFail'))]).then(()=>{process.stdout.write(JSON.stringify(c));process.exit(0)});
      process.on('SIGTERM',()=>{stop=true});`;
    const prober = spawn('ip', ['netns', 'exec', CLIENT, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    prober.stdout.on('data', (b: Buffer) => (output += b.toString()));
    const done = new Promise<void>((r) => prober.on('exit', () => r()));
    try {
      const port = Number(configdAddress.split(':').at(-1));
      const every = Math.max(1, Math.floor(PROBER_RESTARTS / Math.max(1, PROBER_OUTAGES)));
      let outages = 0;
      for (let i = 0; i < PROBER_RESTARTS; i++) {
        await agent!.close();
        agent = await start();
        await new Promise((r) => setTimeout(r, 50));
        if (i % every === Math.floor(every / 2) && outages < PROBER_OUTAGES) {
          outages++;
          await configd!.close();
          configd = undefined;
          await new Promise((r) => setTimeout(r, 300));
          configd = await startTestConfigd(nats.urls, { port, dataDir: configdData });
        }
      }
      await waitFor('in sync again', () => agent!.status().connected && agent!.status().inSync, 5000);
    } finally {
      process.kill(prober.pid!, 'SIGTERM');
      await done;
    }
    const c = JSON.parse(output) as { a: number; aFail: number; b: number; bFail: number };
    console.log(`prober through ${PROBER_RESTARTS} agent restarts and ${PROBER_OUTAGES} configd outages: allowed ${c.a} answered / ${c.aFail} not, blocked ${c.b} answered / ${c.bFail} not`);
    expect(c.b).toBe(0);
    expect(c.aFail).toBe(0);
    expect(c.a).toBeGreaterThan(50);
    expect(c.bFail).toBeGreaterThan(20);
  });

  it("migration: when a guest's config moves from pve1 to pve2, pve1 drops its chains and pve2 adds them", async () => {
    sh('ip', 'netns', 'add', NS2);
    agent2 = await createNodeAgent({ node: 'pve2', dataDir: dataDir2, netns: NS2, configd: configdAddress, listen: '127.0.0.1:0', metrics: '127.0.0.1:0', logger: SILENT_LOGGER, reconnectInitialMs: 50 });
    const list2 = (): string => sh('ip', 'netns', 'exec', NS2, 'nft', 'list', 'ruleset');
    const conf = 'net0: virtio=02:00:00:00:01:00,bridge=vmbr0,firewall=1\n';
    await put('firewall/100.fw', '[OPTIONS]\nenable: 1\n[RULES]\nIN ACCEPT -p tcp -dport 8443\n');
    const placed = await put('nodes/pve1/qemu-server/100.conf', conf);
    await waitFor('guest on pve1', applied(placed));
    expect(nftList()).toContain('tap100i0-IN');
    const t0 = performance.now();
    const removed = (await configd!.call('delete', { path: 'nodes/pve1/qemu-server/100.conf' })).meta!.revision;
    const moved = await put('nodes/pve2/qemu-server/100.conf', conf);
    await waitFor('pve1 dropped the guest', () => agent!.status().appliedRevision >= removed && !nftList().includes('tap100i0-IN'));
    await waitFor('pve2 added the guest', () => (agent2?.status().appliedRevision ?? 0) >= moved && list2().includes('tap100i0-IN'));
    console.log(`migration: both nodes updated ${(performance.now() - t0).toFixed(0)} ms after the delete was sent`);
    expect(list2()).toContain('dport 8443');
    // Move it back out of the way: pve1's later tests do not expect a guest.
    await configd!.call('delete', { path: 'nodes/pve2/qemu-server/100.conf' });
    await agent2.close();
    agent2 = undefined;
  });

  it('stopping the agent leaves the ruleset in force', async () => {
    const before = nftList();
    await agent!.close();
    agent = undefined;
    expect(nftList()).toBe(before);
    expect(connects(8080)).toBe(true);
    expect(connects(8081)).toBe(false);
  });

  it('a restart with configd down restores the last-known-good ruleset', async () => {
    const expected = nftList();
    await configd!.close();
    configd = undefined;
    // The kernel lost the ruleset (e.g. a reboot): the agent restores it before configd answers.
    sh('ip', 'netns', 'exec', NS, 'nft', 'flush', 'ruleset');
    expect(connects(8081)).toBe(true);
    const t0 = performance.now();
    agent = await start();
    const ms = performance.now() - t0;
    console.log(`restart with configd down: ruleset back in the kernel after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
    expect(nftList()).toBe(expected);
    expect(agent.status()).toMatchObject({ restored: 'applied', connected: false });
    expect(connects(8081)).toBe(false);
    expect(connects(8080)).toBe(true);
    // Again, with the kernel still holding it: nothing is sent.
    await agent.close();
    const applies = applier.applies;
    agent = await start();
    expect(agent.status().restored).toBe('kernel-already-holds');
    expect(applier.applies).toBe(applies);
  });
});
