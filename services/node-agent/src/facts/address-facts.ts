/**
 * Node facts from the target namespace: its interfaces and global addresses, read with
 * `ip -j addr show` at start and again whenever a long-running `ip monitor address link` child
 * prints a line (a notification from rtnetlink), so changes are seen without polling. The child
 * is killed by its PID on close. (An rtnetlink codec can replace the two commands later.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Clock, Logger } from '@palisade/service-kit';
import { runCommand } from '../apply/run-command.js';
import { AgentError } from '../errors.js';

/** What the agent knows of its node's network, as the compiler and the status use it. */
export interface AddressFacts {
  /** Global-scope addresses as `IP/prefix`, in interface order (loopback excluded). */
  readonly addresses: readonly string[];
  /** Interfaces present (loopback included), sorted. */
  readonly interfaces: readonly string[];
}

export interface AddressFactsOptions {
  readonly netns?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called after the facts changed. */
  readonly onChange: (facts: AddressFacts) => void;
  /** Quiet time after a notification before the re-read, ms (a change comes as several lines). Default 10. */
  readonly settleMs?: number;
}

export interface AddressFactsSource {
  /** The facts as last read. */
  readonly current: AddressFacts;
  /** Reads the facts once and starts following notifications. Rejects when the first read fails. */
  start(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

interface IpAddrJson {
  readonly ifname?: string;
  readonly addr_info?: readonly { readonly family?: string; readonly local?: string; readonly prefixlen?: number; readonly scope?: string }[];
}

/** Parses `ip -j addr show`. */
export function parseIpAddrJson(json: string): AddressFacts {
  const links = JSON.parse(json) as IpAddrJson[];
  const addresses: string[] = [];
  const interfaces: string[] = [];
  for (const l of links) {
    if (!l.ifname) continue;
    interfaces.push(l.ifname);
    if (l.ifname === 'lo') continue;
    for (const a of l.addr_info ?? []) {
      if (a.scope !== 'global' || !a.local || a.prefixlen === undefined) continue;
      if (a.family !== 'inet' && a.family !== 'inet6') continue;
      addresses.push(`${a.local}/${a.prefixlen}`);
    }
  }
  return { addresses, interfaces: interfaces.sort() };
}

const ipArgs = (netns: string | undefined, args: readonly string[]): string[] => ['ip', ...(netns ? ['-n', netns] : []), ...args];
const sameFacts = (a: AddressFacts, b: AddressFacts): boolean => JSON.stringify(a) === JSON.stringify(b);

export function createAddressFacts(o: AddressFactsOptions): AddressFactsSource {
  let current: AddressFacts = { addresses: [], interfaces: [] };
  let monitor: ChildProcess | undefined;
  let cancelReread: (() => void) | undefined;
  let closed = false;
  const log = o.logger.child({ component: 'facts' });

  const read = async (signal?: AbortSignal): Promise<AddressFacts> => {
    const r = await runCommand(ipArgs(o.netns, ['-j', 'addr', 'show']), { ...(signal ? { signal } : {}) });
    if (r.exitCode !== 0) throw new AgentError('unavailable', `ip addr show failed (exit ${r.exitCode}): ${r.stderr.trim()}`, { exitCode: r.exitCode, stderr: r.stderr });
    return parseIpAddrJson(r.stdout);
  };
  const reread = (): void => {
    cancelReread?.();
    cancelReread = o.clock.setTimer(() => {
      cancelReread = undefined;
      if (closed) return;
      read().then(
        (facts) => {
          if (closed || sameFacts(facts, current)) return;
          current = facts;
          log.info({ facts }, 'node facts changed');
          o.onChange(facts);
        },
        (err: unknown) => log.warn({ err }, 'cannot re-read node facts'),
      );
    }, o.settleMs ?? 10);
  };
  return {
    get current() {
      return current;
    },
    async start(signal) {
      // Follow first, then read: a change between the two is seen as a notification.
      monitor = spawn('ip', ipArgs(o.netns, ['monitor', 'address', 'link']).slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      monitor.stdout!.on('data', () => reread());
      monitor.on('error', (err) => log.warn({ err }, 'ip monitor failed: node facts are no longer followed'));
      monitor.on('exit', (code, sig) => {
        if (!closed) log.warn({ code, signal: sig }, 'ip monitor ended: node facts are no longer followed');
      });
      current = await read(signal);
    },
    close() {
      closed = true;
      cancelReread?.();
      const child = monitor;
      monitor = undefined;
      if (!child || child.exitCode !== null || child.pid === undefined) return Promise.resolve();
      return new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        process.kill(child.pid!, 'SIGTERM');
      });
    },
  };
}
