/**
 * Real nats-server processes for tests: a single JetStream server or an N-node JetStream
 * cluster, on free loopback ports, in temporary directories. Each process is stopped by its own
 * PID (never by name) and its directory removed on `close()`/`stop()` (no global exit hook:
 * the test that starts a cluster stops it, in `afterAll`). Faults for tests: `kill()` (SIGKILL), `pause()`/`resume()`
 * (SIGSTOP/SIGCONT), `start()` again to restart; `streamLeader()` finds the server to hit
 * through the monitoring endpoints.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestkitError } from './errors.js';
import type { StartedHandle } from './service-handles.js';
import { makeRouteTls, natsAuthorizationBlock, randomNatsCredentials, type NatsRole, type NatsUserCredentials, type RouteTlsFiles } from './nats-auth.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

let binaryCache: { path: string; version: string } | undefined;

/** Locates nats-server (installing it through scripts/install-nats-server.sh when missing). */
export function natsServerBinary(): { path: string; version: string } {
  if (binaryCache) return binaryCache;
  const path = execFileSync(join(REPO_ROOT, 'scripts/install-nats-server.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const out = execFileSync(path, ['--version'], { encoding: 'utf8' });
  const version = /v?(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? '0.0.0';
  binaryCache = { path, version };
  return binaryCache;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

/**
 * `n` distinct free loopback ports: every socket stays bound until all are chosen, so one batch
 * never returns the same port twice (closing each at once let the kernel hand it out again).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer();
          s.unref();
          s.on('error', rej);
          s.listen(0, '127.0.0.1', () => res(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
  return ports;
}

/**
 * One server of a started cluster, for failure tests: restart, crash (`kill`) or hang (`pause`)
 * it by its own PID. Its directory outlives `stop()` (a restart keeps its data) and goes with the
 * cluster's `close()`.
 */
export interface NatsServerHandle {
  readonly name: string;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the server's monitoring endpoint (`/varz`, `/jsz`, `/healthz`). */
  readonly monitorUrl: string;
  readonly dir: string;
  /** PID of the running process (undefined while stopped). */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Whether the process is paused (SIGSTOP sent, no SIGCONT yet). */
  readonly paused: boolean;
  /** Starts the server again with the same config and data (after stop/kill): a restart. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM; a paused server is continued first), waits for exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
  /** Crash: SIGKILL to this server's PID, waits for exit. */
  kill(): Promise<void>;
  /**
   * Freezes the process (SIGSTOP to its PID): its sockets stay open but nothing answers, like a
   * hung machine. Pair with `resume()` in a `finally`; `stop()`/`close()` also resume it.
   */
  pause(): void;
  /** Continues a paused process (SIGCONT). No-op when not paused. */
  resume(): void;
}

interface ServerSpec {
  name: string;
  port: number;
  httpPort: number;
  clusterPort?: number;
  routes: number[];
  dir: string;
  maxPayload: number;
  syncAlways: boolean;
  /** Lines of the `authorization` block (closed server), or none (open). */
  authorization?: readonly string[];
  /** TLS for cluster routes. */
  routeTls?: RouteTlsFiles;
}

class NatsServer implements NatsServerHandle {
  #child: ChildProcess | undefined;
  #paused = false;
  #exited: Promise<void> = Promise.resolve();
  readonly #spec: ServerSpec;
  readonly #config: string;
  #log = '';

  constructor(spec: ServerSpec) {
    this.#spec = spec;
    const { version } = natsServerBinary();
    mkdirSync(join(spec.dir, 'js'), { recursive: true });
    const lines = [
      `server_name: ${spec.name}`,
      `listen: 127.0.0.1:${spec.port}`,
      `http: 127.0.0.1:${spec.httpPort}`,
      `max_payload: ${spec.maxPayload}`,
      'jetstream {',
      `  store_dir: "${join(spec.dir, 'js')}"`,
      ...(spec.syncAlways && atLeast(version, 2, 10) ? ['  sync_interval: always'] : []),
      '}',
    ];
    if (spec.clusterPort !== undefined) {
      lines.push(
        'cluster {',
        '  name: palisade-test',
        `  listen: 127.0.0.1:${spec.clusterPort}`,
        `  routes: [${spec.routes.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}]`,
        ...(spec.routeTls
          ? [
              '  tls {',
              `    cert_file: "${spec.routeTls.certFile}"`,
              `    key_file: "${spec.routeTls.keyFile}"`,
              `    ca_file: "${spec.routeTls.caFile}"`,
              '    verify: true',
              '    timeout: 5',
              '  }',
            ]
          : []),
        '}',
      );
    }
    if (spec.authorization) lines.push(...spec.authorization);
    this.#config = join(spec.dir, 'nats.conf');
    writeFileSync(this.#config, lines.join('\n') + '\n');
  }

  get name(): string {
    return this.#spec.name;
  }
  get url(): string {
    return `nats://127.0.0.1:${this.#spec.port}`;
  }
  get port(): number {
    return this.#spec.port;
  }
  get monitorUrl(): string {
    return `http://127.0.0.1:${this.#spec.httpPort}`;
  }
  get dir(): string {
    return this.#spec.dir;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get running(): boolean {
    return this.#child !== undefined;
  }
  get paused(): boolean {
    return this.#paused;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn(natsServerBinary().path, ['-c', this.#config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const keep = (d: Buffer): void => {
      this.#log = (this.#log + d.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((res) =>
      child.once('exit', () => {
        if (this.#child === child) {
          this.#child = undefined;
          this.#paused = false;
        }
        res();
      }),
    );
    await this.#waitListening();
  }

  async #waitListening(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!this.#child) throw new TestkitError('unavailable', `nats-server ${this.name} exited during start:\n${this.#log}`, { server: this.name });
      try {
        const r = await fetch(`http://127.0.0.1:${this.#spec.httpPort}/varz`);
        if (r.ok) return;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new TestkitError('deadline-exceeded', `nats-server ${this.name} did not start:\n${this.#log}`, { server: this.name });
  }

  /** Resolves when JetStream answers healthy on this server (meta leader known). */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`http://127.0.0.1:${this.#spec.httpPort}/healthz?js-enabled-only=true`);
        const j = await fetch(`http://127.0.0.1:${this.#spec.httpPort}/jsz`).then((x) => x.json() as Promise<{ meta_cluster?: { leader?: string } }>);
        if (r.ok && (this.#spec.clusterPort === undefined || j.meta_cluster?.leader)) return;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new TestkitError('deadline-exceeded', `nats-server ${this.name}: JetStream not healthy after ${timeoutMs} ms; its log ends:\n${this.#log.slice(-4000)}`, { server: this.name });
  }

  async #signal(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    // A stopped process keeps SIGTERM pending until it is continued.
    if (signal !== 'SIGKILL') this.resume();
    process.kill(child.pid, signal);
    const t = setTimeout(() => {
      if (child.pid && this.#child === child) try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutMs);
    await this.#exited;
    clearTimeout(t);
  }

  stop(timeoutMs = 5000): Promise<void> {
    return this.#signal('SIGTERM', timeoutMs);
  }

  kill(): Promise<void> {
    return this.#signal('SIGKILL', 5000);
  }

  pause(): void {
    const pid = this.#child?.pid;
    if (!pid || this.#paused) return;
    process.kill(pid, 'SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    const pid = this.#child?.pid;
    if (!pid || !this.#paused) return;
    process.kill(pid, 'SIGCONT');
    this.#paused = false;
  }

  /** This server's `/jsz` view of a stream: its cluster leader as this server sees it. */
  async streamView(stream: string, timeoutMs: number): Promise<{ leader: string } | undefined> {
    if (!this.#child || this.#paused) return undefined;
    try {
      const r = await fetch(`${this.monitorUrl}/jsz?streams=true&config=true`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!r.ok) return undefined;
      const jsz = (await r.json()) as JszResponse;
      for (const acc of jsz.account_details ?? []) {
        for (const sd of acc.stream_detail ?? []) if (sd.name === stream) return { leader: sd.cluster?.leader ?? '' };
      }
    } catch {
      /* not answering */
    }
    return undefined;
  }

  get log(): string {
    return this.#log;
  }
}

/** The part of the monitoring endpoint's `/jsz?streams=true` answer the helpers read. */
interface JszResponse {
  readonly account_details?: readonly {
    readonly stream_detail?: readonly { readonly name: string; readonly cluster?: { readonly leader?: string } }[];
  }[];
}

/**
 * Options of `NatsClusterHandle.streamLeader`; it rejects with `deadline-exceeded` after
 * `timeoutMs`.
 */
export interface StreamLeaderOptions {
  /** How long to wait for a leader that agrees with itself. Default 30 000 ms. */
  readonly timeoutMs?: number;
  /** Server names not accepted as the answer (e.g. the leader just killed: wait for the next one). */
  readonly exclude?: readonly string[];
}

/** A started nats-server cluster (one server or N); `stop()` and `close()` are the same. */
export interface NatsClusterHandle extends StartedHandle {
  readonly servers: readonly NatsServerHandle[];
  /** Client URLs of all servers. */
  readonly urls: readonly string[];
  /** The server binary's version (e.g. "2.10.27"). */
  readonly version: string;
  /** With `auth`: each role's user and password (configd, agent, logger); undefined on an open server. */
  readonly credentials: Readonly<Record<NatsRole, NatsUserCredentials>> | undefined;
  /** Waits until every running server reports JetStream healthy. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /**
   * The server that leads a stream's raft group (e.g. `KV_palisade`), read from the servers'
   * monitoring endpoints (`/jsz?streams=true&config=true`): the first running, unpaused server
   * that names itself as the stream's `cluster.leader`. Polls every 50 ms; rejects after
   * `timeoutMs`.
   */
  streamLeader(stream: string, opts?: StreamLeaderOptions): Promise<NatsServerHandle>;
  /** Stops every server (SIGTERM, then SIGKILL) and removes the directories. Idempotent. */
  close(): Promise<void>;
  /** The same as `close()`, as every started handle has it. */
  stop(): Promise<void>;
}

/** Options of `startNats`; the defaults favour durability checks over speed. */
export interface StartNatsOptions {
  /** Number of servers: 1 = standalone JetStream server, ≥ 2 = a cluster. Default 1. */
  readonly size?: number;
  /** NATS max_payload (bytes); default 2 MiB so 1 MiB documents fit with headers. */
  readonly maxPayload?: number;
  /**
   * `sync_interval: always` (fsync before every ack, servers ≥ 2.10). Default true: tests check
   * durability claims; benchmarks may turn it off to compare with NATS' default 2-minute sync.
   */
  readonly syncAlways?: boolean;
  /**
   * Closed servers as deployed (`deploy/nats/`): one user per role with permissions by subject
   * (random passwords in `credentials`), and TLS between the servers of a cluster (a throw-away
   * CA, made with openssl). Default false: open servers on loopback.
   */
  readonly auth?: boolean;
}

/** Starts a standalone JetStream server or a JetStream cluster on loopback. */
export async function startNats(opts: StartNatsOptions = {}): Promise<NatsClusterHandle> {
  const size = opts.size ?? 1;
  const { version } = natsServerBinary();
  const root = mkdtempSync(join(tmpdir(), 'palisade-nats-'));
  const ports = await freePorts(size * 3);
  const clusterPorts = ports.slice(size * 2);
  const credentials = opts.auth ? randomNatsCredentials() : undefined;
  const authorization = credentials ? natsAuthorizationBlock(credentials) : undefined;
  const routeTls = opts.auth && size > 1 ? makeRouteTls(join(root, 'pki')) : undefined;
  const servers = Array.from(
    { length: size },
    (_, i) =>
      new NatsServer({
        name: `n${i + 1}`,
        port: ports[i]!,
        httpPort: ports[size + i]!,
        ...(size > 1 ? { clusterPort: clusterPorts[i]! } : {}),
        routes: size > 1 ? clusterPorts : [],
        dir: join(root, `n${i + 1}`),
        maxPayload: opts.maxPayload ?? 2 * 1024 * 1024,
        syncAlways: opts.syncAlways ?? true,
        ...(authorization ? { authorization } : {}),
        ...(routeTls ? { routeTls } : {}),
      }),
  );
  let closed = false;
  const handle: NatsClusterHandle = {
    servers,
    urls: servers.map((s) => s.url),
    version,
    credentials,
    waitHealthy: async (timeoutMs) => {
      await Promise.all(servers.filter((s) => s.running).map((s) => s.waitHealthy(timeoutMs)));
    },
    streamLeader: async (stream, o = {}) => {
      const deadline = Date.now() + (o.timeoutMs ?? 30_000);
      const exclude = new Set(o.exclude ?? []);
      for (;;) {
        const views = await Promise.all(servers.map(async (s) => ({ s, view: await s.streamView(stream, 500) })));
        const self = views.find(({ s, view }) => view?.leader === s.name && !exclude.has(s.name));
        if (self) return self.s;
        if (Date.now() > deadline) {
          const seen = views.map(({ s, view }) => `${s.name}: ${view ? view.leader || '(none)' : 'no answer'}`).join(', ');
          throw new TestkitError('deadline-exceeded', `no leader of stream ${stream} after ${o.timeoutMs ?? 30_000} ms (${seen})`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all(servers.map((s) => s.stop(3000)));
      rmSync(root, { recursive: true, force: true });
    },
    stop: () => handle.close(),
  };
  try {
    await Promise.all(servers.map((s) => s.start()));
    await handle.waitHealthy();
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}
