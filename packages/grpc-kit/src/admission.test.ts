/** Admission before the body, per-method receive limits and stream flow control, against real grpc-js on loopback. */
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { KIT_STATUS, TokenAuthenticator, createGrpcServer, createRpcHandlers, createStatusMapper, parseTokensFile, tokenAdmission, type GrpcServer } from './index.js';

let decoded = 0;
const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer): unknown => {
    decoded++;
    return JSON.parse(b.toString('utf8'));
  },
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
const PROBE = { put: method('Put', false), bulk: method('Bulk', false), feed: method('Feed', true) } satisfies grpc.ServiceDefinition;
const ProbeClient = grpc.makeGenericClientConstructor(PROBE, 'Probe');
const ADMIN = 'admin-secret-0123456789';
const toServiceError = createStatusMapper<never>({ statusOf: KIT_STATUS, trailer: (e) => ({ 'demo-code': e.code }) });

let server: GrpcServer | undefined;
let client: grpc.Client | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await server?.close();
  server = undefined;
});

/** A server with a 64 KiB limit, 8 MiB for Bulk, tokens checked before the body; `produced` counts Feed messages. */
async function start(maxConcurrentStreams = 100): Promise<{ c: grpc.Client; produced: () => number; address: string }> {
  const auth = new TokenAuthenticator(parseTokensFile(`root admin ${ADMIN}\n`, ['admin'] as const), { admin: ['write'] });
  const s = createGrpcServer({
    listen: '127.0.0.1:0',
    authenticated: true,
    logger: SILENT_LOGGER,
    maxReceiveBytes: 64 * 1024,
    maxReceiveBytesByMethod: { '/test.v1.Probe/Bulk': 8 * 1024 * 1024 },
    admit: tokenAdmission(auth, toServiceError, SILENT_LOGGER),
    maxConcurrentStreams,
  });
  const h = createRpcHandlers({ auth, logger: SILENT_LOGGER, toServiceError, draining: s.draining, forced: s.forced });
  let produced = 0;
  s.addService(PROBE, {
    put: h.unary('write', () => ({ ok: true })),
    bulk: h.unary('write', () => ({ ok: true })),
    feed: h.serverStream(
      'write',
      async function* (_req, ctx) {
        while (!ctx.signal.aborted && produced < 10_000) {
          produced++;
          yield { blob: 'x'.repeat(100_000) };
          await new Promise((r) => setImmediate(r));
        }
      },
      { sizeOf: () => 100_000, maxBufferedBytes: 256 * 1024 },
    ),
  });
  const { address } = await s.listen();
  server = s;
  client = new ProbeClient(address, grpc.credentials.createInsecure());
  return { c: client, produced: () => produced, address };
}

function call(c: grpc.Client, name: 'put' | 'bulk', req: object, token?: string): Promise<grpc.ServiceError | null> {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    (c as unknown as Record<string, (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => void>)[name]!(
      req,
      md,
      { deadline: Date.now() + 20_000 },
      (err) => resolve(err),
    );
  });
}

/** A Feed call as a raw HTTP/2 stream that never reads. */
function rawFeed(session: http2.ClientHttp2Session): http2.ClientHttp2Stream {
  const body = Buffer.from('{}');
  const req = session.request({ ':method': 'POST', ':path': '/test.v1.Probe/Feed', 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${ADMIN}` });
  req.pause();
  req.on('error', () => undefined);
  req.end(Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]));
  return req;
}

/** A Put as a raw HTTP/2 stream on `session`: its grpc-status. */
function rawPut(session: http2.ClientHttp2Session): Promise<number> {
  const body = Buffer.from('{}');
  const req = session.request({ ':method': 'POST', ':path': '/test.v1.Probe/Put', 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${ADMIN}` });
  req.end(Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]));
  return new Promise((resolve) => {
    const done = (h: http2.IncomingHttpHeaders): void => {
      if (h['grpc-status'] !== undefined) resolve(Number(h['grpc-status']));
    };
    req.on('response', done);
    req.on('trailers', done);
    req.on('data', () => undefined);
  });
}

describe('admission', () => {
  it('refuses calls beyond the limit per connection, not on other connections, and frees the slot when a call ends', async () => {
    const { address } = await start(2);
    const one = http2.connect(`http://${address}`);
    const other = http2.connect(`http://${address}`);
    try {
      const feeds = [rawFeed(one), rawFeed(one)];
      await new Promise((r) => setTimeout(r, 300));
      expect(await rawPut(one)).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(await rawPut(other)).toBe(grpc.status.OK);
      feeds[0]!.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(await rawPut(one)).toBe(grpc.status.OK);
    } finally {
      one.destroy();
      other.destroy();
    }
  });

  it('refuses a tokenless call from its headers without reading its body', async () => {
    const { c } = await start();
    decoded = 0;
    const err = await call(c, 'bulk', { blob: 'x'.repeat(6 * 1024 * 1024) });
    expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err?.details).toMatch(/missing token/);
    expect(err?.metadata.get('demo-code')).toEqual(['unauthenticated']);
    expect((await call(c, 'put', {}, 'wrong-secret-0123456789'))?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(decoded).toBe(0);
    // The connection still serves an authenticated call.
    expect(await call(c, 'put', { small: true }, ADMIN)).toBeNull();
  });

  it("applies each method's receive limit before decoding", async () => {
    const { c } = await start();
    decoded = 0;
    const big = { blob: 'x'.repeat(200 * 1024) };
    const err = await call(c, 'put', big, ADMIN);
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(decoded).toBe(0);
    expect(await call(c, 'bulk', big, ADMIN)).toBeNull();
    expect(await call(c, 'put', { small: true }, ADMIN)).toBeNull();
  });

  it('stops pulling a server stream while the client does not read', async () => {
    const { produced, address } = await start();
    // A raw HTTP/2 client that never reads its stream: only the flow-control window is taken.
    const session = http2.connect(`http://${address}`);
    const body = Buffer.from('{}');
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);
    const req = session.request({
      ':method': 'POST',
      ':path': '/test.v1.Probe/Feed',
      'content-type': 'application/grpc',
      te: 'trailers',
      authorization: `Bearer ${ADMIN}`,
    });
    req.pause();
    req.end(frame);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const held = produced();
      expect(held).toBeGreaterThan(0);
      // 100 kB messages: the 256 KiB bound and one message in the window.
      expect(held).toBeLessThanOrEqual(5);
    } finally {
      req.close();
      session.destroy();
    }
  });
});
