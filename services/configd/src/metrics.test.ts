/**
 * `--metrics`: the Prometheus endpoint of a configd, scraped after writes, a refused write, an
 * unauthenticated call and an open watch.
 */
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokensFile } from './rpc/auth.js';
import { NO_VALIDATION } from './store/document-validator.js';
import { collectWatch, rejects, startTestConfigd, text, type TestConfigd } from './test-harness.js';

const ADMIN = 'admin-secret-0123456789';
let nats: NatsClusterHandle;
let node: TestConfigd;

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  node = await startTestConfigd({
    natsServers: nats.urls,
    validator: NO_VALIDATION,
    metricsListen: '127.0.0.1:0',
    tokens: parseTokensFile(`root admin ${ADMIN}\n`),
  });
});

afterAll(async () => {
  await node?.close();
  await nats?.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`http://${node.configd.metricsAddress}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

function value(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

describe('configd metrics', () => {
  it('counts writes by result and code, refusals by code, write latency, mirror revision, lag, watch streams and the follower queue', async () => {
    const labels = 'service="configd",node="pve1"';
    await node.call('put', { path: 'firewall/100.fw', content: text('[OPTIONS]\nenable: 1\n') }, ADMIN);
    const second = await node.call('put', { path: 'firewall/100.fw', content: text('[OPTIONS]\nenable: 0\n') }, ADMIN);
    expect((await rejects(node.call('put', { path: 'firewall/100.fw', content: text('x'), expectedRevision: 1 }, ADMIN))).code).toBe('conflict');
    expect((await rejects(node.call('get', { path: 'firewall/100.fw' }))).code).toBe('unauthenticated');
    const watch = node.watch({ prefixes: ['firewall/'] }, ADMIN);
    await collectWatch(watch, (events) => events.length >= 2).catch(() => undefined);
    const open = node.watch({ prefixes: ['firewall/'] }, ADMIN);
    open.on('error', () => undefined);
    await expect.poll(async () => value(await scrape(), `palisade_configd_watch_streams{${labels}}`), { timeout: 5000 }).toBe(1);
    const m = await scrape();
    open.cancel();
    expect(value(m, `palisade_configd_writes_total{result="ok",code="",${labels}}`)).toBe(2);
    expect(value(m, `palisade_configd_writes_total{result="refused",code="conflict",${labels}}`)).toBe(1);
    expect(value(m, `palisade_configd_refusals_total{code="conflict",${labels}}`)).toBe(1);
    expect(value(m, `palisade_configd_refusals_total{code="unauthenticated",${labels}}`)).toBe(1);
    expect(value(m, `palisade_configd_write_duration_seconds_count{${labels}}`)).toBe(3);
    expect(value(m, `palisade_configd_mirror_revision{${labels}}`)).toBe(second.meta!.revision);
    expect(value(m, `palisade_configd_mirror_lag_revisions{${labels}}`)).toBeGreaterThanOrEqual(0);
    expect(value(m, `palisade_configd_follower_queue_pending{${labels}}`)).toBe(0);
    expect(value(m, `palisade_configd_follower_queue_dropped{${labels}}`)).toBe(0);
    expect(m).toContain('process_cpu_seconds_total');
  });
});
