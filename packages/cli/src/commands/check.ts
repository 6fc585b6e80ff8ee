import { Option, type Command } from 'commander';
import { FW_DOCUMENT_KINDS, formatDiagnostic, sortDiagnostics, type Diagnostic } from '@palisade/fw-lang';
import { EXIT } from '../exit.js';
import { loadInput, parseKind } from '../load-input.js';
import type { RegisterCommand } from '../command.js';

interface CheckOptions {
  readonly kind?: string;
  readonly maxBytes?: string;
  readonly quiet?: boolean;
}

/** `palisade check PATH...`: every diagnostic as `path:line: severity CODE message`. */
export const registerCheck: RegisterCommand = (program: Command, setExit) => {
  program
    .command('check')
    .description(
      'Check firewall documents: a document, or a directory laid out like /etc/pve. Prints one line per ' +
        'diagnostic (path:line: severity CODE message); exit 0 without errors, 1 with errors, 2 on usage or I/O errors.',
    )
    .argument('<path...>', 'documents or /etc/pve-like directories')
    .addOption(
      new Option('--kind <kind>', 'kind of a standalone document (default: guessed from its name and content)').choices([
        ...FW_DOCUMENT_KINDS,
      ]),
    )
    .option('--max-bytes <n>', 'document size limit in bytes', '1048576')
    .option('-q, --quiet', 'print errors only, no warnings and no summary')
    .action(async (paths: string[], opts: CheckOptions) => {
      const kind = parseKind(opts.kind);
      let errors = 0;
      let warnings = 0;
      let documents = 0;
      for (const path of paths) {
        const input = await loadInput(path, kind, Number(opts.maxBytes));
        const focus = input.focus;
        documents += focus === 'all' ? input.tree.documents.size : focus.size;
        const relevant = input.tree.diagnostics.filter((d: Diagnostic) => focus === 'all' || focus.has(d.path));
        for (const d of sortDiagnostics(relevant)) {
          if (d.severity === 'error') errors += 1;
          else warnings += 1;
          if (opts.quiet && d.severity !== 'error') continue;
          process.stdout.write(`${formatDiagnostic({ ...d, path: input.display(d.path) })}\n`);
        }
      }
      if (!opts.quiet) {
        process.stderr.write(`checked ${documents} document(s): ${errors} error(s), ${warnings} warning(s)\n`);
      }
      setExit(errors > 0 ? EXIT.refused : EXIT.ok);
    });
};
