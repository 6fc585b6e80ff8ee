/**
 * The whole system on three node containers (nats-server + configd + node-agent each, the
 * agent applying to the container's own network namespace), broken on purpose. One cluster
 * for the file; the scenarios run in order and each leaves the cluster healthy for the next.
 * Real packets: TCP from other nodes, from an `outside` namespace on vmbr0 and into guest
 * namespaces behind the pve layout (tap ─ fwbr ─ fwln ═ fwpr ─ vmbr0).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildNodeImage, dockerSkipReason, ensureDocker, stopDockerIfStarted } from './docker-setup.js';
import { CTL, NODES, NodeCluster, nodeIp, SUBNET, type NodeName } from './node-cluster.js';

interface LogEntry {
  readonly node?: string;
  readonly action?: string;
  readonly dport?: number;
}

const skip = dockerSkipReason();
if (skip) console.warn(`integration tests skipped: ${skip}`);

/** The cluster's own ports stay open between the nodes; 8080 is open, 8081 is dropped and logged. */
const clusterFw = (extra = ''): string =>
  `[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -source ${SUBNET}.0/24 -p tcp -dport 4222,6222,7400 # NATS, routes, configd\nIN ACCEPT -p tcp -dport 8080\nIN DROP -p tcp -dport 8081 -log info\n${extra}`;
const GUEST_CONF = 'net0: virtio=BC:24:11:AA:00:01,bridge=vmbr0,firewall=1\n';
const GUEST_FW = '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 8443\n';
const GUEST_IP = '192.0.2.50';

describe.skipIf(skip !== undefined)('three nodes in containers', () => {
  let cluster: NodeCluster;
  let startedDocker = false;

  beforeAll(async () => {
    startedDocker = ensureDocker();
    const image = buildNodeImage();
    const t0 = performance.now();
    cluster = await NodeCluster.start(image);
    await cluster.startLogger();
    console.log(`3 node containers quorate and the logger up after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const n of NODES) await cluster.ctl(n, 'listen', 'node', '8080', '8081', '8082', '8083');
    await cluster.put('pve1', 'firewall/cluster.fw', clusterFw());
    await Promise.all(NODES.map((n) => cluster.waitFor(`${n} ruleset`, async () => (await cluster.kernel(n)).includes('6222'), 30_000)));
  }, 600_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && cluster) console.log(`service logs after the failure:\n${await cluster.diagnostics()}`);
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    stopDockerIfStarted(startedDocker);
  }, 120_000);

  const probeFrom = (from: NodeName, to: NodeName, port: number): Promise<string> => cluster.probe(from, 'node', nodeIp(to), port);

  it('a change reaches every node\u2019s kernel (measured) and real packets', async () => {
    for (const to of NODES) expect(await probeFrom(to === 'pve1' ? 'pve2' : 'pve1', to, 8082)).toBe('silent');
    let extra = '';
    for (const [round, port] of [8082, 8085, 8086].entries()) {
      const marker = `dport ${port}`;
      const seen = NODES.map((n) => cluster.run(n, [CTL, 'wait-nft', marker, '30']));
      await new Promise((r) => setTimeout(r, 300));
      extra += `IN ACCEPT -p tcp -dport ${port}\n`;
      const writer = NODES[round % 3]!;
      const out = await cluster.run(writer, ['sh', '-c', `date +%s%3N; printf '%s' "$1" | palisade put firewall/cluster.fw >/dev/null; date +%s%3N`, 'put', clusterFw(extra)]);
      const [sent, acked] = out.trim().split('\n').map(Number) as [number, number];
      const at = (await Promise.all(seen)).map((s) => Number(s.trim()));
      console.log(`propagation ${round + 1}/3 (written on ${writer}), put command started \u2192 rule in the kernel: ${NODES.map((n, i) => `${n} ${at[i]! - sent} ms`).join(', ')}; the put command itself took ${acked - sent} ms (about 400 ms of it is the CLI's start-up)`);
      for (const t of at) expect(t - sent).toBeLessThan(20_000);
    }
    for (const to of NODES) expect(await probeFrom(to === 'pve1' ? 'pve2' : 'pve1', to, 8082)).toBe('open');
  }, 120_000);

  it('dropped packets of all three nodes are queryable at the logger', async () => {
    const t0 = performance.now();
    for (const [from, to] of [['pve2', 'pve1'], ['pve3', 'pve2'], ['pve1', 'pve3']] as const) expect(await probeFrom(from, to, 8081)).toBe('silent');
    let nodes = new Set<string>();
    await cluster.waitFor('entries of pve1, pve2 and pve3 at the logger', async () => {
      const entries = (await cluster.log('--dport', '8081', '--limit', '0', '--json')).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogEntry);
      nodes = new Set(entries.filter((e) => e.action === 'DROP').map((e) => e.node ?? ''));
      return NODES.every((n) => nodes.has(n));
    }, 30_000);
    console.log(`logger: DROP entries of ${[...nodes].sort().join(', ')} queryable ${(performance.now() - t0).toFixed(0)} ms after the first probe`);
  }, 60_000);

  it('agent restarts under a prober: the blocked port never answers, the allowed one always does', async () => {
    const prober = cluster.run('pve2', ['node', '/opt/palisade/deploy/docker/probe.mjs', '--loop', nodeIp('pve1'), '8080', '8081', '15']);
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 5; i++) {
      if (i === 2) await cluster.run('pve1', ['sh', '-c', `kill -KILL $(${CTL} pid agent); sleep 0.2; ${CTL} start agent`]);
      else await cluster.ctl('pve1', 'restart', 'agent');
      await new Promise((r) => setTimeout(r, 800));
    }
    const counts = JSON.parse((await prober).trim()) as { allowed: number; allowedFailed: number; blocked: number; blockedAnswered: number };
    console.log(`prober through 5 agent restarts (one SIGKILL): allowed ${counts.allowed} answered / ${counts.allowedFailed} not, blocked ${counts.blocked} silent / ${counts.blockedAnswered} answered`);
    expect(counts.blockedAnswered).toBe(0);
    expect(counts.allowedFailed).toBe(0);
    expect(counts.allowed).toBeGreaterThan(20);
    expect(counts.blocked).toBeGreaterThan(20);
  }, 60_000);

  it('a guest migrates from pve1 to pve2: its rules follow it', async () => {
    await cluster.put('pve1', 'firewall/100.fw', GUEST_FW);
    await cluster.ctl('pve1', 'guest-add', '100', 'bc:24:11:aa:00:01', `${GUEST_IP}/24`);
    await cluster.ctl('pve1', 'listen', 'vm100', '8443', '8444');
    await cluster.put('pve1', 'nodes/pve1/qemu-server/100.conf', GUEST_CONF);
    await cluster.waitFor('guest chains on pve1', async () => (await cluster.kernel('pve1')).includes('tap100i0-IN'), 20_000);
    expect(await cluster.probe('pve1', 'outside', GUEST_IP, 8443)).toBe('open');
    expect(await cluster.probe('pve1', 'outside', GUEST_IP, 8444)).toBe('silent');

    // The move: the guest's namespace leaves pve1 for pve2, its config moves in the store.
    await cluster.ctl('pve1', 'guest-del', '100');
    await cluster.ctl('pve2', 'guest-add', '100', 'bc:24:11:aa:00:01', `${GUEST_IP}/24`);
    await cluster.ctl('pve2', 'listen', 'vm100', '8443', '8444');
    const t0 = performance.now();
    await cluster.run('pve1', ['palisade', 'rm', 'nodes/pve1/qemu-server/100.conf']);
    await cluster.put('pve1', 'nodes/pve2/qemu-server/100.conf', GUEST_CONF);
    await cluster.waitFor('pve2 has the guest chains', async () => (await cluster.kernel('pve2')).includes('tap100i0-IN'), 20_000);
    await cluster.waitFor('pve1 dropped them', async () => !(await cluster.kernel('pve1')).includes('tap100i0-IN'), 20_000);
    console.log(`migration: both kernels updated ${(performance.now() - t0).toFixed(0)} ms after the rm was started`);
    expect(await cluster.probe('pve2', 'outside', GUEST_IP, 8443)).toBe('open');
    expect(await cluster.probe('pve2', 'outside', GUEST_IP, 8444)).toBe('silent');
  }, 120_000);

  it('a NATS server is stopped: writes go on, its node keeps enforcing and catches up after the restart', async () => {
    await cluster.ctl('pve2', 'stop', 'nats');
    try {
      const rev = await cluster.put('pve1', 'nodes/pve1/host.fw', '[RULES]\nIN ACCEPT -p tcp -dport 8083\n');
      await cluster.waitFor('pve1 applied', async () => (await cluster.kernel('pve1')).includes('dport 8083'), 20_000);
      expect(await probeFrom('pve2', 'pve1', 8083)).toBe('open');
      // pve2 without its NATS server: reads from its mirror, ruleset in force.
      expect((await cluster.palisade('pve2', 'get', 'firewall/cluster.fw', '--timeout', '5000')).output).toContain('dport 8082');
      expect(await probeFrom('pve1', 'pve2', 8081)).toBe('silent');
      expect(await probeFrom('pve1', 'pve2', 8080)).toBe('open');
      await cluster.ctl('pve2', 'start', 'nats');
      await cluster.waitFor('pve2 caught up', async () => (await cluster.revision('pve2')) >= rev, 60_000);
    } finally {
      await cluster.ctl('pve2', 'start', 'nats');
    }
  }, 120_000);

  it('the stream leader\u2019s container is paused: another node\u2019s write is acknowledged, the paused node catches up', async () => {
    const jsz = JSON.parse(await cluster.ctl('pve1', 'jsz')) as { account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[] };
    const stream = jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((s) => s.name === 'KV_palisade');
    const leader = stream?.cluster?.leader as NodeName | undefined;
    expect(NODES).toContain(leader);
    const writer = NODES.find((n) => n !== leader)!;
    await cluster.pause(leader!);
    let rev = 0;
    try {
      const t0 = performance.now();
      rev = await cluster.put(writer, 'firewall/cluster.fw', clusterFw('IN ACCEPT -p tcp -dport 8082\nIN ACCEPT -p tcp -dport 8084\n'), 30_000);
      console.log(`leader ${leader} paused: a write through ${writer} acknowledged after ${(performance.now() - t0).toFixed(0)} ms`);
      for (const n of NODES.filter((x) => x !== leader)) await cluster.waitFor(`${n} applied`, async () => (await cluster.kernel(n)).includes('8084'), 20_000);
    } finally {
      await cluster.unpause(leader!);
    }
    await cluster.waitFor(`${leader} caught up`, async () => (await cluster.revision(leader!)) >= rev && (await cluster.kernel(leader!)).includes('8084'), 60_000);
  }, 150_000);

  it('a node cut off: its configd refuses writes as not quorate, its agent keeps enforcing, after healing it catches up with every revision once', async () => {
    await cluster.ctl('pve3', 'bridge');
    expect(await cluster.probe('pve3', 'outside', '192.0.2.1', 8080)).toBe('open');
    await cluster.disconnect('pve3');
    const revs: number[] = [];
    try {
      // Once its quorum probe has seen the loss, a write is refused without being published.
      const lost = await cluster.waitFor('pve3 not quorate', async () => (await cluster.palisade('pve3', 'status', '--timeout', '2000')).output.includes('quorate: NO'), 30_000);
      console.log(`cut off: pve3's configd reports 'quorate: NO' after ${lost.toFixed(0)} ms`);
      const refused = await cluster.exec('pve3', ['sh', '-c', `printf '%s' "$1" | palisade put --timeout 5000 firewall/900.fw`, 'put', GUEST_FW]);
      console.log(`write on the cut-off node: exit ${refused.exitCode}: ${refused.output.trim().split('\n')[0]}`);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.output).toMatch(/not quorate/);
      // Its agent keeps the ruleset in force (no cluster needed for that).
      expect(await cluster.probe('pve3', 'outside', '192.0.2.1', 8081)).toBe('silent');
      expect(await cluster.probe('pve3', 'outside', '192.0.2.1', 8080)).toBe('open');
      // The majority goes on writing: five revisions of pve3's host.fw.
      for (let i = 0; i < 5; i++) revs.push(await cluster.put('pve1', 'nodes/pve3/host.fw', `[RULES]\nIN ACCEPT -p tcp -dport ${8090 + i}\n`));
    } finally {
      await cluster.reconnect('pve3');
    }
    await cluster.waitFor('pve3 caught up', async () => (await cluster.revision('pve3')) >= revs.at(-1)!, 90_000);
    await cluster.waitFor('pve3 applied the last revision', async () => (await cluster.kernel('pve3')).includes('dport 8094'), 30_000);
    const history = async (n: NodeName): Promise<number[]> =>
      [...(await cluster.run(n, ['palisade', 'history', 'nodes/pve3/host.fw'])).matchAll(/^\s*(\d+)\s/gm)].map((m) => Number(m[1]));
    const [h1, h3] = [await history('pve1'), await history('pve3')];
    expect(h3).toEqual(h1);
    expect(new Set(h3).size).toBe(h3.length);
    for (const r of revs) expect(h3).toContain(r);
  }, 180_000);

  it('examples/pve imported in one command and enforced on every node', async () => {
    // Out of the way: the migrated guest and the earlier test documents.
    await cluster.run('pve1', ['palisade', 'rm', 'nodes/pve2/qemu-server/100.conf']);
    await cluster.ctl('pve2', 'guest-del', '100');
    await cluster.ctl('pve1', 'guest-add', '100', 'bc:24:11:aa:00:01', `${GUEST_IP}/24`);
    await cluster.ctl('pve1', 'listen', 'vm100', '80', '8444');
    const out = await cluster.run('pve1', ['palisade', 'import', '/opt/palisade/examples/pve']);
    console.log(`import: ${out.trim().split('\n').at(-1)}`);
    await cluster.waitFor('pve1 has the example guests', async () => /tap100i0-IN[\s\S]*tap101i0-IN[\s\S]*veth200i0-IN/.test(await cluster.kernel('pve1')), 30_000);
    // Guest 300 on pve2 has no 300.fw, so it is not firewalled: pve2 and pve3 get the cluster's rules.
    for (const n of ['pve2', 'pve3'] as const) await cluster.waitFor(`${n} applied the example cluster.fw`, async () => (await cluster.kernel(n)).includes('dport 8006'), 30_000);
    // Guest 100: group web lets 80 in, anything else is dropped by its policy.
    expect(await cluster.probe('pve1', 'outside', GUEST_IP, 80)).toBe('open');
    expect(await cluster.probe('pve1', 'outside', GUEST_IP, 8444)).toBe('silent');
  }, 120_000);
});
