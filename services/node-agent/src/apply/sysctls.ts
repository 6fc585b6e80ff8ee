/**
 * Kernel settings the ruleset needs, set in the target namespace: the compiler's
 * `REQUIRED_SYSCTLS` and host.fw's conntrack options (as pve-firewall sets them).
 */
import { REQUIRED_SYSCTLS } from '@palisade/fw-compile';
import { hostOptions, type FwDocument } from '@palisade/fw-lang';
import { inNetns, runCommand } from './run-command.js';

/** One setting that could not be made. */
export interface SysctlFailure {
  readonly key: string;
  readonly value: string;
  readonly message: string;
}

/** The settings for a node: `REQUIRED_SYSCTLS` plus host.fw's `nf_conntrack_max` and TCP timeouts. */
export function wantedSysctls(hostDoc: FwDocument | undefined): [string, string][] {
  const out: [string, string][] = REQUIRED_SYSCTLS.map(([k, v]) => [k, v]);
  const h = hostOptions(hostDoc);
  if (h.conntrackMax !== undefined) out.push(['net.netfilter.nf_conntrack_max', String(h.conntrackMax)]);
  if (h.tcpTimeoutEstablished !== undefined) out.push(['net.netfilter.nf_conntrack_tcp_timeout_established', String(h.tcpTimeoutEstablished)]);
  if (h.tcpTimeoutSynRecv !== undefined) out.push(['net.netfilter.nf_conntrack_tcp_timeout_syn_recv', String(h.tcpTimeoutSynRecv)]);
  return out;
}

/** Writes each setting (`sysctl -w`) in `netns`; returns those that failed, with the reason. */
export async function applySysctls(netns: string | undefined, settings: readonly (readonly [string, string])[], signal?: AbortSignal): Promise<SysctlFailure[]> {
  const failures: SysctlFailure[] = [];
  for (const [key, value] of settings) {
    try {
      const r = await runCommand(inNetns(netns, ['sysctl', '-q', '-w', `${key}=${value}`]), { ...(signal ? { signal } : {}) });
      if (r.exitCode !== 0) failures.push({ key, value, message: r.stderr.trim() || `exit ${r.exitCode}` });
    } catch (err) {
      failures.push({ key, value, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return failures;
}
