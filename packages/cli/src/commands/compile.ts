import { Option, type Command } from 'commander';
import { renderNftJson, renderNftText } from '@palisade/fw-compile';
import { EXIT } from '../exit.js';
import { addNodeOptions, compileFromFlags, reportCompileDiagnostics, type NodeCompileFlags } from '../node-compile.js';
import type { RegisterCommand } from '../command.js';

interface CompileFlags extends NodeCompileFlags {
  readonly format: 'nft' | 'json';
}

/**
 * `palisade compile --config DIR --node NAME [--host-ip IP]... [--local-network CIDR] [--format nft|json]`:
 * prints the node's ruleset as one nftables transaction that replaces only Palisade's tables.
 */
export const registerCompile: RegisterCommand = (program: Command, setExit) => {
  const cmd = program
    .command('compile')
    .description(
      "Compile one node's firewall configuration into an nftables ruleset (one transaction that creates or " +
        "replaces only Palisade's tables). Rules that cannot be compiled are reported on stderr and skipped.",
    );
  addNodeOptions(cmd)
    .addOption(new Option('--format <format>', 'nft text (for nft -f) or libnftables JSON (for nft -j -f)').choices(['nft', 'json']).default('nft'))
    .action(async (flags: CompileFlags) => {
      const { compiled } = await compileFromFlags(flags);
      reportCompileDiagnostics(compiled);
      const text =
        flags.format === 'json'
          ? `${JSON.stringify(renderNftJson(compiled.ruleset, compiled.ownTables))}\n`
          : renderNftText(compiled.ruleset, compiled.ownTables, {
              header: [`palisade compile --node ${flags.node}${compiled.enabled ? '' : ' (cluster firewall disabled: tables removed)'}`],
            });
      process.stdout.write(text);
      setExit(EXIT.ok);
    });
};
