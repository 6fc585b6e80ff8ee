/**
 * configd document commands: get, put, rm, ls, history, diff, rollback, watch, status,
 * import, export.
 */
import { lstat, mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { WatchEventType, watchDocuments, type DocumentMeta, type WatchResponse } from '@palisade/api';
import type { RegisterCommand } from '../command.js';
import { CliExit, EXIT } from '../exit.js';
import { readTree } from '../read-tree.js';
import { confirmField, confirmHint, withConfirmOption } from '../confirm-window.js';
import { formatDiagnostic, parseRevision, withClient, withServerOptions, type ServerOptions } from '../configd-client.js';

const out = (s: string): void => void process.stdout.write(s);
const err = (s: string): void => void process.stderr.write(s);

function isoTime(ms: number): string {
  return ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

function metaLine(m: DocumentMeta | undefined): string {
  if (!m) return '';
  return `${m.path} revision ${m.revision}${m.deleted ? ' (deleted)' : ` digest ${m.digest.slice(0, 12)}`}`;
}

async function readInput(file: string | undefined): Promise<Buffer> {
  try {
    if (file && file !== '-') return await readFile(file);
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } catch (e) {
    throw new CliExit(EXIT.usage, `cannot read ${file ?? 'standard input'}: ${(e as Error).message}`);
  }
}

type Opts = ServerOptions & {
  readonly revision?: string;
  readonly meta?: boolean;
  readonly file?: string;
  readonly expectRevision?: string;
  readonly expectDigest?: string;
  readonly create?: boolean;
  readonly message?: string;
  readonly json?: boolean;
  readonly limit?: string;
  readonly from?: string;
  readonly content?: boolean;
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly prefix?: string;
  readonly confirm?: string;
};

function add(program: Command, name: string, description: string): Command {
  return withServerOptions(program.command(name).description(description));
}

/**
 * Registers the commands on configd's documents: get, put, rm, ls, history, diff, rollback,
 * watch, status, import and export. `put` and `rm` take `--confirm`; the revision they print is
 * what `palisade confirm` expects.
 */
export const registerStore: RegisterCommand = (program) => {
  add(program, 'get', 'Print a document stored in configd (or one revision of it)')
    .argument('<path>', 'document path, e.g. firewall/cluster.fw')
    .option('--revision <n>', 'a retained older revision')
    .option('--meta', 'print the metadata instead of the content')
    .action(async (path: string, opts: Opts) => {
      await withClient(opts, async (c) => {
        const r = await c.call('get', { path, ...(opts.revision ? { revision: parseRevision(opts.revision, '--revision') } : {}) });
        const m = r.document?.meta;
        if (opts.meta && m) {
          out(`path: ${m.path}\nrevision: ${m.revision}\ndigest: ${m.digest}\nauthor: ${m.author}\ntime: ${isoTime(m.timeMs)}\nsize: ${m.sizeBytes}\nnode: ${m.writerNode}\nmessage: ${m.message}\nstore-revision: ${r.storeRevision}\n`);
        } else if (r.document) process.stdout.write(r.document.content); // the stored bytes, unchanged (not decoded)
      });
    });

  withConfirmOption(add(program, 'put', 'Write a document (validated; compare-and-set with --expect-revision; commit-confirmed with --confirm)'))
    .argument('<path>', 'document path')
    .option('--file <file>', 'read the content from FILE (default: standard input)')
    .option('--expect-revision <n>', 'only write if the document is at revision N (0: must not exist)')
    .option('--expect-digest <sha256>', 'only write if the document has this SHA-256')
    .option('--create', 'only write if the document does not exist')
    .option('--message <text>', 'message recorded with the revision')
    .action(async (path: string, opts: Opts) => {
      const content = await readInput(opts.file);
      await withClient(opts, async (c) => {
        const r = await c.call('put', {
          path,
          content,
          ...(opts.expectRevision !== undefined ? { expectedRevision: parseRevision(opts.expectRevision, '--expect-revision') } : {}),
          ...(opts.expectDigest ? { expectedDigest: opts.expectDigest } : {}),
          createOnly: Boolean(opts.create),
          message: opts.message ?? '',
          ...confirmField(opts),
        });
        for (const d of r.diagnostics) err(`${formatDiagnostic(d)}\n`);
        out(`${metaLine(r.meta)}\n`);
        if (r.confirmDeadlineMs) err(confirmHint(r.meta?.revision, r.confirmDeadlineMs));
      });
    });

  withConfirmOption(add(program, 'rm', 'Delete a document (history is kept)'))
    .argument('<path>', 'document path')
    .option('--expect-revision <n>', 'only delete if the document is at revision N')
    .option('--message <text>', 'message recorded with the deletion')
    .action(async (path: string, opts: Opts) => {
      await withClient(opts, async (c) => {
        const r = await c.call('delete', {
          path,
          ...(opts.expectRevision !== undefined ? { expectedRevision: parseRevision(opts.expectRevision, '--expect-revision') } : {}),
          message: opts.message ?? '',
          ...confirmField(opts),
        });
        out(`${metaLine(r.meta)}\n`);
        if (opts.confirm !== undefined) err(confirmHint(r.meta?.revision, (r.meta?.timeMs ?? Date.now()) + confirmField(opts).confirmWindowMs!));
      });
    });

  add(program, 'ls', 'List documents under a path prefix')
    .argument('[prefix]', 'path prefix, e.g. nodes/pve1/', '')
    .option('--json', 'print JSON')
    .action(async (prefix: string, opts: Opts) => {
      await withClient(opts, async (c) => {
        const r = await c.call('list', { prefix });
        if (opts.json) {
          out(`${JSON.stringify({ storeRevision: r.storeRevision, documents: r.documents.map((d) => d.meta) }, null, 2)}\n`);
          return;
        }
        for (const d of r.documents) {
          const m = d.meta!;
          out(`${String(m.revision).padStart(8)}  ${String(m.sizeBytes).padStart(8)}  ${isoTime(m.timeMs)}  ${m.author.padEnd(12)}  ${m.path}\n`);
        }
        err(`# ${r.documents.length} document(s) at store revision ${r.storeRevision}\n`);
      });
    });

  add(program, 'history', 'Show the retained revisions of a document, newest first')
    .argument('<path>', 'document path')
    .option('--limit <n>', 'at most N revisions')
    .action(async (path: string, opts: Opts) => {
      await withClient(opts, async (c) => {
        const r = await c.call('history', { path, limit: opts.limit ? parseRevision(opts.limit, '--limit') : 0 });
        for (const d of r.revisions) {
          const m = d.meta!;
          const what = m.deleted ? 'deleted' : `${m.digest.slice(0, 12)} ${String(m.sizeBytes).padStart(7)}B`;
          out(`${String(m.revision).padStart(8)}  ${isoTime(m.timeMs)}  ${m.author.padEnd(12)}  ${what}  ${m.message}\n`);
        }
      });
    });

  add(program, 'diff', 'Unified diff between two revisions of a document (REV2 default: current)')
    .argument('<path>', 'document path')
    .argument('<rev1>', 'older revision')
    .argument('[rev2]', 'newer revision (default: current)')
    .action(async (path: string, rev1: string, rev2: string | undefined, opts: Opts) => {
      await withClient(opts, async (c) => {
        const r = await c.call('diff', {
          path,
          fromRevision: parseRevision(rev1, 'REV1'),
          toRevision: rev2 ? parseRevision(rev2, 'REV2') : 0,
        });
        if (r.tooDifferent) out(`revisions differ too much to show a diff: ${r.tooDifferentReason}\n`);
        else out(r.unified);
      });
    });

  add(program, 'rollback', "Write an old revision's content as a new revision")
    .argument('<path>', 'document path')
    .argument('<rev>', 'retained revision to restore')
    .option('--expect-revision <n>', 'only roll back if the document is at revision N')
    .option('--message <text>', 'message (default: "rollback to revision REV")')
    .action(async (path: string, rev: string, opts: Opts) => {
      await withClient(opts, async (c) => {
        const r = await c.call('rollback', {
          path,
          revision: parseRevision(rev, 'REV'),
          ...(opts.expectRevision !== undefined ? { expectedRevision: parseRevision(opts.expectRevision, '--expect-revision') } : {}),
          message: opts.message ?? '',
        });
        out(`${metaLine(r.meta)}\n`);
      });
    });

  add(program, 'watch', 'Follow changes under path prefixes (snapshot first unless --from); reconnects and resumes')
    .argument('[prefix...]', 'path prefixes (default: everything)')
    .option('--from <rev>', 'replay every change from revision REV instead of a snapshot')
    .option('--json', 'one JSON object per event')
    .option('--content', 'include document content (with --json)')
    .action(async (prefixes: string[], opts: Opts) => {
      await withClient(opts, async (c) => {
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const json = Boolean(opts.json);
        try {
          const events = watchDocuments(c, {
            prefixes,
            fromRevision: opts.from ? parseRevision(opts.from, '--from') : 0,
            signal: stop.signal,
            progressIntervalMs: 10_000,
            metadataOnly: !opts.content,
          });
          for await (const ev of events) {
            switch (ev.kind) {
              case 'reset':
                for (const d of ev.documents) printEvent({ type: WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT, meta: d.meta, content: Buffer.from(d.content), revision: d.meta.revision }, json);
                printEvent({ type: WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT_END, meta: undefined, content: Buffer.alloc(0), revision: ev.revision }, json);
                break;
              case 'put':
                printEvent({ type: WatchEventType.WATCH_EVENT_TYPE_PUT, meta: ev.document.meta, content: Buffer.from(ev.document.content), revision: ev.revision }, json);
                break;
              case 'delete':
                printEvent({ type: WatchEventType.WATCH_EVENT_TYPE_DELETE, meta: ev.meta, content: Buffer.alloc(0), revision: ev.revision }, json);
                break;
              case 'progress':
                printEvent({ type: WatchEventType.WATCH_EVENT_TYPE_PROGRESS, meta: undefined, content: Buffer.alloc(0), revision: ev.revision }, json);
                break;
              case 'interrupted':
                err(`# watch interrupted (${ev.error.message}); resuming from revision ${ev.resumeFrom} in ${ev.retryInMs} ms\n`);
                break;
            }
          }
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
    });

  add(program, 'status', 'Show the state of a configd: revision, quorum, limits')
    .option('--json', 'print JSON')
    .action(async (opts: Opts) => {
      await withClient(opts, async (c) => {
        const s = await c.call('status', {});
        if (opts.json) out(`${JSON.stringify(s, null, 2)}\n`);
        else {
          out(
            `node: ${s.node}\nversion: ${s.version}\nrevision: ${s.revision}\nquorate: ${s.quorate ? 'yes' : 'NO (writes refused)'}\n` +
              `nats: ${s.natsConnected ? 'connected' : 'disconnected'}\nreplicas: ${s.replicas}\ndocuments: ${s.documents}\n` +
              `oldest resumable revision: ${s.oldestRevision}\nmax document size: ${s.maxDocumentBytes} bytes\n`,
          );
        }
        if (!s.quorate) throw new CliExit(EXIT.refused, '');
      });
    });

  add(program, 'import', 'Write every document of an /etc/pve tree (validated first; nothing written if anything is invalid)')
    .argument('<dir>', 'root of the tree (like /etc/pve)')
    .option('--force', 'write even when documents have errors')
    .option('--dry-run', 'validate only')
    .option('--message <text>', 'message recorded with each revision', 'import')
    .action(async (dir: string, opts: Opts) => {
      let tree: Map<string, Uint8Array>;
      try {
        tree = await readTree(dir);
      } catch (e) {
        throw new CliExit(EXIT.usage, `cannot read ${dir}: ${(e as Error).message}`);
      }
      if (tree.size === 0) throw new CliExit(EXIT.usage, `${dir} holds no /etc/pve documents`);
      await withClient(opts, async (c) => {
        const r = await c.call('import', {
          documents: [...tree].map(([path, content]) => ({ path, content: Buffer.from(content) })),
          force: Boolean(opts.force),
          dryRun: Boolean(opts.dryRun),
          message: opts.message ?? 'import',
        });
        for (const d of r.diagnostics) err(`${formatDiagnostic(d)}\n`);
        for (const m of r.written) out(`written ${metaLine(m)}\n`);
        for (const p of r.unchanged) out(`unchanged ${p}\n`);
        out(`# ${opts.dryRun ? 'dry run: ' : ''}${r.written.length} written, ${r.unchanged.length} unchanged, ${tree.size} document(s) read\n`);
      });
    });

  add(program, 'export', 'Write every document stored in configd into an /etc/pve-like directory')
    .argument('<dir>', 'target directory (created when missing)')
    .option('--prefix <prefix>', 'only documents under this prefix', '')
    .action(async (dir: string, opts: Opts) => {
      await withClient(opts, async (c) => {
        const r = await c.call('list', { prefix: opts.prefix ?? '', includeContent: true });
        await mkdir(dir, { recursive: true });
        const root = await realpath(dir);
        for (const d of r.documents) {
          await writeInside(root, d.meta!.path, d.content);
        }
        out(`# ${r.documents.length} document(s) exported at store revision ${r.storeRevision}\n`);
      });
    });
};

function printEvent(ev: WatchResponse, json: boolean): void {
  const type = WatchEventType[ev.type]?.replace('WATCH_EVENT_TYPE_', '').toLowerCase() ?? String(ev.type);
  if (json) {
    out(
      `${JSON.stringify({
        type,
        revision: ev.revision,
        ...(ev.meta ? { meta: ev.meta } : {}),
        ...(ev.content.length > 0 ? { content: ev.content.toString('utf8') } : {}),
      })}\n`,
    );
    return;
  }
  if (!ev.meta) out(`${String(ev.revision).padStart(8)}  ${type}\n`);
  else out(`${String(ev.revision).padStart(8)}  ${type.padEnd(8)}  ${ev.meta.path}  ${ev.meta.author}${ev.meta.message ? `  ${ev.meta.message}` : ''}\n`);
}

/**
 * Writes `rel` under `root` without following a symlink planted in the target: every directory
 * on the way must be a real directory (a link is refused before anything is created through
 * it), the temporary file is created exclusively (an existing file or link of that name is an
 * error), and the rename replaces a link at the target itself instead of writing through it.
 */
async function writeInside(root: string, rel: string, content: Uint8Array): Promise<void> {
  if (rel.startsWith('/') || rel.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new CliExit(EXIT.usage, `refusing to write '${rel}': not a relative document path`);
  }
  const target = join(root, rel);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    // Directory by directory: a planted directory link is refused before anything is created through it.
    let dir = root;
    for (const part of rel.split('/').slice(0, -1)) {
      dir = join(dir, part);
      const st = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (!st) await mkdir(dir);
      else if (st.isSymbolicLink() || !st.isDirectory()) {
        throw new CliExit(EXIT.usage, `refusing to write ${target}: ${dir} leads outside ${root} or is no directory (a symlink planted in the target?)`);
      }
    }
    await writeFile(tmp, content, { flag: 'wx' });
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    if (e instanceof CliExit) throw e;
    throw new CliExit(EXIT.usage, `cannot write ${target}: ${(e as Error).message}`);
  }
}
