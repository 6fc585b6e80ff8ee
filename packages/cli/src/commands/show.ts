import { Option, type Command } from 'commander';
import { FW_DOCUMENT_KINDS, treeToJson, type ParsedDocument } from '@palisade/fw-lang';
import { EXIT } from '../exit.js';
import { loadInput, parseKind } from '../load-input.js';
import type { RegisterCommand } from '../command.js';

interface ShowOptions {
  readonly json?: boolean;
  readonly kind?: string;
}

function summary(doc: ParsedDocument): string {
  switch (doc.kind) {
    case 'qemu-config':
    case 'lxc-config':
      return `${doc.path}: ${doc.kind}, ${doc.nics.length} NIC(s): ${doc.nics
        .map((n) => `net${n.index}${n.bridge ? ` on ${n.bridge}` : ''}${n.firewall ? ' firewall' : ''}`)
        .join(', ')}`;
    case 'corosync':
      return `${doc.path}: corosync, transport ${doc.transport}, nodes ${doc.nodes.map((n) => n.name).join(', ')}`;
    default: {
      const fw = doc;
      const options = fw.options ? [...fw.options.values()].map((o) => `${o.name}=${o.value}`).join(' ') : '(no options section)';
      const groupRules = [...fw.groups.values()].reduce((n, g) => n + g.rules.length, 0);
      return (
        `${fw.path}: ${fw.kind}, ${fw.rules.length} rule(s), ${fw.aliases.size} alias(es), ${fw.ipsets.size} IP set(s), ` +
        `${fw.groups.size} group(s) with ${groupRules} rule(s); options: ${options}`
      );
    }
  }
}

/** `palisade show PATH [--json]`: the parsed model. */
export const registerShow: RegisterCommand = (program: Command, setExit) => {
  program
    .command('show')
    .description('Show the parsed model of a document or an /etc/pve-like directory (--json: the schema in the README)')
    .argument('<path>', 'document or directory')
    .option('--json', 'print the model as JSON')
    .addOption(new Option('--kind <kind>', 'kind of a standalone document').choices([...FW_DOCUMENT_KINDS]))
    .action(async (path: string, opts: ShowOptions) => {
      const input = await loadInput(path, parseKind(opts.kind));
      const only = input.focus === 'all' ? undefined : input.focus;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(treeToJson(input.tree, only), null, 2)}\n`);
      } else {
        for (const [p, doc] of input.tree.documents) if (!only || only.has(p)) process.stdout.write(`${summary(doc)}\n`);
      }
      setExit(EXIT.ok);
    });
};
