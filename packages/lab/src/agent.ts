/**
 * A small Node process started inside one network namespace (`ip netns exec NS node -e …`):
 * it owns that namespace's sockets and answers JSON-line commands on stdin (listen, probe,
 * ping). One agent per namespace avoids a process start per packet.
 *
 * Probe results (`result`) are what the sender saw; the lab classifies them:
 * - `connected` (TCP) / `reply` (UDP responder, ICMP echo reply): delivered;
 * - `timeout`: silence for the whole probe time;
 * - `EPERM` (UDP): the sender's own output hook dropped the datagram (`sendmsg` fails with
 *   EPERM for DROP and REJECT alike) and no ICMP error followed within the probe time. When
 *   the output hook REJECTs, the ICMP error it sends to the local socket arrives within
 *   milliseconds as a socket error (ECONNREFUSED for port-unreachable, EHOSTUNREACH for IPv4
 *   host-prohibited, EACCES for IPv6 admin-prohibited), so the probe keeps waiting after
 *   EPERM;
 * - `ECONNREFUSED`, `EHOSTUNREACH`, `EACCES` (socket errors from a TCP reset or an ICMP
 *   error), `unreachable` (ping saw an ICMP error);
 * - anything else is a local failure, reported as `error` (with `code` when the system gave
 *   one, e.g. ENOENT when `ping` is not installed), never as a result.
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
const code = (e) => (e && e.code) || String(e);
const handlers = {
  'tcp-listen': (m, done) => {
    const conns = new Set();
    const srv = net.createServer((s) => {
      conns.add(s);
      s.on('close', () => conns.delete(s));
      s.on('error', () => {});
      s.end('pong');
    });
    srv.on('error', (e) => done({ error: code(e) }));
    // close: stop listening and abort every accepted connection (RST, no FIN retransmits
    // that could outlive the case)
    srv.listen({ host: m.addr, port: m.port, exclusive: true }, () => {
      servers.set(m.key, (cb) => { for (const s of conns) { try { s.resetAndDestroy(); } catch (e) { s.destroy(); } } srv.close(() => cb()); });
      done({ ok: true });
    });
  },
  'udp-listen': (m, done) => {
    const s = dgram.createSocket({ type: m.family === 6 ? 'udp6' : 'udp4', reuseAddr: true });
    s.on('error', (e) => done({ error: code(e) }));
    s.on('message', (msg, rinfo) => s.send('pong', rinfo.port, rinfo.address));
    s.bind({ address: m.addr, port: m.port }, () => { servers.set(m.key, (cb) => s.close(() => cb())); done({ ok: true }); });
  },
  'close': (m, done) => {
    const close = servers.get(m.key);
    servers.delete(m.key);
    if (!close) return done({ ok: true });
    try { close(() => done({ ok: true })); } catch (e) { done({ ok: true }); }
  },
  'tcp-probe': (m, done) => {
    let finished = false;
    const sock = net.connect({ host: m.dst, port: m.dport, localAddress: m.src, localPort: m.sport });
    // A connected socket is aborted with a reset. A socket still connecting is only closed:
    // resetAndDestroy() would keep it (and its SYN retransmits) alive until it connects,
    // sending SYNs into later cases.
    const end = (r) => { if (finished) return; finished = true; clearTimeout(t); if (sock.connecting) sock.destroy(); else { try { sock.resetAndDestroy(); } catch (e) { sock.destroy(); } } done(r); };
    const t = setTimeout(() => end({ result: 'timeout' }), m.timeoutMs);
    sock.on('connect', () => end({ result: 'connected' }));
    sock.on('error', (e) => end({ result: code(e) }));
  },
  'udp-probe': (m, done) => {
    let finished = false;
    let locallyDropped = false;
    const s = dgram.createSocket({ type: m.family === 6 ? 'udp6' : 'udp4', reuseAddr: true });
    const end = (r) => { if (finished) return; finished = true; clearTimeout(t); try { s.close(); } catch (e) {} done(r); };
    const t = setTimeout(() => end({ result: locallyDropped ? 'EPERM' : 'timeout' }), m.timeoutMs);
    // EPERM: our own output hook dropped it (DROP or REJECT); a REJECT's ICMP error follows as
    // a socket error. Any other send error is the ICMP error of an earlier datagram, which
    // sendmsg reports (and consumes) when it is still pending.
    const sent = (e) => { if (!e) return; if (e.code === 'EPERM') locallyDropped = true; else end({ result: code(e) }); };
    s.on('error', (e) => end({ result: code(e) }));
    s.on('message', () => end({ result: 'reply' }));
    s.bind({ address: m.src, port: m.sport }, () => {
      // connect sends nothing: its errors are local (no route, bad address)
      s.connect(m.dport, m.dst, (err) => {
        if (err) return end({ error: 'connect: ' + code(err), code: err.code });
        s.send('ping', sent);
        setTimeout(() => { if (!finished) s.send('ping', sent); }, Math.floor(m.timeoutMs / 2));
      });
    });
  },
  'ping': (m, done) => {
    const secs = String(Math.max(1, Math.ceil(m.timeoutMs / 1000)));
    const args = [m.family === 6 ? '-6' : '-4', '-c', '1', '-n', '-W', secs, '-w', secs, '-I', m.src, m.dst];
    execFile('ping', args, { timeout: m.timeoutMs + 3000 }, (err, stdout, stderr) => {
      // a string code is a spawn error (ENOENT: not installed), a number ping's exit status
      if (err && typeof err.code === 'string') return done({ error: 'cannot run ping: ' + err.message, code: err.code });
      const text = String(stdout || '');
      if (/ 1 received/.test(text)) return done({ result: 'reply' });
      if (/Unreachable|Prohibited|filtered/i.test(text)) return done({ result: 'unreachable' });
      // exit 1: no reply by the deadline; 2 and others: ping failed (bind, bad address…)
      if (err && (err.code === 1 || err.killed)) return done({ result: 'timeout' });
      done({ error: 'ping failed (' + (err ? err.code : 0) + '): ' + (String(stderr || '').trim() || text.trim()) });
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

/** One answer of the agent: `result` of a probe, or `error` (with the system's `code` when there is one). */
export interface AgentReply {
  readonly id: number;
  readonly ok?: boolean;
  readonly error?: string;
  /** errno name of a local failure (`ENOENT` when a program is missing). */
  readonly code?: string;
  readonly result?: string;
  readonly ready?: boolean;
}

/**
 * Options of the `NamespaceAgent` constructor. The agent runs `ping` inside the namespace, so a
 * caller whose tools are not on the default `PATH` passes `env`.
 */
export interface NamespaceAgentOptions {
  /** Environment of the agent (its `PATH` finds `ping`); default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A running agent in one namespace. `request()` sends one command and resolves with its
 * answer (rejects with `timeout` after `timeoutMs`, default 10 s, or `agent-failed` when the
 * agent exits). `close()` ends it: stdin closed, then SIGKILL by its PID after 2 s; idempotent.
 */
export class NamespaceAgent {
  private nextId = 1;
  private readonly pending = new Map<number, (r: AgentReply) => void>();
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly ready: Promise<void>;
  private exited = false;

  constructor(
    readonly ns: string,
    options: NamespaceAgentOptions = {},
  ) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', AGENT_SOURCE], { stdio: ['pipe', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}) });
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
