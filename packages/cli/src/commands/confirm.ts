/**
 * `palisade confirm REVISION` and `palisade confirmations`: commit-confirmed changes (written
 * with `--confirm DURATION`) stay only when confirmed; configd rolls back the others.
 */
import type { Command } from 'commander';
import type { RegisterCommand } from '../command.js';
import { parseRevision, withClient, withServerOptions, type ServerOptions } from '../configd-client.js';

const out = (s: string): void => void process.stdout.write(s);
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Registers `palisade confirm` (keep a change written with `--confirm`) and `palisade
 * confirmations` (the changes still waiting). The CLI only asks: configd alone decides and
 * performs the rollback of a change not confirmed in time.
 */
export const registerConfirm: RegisterCommand = (program: Command) => {
  withServerOptions(program.command('confirm').description('Confirm a change written with --confirm: it stays (otherwise configd writes the previous content back)'))
    .argument('<revision>', 'the revision the write printed')
    .action(async (revision: string, opts: ServerOptions) => {
      await withClient(opts, async (c) => {
        const r = await c.call('confirm', { revision: parseRevision(revision, 'REVISION') });
        out(`confirmed: ${r.confirmed?.path} revision ${r.confirmed?.changeRevision} stays\n`);
      });
    });
  withServerOptions(program.command('confirmations').description('Changes waiting for confirmation in the cluster, soonest deadline first'))
    .option('--json', 'print JSON')
    .action(async (opts: ServerOptions & { json?: boolean }) => {
      await withClient(opts, async (c) => {
        const r = await c.call('listConfirmations', {});
        if (opts.json) return out(`${JSON.stringify(r.pending, null, 2)}\n`);
        if (r.pending.length === 0) return out('no change waits for confirmation\n');
        for (const p of r.pending) {
          const state = p.state === 'armed' ? `rolls back at ${iso(p.deadlineMs)}` : `rolling back (${p.rollbackNode})`;
          out(`${String(p.changeRevision || '-').padStart(8)}  ${p.path}  by ${p.author} via ${p.writerNode}: ${state} to revision ${p.restoreRevision || '(none: deleted)'}\n`);
        }
      });
    });
};
