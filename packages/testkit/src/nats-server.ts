/**
 * Real nats-server processes for tests: a single JetStream server or an N-node JetStream
 * cluster, on free loopback ports, in temporary directories. Each process is stopped by its own
 * PID (never by name) and its directory removed on `close()`; a process-exit hook kills any
 * server a crashed test left behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) if (c.pid) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
    });
  }
}

export interface NatsServerHandle {
  readonly name: string;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** PID of the running process (undefined while stopped). */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Starts the server again with the same config and data (after stop/kill). */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM), waits for exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
  /** Crash: SIGKILL, waits for exit. */
  kill(): Promise<void>;
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
}

class NatsServer implements NatsServerHandle {
  #child: ChildProcess | undefined;
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
        '}',
      );
    }
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
  get dir(): string {
    return this.#spec.dir;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn(natsServerBinary().path, ['-c', this.#config], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    this.#child = child;
    const keep = (d: Buffer): void => {
      this.#log = (this.#log + d.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((res) =>
      child.once('exit', () => {
        if (this.#child === child) this.#child = undefined;
        res();
      }),
    );
    await this.#waitListening();
  }

  async #waitListening(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!this.#child) throw new Error(`nats-server ${this.name} exited during start:\n${this.#log}`);
      try {
        const r = await fetch(`http://127.0.0.1:${this.#spec.httpPort}/varz`);
        if (r.ok) return;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nats-server ${this.name} did not start:\n${this.#log}`);
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
    throw new Error(`nats-server ${this.name}: JetStream not healthy after ${timeoutMs} ms`);
  }

  async #signal(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
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

  get log(): string {
    return this.#log;
  }
}

export interface NatsClusterHandle {
  readonly servers: readonly NatsServerHandle[];
  /** Client URLs of all servers. */
  readonly urls: readonly string[];
  /** The server binary's version (e.g. "2.10.27"). */
  readonly version: string;
  /** Waits until every running server reports JetStream healthy. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every server (SIGTERM, then SIGKILL) and removes the directories. Idempotent. */
  close(): Promise<void>;
}

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
}

/** Starts a standalone JetStream server or a JetStream cluster on loopback. */
export async function startNats(opts: StartNatsOptions = {}): Promise<NatsClusterHandle> {
  const size = opts.size ?? 1;
  const { version } = natsServerBinary();
  const root = mkdtempSync(join(tmpdir(), 'palisade-nats-'));
  const ports = await Promise.all(Array.from({ length: size * 3 }, () => freePort()));
  const clusterPorts = ports.slice(size * 2);
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
      }),
  );
  let closed = false;
  const handle: NatsClusterHandle = {
    servers,
    urls: servers.map((s) => s.url),
    version,
    waitHealthy: async (timeoutMs) => {
      await Promise.all(servers.filter((s) => s.running).map((s) => s.waitHealthy(timeoutMs)));
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all(servers.map((s) => s.stop(3000)));
      rmSync(root, { recursive: true, force: true });
    },
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
