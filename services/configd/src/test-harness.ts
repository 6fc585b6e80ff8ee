/**
 * Test harness: configd instances on real NATS servers, and a promise-based gRPC client that
 * decodes Palisade's ErrorDetail trailer. Used by the *.test.ts files only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError, type ClientReadableStream } from '@grpc/grpc-js';
import {
  DeleteRequest,
  DiffRequest,
  GetRequest,
  HistoryRequest,
  ImportRequest,
  ListRequest,
  PutRequest,
  RollbackRequest,
  StatusRequest,
  WatchRequest as WatchRequestType,
  DocumentServiceClient,
  ERROR_DETAIL_METADATA_KEY,
  ErrorDetail,
  type WatchRequest,
  type WatchResponse,
} from '@palisade/api';
import { pino } from 'pino';
import { createConfigd, type Configd } from './app.js';
import type { ConfigdOptions } from './options.js';
import type { TokenEntry } from './rpc/auth.js';

export interface TestConfigd {
  readonly configd: Configd;
  readonly client: DocumentServiceClient;
  readonly dataDir: string;
  /** Calls a unary method; rejects with a `CallError`. */
  call<M extends UnaryMethod>(method: M, request: RequestOf<M>, token?: string): Promise<ResponseOf<M>>;
  watch(request: Partial<WatchRequest>, token?: string): ClientReadableStream<WatchResponse>;
  close(): Promise<void>;
}

type UnaryMethod = 'get' | 'put' | 'delete' | 'list' | 'history' | 'diff' | 'rollback' | 'status' | 'import';
type Fn<M extends UnaryMethod> = DocumentServiceClient[M] extends {
  (request: infer Q, metadata: Metadata, callback: (error: ServiceError | null, response: infer R) => void): unknown;
}
  ? [Q, R]
  : never;
export type RequestOf<M extends UnaryMethod> = Partial<Fn<M>[0]>;
export type ResponseOf<M extends UnaryMethod> = Fn<M>[1];

/** A failed call: gRPC code, details and the decoded ErrorDetail. */
export class CallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    readonly detail: ErrorDetail | undefined,
  ) {
    super(`${code} ${details}`);
  }
}

export function toCallError(err: ServiceError): CallError {
  const raw = err.metadata?.get(ERROR_DETAIL_METADATA_KEY)[0];
  const detail = raw && typeof raw !== 'string' ? ErrorDetail.decode(raw) : undefined;
  return new CallError(err.code, err.details, detail);
}

export function bearer(token?: string): Metadata {
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

const REQUEST_TYPES: Record<UnaryMethod, { fromPartial(o: object): unknown }> = {
  get: GetRequest,
  put: PutRequest,
  delete: DeleteRequest,
  list: ListRequest,
  history: HistoryRequest,
  diff: DiffRequest,
  rollback: RollbackRequest,
  status: StatusRequest,
  import: ImportRequest,
};

const logLevel = process.env.CONFIGD_TEST_LOG ?? 'silent';

export async function startTestConfigd(
  opts: Partial<Omit<ConfigdOptions, 'logger'>> & { natsServers: readonly string[]; tokens?: readonly TokenEntry[] },
): Promise<TestConfigd> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'palisade-configd-'));
  const node = opts.node ?? 'pve1';
  const configd = await createConfigd({
    listen: '127.0.0.1:0',
    shutdownGraceMs: 1000,
    ...opts,
    node,
    dataDir,
    logger: pino({ level: logLevel, base: { node } }),
  });
  await configd.replication.whenReady(30_000);
  const client = new DocumentServiceClient(configd.address, credentials.createInsecure());
  const call = <M extends UnaryMethod>(method: M, request: RequestOf<M>, token?: string): Promise<ResponseOf<M>> =>
    new Promise((resolve, reject) => {
      const fn = client[method] as unknown as (
        req: unknown,
        md: Metadata,
        opts: { deadline: number },
        cb: (e: ServiceError | null, r: unknown) => void,
      ) => void;
      fn.call(client, REQUEST_TYPES[method].fromPartial(request), bearer(token), { deadline: Date.now() + 20_000 }, (e, r) => (e ? reject(toCallError(e)) : resolve(r as ResponseOf<M>)));
    });
  return {
    configd,
    client,
    dataDir,
    call,
    watch: (request, token) => client.watch(WatchRequestType.fromPartial(request), bearer(token)),
    close: async () => {
      client.close();
      await configd.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects watch events until `until` returns true (or the timeout passes). */
export function collectWatch(
  stream: ClientReadableStream<WatchResponse>,
  until: (events: WatchResponse[]) => boolean,
  timeoutMs = 10_000,
): Promise<WatchResponse[]> {
  const events: WatchResponse[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      stream.cancel();
      reject(new Error(`watch: condition not met after ${timeoutMs} ms; got ${events.length} events`));
    }, timeoutMs);
    stream.on('data', (ev: WatchResponse) => {
      events.push(ev);
      if (until(events)) {
        clearTimeout(t);
        stream.cancel();
        resolve(events);
      }
    });
    stream.on('error', (err: ServiceError) => {
      clearTimeout(t);
      if (err.code === 1) resolve(events);
      else reject(toCallError(err));
    });
  });
}

export const text = (s: string): Buffer => Buffer.from(s, 'utf8');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
