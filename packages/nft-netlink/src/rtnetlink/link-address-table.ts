/**
 * The links and addresses of a network namespace as rtnetlink reported them: dump records and
 * notifications applied in arrival order. A resync (after the socket overran and lost
 * notifications) collects a fresh dump beside the table, and at the end of the dump the fresh
 * table replaces the old one, so what the lost notifications would have removed is gone too.
 * Notifications still queued on the socket before the dump's first record are older than the
 * dump (the kernel queues a dump's first records when the request is sent), so the fresh table
 * takes a notification only once the dump of its kind (links, addresses) has begun. Pure: no I/O.
 */
import type { RouteAddress, RouteEvent, RouteLink } from './rtnetlink-codec.js';

/** An address with the name of its interface. */
export interface NamedRouteAddress extends RouteAddress {
  /** The interface's name ("" while its link is unknown). */
  readonly ifname: string;
}

interface State {
  readonly links: Map<number, RouteLink>;
  /** By `index family address/prefix`, in arrival order. */
  readonly addresses: Map<string, RouteAddress>;
}

const empty = (): State => ({ links: new Map(), addresses: new Map() });
const addressKey = (a: RouteAddress): string => `${a.index} ${a.family} ${a.address}/${a.prefix}`;

function applyTo(s: State, ev: RouteEvent): void {
  if (ev.kind === 'link') {
    if (ev.op === 'new') s.links.set(ev.link.index, ev.link);
    else {
      s.links.delete(ev.link.index);
      // the kernel also sends DELADDR for each, but a lost one must not leave an address behind
      for (const [k, a] of s.addresses) if (a.index === ev.link.index) s.addresses.delete(k);
    }
  } else if (ev.op === 'new') s.addresses.set(addressKey(ev.address), ev.address);
  else s.addresses.delete(addressKey(ev.address));
}

/** The table; see the module comment. */
export class LinkAddressTable {
  #current: State = empty();
  #fresh: State | undefined;
  /** `seq` of the resync's dump requests, and the kinds whose dump records have begun. */
  #dumpSeqs = new Set<number>();
  #begun = new Set<RouteEvent['kind']>();

  /** Applies events in order (dump records and notifications alike). */
  apply(events: readonly RouteEvent[]): void {
    for (const ev of events) {
      applyTo(this.#current, ev);
      if (!this.#fresh) continue;
      if (this.#dumpSeqs.has(ev.seq)) this.#begun.add(ev.kind);
      else if (!this.#begun.has(ev.kind)) continue; // older than the dump that will report it
      applyTo(this.#fresh, ev);
    }
  }

  /** A resync starts: what its dumps report (and later notifications) builds the next table. */
  beginResync(): void {
    this.#fresh = empty();
    this.#dumpSeqs.clear();
    this.#begun.clear();
  }

  /** A dump request of the resync was sent with `seq`: records carrying it are dump records. */
  dumpRequested(seq: number): void {
    this.#dumpSeqs.add(seq);
  }

  /** The dump ended: its table replaces the current one. Without a resync, nothing happens. */
  endResync(): void {
    if (this.#fresh) this.#current = this.#fresh;
    this.#fresh = undefined;
    this.#dumpSeqs.clear();
    this.#begun.clear();
  }

  /** Whether a resync is collecting. */
  get resyncing(): boolean {
    return this.#fresh !== undefined;
  }

  /** Interfaces by index. */
  links(): RouteLink[] {
    return [...this.#current.links.values()].sort((a, b) => a.index - b.index);
  }

  /** Addresses by interface index, IPv4 before IPv6, then in the order the kernel reported them (as `ip addr show` lists them). */
  addresses(): NamedRouteAddress[] {
    const order = new Map([...this.#current.addresses.keys()].map((k, i) => [k, i]));
    return [...this.#current.addresses.entries()]
      .sort(([ka, a], [kb, b]) => a.index - b.index || a.family - b.family || order.get(ka)! - order.get(kb)!)
      .map(([, a]) => ({ ...a, ifname: this.#current.links.get(a.index)?.name ?? '' }));
  }
}
