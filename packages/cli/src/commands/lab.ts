import type { Command } from 'commander';
import { simulate, type CompileResult, type SimCase } from '@palisade/fw-compile';
import { LabError, labPrerequisites, runLab, type LabCaseResult } from '@palisade/lab';
import { CliExit, EXIT } from '../exit.js';
import { addNodeOptions, compileFromFlags, reportCompileDiagnostics, type NodeCompileFlags } from '../node-compile.js';
import { readCases } from './simulate.js';
import type { RegisterCommand } from '../command.js';

interface LabFlags extends NodeCompileFlags {
  readonly cases: string;
  readonly timeout?: string;
}

/**
 * One output line: the case, what the kernel did, and what `simulate` says the kernel does
 * (its `kernelVerdict` where that differs from the reference simulator's verdict), so a
 * disagreement is visible on the line itself.
 */
function labJson(compiled: CompileResult, r: LabCaseResult): { json: Record<string, unknown>; disagrees: boolean } {
  const sim = simulate(compiled, r.case);
  const expected = sim.ok ? (sim.result.kernelVerdict ?? sim.result.verdict) : undefined;
  const rule = sim.ok ? ((sim.result.kernelVerdict !== undefined ? sim.result.kernelDecision : sim.result.decision)?.rule ?? null) : null;
  const agree = r.verdict === 'SKIP' || expected === undefined ? undefined : r.verdict === expected;
  return {
    json: {
      ...r.case,
      verdict: r.verdict,
      ...(r.observed !== undefined ? { observed: r.observed } : {}),
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      ...(expected !== undefined ? { simulated: expected, rule } : {}),
      ...(agree !== undefined ? { agree } : {}),
    },
    disagrees: agree === false,
  };
}

/** `palisade lab run …`: real packets through the compiled ruleset in network namespaces. */
export const registerLab: RegisterCommand = (program: Command, setExit) => {
  const lab = program.command('lab').description('Kernel lab: prove the compiled ruleset with real packets in network namespaces (needs root)');
  const cmd = lab
    .command('run')
    .description(
      'Build the node topology as network namespaces (host with the bridges, one namespace per guest NIC behind ' +
        'tap/veth<vmid>i<n>, outside on vmbr0/eth0), apply `palisade compile` inside the host namespace, send a real ' +
        'packet per case (TCP connect, UDP with a responder, ICMP echo) and print one JSON line per case: delivered = ' +
        'ACCEPT, silence = DROP, TCP reset or ICMP unreachable = REJECT, SKIP with a reason when real packets cannot ' +
        'reproduce the case. Removes everything it created, also on failure or Ctrl-C.',
    );
  addNodeOptions(cmd, false)
    .requiredOption('--cases <file>', 'JSON lines of cases (as for simulate --cases; - for stdin)')
    .option('--timeout <ms>', 'silence that counts as DROP, in milliseconds', '400')
    .action(async (flags: LabFlags) => {
      const why = await labPrerequisites();
      if (why) throw new CliExit(EXIT.usage, `lab: ${why}`);
      const { compiled } = await compileFromFlags(flags);
      reportCompileDiagnostics(compiled);
      const read = await readCases(flags.cases);
      const bad = read.find((c) => typeof c.value === 'string');
      if (bad) throw new CliExit(EXIT.usage, `--cases line ${bad.line}: ${bad.value as string}`);
      const cases = read.map((c) => c.value as SimCase);
      let disagreements = 0;
      const controller = new AbortController();
      const onSignal = (): void => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await runLab(compiled, cases, {
          signal: controller.signal,
          probeTimeoutMs: Number(flags.timeout ?? 400),
          onResult: (r) => {
            const line = labJson(compiled, r);
            if (line.disagrees) disagreements += 1;
            process.stdout.write(`${JSON.stringify(line.json)}\n`);
          },
        });
      } catch (err) {
        if (err instanceof LabError) throw new CliExit(EXIT.usage, `lab: ${err.message}`);
        throw err;
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
      if (disagreements > 0) process.stderr.write(`lab: the kernel disagrees with simulate on ${disagreements} case(s)\n`);
      setExit(disagreements > 0 ? EXIT.refused : EXIT.ok);
    });
};
