/**
 * Line-based unified diff, as `diff -u` prints it, over the linear-space edit script of
 * `edit-script.ts`, within limits: beyond `maxLines` lines a side, `maxEditDistance` changed
 * lines or `maxWork` comparison steps the answer is "too different to show" instead of time and
 * memory spent. `unifiedDiffAsync` gives the event loop back between chunks of work. Pure.
 */
import { editScript, type EditLimitHit, type EditLimits, type EditRun } from './edit-script.js';

/** The bounds of one diff. */
export interface DiffLimits extends EditLimits {
  /** Most lines on either side. */
  readonly maxLines: number;
}

/**
 * Defaults: 200 000 lines a side (a 1 MiB document of 5-byte lines), 20 000 changed lines,
 * 300 million steps (a few seconds of one core, in chunks; memory stays O(lines) whatever the
 * input).
 */
export const DEFAULT_DIFF_LIMITS: DiffLimits = { maxLines: 200_000, maxEditDistance: 20_000, maxWork: 300_000_000 };

/** A diff: identical texts, the unified text, or why it is not shown. */
export type DiffResult =
  | { readonly kind: 'identical' }
  | { readonly kind: 'diff'; readonly unified: string }
  | { readonly kind: 'too-different'; readonly reason: string };

/** Splits text into lines, keeping track of a missing final newline like `diff` does. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += '\n\\ No newline at end of file';
  return lines;
}

function tooDifferent(hit: EditLimitHit, limits: DiffLimits): DiffResult {
  const reason =
    hit.limit === 'edit-distance'
      ? `at least ${hit.atLeast} lines differ; diffs show at most ${limits.maxEditDistance} changed lines`
      : `the diff needs more than ${limits.maxWork} comparison steps (the limit)`;
  return { kind: 'too-different', reason };
}

/** Expands the runs into one kind per line of the script (one byte each). */
function kindsOf(runs: readonly EditRun[]): Uint8Array {
  const total = runs.reduce((s, r) => s + r.count, 0);
  const kinds = new Uint8Array(total);
  let i = 0;
  for (const r of runs) {
    kinds.fill(r.kind === ' ' ? KEEP : r.kind === '-' ? DEL : ADD, i, i + r.count);
    i += r.count;
  }
  return kinds;
}
const KEEP = 0;
const DEL = 1;
const ADD = 2;

/** The `diff -u` text of an edit script. */
function format(a: readonly string[], b: readonly string[], runs: readonly EditRun[], fromLabel: string, toLabel: string, context: number): string {
  const ops = kindsOf(runs);
  const out: string[] = [`--- ${fromLabel}`, `+++ ${toLabel}`];
  // Line numbers (0-based) in both texts of the op at `pos`, advanced as hunks are printed.
  let pos = 0;
  let aAt = 0;
  let bAt = 0;
  const advance = (to: number): void => {
    for (; pos < to; pos++) {
      if (ops[pos] !== ADD) aAt++;
      if (ops[pos] !== DEL) bAt++;
    }
  };
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i] === KEEP) i++;
    if (i >= ops.length) break;
    const start = Math.max(pos, i - context);
    let end = i;
    // Extend the hunk while changes are within 2*context lines of each other.
    for (;;) {
      while (end < ops.length && ops[end] !== KEEP) end++;
      let j = end;
      while (j < ops.length && ops[j] === KEEP && j - end < 2 * context) j++;
      if (j < ops.length && ops[j] !== KEEP && j - end <= 2 * context) end = j;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    advance(start);
    let aCount = 0;
    let bCount = 0;
    for (let k = start; k < stop; k++) {
      if (ops[k] !== ADD) aCount++;
      if (ops[k] !== DEL) bCount++;
    }
    out.push(`@@ -${aCount === 0 ? aAt : aAt + 1},${aCount} +${bCount === 0 ? bAt : bAt + 1},${bCount} @@`);
    for (let k = start; k < stop; k++) {
      const op = ops[pos]!;
      out.push(op === KEEP ? ` ${a[aAt]!}` : op === DEL ? `-${a[aAt]!}` : `+${b[bAt]!}`);
      advance(pos + 1);
    }
    i = stop;
  }
  return out.join('\n') + '\n';
}

/**
 * The diff as a generator that yields between chunks of work (see `unifiedDiffAsync`).
 * `fromLabel`/`toLabel` go into the `---`/`+++` header lines.
 */
export function* unifiedDiffSteps(
  from: string,
  to: string,
  fromLabel: string,
  toLabel: string,
  context = 3,
  limits: DiffLimits = DEFAULT_DIFF_LIMITS,
): Generator<void, DiffResult> {
  if (from === to) return { kind: 'identical' };
  const a = splitLines(from);
  const b = splitLines(to);
  const longest = Math.max(a.length, b.length);
  if (longest > limits.maxLines) {
    return { kind: 'too-different', reason: `a side has ${longest} lines; diffs are limited to ${limits.maxLines} lines a side` };
  }
  const script = yield* editScript(a, b, limits);
  if (!Array.isArray(script)) return tooDifferent(script, limits);
  return { kind: 'diff', unified: format(a, b, script, fromLabel, toLabel, context) };
}

/** The diff on the calling thread (for small inputs and tests). */
export function unifiedDiff(from: string, to: string, fromLabel: string, toLabel: string, context = 3, limits: DiffLimits = DEFAULT_DIFF_LIMITS): DiffResult {
  const it = unifiedDiffSteps(from, to, fromLabel, toLabel, context, limits);
  for (;;) {
    const step = it.next();
    if (step.done) return step.value;
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The diff in chunks of a few milliseconds with an event-loop turn between them; stops with the
 * signal's reason when `signal` aborts.
 */
export async function unifiedDiffAsync(
  from: string,
  to: string,
  labels: { readonly from: string; readonly to: string },
  opts: { readonly context?: number; readonly limits?: DiffLimits; readonly signal?: AbortSignal } = {},
): Promise<DiffResult> {
  const it = unifiedDiffSteps(from, to, labels.from, labels.to, opts.context ?? 3, opts.limits ?? DEFAULT_DIFF_LIMITS);
  for (;;) {
    opts.signal?.throwIfAborted();
    const step = it.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}
