/**
 * Notices changes to the kernel's ruleset by reading its generation (`NFT_MSG_GETGEN`, one tiny
 * round trip) every `intervalMs`: every committed nf_tables transaction in the namespace moves
 * it on, so a change shows up at the next read and the reconciler is asked to compare
 * Palisade's tables with what it applied (its own applies compare equal and cost one read).
 *
 * Not a listener on NFNLGRP_NFTABLES (`nft monitor`): while any socket on the machine is
 * subscribed to that group, the kernel builds a notification for every rule and set element of
 * every commit, in every namespace (`netlink_has_listeners` is per protocol, not per
 * namespace). That doubled the kernel's time for a 45,000-rule load, and the child outlived a
 * SIGKILLed agent.
 */
import type { Clock, Logger } from '@palisade/service-kit';
import { openNftSession, type NftSession } from '@palisade/nft-netlink';

/** How often the generation is read when no option says otherwise, ms. */
export const DEFAULT_DRIFT_CHECK_MS = 1_000;

/** Options of `createRulesetMonitor`; `onChange` is the reconciler's `suspectDrift` in the agent. */
export interface RulesetMonitorOptions {
  readonly netns?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called once per generation change seen. */
  readonly onChange: () => void;
  /** Time between two generation reads, ms. Default `DEFAULT_DRIFT_CHECK_MS`. */
  readonly intervalMs?: number;
  /** Opens the session the generation is read on (tests); default nft-netlink's `openNftSession`. */
  readonly openSession?: (netns: string | undefined) => Promise<Pick<NftSession, 'generation' | 'close'>>;
}

/**
 * The drift check's handle: `start()` reads the generation at once and then every interval;
 * `close()` waits for a read in progress and closes the netlink session.
 */
export interface RulesetMonitor {
  start(): void;
  close(): Promise<void>;
}

/**
 * Creates a stopped monitor. An unreadable generation is logged once and retried at every
 * interval (changes go unnoticed meanwhile); it never throws at the caller.
 */
export function createRulesetMonitor(o: RulesetMonitorOptions): RulesetMonitor {
  const log = o.logger.child({ component: 'ruleset-monitor' });
  const intervalMs = o.intervalMs ?? DEFAULT_DRIFT_CHECK_MS;
  const open = o.openSession ?? ((netns) => openNftSession({ ...(netns === undefined ? {} : { netns }), timeoutMs: 5_000 }));
  let session: Promise<Pick<NftSession, 'generation' | 'close'>> | undefined;
  let seen: number | undefined;
  let cancel: (() => void) | undefined;
  let closed = false;
  let failing = false;
  let running: Promise<void> = Promise.resolve();

  const check = async (): Promise<void> => {
    try {
      session ??= open(o.netns);
      const generation = await (await session).generation();
      if (failing) log.info({ generation }, 'ruleset generation readable again');
      failing = false;
      if (seen !== undefined && generation !== seen && !closed) o.onChange();
      seen = generation;
    } catch (err) {
      // a lost socket is opened again at the next check; until then changes are not noticed
      const s = session;
      session = undefined;
      void s?.then((x) => x.close()).catch(() => undefined);
      if (!failing) log.warn({ err }, 'cannot read the ruleset generation: changes made outside the agent are not noticed until it can');
      failing = true;
    }
  };
  const schedule = (): void => {
    if (closed) return;
    cancel = o.clock.setTimer(() => {
      cancel = undefined;
      running = check().then(schedule);
    }, intervalMs);
  };

  return {
    start() {
      running = check().then(schedule);
    },
    async close() {
      closed = true;
      cancel?.();
      await running;
      const s = session;
      session = undefined;
      await s?.then((x) => x.close()).catch(() => undefined);
    },
  };
}
