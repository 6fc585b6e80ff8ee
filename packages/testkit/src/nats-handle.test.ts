/** The nats-server cluster handle is a started handle: `stop()` ends its processes and removes its directories. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startNats } from './nats-server.js';

describe('startNats', () => {
  it('returns a handle whose stop() ends every server and removes its directory (idempotent)', async () => {
    const nats = await startNats();
    const server = nats.servers[0]!;
    const pid = server.pid;
    expect(pid).toBeTypeOf('number');
    expect(existsSync(server.dir)).toBe(true);
    await nats.stop();
    await nats.stop();
    expect(server.running).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    expect(() => process.kill(pid!, 0)).toThrow();
  }, 30_000);
});
