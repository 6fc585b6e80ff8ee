import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SILENT_LOGGER, createMetricsRegistry, startMetricsServer, startOptionalMetricsServer, type MetricsServer } from './index.js';

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('metrics endpoint', () => {
  it('serves the registry as Prometheus text on GET /metrics, 404 elsewhere', async () => {
    const registry = createMetricsRegistry({ service: 'configd', node: 'pve1' });
    const writes = new Counter({ name: 'palisade_test_writes_total', help: 'writes', registers: [registry] });
    writes.inc(3);
    server = await startMetricsServer('127.0.0.1:0', registry);
    const res = await fetch(`http://${server.address}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('palisade_test_writes_total{service="configd",node="pve1"} 3');
    expect(text).toContain('process_cpu_seconds_total');
    expect((await fetch(`http://${server.address}/other`)).status).toBe(404);
  });

  it('names the address it cannot bind', async () => {
    const registry = createMetricsRegistry({ service: 'x', node: 'n' });
    server = await startMetricsServer('127.0.0.1:0', registry);
    await expect(startMetricsServer(server.address, registry)).rejects.toThrow(`cannot serve metrics on ${server.address}`);
  });

  it('optional: nothing without an address; a failed start undoes what the service started and throws its error', async () => {
    const registry = createMetricsRegistry({ service: 'x', node: 'n' });
    let undone = 0;
    const o = { undo: () => Promise.resolve(void undone++), wrap: (err: Error) => new RangeError(`service: ${err.message}`), logger: SILENT_LOGGER };
    expect(await startOptionalMetricsServer(undefined, registry, o)).toBeUndefined();
    server = await startOptionalMetricsServer('127.0.0.1:0', registry, o);
    expect((await fetch(`http://${server!.address}/metrics`)).status).toBe(200);
    await expect(startOptionalMetricsServer(server!.address, registry, o)).rejects.toThrow(RangeError);
    await expect(startOptionalMetricsServer(server!.address, registry, o)).rejects.toThrow(`service: cannot serve metrics on ${server!.address}`);
    expect(undone).toBe(2);
  });
});
