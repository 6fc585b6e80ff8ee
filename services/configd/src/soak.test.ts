/**
 * Fuzz/soak: every RPC of configd (DocumentService and FirewallService, read from the service
 * definitions, so a new method is included) driven with random valid and invalid requests from
 * several tokens (admin, reader, agent, an unknown one, none), plus undecodable bytes, 16 calls
 * at a time for a bounded count and time. Seeded: the same calls on every run (SOAK_SEED picks
 * another sequence). Every call must answer before its deadline with a status, none with
 * INTERNAL, and configd's process memory must stay under the stated bound.
 */
import * as grpc from '@grpc/grpc-js';
import * as api from '@palisade/api';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokensFile } from './rpc/auth.js';
import { startTestConfigd, text, type TestConfigd } from './test-harness.js';

const TOKENS = parseTokensFile(['root admin root-secret-0123456789', 'ro reader ro-secret-0123456789', 'ag agent ag-secret-0123456789'].join('\n'));
const CALLERS = ['root-secret-0123456789', 'ro-secret-0123456789', 'ag-secret-0123456789', 'nobody-secret-0123456789', undefined];
const CALLS = Number(process.env.SOAK_CALLS ?? 1200);
const MAX_MS = 90_000;
const CONCURRENCY = 16;
const DEADLINE_MS = 20_000;
const RSS_BOUND_MIB = 512;
const MiB = 1024 * 1024;

/** mulberry32: a small seeded generator. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLUSTER = '[OPTIONS]\nenable: 1\n\n[ALIASES]\nlan 10.0.0.0/8\n\n[IPSET blocked]\n192.0.2.1\n\n[RULES]\nIN ACCEPT -p tcp -dport 22\n';
const GUEST = '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 443\nOUT DROP -dest 198.51.100.0/24\n';

function generator(rnd: () => number) {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (max: number): number => Math.floor(rnd() * max);
  const str = (): string =>
    pick([
      '',
      'lan',
      'blocked',
      'g1',
      '10.0.0.1',
      '10.0.0.0/33',
      'not a cidr',
      'IN',
      'OUT',
      'ACCEPT',
      'DROP',
      'tcp',
      '22',
      '1:65536',
      'x'.repeat(int(300)),
      'ü\u0000\u202e',
      'y'.repeat(int(2) === 0 ? 70_000 : 10),
    ]);
  const path = (): string =>
    pick([
      'firewall/cluster.fw',
      'firewall/100.fw',
      'firewall/101.fw',
      'nodes/pve1/host.fw',
      'nodes/pve1/qemu-server/100.conf',
      'corosync.conf',
      'firewall/',
      '../etc/passwd',
      '/abs/path',
      '',
      `firewall/${'a'.repeat(int(5000))}.fw`,
      'firewall/\u0000.fw',
    ]);
  const content = (): Buffer => {
    switch (int(6)) {
      case 0:
        return text(CLUSTER);
      case 1:
        return text(GUEST);
      case 2:
        return text(`[RULES]\n${Array.from({ length: 1 + int(300) }, (_, i) => `IN ACCEPT -p tcp -dport ${60_000 + i * 7}`).join('\n')}\n`);
      case 3:
        return Buffer.from(Array.from({ length: int(4096) }, () => int(256)));
      case 4:
        return Buffer.alloc(int(3) === 0 ? 1024 * 1024 + 1 : int(200_000), 0x23);
      default:
        return Buffer.alloc(0);
    }
  };
  const num = (): number => pick([0, 1, 2, 3, int(50), int(1000), 2 ** 31, Number.MAX_SAFE_INTEGER]);
  const scope = (): object =>
    pick([
      { target: { $case: 'cluster', value: true } },
      { target: { $case: 'vmid', value: pick([100, 101, 0, 999_999_999]) } },
      { target: { $case: 'node', value: pick(['pve1', '', 'bad node!']) } },
      { target: { $case: 'vnet', value: pick(['vnet1', '']) } },
      {},
    ]);
  /** Fields of every request type; each type's fromPartial keeps the ones it has. */
  const request = (): Record<string, unknown> => ({
    path: path(),
    prefix: pick(['', 'firewall/', 'nodes/', 'nope/', '../']),
    prefixes: pick([[], ['firewall/'], [''], Array.from({ length: 70 }, () => 'firewall/')]),
    content: content(),
    documents: Array.from({ length: int(4) }, () => ({ path: path(), content: content() })),
    revision: num(),
    minRevision: pick([0, 0, num()]),
    fromRevision: num(),
    toRevision: num(),
    startRevision: pick([0, 1, num()]),
    contextLines: pick([undefined, 0, 3, 100_000]),
    expectedRevision: pick([undefined, 0, num()]),
    expectedDigest: pick(['', 'abc', 'f'.repeat(64)]),
    createOnly: rnd() < 0.2,
    force: rnd() < 0.3,
    dryRun: rnd() < 0.5,
    includeContent: rnd() < 0.5,
    metadataOnly: rnd() < 0.5,
    limit: num(),
    message: pick(['', 'fuzz', 'm'.repeat(int(2) ? 10 : 100_000)]),
    progressIntervalMs: pick([0, 1, 100]),
    scope: scope(),
    group: pick(['', 'g1', 'no-such-group', str()]),
    name: str(),
    cidr: str(),
    comment: str(),
    rename: pick(['', str()]),
    nomatch: rnd() < 0.2,
    pos: num(),
    to: num(),
    type: pick(['', 'in', 'out', 'group', str()]),
    rule: { by: pick([{ $case: 'pos', value: num() }, { $case: 'id', value: str() }, undefined]), type: pick(['in', 'out', 'group', str()]), action: pick(['ACCEPT', 'DROP', 'g1', str()]), proto: str(), dport: str(), source: str(), enable: int(3) },
    set: pick([{}, { enable: '1' }, { policy_in: 'DROP' }, { [str()]: str() }]),
    delete: pick([[], ['comment'], [str()]]),
    precondition: pick([undefined, { digest: str() }, { expectedRevision: num() }]),
    confirmWindowMs: pick([0, 0, 1000, num()]),
    changeRevision: num(),
  });
  return { pick, int, request, rnd };
}

type Method = { path: string; responseStream: boolean; requestSerialize: (v: never) => Buffer };
const requestTypes = api as unknown as Record<string, { fromPartial(o: object): object } | undefined>;

function methodsOf(service: Record<string, Method>): { name: string; method: Method; type: { fromPartial(o: object): object } }[] {
  return Object.entries(service).map(([name, method]) => {
    const typeName = `${name[0]!.toUpperCase()}${name.slice(1)}Request`;
    const type = requestTypes[typeName];
    if (!type) throw new Error(`no request type ${typeName} for ${method.path}`);
    return { name, method, type };
  });
}

interface Outcome {
  readonly method: string;
  readonly code: grpc.status;
  readonly details: string;
  /** Whether the status came with configd's ErrorDetail trailer (a refusal by configd, not by the transport). */
  readonly fromConfigd: boolean;
}
const fromConfigd = (md: grpc.Metadata | undefined): boolean => (md?.get(api.ERROR_DETAIL_METADATA_KEY).length ?? 0) > 0;

let nats: NatsClusterHandle;
let cd: TestConfigd;
beforeAll(async () => {
  nats = await startNats();
  cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'soak', tokens: TOKENS, maxConcurrentDiffs: 2 });
}, 60_000);
afterAll(async () => {
  await cd?.close();
  await nats?.close();
});

describe('fuzz/soak', () => {
  it(`answers ${CALLS} random calls to every RPC from five callers within ${RSS_BOUND_MIB} MiB`, async () => {
    const seed = Number(process.env.SOAK_SEED ?? 14);
    const g = generator(seeded(seed));
    const methods = [...methodsOf(api.DocumentServiceService), ...methodsOf(api.FirewallServiceService)];
    const client = new grpc.Client(cd.address, grpc.credentials.createInsecure());
    const raw = (b: Buffer): Buffer => b;
    const outcomes: Outcome[] = [];
    const rssBefore = process.memoryUsage().rss / MiB;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / MiB)), 100);
    const started = Date.now();
    const one = (): Promise<Outcome> => {
      const { name, method, type } = g.pick(methods);
      const token = g.pick(CALLERS);
      const md = new grpc.Metadata();
      if (token) md.set('authorization', `Bearer ${token}`);
      let body: Buffer;
      try {
        // One call in twenty sends bytes that are not a protobuf message.
        body = g.rnd() < 0.05 ? Buffer.from(Array.from({ length: 1 + g.int(64) }, () => g.int(256))) : method.requestSerialize(type.fromPartial(g.request()) as never);
      } catch {
        body = Buffer.alloc(0);
      }
      const deadline = Date.now() + DEADLINE_MS;
      return new Promise((resolve) => {
        if (method.responseStream) {
          const stream = client.makeServerStreamRequest(method.path, raw, raw, body, md, { deadline });
          // A watch is ended by this client after a moment: that cancel counts as an answer.
          const stop = setTimeout(() => stream.cancel(), 200 + g.int(300));
          stream.on('data', () => undefined);
          stream.on('status', (s: grpc.StatusObject) => {
            clearTimeout(stop);
            resolve({ method: name, code: s.code === grpc.status.CANCELLED ? grpc.status.OK : s.code, details: s.details, fromConfigd: fromConfigd(s.metadata) });
          });
          stream.on('error', () => undefined);
          return;
        }
        client.makeUnaryRequest(method.path, raw, raw, body, md, { deadline }, (err) =>
          resolve({ method: name, code: err ? err.code : grpc.status.OK, details: err ? err.details : '', fromConfigd: fromConfigd(err?.metadata) }),
        );
      });
    };
    try {
      let issued = 0;
      const worker = async (): Promise<void> => {
        while (issued < CALLS && Date.now() - started < MAX_MS) {
          issued++;
          outcomes.push(await one());
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      clearInterval(sampler);
      client.close();
    }
    const byCode = new Map<number, number>();
    for (const o of outcomes) byCode.set(o.code, (byCode.get(o.code) ?? 0) + 1);
    // configd may answer "unavailable" (a future min_revision) or "outcome unknown" itself; the transport may not.
    const unanswered = outcomes.filter((o) => o.code === grpc.status.DEADLINE_EXCEEDED || (o.code === grpc.status.UNAVAILABLE && !o.fromConfigd));
    const internal = outcomes.filter((o) => o.code === grpc.status.INTERNAL || (o.code === grpc.status.UNKNOWN && !o.fromConfigd));
    expect(outcomes.length).toBeGreaterThanOrEqual(Math.min(CALLS, 200));
    expect(unanswered.slice(0, 5)).toEqual([]);
    expect(internal.slice(0, 5)).toEqual([]);
    // Both answers and refusals happened: the generator reaches past validation.
    expect(byCode.get(grpc.status.OK) ?? 0).toBeGreaterThan(0);
    expect(byCode.get(grpc.status.UNAUTHENTICATED) ?? 0).toBeGreaterThan(0);
    expect(byCode.get(grpc.status.INVALID_ARGUMENT) ?? 0).toBeGreaterThan(0);
    console.log('SOAK', outcomes.length, 'calls in', Date.now() - started, 'ms; codes', JSON.stringify([...byCode].sort((a, b) => a[0] - b[0])), 'rss growth', (peak - rssBefore).toFixed(0), 'MiB');
    expect(peak - rssBefore).toBeLessThan(RSS_BOUND_MIB);
    // configd still answers normally afterwards.
    expect((await cd.call('status', {}, 'root-secret-0123456789')).quorate).toBe(true);
  }, 180_000);
});
