#!/usr/bin/env node
// Logger benchmark (after a build). Every figure comes with a baseline measured in the same run:
//   - store ingest (entries/s into the indexed LMDB store) vs a bare LMDB put loop of the same
//     entries (msgpack values by sequence number, no indexes, same batch size);
//   - bytes stored per entry (LMDB pages in use / entries) vs the bare loop's, and the JSON size;
//   - Query p50/p99 for five typical filters over the loaded store vs a bare LMDB read of one
//     page (50 consecutive values) at a random place;
//   - through JetStream: publish → stored ingest rate vs the raw publish rate of the same
//     entries, a second logger's rate reading the stream's backlog vs the bare put loop, and
//     publish → Tail latency vs a bare NATS subscriber's publish → receive latency.
// Starts its own nats-server (testkit) on free loopback ports and removes its directories.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadAverage, parseBenchArgs } from './bench-util.mjs';

const HELP = `Usage: node scripts/bench-logger.mjs [options]   (after a build)

Options:
  --entries N      entries loaded into the store for the query figures (default 1000000;
                   10000000 is the issue's size and needs ~15 GB of disk and time)
  --measure N      of those, the first N are loaded interleaved with the bare LMDB loop for the
                   ingest rates (default 500000); the rest is a direct bulk load (its rate printed)
  --store DIR      keep the loaded store in DIR (not deleted; reused when it already holds
                   --entries entries, so query figures can be taken again without a reload)
  --batch N        entries per store transaction (default 5000)
  --queries N      runs per query filter (default 200)
  --stream N       entries sent through JetStream for the ingest rate (default 100000)
  --tail N         single entries for the Tail latency (default 200)
  --skip-stream    only the store figures (no nats-server)
  -h, --help       this text
`;

const args = parseBenchArgs(HELP, {
  defaults: { entries: '1000000', batch: '5000', measure: '500000', queries: '200', stream: '100000', tail: '200' },
  flags: ['skip-stream'],
  optional: ['store'],
});

const ENTRIES = Number(args.entries);
const BATCH = Number(args.batch);
const QUERIES = Number(args.queries);
const MEASURE = Math.min(ENTRIES, Number(args.measure));
// The machine is shared: every figure is printed with the load it was measured under.
const load = () => `load average ${loadAverage()}`;
const { LogStore, parseLogFilter, queryEntries, explainPlan, syntheticEntry, createLogService } = await import('../services/logger/dist/index.js');
const { SILENT_LOGGER } = await import('../packages/service-kit/dist/index.js');
const { encodeLogEntry, encodeLogBatch, logEntryJson, batchMessageId, logSubject } = await import('../packages/log-model/dist/index.js');
/** Entries per message when publishing batches, as the agent does (log-publisher's default). */
const PER_MESSAGE = 64;
const { open } = await import('lmdb');

const STEP_US = 1000; // 1000 entries a second across the cluster
let START_US = Date.now() * 1000 - ENTRIES * STEP_US;
const entry = (i, bootId = 'bench') => syntheticEntry(i, { startUs: START_US, stepUs: STEP_US, bootId });

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(2)} ms`;
const rate = (n, t) => `${Math.round(n / (t / 1000)).toLocaleString('en')} /s`;
const dirs = [];
const tmp = (p) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

try {
  // --- store ingest vs a bare LMDB put loop ---------------------------------------------------
  const bare = open({ path: tmp('palisade-bench-lmdb-'), compression: false, mapSize: 2 ** 40 });
  const bareDb = bare.openDB({ name: 'entries', encoding: 'msgpack', sharedStructuresKey: Symbol.for('structures') });
  if (args.store) mkdirSync(args.store, { recursive: true });
  const store = LogStore.open({ path: args.store ?? tmp('palisade-bench-store-'), logger: SILENT_LOGGER });
  const reuse = store.count >= ENTRIES;
  // A reused store keeps the times it was loaded with.
  if (store.count > 0) START_US = store.get(1).timeUs;
  let bareMs = 0;
  let storeMs = 0;
  let bulkMs = 0;
  let jsonBytes = 0;
  const batchOf = (from) => {
    const batch = [];
    for (let i = from; i < Math.min(ENTRIES, from + BATCH); i++) batch.push(entry(i));
    return batch;
  };
  // Interleaved, batch by batch, so that load changes on the machine hit both alike.
  for (let from = 0; from < MEASURE; from += BATCH) {
    const batch = batchOf(from);
    if (from < 100_000) for (const e of batch) jsonBytes += encodeLogEntry(e).length;
    let t = performance.now();
    await bare.transaction(() => {
      for (let k = 0; k < batch.length; k++) bareDb.put(from + k + 1, batch[k]);
    });
    bareMs += performance.now() - t;
    if (reuse) continue;
    t = performance.now();
    await store.put(batch);
    storeMs += performance.now() - t;
  }
  const measureLoad = load();
  // The bulk: the same store writes without the bare loop beside them.
  if (!reuse) {
    for (let from = MEASURE; from < ENTRIES; from += BATCH) {
      const batch = batchOf(from);
      const t = performance.now();
      await store.put(batch);
      bulkMs += performance.now() - t;
      if ((from / BATCH) % 200 === 199) process.stdout.write(`  loaded ${(from + BATCH).toLocaleString('en')} entries (${load()})\n`);
    }
  }
  const stats = store.stats();
  const bs = bareDb.getStats();
  const bareBytes = (bs.treeBranchPageCount + bs.treeLeafPageCount + bs.overflowPages) * bs.pageSize;
  const bareN = Math.max(1, MEASURE);
  console.log(`\nstore ingest (${MEASURE.toLocaleString('en')} entries interleaved with the bare loop, batches of ${BATCH}; ${measureLoad}):`);
  if (reuse) console.log(`  indexed store      (reused ${args.store} with ${store.count.toLocaleString('en')} entries: not measured)`);
  else console.log(`  indexed store      ${rate(MEASURE, storeMs)}`);
  console.log(`  bare LMDB puts     ${rate(MEASURE, bareMs)}   (baseline${reuse ? '' : `; store/bare time ratio ${(storeMs / bareMs).toFixed(2)}`})`);
  if (!reuse && ENTRIES > MEASURE) console.log(`  bulk load          ${rate(ENTRIES - MEASURE, bulkMs)}   (the other ${(ENTRIES - MEASURE).toLocaleString('en')} entries into the growing store, alone; ${load()})`);
  console.log(`bytes per entry (${stats.entries.toLocaleString('en')} entries stored):`);
  console.log(`  indexed store      ${(stats.usedBytes / stats.entries).toFixed(0)} B   (entry + id key + posting items, LMDB pages in use)`);
  console.log(`  bare LMDB values   ${(bareBytes / bareN).toFixed(0)} B   (baseline; ratio ${(stats.usedBytes / stats.entries / (bareBytes / bareN)).toFixed(2)})`);
  console.log(`  encoded JSON       ${(jsonBytes / Math.min(MEASURE, 100_000)).toFixed(0)} B   (the wire form)`);

  // --- query p99 vs a bare page read ------------------------------------------------------------
  const endUs = START_US + ENTRIES * STEP_US;
  const rnd = (n) => Math.floor(Math.random() * n);
  const FILTERS = [
    ['node, newest 50', () => [{ node: `pve${1 + rnd(3)}` }, { newestFirst: true, limit: 50 }]],
    ['guest + DROP, newest 50', () => [{ vmid: 100 + rnd(50), action: 'DROP' }, { newestFirst: true, limit: 50 }]],
    ['source /24, last hour', () => [{ src: `10.0.${rnd(20)}.0/24`, sinceUs: endUs - 3600e6 }, { newestFirst: true, limit: 50 }]],
    ['dport 22 in a 10 min window', () => {
      const since = START_US + rnd(Math.max(1, ENTRIES * STEP_US - 600e6));
      return [{ dport: 22, sinceUs: since, untilUs: since + 600e6 }, { limit: 100 }];
    }],
    ['rule id, newest 100', () => [{ ruleId: `r${rnd(40)}` }, { newestFirst: true, limit: 100 }]],
  ];
  const bareRead = () => {
    const start = 1 + rnd(bareN - 50);
    let n = 0;
    for (const _ of bareDb.getRange({ start, limit: 50 })) n++;
    return n;
  };
  const baseline = [];
  const times = FILTERS.map(() => []);
  for (let q = 0; q < QUERIES; q++) {
    let t = performance.now();
    bareRead();
    baseline.push(performance.now() - t);
    FILTERS.forEach(([, make], k) => {
      const [f, o] = make();
      const pf = parseLogFilter(f);
      t = performance.now();
      queryEntries(store, pf, o);
      times[k].push(performance.now() - t);
    });
  }
  const b99 = pct(baseline, 99);
  console.log(`\nquery over ${stats.entries.toLocaleString('en')} entries (${QUERIES} runs each; p50 / p99; plan; ${load()}):`);
  FILTERS.forEach(([name, make], k) => {
    const [f] = make();
    const plan = explainPlan(store, parseLogFilter(f));
    console.log(`  ${name.padEnd(28)} ${ms(pct(times[k], 50))} / ${ms(pct(times[k], 99))}   (${plan.index}${plan.covered ? ', covered' : ''}; p99 ${(pct(times[k], 99) / b99).toFixed(1)}× the baseline)`);
  });
  console.log(`  ${'bare LMDB 50-value page'.padEnd(28)} ${ms(pct(baseline, 50))} / ${ms(b99)}   (baseline)`);
  await store.close();
  await bare.close();

  // --- through JetStream -----------------------------------------------------------------------
  if (!args['skip-stream']) {
    const { startNats } = await import('../packages/testkit/dist/index.js');
    const { createLogClient } = await import('../packages/api/dist/index.js');
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream } = await import('@nats-io/jetstream');
    const nats = await startNats({ size: 1, syncAlways: false });
    try {
      const STREAM = Number(args.stream);
      const nc = await connect({ servers: [...nats.urls] });
      const js = jetstream(nc);
      const svc = await createLogService({ natsServers: nats.urls, listen: '127.0.0.1:0', dataDir: tmp('palisade-bench-logger-'), consumer: 'bench', retentionMs: 0, replicas: 1, logger: SILENT_LOGGER });
      await svc.ingest.whenConsuming();
      const publishAll = async (from, n, bootId) => {
        const window = 1000;
        const pending = [];
        for (let i = from; i < from + n; i++) {
          const e = entry(i, bootId);
          pending.push(js.publish(logSubject(e.node), encodeLogEntry(e), { msgID: e.id }));
          if (pending.length >= window) await Promise.all(pending.splice(0));
        }
        await Promise.all(pending);
      };
      // Batches of PER_MESSAGE entries per message, as the agent publishes them; one entry per
      // message in each node's order otherwise.
      const publishBatches = async (from, n, bootId) => {
        const window = 16;
        const pending = [];
        for (let i = from; i < from + n; i += PER_MESSAGE * 3) {
          // One message per node: the subject names the node of every entry in it.
          const byNode = new Map();
          for (let k = i; k < Math.min(from + n, i + PER_MESSAGE * 3); k++) {
            const e = entry(k, bootId);
            if (!byNode.has(e.node)) byNode.set(e.node, []);
            byNode.get(e.node).push(e);
          }
          for (const [node, es] of byNode) {
            pending.push(js.publish(logSubject(node), encodeLogBatch(es.map(logEntryJson)), { msgID: batchMessageId(es[0].id, es.length) }));
          }
          if (pending.length >= window) await Promise.all(pending.splice(0));
        }
        await Promise.all(pending);
      };
      const waitFor = async (svcOf, n) => {
        while (svcOf.store.count < n) await new Promise((r) => setTimeout(r, 5));
      };
      // Baseline: publishing alone (to a second stream-less subject is not comparable, so the
      // same stream: the logger reads while we publish; its rate can at most follow this one).
      let t = performance.now();
      await publishAll(0, STREAM, 'pub');
      const publishMs = performance.now() - t;
      await waitFor(svc, STREAM);
      const ingestMs = performance.now() - t;
      t = performance.now();
      await publishBatches(0, STREAM, 'pubbatch');
      const publishBatchMs = performance.now() - t;
      await waitFor(svc, 2 * STREAM);
      const ingestBatchMs = performance.now() - t;
      console.log(`\nthrough JetStream (${STREAM.toLocaleString('en')} entries each, 1 server, fsync at NATS' default interval; ${load()}):`);
      console.log(`  publish → stored   ${rate(STREAM, ingestMs)}   (one entry per message)`);
      console.log(`  publish alone      ${rate(STREAM, publishMs)}   (baseline; ratio ${(publishMs / ingestMs).toFixed(2)} of the publish rate)`);
      console.log(`  publish → stored   ${rate(STREAM, ingestBatchMs)}   (${PER_MESSAGE} entries per message)`);
      console.log(`  publish alone      ${rate(STREAM, publishBatchMs)}   (baseline; ratio ${(publishBatchMs / ingestBatchMs).toFixed(2)} of the publish rate)`);
      // The logger's own ingest rate, not bounded by the publisher: a second logger (its own
      // consumer and store) reads the backlog the stream now holds (first the one-entry
      // messages, then the batches).
      const backlog = await createLogService({ natsServers: nats.urls, listen: '127.0.0.1:0', dataDir: tmp('palisade-bench-backlog-'), consumer: 'bench-backlog', retentionMs: 0, replicas: 1, logger: SILENT_LOGGER });
      await backlog.ingest.whenConsuming();
      t = performance.now();
      await waitFor(backlog, STREAM);
      const backlogMs = performance.now() - t;
      t = performance.now();
      await waitFor(backlog, 2 * STREAM);
      const backlogBatchMs = performance.now() - t;
      await backlog.close();
      const bareRate = MEASURE / bareMs;
      console.log(`  backlog → stored   ${rate(STREAM, backlogMs)}   (a second logger reading the stream's backlog, one entry per message; ${((STREAM / backlogMs) / bareRate).toFixed(2)} of the bare LMDB put rate above)`);
      console.log(`  backlog → stored   ${rate(STREAM, backlogBatchMs)}   (the same, ${PER_MESSAGE} entries per message; ${((STREAM / backlogBatchMs) / bareRate).toFixed(2)} of the bare LMDB put rate; ${load()})`);

      // Tail latency vs bare subscriber latency, alternating.
      const client = createLogClient({ address: svc.address });
      const ac = new AbortController();
      const sentAt = new Map();
      const tailLat = [];
      const tail = (async () => {
        for await (const e of client.tail({ filter: { node: 'pve1' } }, ac.signal)) {
          const s = sentAt.get(e.id);
          if (s !== undefined) tailLat.push(performance.now() - s);
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      const sub = nc.subscribe('bench.latency');
      const bareLat = [];
      const bareDone = (async () => {
        for await (const m of sub) bareLat.push(performance.now() - Number(new TextDecoder().decode(m.data)));
      })();
      const TAIL = Number(args.tail);
      for (let k = 0; k < TAIL; k++) {
        const e = { ...entry(10_000_000 + k, 'tail'), node: 'pve1', id: `pve1:tail:${k}` };
        sentAt.set(e.id, performance.now());
        await js.publish(logSubject('pve1'), encodeLogEntry(e), { msgID: e.id });
        nc.publish('bench.latency', new TextEncoder().encode(String(performance.now())));
        await new Promise((r) => setTimeout(r, 10));
      }
      const deadline = Date.now() + 10_000;
      while (tailLat.length < TAIL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      ac.abort();
      sub.unsubscribe();
      await tail.catch(() => undefined);
      await bareDone;
      console.log(`publish → Tail latency (${tailLat.length}/${TAIL} seen; from before the publish call, p50 / p99):`);
      console.log(`  Tail               ${ms(pct(tailLat, 50))} / ${ms(pct(tailLat, 99))}   (goal p99 < 100 ms)`);
      console.log(`  bare NATS sub      ${ms(pct(bareLat, 50))} / ${ms(pct(bareLat, 99))}   (baseline: core publish → subscriber)`);
      client.close();
      await svc.close();
      await nc.close();
    } finally {
      await nats.close();
    }
  }
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
