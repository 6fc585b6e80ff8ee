/**
 * A small Node process started inside one network namespace (`ip netns exec NS node -e …`):
 * it owns that namespace's sockets and answers JSON-line commands on stdin (listen, probe).
 * One agent per namespace avoids a process start per packet.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LabError } from './exec.js';

/** The agent program (CommonJS, run with `node -e`). */
const AGENT_SOURCE = String.raw`
const net = require('net');
const dgram = require('dgram');
const { execFile } = require('child_process');
const readline = require('readline');
const servers = new Map();
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const handlers = {
  'tcp-listen': (m, done) => {
    const srv = net.createServer((s) => { s.on('error', () => {}); s.end('pong'); });
    srv.on('error', (e) => done({ error: e.code || String(e) }));
    srv.listen({ host: m.addr, port: m.port, exclusive: true }, () => { servers.set(m.key, srv); done({ ok: true }); });
  },
  'udp-listen': (m, done) => {
    const s = dgram.createSocket({ type: m.family === 6 ? 'udp6' : 'udp4', reuseAddr: true });
    s.on('error', (e) => done({ error: e.code || String(e) }));
    s.on('message', (msg, rinfo) => s.send('pong', rinfo.port, rinfo.address));
    s.bind({ address: m.addr, port: m.port }, () => { servers.set(m.key, s); done({ ok: true }); });
  },
  'close': (m, done) => {
    const s = servers.get(m.key);
    servers.delete(m.key);
    if (!s) return done({ ok: true });
    try { s.close(() => done({ ok: true })); } catch (e) { done({ ok: true }); }
  },
  'tcp-probe': (m, done) => {
    let finished = false;
    const sock = net.connect({ host: m.dst, port: m.dport, localAddress: m.src, localPort: m.sport });
    const end = (r) => { if (finished) return; finished = true; clearTimeout(t); try { sock.resetAndDestroy(); } catch (e) { sock.destroy(); } done({ result: r }); };
    const t = setTimeout(() => end('timeout'), m.timeoutMs);
    sock.on('connect', () => end('connected'));
    sock.on('error', (e) => end(e.code || String(e)));
  },
  'udp-probe': (m, done) => {
    let finished = false;
    const s = dgram.createSocket({ type: m.family === 6 ? 'udp6' : 'udp4', reuseAddr: true });
    const end = (r) => { if (finished) return; finished = true; clearTimeout(t); try { s.close(); } catch (e) {} done({ result: r }); };
    const t = setTimeout(() => end('timeout'), m.timeoutMs);
    s.on('error', (e) => end(e.code || String(e)));
    s.on('message', () => end('reply'));
    s.bind({ address: m.src, port: m.sport }, () => {
      s.connect(m.dport, m.dst, (err) => {
        if (err) return end(err.code || String(err));
        s.send('ping', (e2) => { if (e2) end(e2.code || String(e2)); });
        setTimeout(() => { if (!finished) s.send('ping', () => {}); }, Math.floor(m.timeoutMs / 2));
      });
    });
  },
  'ping': (m, done) => {
    const args = [m.family === 6 ? '-6' : '-4', '-c', '1', '-n', '-W', String(Math.max(1, Math.ceil(m.timeoutMs / 1000))), '-w', String(Math.max(1, Math.ceil(m.timeoutMs / 1000))), '-I', m.src, m.dst];
    execFile('ping', args, { timeout: m.timeoutMs + 3000 }, (err, stdout) => {
      const text = String(stdout || '');
      if (/ 1 received/.test(text)) return done({ result: 'reply' });
      if (/Unreachable|Prohibited|filtered/i.test(text)) return done({ result: 'unreachable' });
      done({ result: 'timeout' });
    });
  },
};
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let m;
  try { m = JSON.parse(line); } catch (e) { return; }
  const h = handlers[m.op];
  if (!h) return out({ id: m.id, error: 'unknown op ' + m.op });
  try { h(m, (r) => out(Object.assign({ id: m.id }, r))); } catch (e) { out({ id: m.id, error: String(e) }); }
});
process.stdin.on('end', () => process.exit(0));
out({ id: 0, ready: true });
`;

export interface AgentReply {
  readonly id: number;
  readonly ok?: boolean;
  readonly error?: string;
  readonly result?: string;
  readonly ready?: boolean;
}

/** A running agent in one namespace. `close()` ends it (stdin closed, then killed by PID). */
export class NamespaceAgent {
  private nextId = 1;
  private readonly pending = new Map<number, (r: AgentReply) => void>();
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly ready: Promise<void>;
  private exited = false;

  constructor(readonly ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', AGENT_SOURCE], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => undefined);
    this.ready = new Promise((resolve, reject) => {
      const onReady = (r: AgentReply): void => {
        if (r.ready) resolve();
      };
      this.pending.set(0, onReady);
      this.child.on('exit', () => {
        this.exited = true;
        reject(new LabError('agent-failed', `agent in ${ns} exited`));
        for (const [, p] of this.pending) p({ id: -1, error: 'agent exited' });
        this.pending.clear();
      });
    });
    this.ready.catch(() => undefined);
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let r: AgentReply;
      try {
        r = JSON.parse(line) as AgentReply;
      } catch {
        return;
      }
      const p = this.pending.get(r.id);
      if (p) {
        this.pending.delete(r.id);
        p(r);
      }
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async request(op: string, args: Record<string, unknown>, timeoutMs = 10_000): Promise<AgentReply> {
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LabError('timeout', `agent in ${this.ns}: ${op} timed out`));
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        if (r.id === -1) reject(new LabError('agent-failed', `agent in ${this.ns} exited during ${op}`));
        else resolve(r);
      });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => {
      if (!this.exited && this.child.pid !== undefined) {
        try {
          process.kill(this.child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }, 2000);
    await exited;
    clearTimeout(timer);
  }
}
