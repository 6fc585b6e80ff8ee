/** The kit against a real grpc-js client and server on loopback, with a JSON-coded test service. */
import * as grpc from '@grpc/grpc-js';
import { PalisadeError, SILENT_LOGGER } from '@palisade/service-kit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KIT_STATUS,
  TokenAuthenticator,
  createGrpcServer,
  createRpcHandlers,
  createStatusMapper,
  parseTokensFile,
  type GrpcServer,
} from './index.js';

const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer): unknown => JSON.parse(b.toString('utf8')),
};
const method = (name: string, responseStream: boolean) => ({
  path: `/test.v1.Probe/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const PROBE = { wait: method('Wait', false), write: method('Write', false), count: method('Count', true) } satisfies grpc.ServiceDefinition;
const ProbeClient = grpc.makeGenericClientConstructor(PROBE, 'Probe');

type Role = 'admin' | 'reader';
type Permission = 'read' | 'write';
class DemoError extends PalisadeError<'not-found' | 'internal'> {}
const toServiceError = createStatusMapper<'not-found'>({
  statusOf: { ...KIT_STATUS, 'not-found': grpc.status.NOT_FOUND },
  trailer: (e) => ({ 'demo-code': e.code }),
});
const ADMIN = 'admin-secret-0123456789';
const READER = 'reader-secret-0123456789';

interface Observed {
  reason?: unknown;
  remainingMs?: number;
}
let server: GrpcServer | undefined;
let client: grpc.Client | undefined;

async function start(opts: { tokens?: boolean; graceMs?: number } = {}): Promise<{ client: grpc.Client; observed: Observed; server: GrpcServer }> {
  const s = createGrpcServer({ listen: '127.0.0.1:0', authenticated: opts.tokens ?? true, logger: SILENT_LOGGER, shutdownGraceMs: opts.graceMs ?? 2000 });
  const tokens = opts.tokens === false ? undefined : parseTokensFile(`root admin ${ADMIN}\nro reader ${READER}\n`, ['admin', 'reader'] as const);
  const auth = new TokenAuthenticator<Role, Permission>(tokens, { admin: ['read', 'write'], reader: ['read'] });
  const h = createRpcHandlers({ auth, logger: SILENT_LOGGER, toServiceError, draining: s.draining, forced: s.forced });
  const observed: Observed = {};
  s.addService(PROBE, {
    wait: h.unary('read', async (req: { ms?: number; fail?: string }, ctx) => {
      observed.remainingMs = ctx.remainingMs();
      if (req.fail === 'not-found') throw new DemoError('not-found', 'no such thing');
      if (req.fail === 'abort') throw new DOMException('gone', 'AbortError');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, req.ms ?? 0);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          observed.reason = ctx.signal.reason;
          resolve();
        });
      });
      return { by: ctx.principal.name };
    }),
    write: h.unary('write', () => ({ ok: true })),
    count: h.serverStream('read', async function* (req: { n: number }, ctx) {
      for (let i = 0; i < req.n; i++) {
        yield { i };
        await new Promise((r) => setTimeout(r, 20));
        if (ctx.signal.aborted) return;
      }
    }),
  });
  const { address } = await s.listen();
  server = s;
  client = new ProbeClient(address, grpc.credentials.createInsecure());
  return { client, observed, server: s };
}

afterEach(async () => {
  client?.close();
  client = undefined;
  await server?.close();
  server = undefined;
});

function call(c: grpc.Client, name: 'wait' | 'write', req: object, token?: string, deadlineMs = 5000): Promise<{ err: grpc.ServiceError | null; res: unknown }> {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    (c as unknown as Record<string, (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void>)[name]!(
      req,
      md,
      { deadline: Date.now() + deadlineMs },
      (err, res) => resolve({ err, res }),
    );
  });
}

describe('grpc-kit', () => {
  it('authenticates tokens and applies the role table', async () => {
    const { client: c } = await start();
    expect((await call(c, 'wait', {})).err?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await call(c, 'wait', {}, 'wrong-secret-0123456789')).err?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await call(c, 'wait', {}, READER)).res).toEqual({ by: 'ro' });
    const denied = await call(c, 'write', {}, READER);
    expect(denied.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(denied.err?.details).toContain("token 'ro' (role reader) may not write");
    expect((await call(c, 'write', {}, ADMIN)).res).toEqual({ ok: true });
  });

  it('names the file and line of a bad tokens file', () => {
    expect(() => parseTokensFile('ok admin 0123456789abcdefgh\nbad boss 0123456789abcdefgh\n', ['admin'], '/etc/palisade/tokens')).toThrow(
      "/etc/palisade/tokens:2: unknown role 'boss' (roles: admin)",
    );
  });

  it("passes the client's deadline to the handler and aborts at it", async () => {
    const { client: c, observed } = await start();
    const r = await call(c, 'wait', { ms: 10_000 }, ADMIN, 300);
    expect(r.err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(observed.remainingMs).toBeLessThanOrEqual(300);
    await new Promise((r) => setTimeout(r, 100));
    expect((observed.reason as DOMException | undefined)?.name).toBe('TimeoutError');
  });

  it('takes many concurrent calls without a MaxListenersExceededWarning on the shutdown signals', async () => {
    const { client: c } = await start();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const results = await Promise.all(Array.from({ length: 32 }, () => call(c, 'wait', { ms: 50 }, ADMIN)));
      expect(results.every((r) => r.err === null)).toBe(true);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('aborts the handler when the client cancels', async () => {
    const { client: c, observed } = await start();
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${ADMIN}`);
    const pending = (c as unknown as { wait: (r: object, m: grpc.Metadata, cb: () => void) => grpc.ClientUnaryCall }).wait({ ms: 10_000 }, md, () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    pending.cancel();
    await new Promise((r) => setTimeout(r, 100));
    expect((observed.reason as DOMException | undefined)?.name).toBe('AbortError');
  });

  it('maps errors in one place: own codes, foreign aborts, trailers', async () => {
    const { client: c } = await start();
    const nf = await call(c, 'wait', { fail: 'not-found' }, ADMIN);
    expect([nf.err?.code, nf.err?.details, nf.err?.metadata.get('demo-code')[0]]).toEqual([grpc.status.NOT_FOUND, 'no such thing', 'not-found']);
    expect((await call(c, 'wait', { fail: 'abort' }, ADMIN)).err?.code).toBe(grpc.status.CANCELLED);
  });

  it('answers a malformed request with INVALID_ARGUMENT', async () => {
    const { client: c } = await start({ tokens: false });
    const raw = c.makeUnaryRequest('/test.v1.Probe/Wait', () => Buffer.from('{not json'), json.deserialize, {}, new grpc.Metadata(), () => undefined);
    const err = await new Promise<grpc.ServiceError>((resolve) => raw.on('status', (s: grpc.StatusObject) => resolve(s as unknown as grpc.ServiceError)));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/malformed request message/);
  });

  it('ends streams when closing, lets unary calls finish, aborts them after the grace period', async () => {
    const { client: c, observed, server: s } = await start({ graceMs: 500 });
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${ADMIN}`);
    const stream = (c as unknown as { count: (r: object, m: grpc.Metadata) => grpc.ClientReadableStream<{ i: number }> }).count({ n: 1000 }, md);
    const received: number[] = [];
    const streamEnded = new Promise<void>((resolve) => {
      stream.on('data', (m: { i: number }) => received.push(m.i));
      stream.on('end', resolve);
      stream.on('error', () => resolve());
    });
    const quick = call(c, 'wait', { ms: 100 }, ADMIN);
    const slow = call(c, 'wait', { ms: 60_000 }, ADMIN, 60_000);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const closed = s.close();
    await streamEnded;
    expect(received.length).toBeLessThan(1000);
    expect((await quick).res).toEqual({ by: 'root' });
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect((await slow).err).not.toBeNull();
    expect((observed.reason as DOMException | undefined)?.name).toBe('AbortError');
    server = undefined;
  });

  it('refuses open access on a non-loopback address', () => {
    expect(() => createGrpcServer({ listen: '0.0.0.0:7400', authenticated: false, logger: SILENT_LOGGER })).toThrow(/only allowed on loopback/);
  });
});
