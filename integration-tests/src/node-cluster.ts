/**
 * A three-node Palisade cluster in containers (testcontainers): pve1..pve3 on a private docker
 * network with the addresses of examples/pve/corosync.conf (10.10.10.1-3), each running
 * nats-server (clustered), configd and node-agent through deploy/docker/node-entrypoint.sh.
 * Everything created carries the label `org.palisade.test=<run id>`; `close()` removes it,
 * and removes leftovers of the same run even when the start failed half way.
 */
import { randomBytes } from 'node:crypto';
import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer, Wait } from 'testcontainers';
import { IntegrationError } from './docker-setup.js';

export const NODES = ['pve1', 'pve2', 'pve3'] as const;
export type NodeName = (typeof NODES)[number];
export const SUBNET = '10.10.10';
export const CTL = '/opt/palisade/deploy/docker/node-ctl.sh';
const LABEL = 'org.palisade.test';

export const nodeIp = (node: NodeName): string => `${SUBNET}.${NODES.indexOf(node) + 1}`;
export const LOGGER_IP = `${SUBNET}.10`;

/** A node container with a fixed address on the cluster network (testcontainers has no option for it). */
class NodeContainer extends GenericContainer {
  constructor(image: string, network: string, ip: string) {
    super(image);
    this.hostConfig.NetworkMode = network;
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: ip } } } };
  }
}

export interface ExecResult {
  readonly exitCode: number;
  readonly output: string;
}

type RuntimeClient = Awaited<ReturnType<typeof getContainerRuntimeClient>>;

export class NodeCluster {
  readonly runId = randomBytes(4).toString('hex');
  readonly networkName = `palisade-it-${this.runId}`;
  private readonly containers = new Map<NodeName, StartedTestContainer>();
  private loggerContainer: StartedTestContainer | undefined;
  private client: RuntimeClient | undefined;

  private constructor(readonly image: string) {}

  /**
   * Starts the three nodes and waits until every configd is quorate (6 s is usual). A cluster
   * that is not quorate within `quorateTimeoutMs` is reported (each node's status and last
   * warnings), removed and started afresh, up to `attempts` times: two CI runs saw one never
   * form while every local run formed. The scenarios test what a formed cluster does; forming
   * it is tested by docker-scripts.test.ts.
   */
  static async start(image: string, { attempts = 2, quorateTimeoutMs = 60_000 } = {}): Promise<NodeCluster> {
    for (let attempt = 1; ; attempt++) {
      const cluster = new NodeCluster(image);
      try {
        await cluster.startAll(quorateTimeoutMs);
        return cluster;
      } catch (err) {
        await cluster.close();
        if (attempt >= attempts || !(err instanceof IntegrationError) || err.code !== 'timeout') throw err;
        console.warn(`cluster start ${attempt} of ${attempts} failed, starting a fresh cluster: ${err.message}`);
      }
    }
  }

  private async startAll(quorateTimeoutMs: number): Promise<void> {
    this.client = await getContainerRuntimeClient();
    await this.client.network.create({
      Name: this.networkName,
      Driver: 'bridge',
      Labels: { [LABEL]: this.runId },
      IPAM: { Config: [{ Subnet: `${SUBNET}.0/24`, Gateway: `${SUBNET}.254` }] },
    });
    const peers = NODES.map(nodeIp).join(',');
    const started = await Promise.all(
      NODES.map((node) =>
        new NodeContainer(this.image, this.networkName, nodeIp(node))
          .withName(`${this.networkName}-${node}`)
          .withHostname(node)
          .withLabels({ [LABEL]: this.runId })
          // NET_ADMIN: nftables and links; SYS_ADMIN: `ip netns` for guests, a writable /proc/sys.
          .withAddedCapabilities('NET_ADMIN', 'SYS_ADMIN')
          .withEnvironment({ NODE: node, PEERS: peers })
          .withWaitStrategy(Wait.forLogMessage(`palisade node ${node} started`))
          .withStartupTimeout(60_000)
          .start(),
      ),
    );
    NODES.forEach((node, i) => this.containers.set(node, started[i]!));
    try {
      await Promise.all(NODES.map((node) => this.waitFor(`${node} quorate`, async () => (await this.palisade(node, 'status', '--timeout', '2000')).output.includes('quorate: yes'), quorateTimeoutMs)));
    } catch (err) {
      // A start that never became quorate says why: the full logs on stdout, and a summary in
      // the error itself (the end of a long test run's output is often all there is to read).
      console.log(`the cluster did not become quorate:\n${await this.diagnostics(40)}`);
      throw new IntegrationError('timeout', `${err instanceof Error ? err.message : String(err)}\n${await this.startupReport()}`);
    }
  }

  /**
   * Starts the logger container (same image, `palisade-logger` against the three NATS
   * servers, gRPC on its loopback) and waits until it answers.
   */
  async startLogger(): Promise<void> {
    const urls = NODES.map((n) => `nats://${nodeIp(n)}:4222`).join(',');
    this.loggerContainer = await new NodeContainer(this.image, this.networkName, LOGGER_IP)
      .withName(`${this.networkName}-logger`)
      .withHostname('logger')
      .withLabels({ [LABEL]: this.runId })
      .withEntrypoint(['palisade-logger'])
      .withCommand(['--nats', urls, '--listen', '127.0.0.1:7402', '--data', '/var/lib/palisade/logger', '--consumer', 'logger-it'])
      .withWaitStrategy(Wait.forLogMessage('logger listening'))
      .withStartupTimeout(60_000)
      .start();
  }

  /** `palisade log ARGS...` in the logger container. */
  async log(...args: string[]): Promise<string> {
    if (!this.loggerContainer) throw new IntegrationError('docker', 'the logger is not running');
    const r = await this.loggerContainer.exec(['palisade', 'log', ...args]);
    if (r.exitCode !== 0) throw new IntegrationError('command-failed', `logger: palisade log ${args.join(' ')} exited ${r.exitCode}: ${r.output.trim()}`);
    return r.output;
  }

  container(node: NodeName): StartedTestContainer {
    const c = this.containers.get(node);
    if (!c) throw new IntegrationError('docker', `node ${node} is not running`);
    return c;
  }

  /** Runs a command in a node container. */
  async exec(node: NodeName, argv: readonly string[]): Promise<ExecResult> {
    const r = await this.container(node).exec([...argv]);
    return { exitCode: r.exitCode, output: r.output };
  }

  /** Like exec, but a non-zero exit is an error naming the command and its output. */
  async run(node: NodeName, argv: readonly string[]): Promise<string> {
    const r = await this.exec(node, argv);
    if (r.exitCode !== 0) throw new IntegrationError('command-failed', `${node}: ${argv.join(' ')} exited ${r.exitCode}: ${r.output.trim()}`);
    return r.output;
  }

  /** The palisade CLI on a node, against its local configd. */
  palisade(node: NodeName, ...args: string[]): Promise<ExecResult> {
    return this.exec(node, ['palisade', ...args]);
  }

  ctl(node: NodeName, ...args: string[]): Promise<string> {
    return this.run(node, [CTL, ...args]);
  }

  /** Writes a document through the node's configd; returns the revision. */
  async put(node: NodeName, path: string, content: string, timeoutMs = 30_000): Promise<number> {
    const out = await this.run(node, ['sh', '-c', `printf '%s' "$1" | palisade put --timeout ${timeoutMs} "$2"`, 'put', content, path]);
    const rev = /revision (\d+)/.exec(out)?.[1];
    if (!rev) throw new IntegrationError('command-failed', `${node}: put ${path}: no revision in '${out.trim()}'`);
    return Number(rev);
  }

  /** Palisade's tables in the node's kernel (`nft list table inet palisade`, '' when absent). */
  async kernel(node: NodeName): Promise<string> {
    const r = await this.exec(node, ['nft', 'list', 'table', 'inet', 'palisade']);
    return r.exitCode === 0 ? r.output : '';
  }

  /** The configd's mirror revision (`palisade status`). */
  async revision(node: NodeName): Promise<number> {
    const out = (await this.palisade(node, 'status', '--timeout', '3000')).output;
    return Number(/revision: (\d+)/.exec(out)?.[1] ?? -1);
  }

  /** Probes HOST:PORT over TCP from namespace NS of a node: open, closed or silent. */
  async probe(node: NodeName, ns: string, host: string, port: number): Promise<string> {
    return (await this.ctl(node, 'probe', ns, host, String(port))).trim();
  }

  async waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      if (await cond().catch(() => false)) return performance.now() - t0;
      if (performance.now() - t0 > timeoutMs) throw new IntegrationError('timeout', `timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private dockerContainer(node: NodeName) {
    return this.client!.container.getById(this.container(node).getId());
  }

  pause(node: NodeName): Promise<unknown> {
    return this.dockerContainer(node).pause();
  }

  unpause(node: NodeName): Promise<unknown> {
    return this.dockerContainer(node).unpause();
  }

  /** Cuts the node off the cluster network (docker network disconnect). */
  async disconnect(node: NodeName): Promise<void> {
    await this.client!.network.getById(this.networkName).disconnect({ Container: this.container(node).getId(), Force: true });
  }

  /** Joins it again with its address. */
  async reconnect(node: NodeName): Promise<void> {
    await this.client!.network.getById(this.networkName).connect({ Container: this.container(node).getId(), EndpointConfig: { IPAMConfig: { IPv4Address: nodeIp(node) } } });
  }

  /**
   * Per node: `palisade status`, the NATS server's last warnings and errors, and configd's last
   * warnings and errors (messages only): what a cluster that did not form has to say, short.
   */
  async startupReport(): Promise<string> {
    const script = [
      'palisade status --timeout 2000 2>&1 | head -n 8',
      'echo "nats:"; grep -E "\\[(WRN|ERR|FTL)\\]" /var/log/palisade/nats.log | tail -n 8 | cut -c1-240',
      'echo "configd:"; grep -E \'"level":(40|50|60)\' /var/log/palisade/configd.log | tail -n 6 | sed -E \'s/.*"msg":"([^"]*)".*/\\1/\' | cut -c1-240',
      `echo "jetstream:"; node -e "fetch('http://127.0.0.1:8222/jsz').then(r=>r.json()).then(j=>console.log(JSON.stringify({streams:j.streams,meta:j.meta_cluster})))" 2>&1 | cut -c1-400`,
    ].join('; ');
    const parts = await Promise.all(
      NODES.filter((n) => this.containers.has(n)).map(async (n) => `=== ${n}\n${(await this.exec(n, ['sh', '-c', script]).catch((e: unknown) => ({ output: String(e) }))).output.trim()}`),
    );
    return parts.join('\n');
  }

  /** The last lines of each node's service logs, for a failed test's report. */
  async diagnostics(lines = 15): Promise<string> {
    const parts: string[] = [];
    for (const node of this.containers.keys()) {
      const r = await this.exec(node, ['sh', '-c', `for f in /var/log/palisade/*.log; do echo "--- $f"; tail -n ${lines} "$f" | cut -c1-400; done`]).catch((err: unknown) => ({ output: String(err) }));
      parts.push(`=== ${node}\n${r.output}`);
    }
    return parts.join('\n');
  }

  /** Removes every container and network of this run (by label), also after a failed start. */
  async close(): Promise<void> {
    const client = this.client ?? (await getContainerRuntimeClient());
    const docker = client.container.dockerode;
    const filters = JSON.stringify({ label: [`${LABEL}=${this.runId}`] });
    for (const info of await docker.listContainers({ all: true, filters })) {
      const c = docker.getContainer(info.Id);
      if (info.State === 'paused') await c.unpause().catch(() => undefined);
      await c.remove({ force: true, v: true }).catch(() => undefined);
    }
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
    this.containers.clear();
    this.loggerContainer = undefined;
  }
}
