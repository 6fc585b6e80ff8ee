/**
 * A small Perl reader process that holds a netlink socket (in this network namespace or, via
 * `ip netns exec`, in a named one) and writes what the kernel sends to its stdout as frames:
 * type u8, length u32 LE, bytes. The NFLOG and rtnetlink listeners use it because the `netlink`
 * addon aborts the process after a receive-buffer overrun. The reader exits at EOF on its stdin,
 * so a parent that dies takes it along.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { NftNetlinkError } from '../errors.js';

/** Frame types the readers write. */
export const READER_FRAME = { DATAGRAM: 1, OVERRUN: 2, ERROR: 3, READY: 4 } as const;

/** Options of {@link startReaderChild}. */
export interface ReaderChildOptions {
  /** What the reader is called in errors, e.g. `NFLOG reader`. */
  readonly name: string;
  /** Path of the Perl script and its arguments. */
  readonly script: string;
  readonly args: readonly string[];
  /** Network namespace to run in (checked with {@link checkNetnsName}); omitted: this one. */
  readonly netns?: string;
  readonly ipCommand: string;
  readonly perlCommand: string;
  /** Every complete frame, in order. */
  readonly onFrame: (type: number, body: Buffer) => void;
  /** The reader exited or could not start, before `close()`; called at most once. */
  readonly onFailure: (err: NftNetlinkError) => void;
}

/** A running reader. */
export interface ReaderChild {
  readonly process: ChildProcessWithoutNullStreams;
  /** ` in "NS"` when the reader runs in a named namespace, else empty (for messages). */
  readonly where: string;
  /** The first 4 KiB the reader wrote to stderr. */
  stderr(): string;
  /** True once `close()` was called. */
  readonly closed: boolean;
  /** Ends the reader's stdin (it exits at EOF), SIGKILL after 2 s. Idempotent. */
  close(): Promise<void>;
}

/** Refuses a namespace name `ip netns` would not accept (no path tricks). */
export function checkNetnsName(netns: string | undefined): void {
  if (netns !== undefined && (!/^[A-Za-z0-9_.-]{1,255}$/.test(netns) || netns.startsWith('.'))) {
    throw new NftNetlinkError('INVALID_REQUEST', `invalid network namespace name "${netns}"`);
  }
}

/** Starts the reader and feeds its frames to `onFrame`. */
export function startReaderChild(o: ReaderChildOptions): ReaderChild {
  checkNetnsName(o.netns);
  const args = [o.script, ...o.args];
  const child =
    o.netns !== undefined
      ? spawn(o.ipCommand, ['netns', 'exec', o.netns, o.perlCommand, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(o.perlCommand, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const where = o.netns ? ` in "${o.netns}"` : '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let closed = false;
  let failed = false;
  const fail = (err: NftNetlinkError): void => {
    if (closed || failed) return;
    failed = true;
    o.onFailure(err);
  };

  // Chunks are gathered until a frame is complete.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes < 5) return;
    let buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    let at = 0;
    while (buf.length - at >= 5) {
      const len = buf.readUInt32LE(at + 1);
      if (buf.length - at - 5 < len) break;
      o.onFrame(buf[at]!, buf.subarray(at + 5, at + 5 + len));
      at += 5 + len;
    }
    buf = buf.subarray(at);
    pending = buf.length ? [buf] : [];
    pendingBytes = buf.length;
  });
  child.once('exit', (code, sig) => fail(new NftNetlinkError('RELAY_ERROR', `${o.name}${where} exited (${sig ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`)));
  child.once('error', (e) => fail(new NftNetlinkError('RELAY_ERROR', `cannot start the ${o.name}: ${e.message}`, { cause: e })));
  child.stdin.on('error', () => undefined);

  return {
    process: child,
    where,
    stderr: () => stderr,
    get closed() {
      return closed;
    },
    async close() {
      if (closed) return exited;
      closed = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
