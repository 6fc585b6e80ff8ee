import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatSimResult, simOutcomeJson, simulate, type CompileResult, type SimCase } from '@palisade/fw-compile';
import { CliExit, EXIT } from '../exit.js';
import { addNodeOptions, compileFromFlags, type NodeCompileFlags } from '../node-compile.js';
import type { RegisterCommand } from '../command.js';

interface SimulateFlags extends NodeCompileFlags {
  readonly from?: string;
  readonly to?: string;
  readonly proto?: string;
  readonly dport?: string;
  readonly sport?: string;
  readonly source?: string;
  readonly dest?: string;
  readonly srctype?: string;
  readonly dsttype?: string;
  readonly cases?: string;
}

/**
 * The keys a case may have, in `--cases` JSON lines as in the flags; `readCases` keeps only these
 * and ignores any other key rather than refusing the line.
 */
export const CASE_KEYS = ['from', 'to', 'proto', 'dport', 'sport', 'source', 'dest', 'srctype', 'dsttype'] as const;

/** Reads JSON-lines cases (blank lines and `#` comments skipped). `-` is stdin. */
export async function readCases(file: string): Promise<{ line: number; value: SimCase | string }[]> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new CliExit(EXIT.usage, `--cases ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const out: { line: number; value: SimCase | string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('//')) return;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (typeof v !== 'object' || v === null || typeof v.from !== 'string' || typeof v.to !== 'string') {
        out.push({ line: i + 1, value: 'a case needs string fields "from" and "to"' });
        return;
      }
      const c: Record<string, string | number> = { from: v.from, to: v.to };
      for (const k of CASE_KEYS) {
        const x = v[k];
        if (k !== 'from' && k !== 'to' && (typeof x === 'string' || typeof x === 'number')) c[k] = x;
      }
      out.push({ line: i + 1, value: c as unknown as SimCase });
    } catch (err) {
      out.push({ line: i + 1, value: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` });
    }
  });
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Simulates the cases `readCases` returned: one JSON line per case, in input order. A case that
 * could not be read or simulated becomes an error line and counts in `errors`, so one bad line
 * does not stop the others.
 */
export function simulateCases(compiled: CompileResult, cases: { line: number; value: SimCase | string }[]): { lines: string[]; errors: number } {
  const lines: string[] = [];
  let errors = 0;
  for (const { line, value } of cases) {
    if (typeof value === 'string') {
      errors++;
      lines.push(JSON.stringify({ line, verdict: 'ERROR', error: value }));
      continue;
    }
    const o = simulate(compiled, value);
    if (!o.ok) errors++;
    lines.push(JSON.stringify(simOutcomeJson(value, o)));
  }
  return { lines, errors };
}

/** `palisade simulate …`: the verdict of the compiled ruleset for one case or a JSON-lines file of cases. */
export const registerSimulate: RegisterCommand = (program: Command, setExit) => {
  const cmd = program
    .command('simulate')
    .description(
      'Evaluate packets against the compiled ruleset (the same IR that is rendered to nftables). One case prints the ' +
        'verdict (ACCEPT, DROP or REJECT) alone on the first line, then the path and the deciding rule at each hook; ' +
        '--cases FILE (JSON lines, - for stdin) prints one JSON object per case. Zones: host, outside, nfvm, vm<ID>, ' +
        'vm<ID>i<N>, ct<ID>, <bridge>/<port>. Defaults: proto tcp, source 100.100.1.2, dest 100.200.3.4 (the host address for the host end).',
    );
  addNodeOptions(cmd, false)
    .option('--from <zone>', 'zone the packet comes from')
    .option('--to <zone>', 'zone the packet goes to')
    .option('--proto <p>', 'protocol (default tcp)')
    .option('--dport <port>', 'destination port, or an ICMP type name/number for icmp')
    .option('--sport <port>', 'source port')
    .option('--source <ip>', 'source address')
    .option('--dest <ip>', 'destination address')
    .option('--srctype <type>', 'source address type (UNICAST, BROADCAST, MULTICAST, ANYCAST, LOCAL)')
    .option('--dsttype <type>', 'destination address type')
    .option('--cases <file>', 'JSON lines of cases with keys from, to, proto, dport, sport, source, dest, srctype, dsttype')
    .action(async (flags: SimulateFlags) => {
      if (flags.cases === undefined && (flags.from === undefined || flags.to === undefined)) {
        throw new CliExit(EXIT.usage, 'give --from and --to, or --cases FILE');
      }
      if (flags.cases !== undefined && (flags.from !== undefined || flags.to !== undefined)) {
        throw new CliExit(EXIT.usage, '--cases cannot be combined with --from/--to');
      }
      const { compiled } = await compileFromFlags(flags);
      if (flags.cases !== undefined) {
        const cases = await readCases(flags.cases);
        const { lines, errors } = simulateCases(compiled, cases);
        process.stdout.write(lines.map((l) => `${l}\n`).join(''));
        setExit(errors > 0 ? EXIT.refused : EXIT.ok);
        return;
      }
      const c: Record<string, string> = { from: flags.from as string, to: flags.to as string };
      for (const k of ['proto', 'dport', 'sport', 'source', 'dest', 'srctype', 'dsttype'] as const) if (flags[k] !== undefined) c[k] = flags[k];
      const o = simulate(compiled, c as unknown as SimCase);
      if (!o.ok) throw new CliExit(EXIT.usage, o.error);
      process.stdout.write(formatSimResult(o.result));
      setExit(EXIT.ok);
    });
};
