/**
 * The log capture end to end: a compiled ruleset with logging applied in a network namespace
 * ("the node"), real UDP packets from a second namespace over a veth pair, the agent's NFLOG
 * ingest in the node's namespace, entries published to a real nats-server (testkit) and read
 * back from JetStream. Also a NATS outage (entries spooled, then delivered in order) and a burst
 * beyond the socket's capacity (losses counted exactly, published as loss entries). Skipped
 * (with the reason printed) when not root or `ip` / `nft` are missing.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadTree } from '@palisade/fw-lang';
import { compileNode, renderNftText, type CompileResult } from '@palisade/fw-compile';
import { LOG_STREAM, LOG_STREAM_DEFAULT_MAX_AGE_MS, decodeLogEntry, decodeLogMessage, formatPvefwLine, type LogEntry, type LossLogEntry, type PacketLogEntry } from '@palisade/log-model';
import { SILENT_LOGGER, SYSTEM_CLOCK } from '@palisade/service-kit';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddressFacts, type AddressFactsSource } from '../facts/address-facts.js';
import { LogIngest } from './log-ingest.js';

const exec = promisify(execFile);
async function prerequisites(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  for (const [cmd, args] of [['nft', ['--version']], ['ip', ['-V']], ['perl', ['-v']]] as const) {
    try {
      await exec(cmd, [...args]);
    } catch {
      return `\`${cmd}\` is not installed`;
    }
  }
  return undefined;
}
const why = await prerequisites();
if (why) console.warn(`log ingest tests skipped: ${why}`);

const tag = `${process.pid % 100000}`;
const NODE_NS = `pllog-n-${tag}`;
const PEER_NS = `pllog-p-${tag}`;
const NODE_IP = '10.77.0.1';
const PEER_IP = '10.77.0.2';
const GROUP = 7401;
const CLUSTER_FW = ['[OPTIONS]', 'enable: 1', 'log_ratelimit: enable=0', '', '[RULES]', 'IN ACCEPT -p tcp -dport 22', `IN DROP -p udp -dport 9999 -log info # probes`, ''].join('\n');
const HOST_FW = ['[OPTIONS]', 'enable: 1', ''].join('\n');

const ns = (name: string, ...argv: string[]) => exec('ip', ['netns', 'exec', name, ...argv]);
/** `count` UDP datagrams from the peer to the node's port 9999 (one short-lived node process in the peer namespace). */
async function sendUdp(count: number): Promise<void> {
  const script = `const s=require('dgram').createSocket('udp4');let n=0;const b=Buffer.from('palisade');(function go(){if(n>=${count}){s.close();return}let k=0;while(n<${count}&&k++<100){s.send(b,9999,'${NODE_IP}');n++}setTimeout(go,1)})()`;
  await ns(PEER_NS, process.execPath, '-e', script);
}
/** PIDs of this process's NFLOG reader children (started by the ingest under test). */
function readerPids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('nflog-reader.pl')) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

describe.skipIf(why !== undefined)('agent log capture (namespaces, nftables, nats-server)', () => {
  let nats: NatsClusterHandle;
  let nc: NatsConnection;
  let compiled: CompileResult;
  const seen: LogEntry[] = [];
  const seenAt: number[] = [];
  /** Bodies of the messages seen (to tell batches from single-entry messages). */
  const bodies: string[] = [];
  const logger = SILENT_LOGGER;
  let facts: AddressFactsSource;

  beforeAll(async () => {
    nats = await startNats();
    await exec('ip', ['netns', 'add', NODE_NS]);
    await exec('ip', ['netns', 'add', PEER_NS]);
    await exec('ip', ['link', 'add', 'pllog0', 'netns', NODE_NS, 'type', 'veth', 'peer', 'name', 'pllog1', 'netns', PEER_NS]);
    for (const [n, dev, ip] of [[NODE_NS, 'pllog0', NODE_IP], [PEER_NS, 'pllog1', PEER_IP]] as const) {
      await exec('ip', ['-n', n, 'addr', 'add', `${ip}/24`, 'dev', dev]);
      await exec('ip', ['-n', n, 'link', 'set', dev, 'up']);
      await exec('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
    }
    const tree = loadTree(new Map([['firewall/cluster.fw', CLUSTER_FW], ['nodes/node1/host.fw', HOST_FW]]));
    compiled = compileNode(tree, { node: 'node1', hostAddresses: [`${NODE_IP}/24`] });
    await new Promise<void>((resolve, reject) => {
      const child = execFile('ip', ['netns', 'exec', NODE_NS, 'nft', '-f', '-'], (err: Error | null) => (err ? reject(err) : resolve()));
      child.stdin?.end(renderNftText(compiled.ruleset, compiled.ownTables));
    });
    // interface names as the agent has them: its rtnetlink facts of the namespace
    facts = createAddressFacts({ netns: NODE_NS, clock: SYSTEM_CLOCK, logger, onChange: () => undefined });
    await facts.start();
    nc = await connect({ servers: [...nats.urls] });
    // Everything published to the node's subject, as it arrives (core subscription beside the stream).
    const sub = nc.subscribe('palisade.log.node1');
    void (async () => {
      for await (const m of sub) {
        bodies.push(m.string());
        for (const e of decodeLogMessage(m.data).entries) {
          seen.push(e);
          seenAt.push(Date.now());
        }
      }
    })();
  }, 60_000);

  afterAll(async () => {
    await facts?.close().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await nats?.close().catch(() => undefined);
    await exec('ip', ['netns', 'del', NODE_NS]).catch(() => undefined);
    await exec('ip', ['netns', 'del', PEER_NS]).catch(() => undefined);
  });

  const packets = () => seen.filter((e): e is PacketLogEntry => e.kind === 'packet');
  const ingestOf = (extra: Partial<ConstructorParameters<typeof LogIngest>[0]> = {}) => {
    const ingest = new LogIngest({ node: 'node1', group: GROUP, netns: NODE_NS, servers: nats.urls, clock: SYSTEM_CLOCK, logger, interfaceName: (i) => facts.linkName(i), ...extra });
    ingest.rulesetApplied({ text: renderNftText(compiled.ruleset, compiled.ownTables), compiled });
    return ingest;
  };

  it('turns real logged packets into entries in JetStream with the right fields within a second', async () => {
    const ingest = ingestOf();
    await ingest.start();
    try {
      await until(() => ingest.stats.natsConnected, 10_000);
      const from = seen.length;
      const sentAt = Date.now();
      await sendUdp(3);
      expect(await until(() => packets().length >= 3, 5_000)).toBe(true);
      // From the kernel's timestamp of the packet (input hook) to the entry arriving from NATS.
      const latencyMs = Math.max(...[0, 1, 2].map((i) => seenAt[from + i]! - (seen[from + i] as PacketLogEntry).timeUs / 1000));
      console.info(`log ingest: 3 packets → 3 entries in NATS, at most ${latencyMs.toFixed(1)} ms after the kernel logged them`);
      expect(latencyMs).toBeLessThan(1_000);
      const ruleId = compiled.ruleset.tables.flatMap((t) => t.chains.flatMap((c) => c.rules)).find((r) => r.origin?.line === 7)?.origin?.id;
      const e = packets()[0]!;
      expect(e).toMatchObject({
        kind: 'packet',
        node: 'node1',
        vmid: 0,
        level: 6,
        chain: 'PVEFW-HOST-IN',
        verdict: 'DROP',
        action: 'DROP',
        isPolicy: false,
        direction: 'in',
        ruleId,
        rule: { path: 'firewall/cluster.fw', line: 7, text: 'IN DROP -p udp -dport 9999 -log info # probes' },
        iif: 'pllog0',
        family: 4,
        proto: 'udp',
        src: PEER_IP,
        dst: NODE_IP,
        dport: 9999,
        len: 36,
      });
      expect(e.id).toMatch(/^node1:[0-9a-f]{12}:\d+$/);
      expect(Math.abs(e.timeUs / 1000 - sentAt)).toBeLessThan(5_000); // the kernel's timestamp (input hook)
      expect(e.mac).toMatch(/^([0-9a-f]{2}:){12}08:00$/); // Ethernet header: destination, source, ethertype
      expect(e.packet).toMatch(new RegExp(`^IN=pllog0 MAC=${e.mac} SRC=${PEER_IP} DST=${NODE_IP} LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=\\d+ DF PROTO=UDP SPT=${e.sport} DPT=9999 LEN=16$`));
      expect(formatPvefwLine(e, 'UTC')).toMatch(/^0 6 PVEFW-HOST-IN \d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000 DROP: IN=pllog0 MAC=/);
      expect(ingest.stats).toMatchObject({ received: 3, lostKernel: 0, decodeErrors: 0, lostSpool: 0 });
    } finally {
      await ingest.close();
    }
  }, 60_000);

  it('spools entries while NATS is away and delivers them in order when it is back', async () => {
    const ingest = ingestOf();
    await ingest.start();
    const server = nats.servers[0]!;
    try {
      await until(() => ingest.stats.natsConnected, 10_000);
      const before = ingest.stats.published;
      await server.stop();
      await sendUdp(20);
      expect(await until(() => ingest.stats.received >= 20, 5_000)).toBe(true);
      expect(ingest.stats.published).toBe(before);
      expect(ingest.stats.spoolPending).toBe(20);
      await server.start();
      await nats.waitHealthy(20_000);
      expect(await until(() => ingest.stats.published === before + 20, 20_000)).toBe(true);
      expect(ingest.stats.spoolPending).toBe(0);
      // Read the stream itself: the 20 entries, stored once each and in their order.
      const nc2 = await connect({ servers: [...nats.urls] });
      try {
        const js = jetstream(nc2);
        const info = await (await jetstreamManager(nc2)).streams.info(LOG_STREAM);
        // The agent created the stream (no logger runs here), with the loggers' age limit.
        expect(info.config.max_age).toBe(nanos(LOG_STREAM_DEFAULT_MAX_AGE_MS));
        const consumer = await js.consumers.get(LOG_STREAM, { filter_subjects: ['palisade.log.node1'] });
        const ids: string[] = [];
        for (let i = 0; i < info.state.messages; i++) {
          const m = await consumer.next({ expires: 2_000 });
          if (!m) break;
          for (const e of decodeLogMessage(m.data).entries) ids.push(e.id);
        }
        const bootIds = new Set(ids.map((id) => id.split(':')[1]));
        const last = ids.filter((id) => id.split(':')[1] === [...bootIds].at(-1));
        expect(last).toHaveLength(20);
        const seqs = last.map((id) => Number(id.split(':')[2]));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(ids.length);
      } finally {
        await nc2.close();
      }
    } finally {
      if (!server.running) await server.start();
      await ingest.close();
    }
  }, 90_000);

  it('publishes batches by default, and one entry per message (the first wire form) when asked', async () => {
    for (const maxEntriesPerMessage of [64, 1]) {
      const ingest = ingestOf({ publisher: { maxEntriesPerMessage } });
      await ingest.start();
      try {
        await until(() => ingest.stats.natsConnected, 10_000);
        const from = bodies.length;
        await sendUdp(5);
        expect(await until(() => ingest.stats.published === 5, 5_000)).toBe(true);
        const messages = ingest.stats.publishedMessages;
        expect(await until(() => bodies.length - from === messages, 2_000)).toBe(true);
        const got = bodies.slice(from).map((b) => new TextEncoder().encode(b));
        if (maxEntriesPerMessage === 1) {
          expect(messages).toBe(5);
          expect(got.map((b) => decodeLogEntry(b).kind)).toEqual(Array(5).fill('packet'));
        } else {
          // The kernel hands the 5 over in one or two datagrams: one or two arrays.
          expect(messages).toBeLessThanOrEqual(2);
          expect(got.every((b) => b[0] === 0x5b)).toBe(true);
          expect(got.flatMap((b) => decodeLogMessage(b).entries).map((e) => e.kind)).toEqual(Array(5).fill('packet'));
        }
      } finally {
        await ingest.close();
      }
    }
  }, 60_000);

  it('binds the group again when the reader dies, and captures again', async () => {
    const ingest = ingestOf();
    await ingest.start();
    try {
      const pids = readerPids();
      expect(pids).toHaveLength(1);
      process.kill(pids[0]!, 'SIGKILL');
      expect(await until(() => !ingest.stats.listening, 5_000)).toBe(true);
      expect(await until(() => ingest.stats.listening, 10_000)).toBe(true);
      const before = ingest.stats.received;
      await sendUdp(2);
      expect(await until(() => ingest.stats.received === before + 2, 5_000)).toBe(true);
      expect(ingest.stats.lostKernel).toBe(0);
    } finally {
      await ingest.close();
    }
  }, 60_000);

  it('counts a burst beyond the socket capacity exactly and publishes the loss as an entry', async () => {
    // A tiny socket buffer and one message per kernel batch, so that the kernel drops.
    const ingest = ingestOf({ recvBufferBytes: 4096, nflog: { nlbufsizBytes: 4096, qthreshold: 1 } });
    await ingest.start();
    try {
      await until(() => ingest.stats.natsConnected, 10_000);
      const from = seen.length;
      const sent = 3000;
      await sendUdp(sent);
      await new Promise((r) => setTimeout(r, 300));
      await sendUdp(1); // the packet after the burst: its sequence number tells what the kernel dropped
      expect(await until(() => ingest.stats.received + ingest.stats.lostKernel === sent + 1, 10_000)).toBe(true);
      const s = ingest.stats;
      console.info(`log ingest burst: sent ${sent + 1}, received ${s.received}, lost in the kernel ${s.lostKernel}, ENOBUFS ${s.enobufs}`);
      expect(s.lostKernel).toBeGreaterThan(0);
      expect(s.enobufs).toBeGreaterThan(0);
      expect(await until(() => seen.slice(from).filter((e) => e.kind === 'loss').reduce((n, e) => n + (e).count, 0) === s.lostKernel, 10_000)).toBe(true);
      const losses = seen.slice(from).filter((e): e is LossLogEntry => e.kind === 'loss');
      expect(losses.every((l) => l.node === 'node1' && (l.reason === 'kernel-enobufs' || l.reason === 'kernel-sequence-gap') && l.fromUs <= l.untilUs)).toBe(true);
      expect(seen.slice(from).filter((e) => e.kind === 'packet')).toHaveLength(s.received);
    } finally {
      await ingest.close();
    }
  }, 90_000);
});
