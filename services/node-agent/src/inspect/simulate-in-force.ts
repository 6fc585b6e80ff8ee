/**
 * Simulate/explain against the ruleset in force: the compiled result the applied transaction
 * was rendered from, evaluated by `@palisade/fw-compile`'s simulator with the cases of
 * `palisade simulate` (so both answer the same for the same ruleset).
 */
import { formatSimResult, simOutcomeJson, simulate, type CompileResult, type SimCase } from '@palisade/fw-compile';

/** The answer for one case. */
export interface SimulatedCase {
  readonly verdict: string;
  /** The explanation `palisade simulate` prints. */
  readonly text: string;
  /** The object `palisade simulate --cases` prints, as JSON. */
  readonly resultJson: string;
  readonly error: string;
}

/** The case with empty fields left out (the wire form has no absent strings). */
export function caseOf(c: Readonly<Record<keyof SimCase, string>>): SimCase {
  const out: Record<string, string> = { from: c.from, to: c.to };
  for (const k of ['proto', 'dport', 'sport', 'source', 'dest', 'srctype', 'dsttype'] as const) if (c[k]) out[k] = c[k];
  return out as unknown as SimCase;
}

/** Evaluates each case against `compiled`. */
export function simulateInForce(compiled: CompileResult, cases: readonly SimCase[]): SimulatedCase[] {
  return cases.map((c) => {
    if (!c.from || !c.to) return { verdict: '', text: '', resultJson: '', error: 'a case needs from and to' };
    const o = simulate(compiled, c);
    const resultJson = JSON.stringify(simOutcomeJson(c, o));
    if (!o.ok) return { verdict: '', text: '', resultJson, error: o.error };
    return { verdict: o.result.verdict, text: formatSimResult(o.result), resultJson, error: '' };
  });
}
