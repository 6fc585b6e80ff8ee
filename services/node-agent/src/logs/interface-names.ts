/**
 * ifindex → interface name in the target namespace, from `ip -j link show` (rtnetlink): read at
 * start, and again (at most once per `refreshMs`) when an entry names an index not known yet —
 * a guest's tap device appears after the agent started. Until then the index is printed, as
 * pvefw-logger does when its cache misses.
 */
import type { Clock, Logger } from '@palisade/service-kit';
import { inNetns, runCommand } from '../apply/run-command.js';

export class InterfaceNames {
  #names = new Map<number, string>();
  #lastRead = -Infinity;
  #reading: Promise<void> | undefined;

  constructor(private readonly o: { readonly netns?: string; readonly clock: Clock; readonly logger: Logger; readonly refreshMs?: number }) {}

  /** The name of `index`, or undefined (then a refresh is started). */
  lookup(index: number): string | undefined {
    const n = this.#names.get(index);
    if (n === undefined && this.o.clock.now() - this.#lastRead >= (this.o.refreshMs ?? 1_000)) void this.refresh();
    return n;
  }

  /** Reads the interface list now (concurrent calls share one read). */
  refresh(): Promise<void> {
    this.#reading ??= (async () => {
      this.#lastRead = this.o.clock.now();
      try {
        const r = await runCommand(inNetns(this.o.netns, ['ip', '-j', 'link', 'show']));
        if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `ip exited ${r.exitCode}`);
        const links = JSON.parse(r.stdout) as { ifindex?: number; ifname?: string }[];
        const next = new Map<number, string>();
        for (const l of links) if (l.ifindex !== undefined && l.ifname) next.set(l.ifindex, l.ifname);
        this.#names = next;
      } catch (err) {
        this.o.logger.warn({ err }, 'cannot read interface names; log entries show interface numbers');
      } finally {
        this.#reading = undefined;
      }
    })();
    return this.#reading;
  }
}
