/**
 * Shared by `palisade compile`, `simulate` and `lab`: reads an /etc/pve-like directory,
 * parses it and compiles the ruleset of one node.
 */
import { stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { loadTree, type PveTree } from '@palisade/fw-lang';
import { compileForNode, type CompileResult } from '@palisade/fw-compile';
import { CliExit, EXIT } from './exit.js';
import { readTree } from './read-tree.js';

/** The flags `addNodeOptions` adds, as commander parses them; `hostIp` is an array even when the flag is not repeatable. */
export interface NodeCompileFlags {
  readonly config: string;
  readonly node: string;
  readonly hostIp?: string[];
  readonly localNetwork?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds `--config`, `--node`, `--host-ip`, `--local-network` to a command. */
export function addNodeOptions(cmd: Command, hostIpRepeatable = true): Command {
  return cmd
    .requiredOption('--config <dir>', 'directory laid out like /etc/pve')
    .requiredOption('--node <name>', 'node to compile for (nodes/<name>/)')
    .addOption(
      hostIpRepeatable
        ? new Option('--host-ip <ip>', "host address, IP or IP/prefix (repeatable; default: the node's ring0_addr in corosync.conf)").argParser(collect)
        : new Option('--host-ip <ip>', "host address, IP or IP/prefix (default: the node's ring0_addr in corosync.conf)").argParser((v: string) => [v]),
    )
    .option('--local-network <cidr>', 'local network (default: cluster alias local_network, else the network of the host address, /24 or /64 when no prefix is given)');
}

/** What `compileFromFlags` returns: the node's compile result together with the parsed tree it came from. */
export interface NodeCompiled {
  readonly tree: PveTree;
  readonly compiled: CompileResult;
}

/** Reads and compiles; throws CliExit on I/O errors and fatal configuration errors. */
export async function compileFromFlags(flags: NodeCompileFlags): Promise<NodeCompiled> {
  try {
    if (!(await stat(flags.config)).isDirectory()) throw new CliExit(EXIT.usage, `--config ${flags.config}: not a directory`);
  } catch (err) {
    if (err instanceof CliExit) throw err;
    throw new CliExit(EXIT.usage, `--config ${flags.config}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const files = await readTree(flags.config);
  const tree = loadTree(files);
  const outcome = compileForNode(tree, {
    node: flags.node,
    ...(flags.hostIp && flags.hostIp.length > 0 ? { hostAddresses: flags.hostIp } : {}),
    ...(flags.localNetwork !== undefined ? { localNetwork: flags.localNetwork } : {}),
    nowSeconds: Math.floor(Date.now() / 1000),
  });
  if (!outcome.ok) throw new CliExit(outcome.refusal.code === 'unknown-node' ? EXIT.usage : EXIT.refused, outcome.refusal.message);
  return { tree, compiled: outcome.compiled };
}

/** Prints compile diagnostics to stderr as `path:line: warning CODE message`. */
export function reportCompileDiagnostics(compiled: CompileResult): void {
  for (const d of compiled.diagnostics) {
    const where = d.path !== undefined ? `${d.path}${d.line !== undefined ? `:${d.line}` : ''}: ` : '';
    process.stderr.write(`${where}warning ${d.code} ${d.message}\n`);
  }
}
