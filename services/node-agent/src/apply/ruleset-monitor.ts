/**
 * Notices changes to the kernel's ruleset without polling: a long-running `nft monitor` child
 * in the target namespace prints a line per change; after a quiet `settleMs` the reconciler is
 * asked to compare Palisade's tables with what it applied (its own applies compare equal and
 * cost one read). The child is killed by its PID on close.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Clock, Logger } from '@palisade/service-kit';
import { inNetns } from './run-command.js';

export interface RulesetMonitorOptions {
  readonly netns?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called once per burst of kernel changes. */
  readonly onChange: () => void;
  /** Quiet time after the last event, ms. Default 50. */
  readonly settleMs?: number;
}

export interface RulesetMonitor {
  start(): void;
  close(): Promise<void>;
}

export function createRulesetMonitor(o: RulesetMonitorOptions): RulesetMonitor {
  const log = o.logger.child({ component: 'ruleset-monitor' });
  let child: ChildProcess | undefined;
  let cancel: (() => void) | undefined;
  let closed = false;
  return {
    start() {
      const argv = inNetns(o.netns, ['nft', 'monitor']);
      child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout!.on('data', () => {
        cancel?.();
        cancel = o.clock.setTimer(() => {
          cancel = undefined;
          if (!closed) o.onChange();
        }, o.settleMs ?? 50);
      });
      child.on('error', (err) => log.warn({ err }, 'nft monitor failed: changes made outside the agent are not noticed'));
      child.on('exit', (code, signal) => {
        if (!closed) log.warn({ code, signal }, 'nft monitor ended: changes made outside the agent are not noticed');
      });
    },
    close() {
      closed = true;
      cancel?.();
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return Promise.resolve();
      return new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        process.kill(c.pid!, 'SIGTERM');
      });
    },
  };
}
