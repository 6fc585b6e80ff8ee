#!/usr/bin/env node
// configd benchmark: Put and CAS latency (p50/p99) and throughput through configd (gRPC →
// validation → JetStream, followed into the local LMDB mirror) against, in the same run and on
// the same servers:
//   - raw JetStream KV puts from this process (the target's baseline),
//   - a bare grpc-js echo server in its own process (what any gRPC front end pays per call),
//   - a bare grpc-js server in its own process that does nothing but a raw KV put (the floor of
//     any two-hop "gRPC in front of JetStream" design: no validation, no mirror, no CAS checks),
// plus put → watch delivery on a second configd.
// Every case runs in interleaved rounds (a slice of each case, then the next round), so that a
// machine whose load changes during the run slows all cases alike and the ratios stay honest.
// Run with --help for the options. Starts its own nats-server processes on free loopback ports
// (scripts/install-nats-server.sh provides the binary) and its own processes, stops them by PID
// and removes their directories.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { parseBenchArgs } from './bench-util.mjs';

const HELP = `Usage: node scripts/bench-configd.mjs [options]   (after a build)

Measures Put and CAS through configd against raw JetStream KV puts in the same run, with two
floors: a bare grpc-js echo and a bare grpc-js -> KV put proxy, each in its own process.

Options:
  --n N                operations per case (default 2000)
  --rounds N           interleaved rounds the cases are split into (default 5)
  --size BYTES         document size (default 2048; a valid guest .fw document)
  --concurrency N      callers in the concurrent cases (default 16)
  --topology T         single (1 server, R1), cluster (3 servers, R3) or both (default)
  --no-sync-always     run nats-server with its default fsync interval instead of
                       sync_interval: always (fsync before every ack)
  --cpu-prof DIR       run the measured configd with --cpu-prof, profiles into DIR
  --configd FILE       main.js of the configd to measure (default: this checkout's
                       services/configd/dist/main.js), e.g. an older build to compare
  --json FILE          also write the results as JSON
  -h, --help           this text
`;

const args = parseBenchArgs(HELP, {
  defaults: { n: '2000', rounds: '5', size: '2048', concurrency: '16', topology: 'both' },
  flags: ['no-sync-always', 'floor-server'], // floor-server, nats, bucket: internal (the floor server's process)
  optional: ['cpu-prof', 'configd', 'json', 'nats', 'bucket'],
});

/** Bare grpc-js service with identity (de)serialisers: no protobuf, no auth, no logic. */
const identity = (b) => b;
const method = (name) => ({
  path: `/bench.Floor/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const FLOOR_SERVICE = { echo: method('Echo'), kvPut: method('KvPut') };
/** About the size of configd's PutResponse (metadata with a hex digest). */
const FLOOR_RESPONSE = Buffer.alloc(128, 1);
/** The same channel options as configd's server and createConfigClient(). */
const SERVER_OPTIONS = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 256 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
};
const CLIENT_OPTIONS = { 'grpc.max_receive_message_length': 256 * 1024 * 1024, 'grpc.max_send_message_length': 256 * 1024 * 1024 };

if (args['floor-server']) {
  // Request: "<key>\n<document>"; KvPut stores the document under the key and answers after
  // JetStream's ack, like configd, with nothing else on the way.
  const nc = await connect({ servers: args.nats.split(','), noRandomize: true });
  const kv = await new Kvm(nc).open(args.bucket);
  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService(FLOOR_SERVICE, {
    echo: (_call, cb) => cb(null, FLOOR_RESPONSE),
    kvPut: (call, cb) => {
      const nl = call.request.indexOf(10);
      kv.put(call.request.subarray(0, nl).toString(), call.request.subarray(nl + 1)).then(
        () => cb(null, FLOOR_RESPONSE),
        (err) => cb({ code: grpc.status.UNAVAILABLE, details: String(err) }),
      );
    },
  });
  const port = await new Promise((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  process.stdout.write(`${port}\n`);
  process.on('SIGTERM', () => {
    server.forceShutdown();
    void nc.close().then(() => process.exit(0));
  });
} else {
  await bench();
}

async function bench() {
  const { freePort, startNats } = await import('../packages/testkit/dist/index.js');
  const { createConfigClient, WatchEventType } = await import('../packages/api/dist/index.js');
  const CONFIGD_MAIN = args.configd ?? fileURLToPath(new URL('../services/configd/dist/main.js', import.meta.url));
  const SELF = fileURLToPath(import.meta.url);
  const N = Number(args.n);
  const ROUNDS = Math.max(1, Number(args.rounds));
  const SIZE = Number(args.size);
  const CONC = Number(args.concurrency);
  if (!['single', 'cluster', 'both'].includes(args.topology)) {
    process.stderr.write(`bench-configd: --topology must be single, cluster or both\n${HELP}`);
    process.exit(2);
  }

  // Children are stopped by PID in `finally`; this hook only covers a crash of the bench.
  const children = new Set();
  process.once('exit', () => {
    for (const c of children) if (c.exitCode === null && c.pid) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
  });
  const track = (child) => {
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const stopChild = async (child) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  };

  /** Starts `palisade-configd` as its own process (as deployed) and waits until it is quorate. */
  async function spawnConfigd(node, natsUrls, dataDir, nodeFlags = []) {
    const port = await freePort();
    const child = track(
      spawn(process.execPath, [...nodeFlags, CONFIGD_MAIN, '--node', node, '--nats', natsUrls.join(','), '--listen', `127.0.0.1:${port}`, '--data', dataDir, '--log-level', 'warn'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
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
    return { client, stop: async () => (client.close(), stopChild(child)) };
  }

  /** Starts the floor server (this script with --floor-server) and a bare client of it. */
  async function spawnFloor(natsUrls, bucket) {
    const child = track(spawn(process.execPath, [SELF, '--floor-server', '--nats', natsUrls.join(','), '--bucket', bucket], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const port = await new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (l) => resolve(Number(l)));
      child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
    });
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
    const call = (m, req) =>
      new Promise((resolve, reject) =>
        client.makeUnaryRequest(m.path, identity, identity, req, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))),
      );
    return {
      echo: (req) => call(FLOOR_SERVICE.echo, req),
      kvPut: (key, doc) => call(FLOOR_SERVICE.kvPut, Buffer.concat([Buffer.from(`${key}\n`), doc])),
      stop: async () => (client.close(), stopChild(child)),
    };
  }

  function document(i, size) {
    // A realistic guest .fw document of about `size` bytes (valid, so validation runs fully).
    let s = `# bench document ${i}\n[OPTIONS]\nenable: 1\npolicy_in: DROP\n\n[RULES]\n`;
    let p = 1000;
    while (s.length < size - 60) s += `IN ACCEPT -source 10.${p % 250}.0.0/16 -p tcp -dport ${p++} # rule ${p}\n`;
    return Buffer.from(s.padEnd(size, '#'));
  }

  const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const stats = (lat, wallMs) => {
    const s = [...lat].sort((a, b) => a - b);
    return {
      n: lat.length,
      p50: +quantile(s, 0.5).toFixed(3),
      p99: +quantile(s, 0.99).toFixed(3),
      mean: +(lat.reduce((a, b) => a + b, 0) / lat.length).toFixed(3),
      opsPerSec: Math.round((lat.length / wallMs) * 1000),
    };
  };
  const now = () => performance.now();

  /**
   * Runs every case for `n` operations, split into `rounds` interleaved slices; `conc` callers
   * per case (1 = sequential). Latency per operation, throughput over the case's own wall time.
   */
  async function interleaved(cases, n, conc) {
    const acc = Object.fromEntries(Object.keys(cases).map((k) => [k, { lat: [], wall: 0, next: 0 }]));
    const per = Math.ceil(n / ROUNDS);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, fn] of Object.entries(cases)) {
        const a = acc[name];
        const end = Math.min(n, a.next + per);
        const t0 = now();
        await Promise.all(
          Array.from({ length: conc }, async () => {
            while (a.next < end) {
              const i = a.next++;
              const s = now();
              await fn(i);
              a.lat.push(now() - s);
            }
          }),
        );
        a.wall += now() - t0;
      }
    }
    return Object.fromEntries(Object.entries(acc).map(([k, a]) => [k, stats(a.lat, a.wall)]));
  }

  async function runTopology(topology) {
    const size = topology === 'cluster' ? 3 : 1;
    const nats = await startNats({ size, syncAlways: !args['no-sync-always'] });
    const dirs = [];
    const stops = [];
    const newDir = () => {
      const d = mkdtempSync(join(tmpdir(), 'palisade-bench-'));
      dirs.push(d);
      return d;
    };
    try {
      const profFlags = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
      const A = await spawnConfigd('bench1', nats.urls, newDir(), profFlags);
      stops.push(A.stop);
      const a = A.client;
      // Raw JetStream KV in this process, same servers, same replication factor and history.
      const nc = await connect({ servers: nats.urls[0] });
      stops.push(() => nc.close());
      const kv = await new Kvm(nc).create('bench_raw', { history: 64, replicas: size, storage: 'file' });
      const floor = await spawnFloor(nats.urls, 'bench_raw');
      stops.push(floor.stop);
      const docs = Array.from({ length: 100 }, (_, i) => document(i, SIZE));
      const paths = Array.from({ length: 100 }, (_, i) => `firewall/${1000 + i}.fw`);
      const keys = paths.map((p) => p.replace('/', '.'));
      const proxyKeys = keys.map((k) => `proxy.${k}`);
      // CAS cases use documents of their own: the put cases must not move their revisions.
      const casKeys = keys.map((k) => `cas.${k}`);
      const casPaths = Array.from({ length: 100 }, (_, i) => `firewall/${2000 + i}.fw`);
      const doc = (i) => docs[i % 100];
      // warm-up (JIT, connections, buckets, LMDB pages)
      for (let i = 0; i < 300; i++) {
        await kv.put(keys[i % 100], doc(i));
        await floor.kvPut(proxyKeys[i % 100], doc(i));
        await floor.echo(doc(i));
        await a.call('put', { path: paths[i % 100], content: doc(i) });
      }
      const revs = new Map();
      for (let i = 0; i < 100; i++) revs.set(casKeys[i], await kv.put(casKeys[i], docs[i]));
      const crevs = new Map();
      for (let i = 0; i < 100; i++) crevs.set(casPaths[i], (await a.call('put', { path: casPaths[i], content: docs[i] })).meta.revision);

      const results = await interleaved(
        {
          grpcEcho: (i) => floor.echo(doc(i)),
          configdStatus: () => a.call('status', {}),
          rawPut: (i) => kv.put(keys[i % 100], doc(i)),
          grpcKvProxyPut: (i) => floor.kvPut(proxyKeys[i % 100], doc(i)),
          configdPut: (i) => a.call('put', { path: paths[i % 100], content: doc(i) }),
          rawCas: async (i) => {
            const k = casKeys[i % 100];
            revs.set(k, await kv.update(k, doc(i + 1), revs.get(k)));
          },
          configdCas: async (i) => {
            const p = casPaths[i % 100];
            crevs.set(p, (await a.call('put', { path: p, content: doc(i + 1), expectedRevision: crevs.get(p) })).meta.revision);
          },
        },
        N,
        1,
      );
      const concurrent = await interleaved(
        {
          rawPutConcurrent: (i) => kv.put(keys[i % 100], doc(i)),
          grpcKvProxyPutConcurrent: (i) => floor.kvPut(proxyKeys[i % 100], doc(i)),
          configdPutConcurrent: (i) => a.call('put', { path: paths[i % 100], content: doc(i) }),
        },
        N,
        CONC,
      );
      Object.assign(results, concurrent);

      // put on configd A → watch event on configd B (connected to another server in the cluster
      // topology). B starts only now: it stands for another node, whose mirror work would not
      // share this machine's CPUs and disk with A in a deployment.
      const B = await spawnConfigd('bench2', [...nats.urls.slice(1 % size), ...nats.urls.slice(0, 1 % size)], newDir());
      stops.push(B.stop);
      const pending = new Map();
      const deliveries = [];
      const stream = B.client.watch({ prefixes: ['nodes/bench/'], startRevision: 0, metadataOnly: true });
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
      const ratio = (x, y) => +(x / y).toFixed(2);
      results.ratios = {
        putP50: ratio(results.configdPut.p50, results.rawPut.p50),
        casP50: ratio(results.configdCas.p50, results.rawCas.p50),
        proxyFloorP50: ratio(results.grpcKvProxyPut.p50, results.rawPut.p50),
        echoFloorP50: ratio(results.grpcEcho.p50, results.rawPut.p50),
        concurrentThroughput: ratio(results.rawPutConcurrent.opsPerSec, results.configdPutConcurrent.opsPerSec),
        proxyConcurrentThroughput: ratio(results.rawPutConcurrent.opsPerSec, results.grpcKvProxyPutConcurrent.opsPerSec),
      };
      return results;
    } finally {
      for (const stop of stops.reverse()) await stop();
      await nats.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }

  const topologies = args.topology === 'both' ? ['single', 'cluster'] : [args.topology];
  const syncAlways = !args['no-sync-always'];
  const report = { n: N, rounds: ROUNDS, sizeBytes: SIZE, concurrency: CONC, syncAlways, results: {} };
  for (const t of topologies) {
    process.stderr.write(`bench-configd: ${t} (${t === 'cluster' ? '3 servers, R3' : '1 server, R1'}), n=${N} per case in ${ROUNDS} interleaved rounds, ${SIZE} B documents\n`);
    report.results[t] = await runTopology(t);
  }
  const LABELS = {
    grpcEcho: 'floor: bare gRPC echo',
    configdStatus: 'configd Status (no-op RPC)',
    rawPut: 'raw JetStream KV put',
    grpcKvProxyPut: 'floor: bare gRPC -> KV put',
    configdPut: 'configd Put',
    rawCas: 'raw KV update (CAS)',
    configdCas: 'configd Put (CAS)',
    rawPutConcurrent: `raw KV put x${CONC}`,
    grpcKvProxyPutConcurrent: `floor: gRPC -> KV put x${CONC}`,
    configdPutConcurrent: `configd Put x${CONC}`,
    putToRemoteWatch: 'put -> watch on configd B',
  };
  const f3 = (x) => x.toFixed(3).padStart(8);
  const TARGET = 1.3;
  for (const [t, r] of Object.entries(report.results)) {
    console.log(`\n== ${t}: ${t === 'cluster' ? '3 nats-servers, R3' : '1 nats-server, R1'}, ${syncAlways ? 'sync_interval: always' : 'default fsync interval'}, ${SIZE} B documents, n=${N} per case`);
    console.log(`${''.padEnd(32)}   p50 ms   p99 ms  mean ms   ops/s`);
    for (const [k, label] of Object.entries(LABELS)) {
      const s = r[k];
      console.log(`${label.padEnd(32)} ${f3(s.p50)} ${f3(s.p99)} ${f3(s.mean)} ${String(s.opsPerSec).padStart(7)}${s.missing ? `  missing ${s.missing}` : ''}`);
    }
    const x = r.ratios;
    console.log(`ratio to raw KV (p50):  configd Put ${x.putP50}x, configd CAS ${x.casP50}x; floors: gRPC -> KV put ${x.proxyFloorP50}x, gRPC echo alone ${x.echoFloorP50}x`);
    console.log(`throughput x${CONC}, raw / configd: ${x.concurrentThroughput}x (raw / bare gRPC -> KV put: ${x.proxyConcurrentThroughput}x)`);
    const hop = r.grpcKvProxyPut.p50 - r.rawPut.p50;
    const work = r.configdPut.p50 - r.grpcKvProxyPut.p50;
    console.log(
      `configd Put p50 ${r.configdPut.p50.toFixed(3)} ms = raw KV put ${r.rawPut.p50.toFixed(3)} + gRPC hop ${hop.toFixed(3)} (floor - raw) + configd's own work ${work.toFixed(3)} (configd - floor: checks, fw-lang validation, CAS lookup, headers/digest, own mirror)`,
    );
    if (x.proxyFloorP50 > TARGET) {
      console.log(
        `target <= ${TARGET}x raw: NOT reachable by any gRPC front end on this machine: a bare grpc-js server doing only a KV put is already ${x.proxyFloorP50}x raw (configd is ${(r.configdPut.p50 / r.grpcKvProxyPut.p50).toFixed(2)}x that floor)`,
      );
    } else {
      console.log(`target <= ${TARGET}x raw: ${x.putP50 <= TARGET ? 'met' : 'missed'} (floor ${x.proxyFloorP50}x)`);
    }
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
  process.exit(0);
}
