#!/usr/bin/env node
// configd benchmark: put / CAS latency (p50/p99) and throughput through configd (gRPC → JetStream
// → local LMDB mirror) against raw JetStream KV puts from the same process in the same run, and
// put → watch delivery on another configd.
//
// Usage (after building: npm run build, or tsc -p per package):
//   node scripts/bench-configd.mjs [--n 2000] [--size 2048] [--concurrency 16] [--topology single|cluster|both]
//                                  [--no-sync-always] [--json FILE]
// --no-sync-always runs nats-server with its default 2-minute fsync interval instead of
// `sync_interval: always` (fsync before every ack).
// Starts its own nats-server processes on free loopback ports (scripts/install-nats-server.sh
// provides the binary) and its own `palisade-configd` processes (documents are validated, as in
// production), then stops them by PID and removes their directories.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, startNats } from '../packages/testkit/dist/index.js';
import { createConfigClient, WatchEventType } from '../packages/api/dist/index.js';

const CONFIGD_MAIN = fileURLToPath(new URL('../services/configd/dist/main.js', import.meta.url));

/** Starts `palisade-configd` as its own process (as deployed) and waits until it is quorate. */
async function spawnConfigd(node, natsUrls, dataDir) {
  const port = await freePort();
  const child = spawn(process.execPath, [CONFIGD_MAIN, '--node', node, '--nats', natsUrls.join(','), '--listen', `127.0.0.1:${port}`, '--data', dataDir, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const client = createConfigClient({ address: `127.0.0.1:${port}`, timeoutMs: 5000 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await client.call('status', {})).quorate) break;
    } catch {
      /* starting */
    }
    if (Date.now() > deadline) throw new Error(`configd ${node} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    client,
    stop: async () => {
      client.close();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    size: { type: 'string', default: '2048' },
    concurrency: { type: 'string', default: '16' },
    topology: { type: 'string', default: 'both' },
    'no-sync-always': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const N = Number(args.n);
const SIZE = Number(args.size);
const CONC = Number(args.concurrency);

function document(i, size) {
  // A realistic guest .fw document of about `size` bytes (valid, so validation runs fully).
  let s = `# bench document ${i}\n[OPTIONS]\nenable: 1\npolicy_in: DROP\n\n[RULES]\n`;
  let p = 1000;
  while (s.length < size - 60) s += `IN ACCEPT -source 10.${p % 250}.0.0/16 -p tcp -dport ${p++} # rule ${p}\n`;
  return Buffer.from(s.padEnd(size, '#'));
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const stats = (lat, wallMs) => ({
  n: lat.length,
  p50: +quantile(lat, 0.5).toFixed(3),
  p99: +quantile(lat, 0.99).toFixed(3),
  mean: +(lat.reduce((a, b) => a + b, 0) / lat.length).toFixed(3),
  opsPerSec: Math.round((lat.length / wallMs) * 1000),
});
const now = () => performance.now();

async function timeSequential(n, fn) {
  const lat = [];
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const a = now();
    await fn(i);
    lat.push(now() - a);
  }
  return stats(lat, now() - t0);
}

async function timeConcurrent(n, conc, fn) {
  const lat = [];
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: conc }, async (_, w) => {
      while (next < n) {
        const i = next++;
        const a = now();
        await fn(i, w);
        lat.push(now() - a);
      }
    }),
  );
  return stats(lat, now() - t0);
}

async function runTopology(topology) {
  const size = topology === 'cluster' ? 3 : 1;
  const nats = await startNats({ size, syncAlways: !args['no-sync-always'] });
  const dirs = [];
  const configds = [];
  const clients = [];
  try {
    for (let i = 0; i < Math.min(size, 2) || i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'palisade-bench-'));
      dirs.push(dataDir);
      const own = nats.urls[i % size];
      const c = await spawnConfigd(`bench${i + 1}`, [own, ...nats.urls.filter((u) => u !== own)], dataDir);
      configds.push(c);
      clients.push(c.client);
    }
    const [a, b] = clients;
    // Raw JetStream KV in the same process, same servers, same replication factor.
    const nc = await connect({ servers: nats.urls[0] });
    const kv = await new Kvm(nc).create('bench_raw', { history: 64, replicas: size === 3 ? 3 : 1, storage: 'file' });
    const docs = Array.from({ length: 100 }, (_, i) => document(i, SIZE));
    const paths = Array.from({ length: 100 }, (_, i) => `firewall/${1000 + i}.fw`);
    const keys = paths.map((p) => p.replace('/', '.'));
    // warm-up
    for (let i = 0; i < 200; i++) {
      await kv.put(keys[i % 100], docs[i % 100]);
      await a.call('put', { path: paths[i % 100], content: docs[i % 100] });
    }
    const results = {};
    // Floor of any configd call: a gRPC round trip that does no work.
    results.grpcStatus = await timeSequential(N, () => a.call('status', {}));
    results.rawPut = await timeSequential(N, (i) => kv.put(keys[i % 100], docs[i % 100]));
    results.configdPut = await timeSequential(N, (i) => a.call('put', { path: paths[i % 100], content: docs[i % 100] }));
    const revs = new Map();
    for (let i = 0; i < 100; i++) revs.set(keys[i], await kv.put(keys[i], docs[i]));
    results.rawCas = await timeSequential(N, async (i) => {
      const k = keys[i % 100];
      revs.set(k, await kv.update(k, docs[(i + 1) % 100], revs.get(k)));
    });
    const crevs = new Map();
    for (let i = 0; i < 100; i++) crevs.set(paths[i], (await a.call('put', { path: paths[i], content: docs[i] })).meta.revision);
    results.configdCas = await timeSequential(N, async (i) => {
      const p = paths[i % 100];
      crevs.set(p, (await a.call('put', { path: p, content: docs[(i + 1) % 100], expectedRevision: crevs.get(p) })).meta.revision);
    });
    results.rawPutConcurrent = await timeConcurrent(N, CONC, (i) => kv.put(keys[i % 100], docs[i % 100]));
    results.configdPutConcurrent = await timeConcurrent(N, CONC, (i) => a.call('put', { path: paths[i % 100], content: docs[i % 100] }));
    // put on configd A → watch event on configd B (another node in the cluster topology)
    const pending = new Map();
    const deliveries = [];
    const stream = b.watch({ prefixes: ['nodes/bench/'], startRevision: 0, metadataOnly: true });
    await new Promise((resolve) => {
      stream.on('data', (ev) => {
        if (ev.type === WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT_END) resolve();
        if (ev.type !== WatchEventType.WATCH_EVENT_TYPE_PUT) return;
        const sent = pending.get(ev.meta.message);
        if (sent !== undefined) {
          deliveries.push(now() - sent);
          pending.delete(ev.meta.message);
        }
      });
      stream.on('error', () => {});
    });
    const WN = Math.min(N, 1000);
    const t0 = now();
    for (let i = 0; i < WN; i++) {
      const msg = `m${i}`;
      pending.set(msg, now());
      await a.call('put', { path: `nodes/bench/qemu-server/${100 + (i % 50)}.conf`, content: Buffer.from(`memory: ${i}\n`), message: msg });
    }
    const deadline = Date.now() + 10_000;
    while (deliveries.length < WN && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    stream.cancel();
    results.putToRemoteWatch = { ...stats(deliveries, now() - t0), missing: WN - deliveries.length };
    results.overhead = {
      putP50: +(results.configdPut.p50 / results.rawPut.p50).toFixed(2),
      casP50: +(results.configdCas.p50 / results.rawCas.p50).toFixed(2),
      concurrentThroughput: +(results.rawPutConcurrent.opsPerSec / results.configdPutConcurrent.opsPerSec).toFixed(2),
    };
    await nc.close();
    return results;
  } finally {
    for (const c of configds) await c.stop();
    await nats.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

const topologies = args.topology === 'both' ? ['single', 'cluster'] : [args.topology];
const report = { n: N, sizeBytes: SIZE, concurrency: CONC, syncAlways: !args['no-sync-always'], results: {} };
for (const t of topologies) {
  process.stderr.write(`bench-configd: ${t} (${t === 'cluster' ? '3 servers, R3' : '1 server, R1'}), n=${N}, ${SIZE} B documents\n`);
  report.results[t] = await runTopology(t);
}
const fmt = (r) => `p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ${String(r.opsPerSec).padStart(6)} ops/s`;
for (const [t, r] of Object.entries(report.results)) {
  console.log(`\n== ${t}`);
  for (const k of ['grpcStatus', 'rawPut', 'configdPut', 'rawCas', 'configdCas', 'rawPutConcurrent', 'configdPutConcurrent', 'putToRemoteWatch']) {
    console.log(`${k.padEnd(22)} ${fmt(r[k])}${r[k].missing ? `  missing ${r[k].missing}` : ''}`);
  }
  console.log(`overhead (configd/raw): put p50 ${r.overhead.putP50}x, CAS p50 ${r.overhead.casP50}x, concurrent throughput ${r.overhead.concurrentThroughput}x`);
}
if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
process.exit(0);
