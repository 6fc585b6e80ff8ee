/**
 * Node facts from the target namespace, from rtnetlink: a NETLINK_ROUTE socket in `--netns`
 * subscribed to link and IPv4/IPv6 address notifications (`openRouteListener` of
 * `@palisade/nft-netlink`). At start the links and then the addresses are dumped; after that
 * every notification updates the table at once, without polling and without running `ip`.
 * When the socket overran (notifications were lost) or the kernel flagged a dump as
 * interrupted, the table is dumped again and replaced. The reader process ends on close.
 */
import {
  IfFlag,
  LINK_ADDRESS_GROUPS,
  LinkAddressTable,
  RtScope,
  RtmType,
  decodeRouteDatagram,
  encodeRouteDump,
  openRouteListener,
  type RouteListener,
} from '@palisade/nft-netlink';
import type { Clock, Logger } from '@palisade/service-kit';
import { AgentError } from '../errors.js';

/** What the agent knows of its node's network, as the compiler and the status use it. */
export interface AddressFacts {
  /** Global-scope addresses as `IP/prefix`, in interface order (loopback excluded). */
  readonly addresses: readonly string[];
  /** Interfaces present (loopback included), sorted. */
  readonly interfaces: readonly string[];
}

/** Options of {@link createAddressFacts}. */
export interface AddressFactsOptions {
  readonly netns?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called after the facts changed (once per notification datagram or resync that changed them). */
  readonly onChange: (facts: AddressFacts) => void;
  /** Gives up the first dump after this long, ms. Default 5,000. */
  readonly startTimeoutMs?: number;
  /** Wait before dumping again after the kernel refused a dump (EBUSY), ms. Default 50. */
  readonly retryMs?: number;
  /** Receive buffer of the socket, bytes. Default the listener's (1 MiB). */
  readonly recvBufferBytes?: number;
}

/** The node's addresses and interface names as the kernel reports them, kept current from rtnetlink notifications. */
export interface AddressFactsSource {
  /** The facts as last read. */
  readonly current: AddressFacts;
  /** The name of the interface with this index as last read (log entries' IN=/OUT=), undefined when unknown. */
  linkName(index: number): string | undefined;
  /** Subscribes, dumps once and resolves with the facts read. Rejects when that fails. */
  start(signal?: AbortSignal): Promise<void>;
  /** Resyncs so far after overruns or interrupted dumps (tests, status). */
  readonly resyncs: number;
  /** PID of the reader process holding the socket (tests). */
  readonly readerPid: number | undefined;
  close(): Promise<void>;
}

/** The facts of a link/address table: global addresses off loopback, every interface name. */
export function factsFromTable(table: LinkAddressTable): AddressFacts {
  const links = table.links();
  const loopback = new Set(links.filter((l) => (l.flags & IfFlag.LOOPBACK) !== 0 || l.name === 'lo').map((l) => l.index));
  const addresses = table
    .addresses()
    .filter((a) => a.scope === RtScope.UNIVERSE && !loopback.has(a.index))
    .map((a) => `${a.address}/${a.prefix}`);
  return { addresses, interfaces: links.map((l) => l.name).filter((n) => n !== '').sort() };
}

const sameFacts = (a: AddressFacts, b: AddressFacts): boolean => JSON.stringify(a) === JSON.stringify(b);

/** An address-facts source over an rtnetlink listener (in `netns` when given); `start()` subscribes and dumps. */
export function createAddressFacts(o: AddressFactsOptions): AddressFactsSource {
  const log = o.logger.child({ component: 'facts' });
  const table = new LinkAddressTable();
  let current: AddressFacts = { addresses: [], interfaces: [] };
  let listener: RouteListener | undefined;
  let closed = false;
  let resyncs = 0;
  let seq = 0;
  /** The dump being waited for: links first, then addresses. */
  let dumping: { readonly stage: typeof RtmType.GETLINK | typeof RtmType.GETADDR; readonly seq: number; interrupted: boolean } | undefined;
  /** Notifications were lost during the dump in progress: dump again after it. */
  let again = false;
  let firstDump: { resolve: () => void; reject: (e: Error) => void } | undefined;
  let cancelRetry: (() => void) | undefined;

  /** ifindex → name: kept apart from the facts, which a new index under an old name leaves unchanged. */
  let names = new Map<number, string>();
  const publish = (): void => {
    names = new Map(table.links().map((l) => [l.index, l.name]));
    const facts = factsFromTable(table);
    if (sameFacts(facts, current)) return;
    current = facts;
    log.info({ facts }, 'node facts changed');
    o.onChange(facts);
  };
  const sendDump = (stage: typeof RtmType.GETLINK | typeof RtmType.GETADDR): void => {
    seq = (seq + 1) >>> 0 || 1;
    dumping = { stage, seq, interrupted: false };
    table.dumpRequested(seq);
    listener?.send(encodeRouteDump(stage, seq));
  };
  const resync = (): void => {
    if (closed || !listener) return;
    if (dumping) {
      again = true;
      return;
    }
    table.beginResync();
    sendDump(RtmType.GETLINK);
  };
  const onDatagram = (bytes: Uint8Array): void => {
    const d = decodeRouteDatagram(bytes);
    if (d.errors.length > 0) log.warn({ errors: d.errors.slice(0, 5) }, 'rtnetlink messages that could not be read');
    table.apply(d.events);
    if (dumping && d.events.some((e) => e.seq === dumping!.seq && e.dumpInterrupted)) dumping.interrupted = true;
    for (const ack of d.acks) {
      if (!dumping || ack.request.seq !== dumping.seq || ack.errno === 0) continue;
      // EBUSY (a dump already running on the socket) or another refusal: start over shortly
      log.warn({ errno: ack.errno }, 'rtnetlink dump refused; dumping again');
      dumping = undefined;
      table.endResync();
      table.beginResync();
      cancelRetry?.();
      cancelRetry = o.clock.setTimer(() => {
        cancelRetry = undefined;
        if (!closed && !dumping) sendDump(RtmType.GETLINK);
      }, o.retryMs ?? 50);
      return;
    }
    for (const done of d.dumpsDone) {
      if (!dumping || done.seq !== dumping.seq) continue;
      const interrupted = dumping.interrupted || done.interrupted;
      if (dumping.stage === RtmType.GETLINK) {
        sendDump(RtmType.GETADDR);
        if (interrupted) again = true;
        continue;
      }
      dumping = undefined;
      table.endResync();
      if (interrupted || again) {
        again = false;
        resyncs++;
        resync();
      } else {
        firstDump?.resolve();
        firstDump = undefined;
      }
    }
    if (!table.resyncing) publish();
  };

  return {
    get current() {
      return current;
    },
    linkName: (index) => names.get(index) || undefined,
    get resyncs() {
      return resyncs;
    },
    get readerPid() {
      return listener?.pid;
    },
    async start(signal) {
      signal?.throwIfAborted();
      listener = await openRouteListener({
        groups: LINK_ADDRESS_GROUPS,
        ...(o.netns ? { netns: o.netns } : {}),
        ...(o.recvBufferBytes !== undefined ? { recvBufferBytes: o.recvBufferBytes } : {}),
        onDatagram,
        onOverrun: () => {
          log.warn('rtnetlink notifications were lost (receive buffer overrun); dumping links and addresses again');
          resyncs++;
          resync();
        },
        onError: (err) => {
          if (!closed) log.warn({ err }, 'rtnetlink socket failed: node facts are no longer followed');
          firstDump?.reject(err);
        },
      });
      const timeoutMs = o.startTimeoutMs ?? 5_000;
      let cancelTimeout: (() => void) | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          firstDump = { resolve, reject };
          cancelTimeout = o.clock.setTimer(() => reject(new AgentError('unavailable', `no rtnetlink dump of links and addresses within ${timeoutMs} ms`, {})), timeoutMs);
          signal?.addEventListener('abort', () => reject(new AgentError('unavailable', 'reading node facts aborted', {})), { once: true });
          resync();
        });
      } finally {
        cancelTimeout?.();
        firstDump = undefined;
      }
      publish();
    },
    async close() {
      closed = true;
      cancelRetry?.();
      const l = listener;
      listener = undefined;
      await l?.close();
    },
  };
}
