import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import {
  BoundedQueue,
  ManualClock,
  PalisadeError,
  SILENT_LOGGER,
  abortedByDeadline,
  classifyForeignError,
  createCloser,
  errorFrom,
  exitOnStopSignals,
  formatHostPort,
  isLoopbackHost,
  parseHostPort,
  type CommonErrorCode,
} from './index.js';

type DemoCode = 'not-found' | CommonErrorCode;
class DemoError extends PalisadeError<DemoCode, { path?: string }> {}

describe('errors', () => {
  it('keeps code, typed context, cause and the subclass name', () => {
    const cause = new Error('disk');
    const e = new DemoError('not-found', 'no such document', { path: 'firewall/1.fw' }, { cause });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.context.path, e.cause]).toEqual(['DemoError', 'not-found', 'firewall/1.fw', cause]);
  });

  it('maps aborts, timeouts and refused connections, not everything to internal', async () => {
    const aborted = new AbortController();
    aborted.abort();
    expect(classifyForeignError(new DOMException('x', 'AbortError'))).toBe('cancelled');
    expect(classifyForeignError(new DOMException('late', 'TimeoutError'))).toBe('deadline-exceeded');
    expect(classifyForeignError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe('unavailable');
    expect(classifyForeignError(new TypeError('bug'))).toBe('internal');
    const deadline = AbortSignal.timeout(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(abortedByDeadline(deadline)).toBe(true);
    expect(abortedByDeadline(aborted.signal)).toBe(false);
  });

  it('errorFrom returns own errors unchanged and wraps foreign ones with their cause', () => {
    const own = new DemoError('not-found', 'gone');
    expect(errorFrom(DemoError, own)).toBe(own);
    const foreign = new DOMException('stop', 'AbortError');
    const wrapped = errorFrom(DemoError, foreign, 'watch');
    expect([wrapped.code, wrapped.message, wrapped.cause]).toEqual(['cancelled', 'watch: stop', foreign]);
  });
});

describe('createCloser', () => {
  it('closes once, however often close() is called', async () => {
    const graceful = vi.fn(() => Promise.resolve());
    const c = createCloser({ graceful, force: () => undefined, graceMs: 1000, clock: new ManualClock() });
    const [a, b] = [c.close(), c.close()];
    expect(a).toBe(b);
    await a;
    await c.closed();
    expect(graceful).toHaveBeenCalledTimes(1);
  });

  it('forces after the grace period, and the graceful stop sees the abort', async () => {
    const clock = new ManualClock();
    let release!: () => void;
    const force = vi.fn(() => release());
    let sawAbort = false;
    const c = createCloser({
      graceful: async (signal) => {
        await new Promise<void>((r) => (release = r));
        sawAbort = signal.aborted;
      },
      force,
      graceMs: 5000,
      clock,
      logger: SILENT_LOGGER,
    });
    const done = c.close();
    clock.advance(4999);
    expect(force).not.toHaveBeenCalled();
    clock.advance(1);
    await done;
    expect(force).toHaveBeenCalledTimes(1);
    expect(sawAbort).toBe(true);
  });

  it('force() ends the grace period at once', async () => {
    let release!: () => void;
    const c = createCloser({ graceful: () => new Promise<void>((r) => (release = r)), force: () => release(), graceMs: 60_000, clock: new ManualClock() });
    c.force();
    await c.closed();
    expect(c.closing).toBe(true);
  });
});

describe('exitOnStopSignals', () => {
  it('exits 0 after a graceful close, 1 at once on a second signal', async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    let release!: () => void;
    const force = vi.fn();
    const service = { close: () => new Promise<void>((r) => (release = r)), closed: () => Promise.resolve(), force };
    exitOnStopSignals(service, { logger: SILENT_LOGGER, signals, exit: (c) => exits.push(c) });
    signals.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([]);
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);
    expect(force).toHaveBeenCalled();
    release();
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual([1, 0]);
  });
});

describe('BoundedQueue', () => {
  it('drop-oldest keeps the newest items and counts the dropped', () => {
    const q = new BoundedQueue<number>({ maxItems: 3, overflow: 'drop-oldest' });
    for (let i = 1; i <= 5; i++) expect(q.push(i)).toBe(true);
    expect(q.drain()).toEqual([3, 4, 5]);
    expect(q.stats).toEqual({ pending: 0, pendingBytes: 0, accepted: 5, dropped: 2 });
  });

  it('drop-newest and reject refuse the pushed item', () => {
    for (const overflow of ['drop-newest', 'reject'] as const) {
      const q = new BoundedQueue<number>({ maxItems: 2, overflow });
      expect([q.push(1), q.push(2), q.push(3)]).toEqual([true, true, false]);
      expect(q.drain()).toEqual([1, 2]);
      expect(q.stats.dropped).toBe(1);
    }
  });

  it('bounds bytes as well as items, but always takes one item into an empty queue', () => {
    const q = new BoundedQueue<string>({ maxItems: 100, maxBytes: 10, sizeOf: (s) => s.length, overflow: 'drop-newest' });
    expect(q.push('123456')).toBe(true);
    expect(q.push('123456')).toBe(false);
    expect(q.push('1234')).toBe(true);
    expect(q.stats.pendingBytes).toBe(10);
    q.drain();
    expect(q.push('x'.repeat(50))).toBe(true);
  });

  it('pushWait waits for room (back-pressure) and can be aborted', async () => {
    const q = new BoundedQueue<number>({ maxItems: 1, overflow: 'reject' });
    q.push(1);
    let pushed = false;
    const p = q.pushWait(2).then(() => (pushed = true));
    await new Promise((r) => setImmediate(r));
    expect(pushed).toBe(false);
    expect(q.shift()).toBe(1);
    await p;
    expect(q.shift()).toBe(2);
    q.push(3);
    const ac = new AbortController();
    const waiting = q.pushWait(4, ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'cancelled' });
    expect(q.drain()).toEqual([3]);
  });

  it('iterates until closed, delivering what was pending first', async () => {
    const q = new BoundedQueue<number>({ maxItems: 10, overflow: 'reject' });
    q.push(1);
    setTimeout(() => {
      q.push(2);
      q.close();
    }, 5);
    const seen: number[] = [];
    for await (const n of q) seen.push(n);
    expect(seen).toEqual([1, 2]);
    expect(() => q.push(3)).toThrow(/closed/);
  });

  it('ready() waits for an item without taking it, and ends at close', async () => {
    const q = new BoundedQueue<number>({ maxItems: 10, overflow: 'reject' });
    let woke = false;
    const waiting = q.ready().then(() => (woke = true));
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(false);
    q.push(7);
    await waiting;
    expect(q.drain()).toEqual([7]);
    const closedWait = q.ready();
    q.close();
    await closedWait;
    expect(q.size).toBe(0);
  });

  it('refuses a nonsensical bound', () => {
    expect(() => new BoundedQueue({ maxItems: 0, overflow: 'reject' })).toThrow(/maxItems/);
  });
});

describe('addresses', () => {
  it('parses and formats host:port, naming the field in errors', () => {
    expect(parseHostPort('[::1]:7400')).toEqual({ host: '::1', port: 7400 });
    expect(parseHostPort('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(() => parseHostPort('host', '--metrics')).toThrow("--metrics: expected HOST:PORT, got 'host'");
    expect(() => parseHostPort('h:70000')).toThrow(/expected HOST:PORT/);
    expect(formatHostPort('::1', 1)).toBe('[::1]:1');
    expect([isLoopbackHost('127.0.0.9'), isLoopbackHost('::1'), isLoopbackHost('10.0.0.1')]).toEqual([true, true, false]);
  });
});
