#!/usr/bin/env node
// NFLOG ingest benchmark (issue #11): UDP packets logged by an nft rule (`log group`) inside a
// network namespace this script creates and removes, sent at fixed rates by a paced sender in
// that namespace. For each rate: what the kernel delivers to a bare listener (decode only:
// the baseline of the same run) next to the agent's ingest (decode → log entry → spool →
// JetStream on a local nats-server), both with the agent's NFLOG settings; losses are the
// kernel's sequence gaps (exact). Then the CPU cost per entry of decode, entry building and
// encoding on a datagram captured in the run. Goal: >= 50,000 entries/s without loss, and
// delivered (stored in JetStream) as fast as offered: the agent "keeps up" at a rate when
// nothing is lost and its end-to-end rate (sent → all stored) is at least 0.95 of the offered
// rate, so a spool filling behind the capture does not count as keeping up.
// Needs root, nft, ip, perl, nats-server and the packages built (npm run build).
// Packet → queryable latency: the same capture publishing to JetStream while a palisade-logger
// process (its own consumer and store) ingests, and a poller asks its gRPC Query every 10 ms
// for the node's new entries (all of them, and in a second run only probe packets sent among
// the load); latency = first seen by Query − the entry's time (the kernel's
// timestamp when NFLOG has one, else the agent's receive time), next to the bare NATS
// subscriber's publish → receive latency measured at the same time. Goal: p99 < 1 s.
// Usage: node scripts/bench-nflog.mjs [--seconds S] [--rates 25000,50000,100000] [--latency-rates 2000,25000]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { decodeNflogDatagram, openNflogListener } from '@palisade/nft-netlink';
import { batchMessageId, decodeLogMessage, encodeLogBatch, encodeLogEntry, logEntryJson } from '@palisade/log-model';
import { SILENT_LOGGER, SYSTEM_CLOCK } from '@palisade/service-kit';
import { freePort, startNats } from '@palisade/testkit';
import { createLogClient } from '@palisade/api';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg('--seconds', '2'));
const RATES = arg('--rates', '25000,50000,75000,100000').split(',').map(Number);
const LATENCY_RATES = arg('--latency-rates', '2000,25000').split(',').filter(Boolean).map(Number);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const GROUP = 7401;
if (typeof process.getuid !== 'function' || process.getuid() !== 0 || spawnSync('nft', ['--version']).status !== 0 || spawnSync('perl', ['-v']).status !== 0) {
  console.log('bench-nflog: skipped (needs root, nft and perl)');
  process.exit(0);
}
// The agent's pieces (a service: imported from its build for the benchmark only).
const { LogIngest } = await import('../services/node-agent/dist/logs/log-ingest.js');
// The agent names interfaces from its rtnetlink facts; the bench's traffic only crosses lo.
const LOOPBACK_NAME = (index) => (index === 1 ? 'lo' : undefined);
const { buildPacketEntry } = await import('../services/node-agent/dist/logs/entry-builder.js');
const { LogPublisher } = await import('../services/node-agent/dist/logs/log-publisher.js');

const ns = `plbench-nflog-${process.pid}`;
execFileSync('ip', ['netns', 'add', ns]);
const cleanup = () => spawnSync('ip', ['netns', 'del', ns]);
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
  input: `table inet bench {\n chain out {\n  type filter hook output priority 0; policy accept;\n  udp dport { 9998, 9999 } log prefix ":0:6:PVEFW-HOST-OUT: ACCEPT: RULE=0123456789ab " group ${GROUP}\n }\n chain in {\n  type filter hook input priority 0; policy accept;\n  udp dport { 9998, 9999 } drop\n }\n}\n`,
});

/** Port of the probe packets the sampled latency run looks for (the load goes to 9999). */
const PROBE_PORT = 9998;

/**
 * Sends `rate` packets a second for SECONDS from inside the namespace, and besides them
 * `probeRate` a second to PROBE_PORT; resolves with what it sent and how long it took.
 */
function send(rate, probeRate = 0) {
  const total = Math.round(rate * SECONDS);
  const probes = Math.round(probeRate * SECONDS);
  // A connected socket (no address lookup per packet) that sleeps 1 ms when it is ahead of its
  // pace instead of spinning: the load generator shares the machine's cores with the agent,
  // NATS and the kernel (the spinning sender took a whole core at any rate). The packets are
  // dropped on input after the output hook logged them, so no ICMP error comes back to fail
  // the connected socket's next send.
  const script = `const s=require('dgram').createSocket('udp4');s.on('error',()=>{});const b=Buffer.from('palisade-bench');
const p=require('dgram').createSocket('udp4');p.on('error',()=>{});let pn=0;
p.connect(${PROBE_PORT},'127.0.0.1',()=>s.connect(9999,'127.0.0.1',()=>{const t0=process.hrtime.bigint();let n=0;
function tick(){const el=Number(process.hrtime.bigint()-t0)/1e9;const due=Math.min(${total},Math.floor(el*${rate}));while(n<due){s.send(b);n++}
const pdue=Math.min(${probes},Math.floor(el*${probeRate}));while(pn<pdue){p.send(b);pn++}
if(n>=${total}){const secs=Number(process.hrtime.bigint()-t0)/1e9;setTimeout(()=>{process.stdout.write(JSON.stringify({sent:n,probes:pn,seconds:secs}));s.close();p.close()},50);return}setTimeout(tick,1)}tick()}))`;
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`sender exited ${code}`))));
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function settle(get, ms = 400) {
  let last = -1;
  while (get() !== last) {
    last = get();
    await sleep(ms);
  }
}

let captured;
/** Bare listener: counts and sequence-checks what the kernel delivers. */
async function runRaw(rate) {
  let received = 0;
  let lost = 0;
  let next;
  let first = 0;
  let last = 0;
  const l = await openNflogListener({
    group: GROUP,
    netns: ns,
    onDatagram: (b) => {
      const d = decodeNflogDatagram(b);
      if (!captured && d.packets.length >= 32) captured = b.slice();
      for (const p of d.packets) {
        if (next !== undefined && p.seq !== next) lost += (p.seq - next) >>> 0;
        next = (p.seq + 1) >>> 0;
        received++;
      }
      last = performance.now();
      if (!first) first = last;
    },
    onOverrun: () => undefined,
    onError: (e) => console.log('listener error', e.message),
  });
  const s = await send(rate);
  await settle(() => received);
  await l.close();
  return { ...s, received, lost: lost + Math.max(0, s.sent - received - lost), rate: received / ((last - first) / 1000 || 1) };
}

async function runIngest(rate, servers) {
  const ingest = new LogIngest({ node: 'bench', group: GROUP, netns: ns, servers, clock: SYSTEM_CLOCK, logger: SILENT_LOGGER, interfaceName: LOOPBACK_NAME });
  ingest.rulesetApplied({ text: '' });
  await ingest.start();
  while (!ingest.stats.natsConnected) await sleep(20);
  // From the first entry received (the sender's process start is not the agent's time) to the last stored.
  let t0 = 0;
  let lastPublishAt = 0;
  let lastPublished = 0;
  const watch = setInterval(() => {
    if (!t0 && ingest.stats.received > 0) t0 = performance.now();
    if (ingest.stats.published !== lastPublished) {
      lastPublished = ingest.stats.published;
      lastPublishAt = performance.now();
    }
  }, 5);
  const cpu0 = process.cpuUsage();
  const s = await send(rate);
  await settle(() => ingest.stats.published + ingest.stats.received);
  const cpu = process.cpuUsage(cpu0);
  clearInterval(watch);
  const elapsed = (lastPublishAt - t0) / 1000;
  const st = ingest.stats;
  await ingest.close();
  const lost = st.lostKernel + Math.max(0, s.sent - st.received - st.lostKernel) + st.lostSpool;
  // The agent's CPU per entry stored (this process: capture, encode, NATS client; not the reader or the server).
  const cpuUs = (cpu.user + cpu.system) / Math.max(1, st.published);
  return { ...s, received: st.received, published: st.published, messages: st.publishedMessages, lost, enobufs: st.enobufs, elapsed, delivered: st.published / elapsed, cpuUs };
}

/** The agent's capture alone: NATS unreachable, so entries are decoded, built and spooled (a spool large enough for the run), never encoded or published. */
async function runCapture(rate) {
  const publisher = { flushOnCloseMs: 0, spoolMaxEntries: Math.ceil(rate * SECONDS * 1.5), spoolMaxBytes: 2 ** 31 };
  const ingest = new LogIngest({ node: 'bench', group: GROUP, netns: ns, servers: ['nats://127.0.0.1:9'], clock: SYSTEM_CLOCK, logger: SILENT_LOGGER, interfaceName: LOOPBACK_NAME, publisher });
  ingest.rulesetApplied({ text: '' });
  await ingest.start();
  const s = await send(rate);
  await settle(() => ingest.stats.received);
  const st = ingest.stats;
  await ingest.close();
  return { ...s, received: st.received, lost: st.lostKernel + Math.max(0, s.sent - st.received - st.lostKernel) + st.lostSpool };
}

const pctl = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

/** A palisade-logger process of this build on `servers`; resolves with its gRPC address and a stop function. */
async function startLogger(servers) {
  const dir = mkdtempSync(join(tmpdir(), 'plbench-nflog-logger-'));
  const port = await freePort();
  const child = spawn(process.execPath, [new URL('../services/logger/dist/main.js', import.meta.url).pathname, '--nats', servers.join(','), '--listen', `127.0.0.1:${port}`, '--data', dir, '--consumer', 'bench-latency', '--retention', '0', '--replicas', '1', '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const client = createLogClient({ address: `127.0.0.1:${port}` });
  for (let i = 0; ; i++) {
    try {
      await client.query({ filter: { node: 'nobody' }, limit: 1 });
      break;
    } catch (err) {
      if (i > 200) throw err;
      await sleep(50);
    }
  }
  const stop = async () => {
    client.close();
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  };
  return { client, stop };
}

/** Probe packets a second in the sampled latency run. */
const PROBE_RATE = 100;

/**
 * Packet → queryable: the agent's capture publishes while a poller pages through the logger's
 * Query (oldest first, from the newest time seen) every 10 ms; each entry's latency is the
 * wall time it was first returned minus its time. `sampled`: the poller asks only for the
 * PROBE_RATE probe packets a second sent among the load (a user's query during a flood); else
 * for every entry of the node, so the logger also answers with all of them (the observer then
 * costs the 2 cores about as much as the ingest). A bare NATS subscriber's publish → receive
 * latency is sampled in the same seconds (the floor of any path through NATS).
 */
async function runLatency(rate, servers, logger, sampled) {
  const node = `lat${rate}${sampled ? 's' : ''}`;
  const ingest = new LogIngest({ node, group: GROUP, netns: ns, servers, clock: SYSTEM_CLOCK, logger: SILENT_LOGGER, interfaceName: LOOPBACK_NAME });
  ingest.rulesetApplied({ text: '' });
  await ingest.start();
  while (!ingest.stats.natsConnected) await sleep(20);
  const seen = new Set();
  const latencies = [];
  let sinceUs = 1;
  let polling = true;
  let stopAt = Infinity;
  let expected = Infinity; // entries the poller waits for once sending stopped
  const poller = (async () => {
    while (polling || seen.size < expected) {
      let cursor = '';
      do {
        const page = await logger.client.query({ filter: { node, sinceUs, ...(sampled ? { dport: PROBE_PORT } : {}) }, limit: 10_000, cursor });
        const nowUs = Date.now() * 1000;
        for (const e of page.entries) {
          if (seen.has(e.id)) continue;
          seen.add(e.id);
          if (e.kind === 'packet') latencies.push((nowUs - e.timeUs) / 1000);
          if (e.timeUs > sinceUs) sinceUs = e.timeUs;
        }
        cursor = page.nextCursor;
      } while (cursor);
      if (!polling && seen.size >= expected) break;
      await sleep(10);
      if (!polling && Date.now() > stopAt) break;
    }
  })();
  const nc = await connect({ servers: [...servers] });
  const sub = nc.subscribe(`bench.latency.${rate}`);
  const bare = [];
  const bareDone = (async () => {
    for await (const m of sub) bare.push(performance.now() - Number(new TextDecoder().decode(m.data)));
  })();
  // The stage in between: batch messages as a core subscriber of the node's subject sees them
  // (agent capture + publish), their entries' latency from their time; every 8th message is
  // decoded, so that the observer does not take a core's share from what it measures.
  const onSubject = [];
  const subjectSub = nc.subscribe(`palisade.log.${node}`);
  const subjectDone = (async () => {
    let n = 0;
    for await (const m of subjectSub) {
      if (n++ % 8 !== 0) continue;
      const nowUs = Date.now() * 1000;
      for (const e of decodeLogMessage(m.data).entries) onSubject.push((nowUs - e.timeUs) / 1000);
    }
  })();
  const ticker = setInterval(() => nc.publish(`bench.latency.${rate}`, new TextEncoder().encode(String(performance.now()))), 10);
  const s = await send(rate, sampled ? PROBE_RATE : 0);
  await settle(() => ingest.stats.published + ingest.stats.received);
  clearInterval(ticker);
  expected = sampled ? s.probes : ingest.stats.published;
  stopAt = Date.now() + 10_000;
  polling = false;
  await poller;
  sub.unsubscribe();
  subjectSub.unsubscribe();
  await bareDone;
  await subjectDone;
  await nc.close();
  const st = ingest.stats;
  await ingest.close();
  return { ...s, received: st.received, published: st.published, seen: seen.size, expected, latencies, onSubject, bare };
}

const nats = await startNats({ syncAlways: false });
console.log(`bench-nflog: ${SECONDS} s per rate, NFLOG group ${GROUP} in a namespace, agent settings (8 MiB buffer, qthreshold 64, 10 ms timeout, 128 KiB batches); load average ${load()} on ${(await import('node:os')).cpus().length} CPUs`);
console.log('offered/s   kernel→listener: delivered/s lost   |   agent capture (no NATS): lost   |   agent ingest → JetStream: published  lost  ENOBUFS  messages  end-to-end/s (x offered)  agent CPU µs/entry  load');
let bestRaw = 0;
let bestCapture = 0;
let bestIngest = 0;
try {
  for (const rate of RATES) {
    const raw = await runRaw(rate);
    const cap = await runCapture(rate);
    const ing = await runIngest(rate, nats.urls);
    if (raw.lost === 0) bestRaw = Math.max(bestRaw, raw.sent / raw.seconds);
    if (cap.lost === 0) bestCapture = Math.max(bestCapture, cap.sent / cap.seconds);
    const offered = ing.sent / ing.seconds;
    if (ing.lost === 0 && ing.published === ing.sent && ing.delivered >= 0.95 * offered) bestIngest = Math.max(bestIngest, offered);
    console.log(
      `${String(Math.round(raw.sent / raw.seconds)).padStart(9)}   ${String(Math.round(raw.rate)).padStart(10)} ${String(raw.lost).padStart(6)}   |   ${String(cap.lost).padStart(6)} of ${String(cap.sent).padStart(6)} at ${String(Math.round(cap.sent / cap.seconds)).padStart(6)}/s   |   ${String(ing.published).padStart(9)}/${ing.sent} at ${String(Math.round(offered)).padStart(6)}/s ${String(ing.lost).padStart(5)} ${String(ing.enobufs).padStart(6)} ${String(ing.messages).padStart(8)}  ${String(Math.round(ing.delivered)).padStart(6)} (${(ing.delivered / offered).toFixed(2)})  ${ing.cpuUs.toFixed(1).padStart(6)}  ${load()}`,
    );
  }
  if (LATENCY_RATES.length > 0) {
    // A server of its own: a new consumer would first read the backlog the rates above left.
    const latNats = await startNats({ syncAlways: false });
    const logger = await startLogger(latNats.urls);
    try {
      for (const rate of LATENCY_RATES) {
        for (const sampled of [true, false]) {
          const r = await runLatency(rate, latNats.urls, logger, sampled);
          const f = (x) => x.toFixed(1);
          const what = sampled ? `${r.seen}/${r.expected} probe entries (${PROBE_RATE}/s among the load) returned by a Query for them` : `${r.seen}/${r.published} published entries returned by a Query for all of them`;
          console.log(
            `packet → queryable at ${Math.round(r.sent / r.seconds)}/s offered (${what}, ${r.received}/${r.sent + (r.probes ?? 0)} received): p50 ${f(pctl(r.latencies, 50))} ms, p99 ${f(pctl(r.latencies, 99))} ms, max ${f(Math.max(...r.latencies))} ms (goal p99 < 1,000 ms; Query polled every 10 ms); on the node's subject (agent capture + publish) p50 ${f(pctl(r.onSubject, 50))} ms, p99 ${f(pctl(r.onSubject, 99))} ms; bare NATS publish → subscriber at the same time p50 ${f(pctl(r.bare, 50))} ms, p99 ${f(pctl(r.bare, 99))} ms; load ${load()}`,
          );
        }
      }
    } finally {
      await logger.stop();
      await latNats.close();
    }
  }
  // The JetStream floor of the same run: pre-encoded entries published as the publisher does
  // (message ids, 16 messages in flight, no async traces), one entry per message and in batches of 256 (the default).
  {
    const nc = await connect({ servers: [...nats.urls], noAsyncTraces: true });
    const js = jetstream(nc, { timeout: 10_000 });
    const entry = captured
      ? buildPacketEntry(decodeNflogDatagram(captured).packets[0], { node: 'bench', id: 'bench:floor:0', nowUs: Date.now() * 1000, ifname: () => 'lo', rule: () => ({ path: 'firewall/cluster.fw', line: 12, text: 'OUT ACCEPT -p udp -dport 9999 -log info' }) })
      : { kind: 'loss', id: 'bench:floor:0', node: 'bench', timeUs: 1, count: 1, fromUs: 1, untilUs: 1, reason: 'decode-error' };
    const one = encodeLogEntry(entry);
    const floor = async (perMessage, total) => {
      const body = perMessage === 1 ? one : encodeLogBatch(Array(perMessage).fill(logEntryJson(entry)));
      const t = performance.now();
      for (let i = 0; i < total; i += 16 * perMessage) {
        await Promise.all(Array.from({ length: 16 }, (_, k) => js.publish('palisade.log.bench', body, { msgID: batchMessageId(`floor${perMessage}:${i}`, k) })));
      }
      return Math.round(total / ((performance.now() - t) / 1000));
    };
    console.log(`JetStream publish floor (same run, same server, 16 messages in flight): ${await floor(1, 20_000)} entries/s one per message, ${await floor(256, 512_000)} entries/s in batches of 256 (load ${load()})`);
    await nc.close();
  }
  // The publisher alone, draining a spool of real entries (built from a datagram captured above)
  // into the same server: batch messages against one entry per message (the first wire form),
  // interleaved rounds so that both see the same load.
  if (captured) {
    const packets = decodeNflogDatagram(captured).packets;
    const ctx = { node: 'bench', nowUs: Date.now() * 1000, ifname: LOOPBACK_NAME, rule: () => ({ path: 'firewall/cluster.fw', line: 12, text: 'OUT ACCEPT -p udp -dport 9999 -log info' }) };
    const drain = async (maxEntriesPerMessage, round) => {
      let n = 0;
      const pub = new LogPublisher({ node: 'bench', servers: nats.urls, clock: SYSTEM_CLOCK, logger: SILENT_LOGGER, maxEntriesPerMessage }, () => `bench:drain${round}:${n++}`);
      pub.start();
      while (!pub.stats.natsConnected) await sleep(20);
      const total = maxEntriesPerMessage === 1 ? 20_000 : 100_000;
      for (let i = 0; i < total; i++) pub.enqueue(buildPacketEntry(packets[i % packets.length], { ...ctx, id: `bench:drain${round}-${maxEntriesPerMessage}:${i}` }));
      const t = performance.now();
      while (pub.stats.published < total) await sleep(5);
      const rate = total / ((performance.now() - t) / 1000);
      await pub.close();
      return rate;
    };
    const batched = [];
    const single = [];
    for (let round = 0; round < 3; round++) {
      batched.push(await drain(256, round));
      single.push(await drain(1, round));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[1];
    console.log(
      `publisher draining its spool (same run, interleaved, median of 3): batches of 256 ${Math.round(median(batched))} entries/s, one entry per message ${Math.round(median(single))} entries/s (${(median(batched) / median(single)).toFixed(1)}x); load ${load()}`,
    );
  }
console.log(
    `without loss: kernel→listener up to ${Math.round(bestRaw)}/s offered; agent capture (decode, entry, spool) up to ${Math.round(bestCapture)}/s (${bestRaw ? (bestCapture / bestRaw).toFixed(2) : '-'}x of the kernel baseline); with JetStream publishing in the same process, keeping up (≥ 0.95 of the offered rate stored), up to ${Math.round(bestIngest)}/s (${bestRaw ? (bestIngest / bestRaw).toFixed(2) : '-'}x); goal 50,000/s; load average ${load()}`,
  );
} finally {
  await nats.close();
}

// CPU cost per entry, on a datagram captured above.
if (captured) {
  const d0 = decodeNflogDatagram(captured);
  const per = d0.packets.length;
  const ctx = { node: 'bench', nowUs: Date.now() * 1000, ifname: LOOPBACK_NAME, rule: () => ({ path: 'firewall/cluster.fw', line: 12, text: 'OUT ACCEPT -p udp -dport 9999 -log info' }) };
  const iterations = Math.ceil(200_000 / per);
  let t = performance.now();
  for (let i = 0; i < iterations; i++) decodeNflogDatagram(captured);
  const decodeUs = ((performance.now() - t) * 1000) / (iterations * per);
  t = performance.now();
  let n = 0;
  for (let i = 0; i < iterations; i++) for (const p of decodeNflogDatagram(captured).packets) buildPacketEntry(p, { ...ctx, id: `bench:x:${n++}` });
  const buildUs = ((performance.now() - t) * 1000) / (iterations * per) - decodeUs;
  t = performance.now();
  n = 0;
  for (let i = 0; i < iterations; i++) for (const p of decodeNflogDatagram(captured).packets) encodeLogEntry(buildPacketEntry(p, { ...ctx, id: `bench:x:${n++}` }));
  const allUs = ((performance.now() - t) * 1000) / (iterations * per);
  t = performance.now();
  n = 0;
  for (let i = 0; i < iterations; i++) encodeLogBatch(decodeNflogDatagram(captured).packets.map((p) => logEntryJson(buildPacketEntry(p, { ...ctx, id: `bench:x:${n++}` }))));
  const batchUs = ((performance.now() - t) * 1000) / (iterations * per);
  console.log(`cost per entry (${per} per datagram): NFLOG decode ${decodeUs.toFixed(2)} µs, entry + pvefw-logger text ${buildUs.toFixed(2)} µs, all with one JSON message per entry ${allUs.toFixed(2)} µs, all with one batch message per datagram ${batchUs.toFixed(2)} µs → ${Math.round(1e6 / batchUs)} entries/s on one core (load ${load()})`);
}
