/**
 * `--confirm DURATION` of the writing commands (commit-confirmed): the change is rolled back by
 * configd unless `palisade confirm REVISION` arrives within DURATION.
 */
import type { Command } from 'commander';
import { CliExit, EXIT } from './exit.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `60s`, `90` (seconds), `5m`, `1h`, `1500ms` into milliseconds; a usage error otherwise. */
export function parseConfirmWindow(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new CliExit(EXIT.usage, `--confirm expects a duration such as 60s, 5m or 1h, got '${text}'`);
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
  if (ms < 1000 || ms > 24 * 3_600_000) throw new CliExit(EXIT.usage, `--confirm must be between 1s and 24h, got '${text}'`);
  return ms;
}

/** Adds `--confirm <duration>` to a writing command. */
export function withConfirmOption(cmd: Command): Command {
  return cmd.option('--confirm <duration>', 'commit-confirmed: roll the change back unless `palisade confirm REVISION` follows within DURATION (60s, 5m)');
}

/** The `confirmWindowMs` request field for `--confirm` (absent without it). */
export function confirmField(o: { readonly confirm?: string }): { confirmWindowMs?: number } {
  return o.confirm !== undefined ? { confirmWindowMs: parseConfirmWindow(o.confirm) } : {};
}

/** The line printed after a commit-confirmed write. */
export function confirmHint(revision: number | undefined, deadlineMs: number): string {
  return `waiting for confirmation until ${new Date(deadlineMs).toISOString()}: run 'palisade confirm ${revision ?? '?'}' or the change is rolled back\n`;
}
