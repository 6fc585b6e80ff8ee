/**
 * Shortest edit script between two line sequences in linear space: Myers' O((N+M)D) algorithm
 * with the middle-snake bisection (as in diff-match-patch's `bisect`), over lines interned to
 * integers. Memory is O(N+M); the work is counted and capped, and the search is a generator
 * that yields every `CHUNK_WORK` steps so that a caller can give the event loop back. Pure.
 */

/** One run of the edit script: `count` lines kept (' '), deleted ('-') or inserted ('+'). */
export interface EditRun {
  readonly kind: ' ' | '-' | '+';
  readonly count: number;
}

/** Why no edit script was produced. */
export type EditLimitHit = { readonly limit: 'edit-distance'; readonly atLeast: number } | { readonly limit: 'work'; readonly steps: number };

/**
 * Bounds of one edit script search; past either, `editScript` answers an `EditLimitHit` instead of
 * a script, so that a diff of huge or very different documents takes bounded time.
 */
export interface EditLimits {
  /** Most inserted + deleted lines an answer may have. */
  readonly maxEditDistance: number;
  /** Most comparison steps spent on one script (bounds the time). */
  readonly maxWork: number;
}

/** Steps between two yields of the search (a few milliseconds of work). */
export const CHUNK_WORK = 1_000_000;

class Runs {
  readonly list: EditRun[] = [];
  push(kind: EditRun['kind'], count: number): void {
    if (count <= 0) return;
    const last = this.list[this.list.length - 1];
    if (last?.kind === kind) this.list[this.list.length - 1] = { kind, count: last.count + count };
    else this.list.push({ kind, count });
  }
}

/** Interns lines to integers so that comparing two lines is one integer comparison. */
function intern(a: readonly string[], b: readonly string[]): { a: Int32Array; b: Int32Array; distinct: number } {
  const ids = new Map<string, number>();
  const map = (lines: readonly string[]): Int32Array => {
    const out = new Int32Array(lines.length);
    lines.forEach((line, i) => {
      let id = ids.get(line);
      if (id === undefined) ids.set(line, (id = ids.size));
      out[i] = id;
    });
    return out;
  };
  const ia = map(a);
  const ib = map(b);
  return { a: ia, b: ib, distinct: ids.size };
}

/** A lower bound of the edit distance: lines that occur more often on one side must be edited. */
function editDistanceLowerBound(a: Int32Array, b: Int32Array, distinct: number): number {
  const balance = new Int32Array(distinct);
  for (const id of a) balance[id]!++;
  for (const id of b) balance[id]!--;
  let bound = 0;
  for (const v of balance) bound += Math.abs(v);
  return bound;
}

interface Range {
  readonly aLo: number;
  readonly aHi: number;
  readonly bLo: number;
  readonly bHi: number;
}

class Budget {
  steps = 0;
  #nextYield = CHUNK_WORK;
  constructor(readonly max: number) {}
  /** True when the next yield point is reached. */
  due(): boolean {
    if (this.steps < this.#nextYield) return false;
    this.#nextYield = this.steps + CHUNK_WORK;
    return true;
  }
}

/** What `middleSnake` returns when the work budget is spent. */
const OUT_OF_WORK = Symbol('out-of-work');

/**
 * One direction of the middle-snake search. `v[offset + k]` is the furthest x reached on
 * diagonal k, counted from the range's start going forward or from its end going backward (line
 * x of the direction is `a[aStart + step * x]`, line y `b[bStart + step * y]`); the diagonals
 * that ran off the range at either end (`kStart`, `kEnd`) are not extended any more.
 */
class Frontier {
  readonly v: Int32Array;
  kStart = 0;
  kEnd = 0;
  constructor(
    length: number,
    offset: number,
    readonly aStart: number,
    readonly bStart: number,
    readonly step: 1 | -1,
  ) {
    this.v = new Int32Array(length).fill(-1);
    this.v[offset + 1] = 0;
  }
}

/** What both directions of one `middleSnake` call share. */
interface SnakeSearch {
  readonly a: Int32Array;
  readonly b: Int32Array;
  /** Lines of the range in `a` and in `b`. */
  readonly n: number;
  readonly m: number;
  readonly offset: number;
  readonly budget: Budget;
}

/**
 * Extends diagonal `k` of `f` at edit distance `d`: one edit from the neighbouring diagonal that
 * got further, then along the equal lines after it. Returns the x reached, or -1 when the
 * diagonal ran off the range (it is then dropped from `f`).
 */
function extend(s: SnakeSearch, f: Frontier, k: number, d: number): number {
  const { a, b, n, m } = s;
  const { v, aStart, bStart, step } = f;
  const i = s.offset + k;
  const x0 = k === -d || (k !== d && v[i - 1]! < v[i + 1]!) ? v[i + 1]! : v[i - 1]! + 1;
  let x = x0;
  let y = x0 - k;
  while (x < n && y < m && a[aStart + step * x] === b[bStart + step * y]) {
    x++;
    y++;
  }
  s.budget.steps += 1 + x - x0;
  v[i] = x;
  if (x > n) {
    f.kEnd += 2;
    return -1;
  }
  if (y > m) {
    f.kStart += 2;
    return -1;
  }
  return x;
}

/**
 * The point where a shortest path from (aLo, bLo) to (aHi, bHi) crosses its middle, or
 * undefined when it needs more than `maxD` forward and backward steps each.
 */
function* middleSnake(a: Int32Array, b: Int32Array, r: Range, maxD: number, budget: Budget): Generator<void, { x: number; y: number } | undefined | typeof OUT_OF_WORK> {
  const { aLo, aHi, bLo, bHi } = r;
  const n = aHi - aLo;
  const m = bHi - bLo;
  const dLimit = Math.min(Math.ceil((n + m) / 2), maxD);
  const offset = dLimit + 1;
  const length = 2 * dLimit + 3;
  const s: SnakeSearch = { a, b, n, m, offset, budget };
  const forward = new Frontier(length, offset, aLo, bLo, 1);
  const backward = new Frontier(length, offset, aHi - 1, bHi - 1, -1);
  const delta = n - m;
  // With an odd delta the paths can first meet on a forward step, with an even one on a backward step.
  const front = (delta & 1) !== 0;
  for (let d = 0; d <= dLimit; d++) {
    for (let k1 = -d + forward.kStart; k1 <= d - forward.kEnd; k1 += 2) {
      const x1 = extend(s, forward, k1, d);
      if (x1 < 0 || !front) continue;
      const j = offset + delta - k1;
      if (j >= 0 && j < length && backward.v[j] !== -1 && x1 >= n - backward.v[j]!) return { x: x1, y: x1 - k1 };
    }
    for (let k2 = -d + backward.kStart; k2 <= d - backward.kEnd; k2 += 2) {
      const x2 = extend(s, backward, k2, d);
      if (x2 < 0 || front) continue;
      const j = offset + delta - k2;
      if (j >= 0 && j < length && forward.v[j] !== -1) {
        const x1 = forward.v[j]!;
        if (x1 >= n - x2) return { x: x1, y: x1 - (j - offset) };
      }
    }
    if (budget.steps > budget.max) return OUT_OF_WORK;
    if (budget.due()) yield;
  }
  return undefined;
}

/**
 * The shortest edit script from `from` to `to` as runs, or the limit that stopped it. A
 * generator: it yields now and then (see `CHUNK_WORK`); drive it with `runEditScript`
 * (synchronously) or a loop that awaits between steps.
 */
export function* editScript(from: readonly string[], to: readonly string[], limits: EditLimits): Generator<void, EditRun[] | EditLimitHit> {
  const { a, b, distinct } = intern(from, to);
  const lower = editDistanceLowerBound(a, b, distinct);
  if (lower > limits.maxEditDistance) return { limit: 'edit-distance', atLeast: lower };
  // No line in common: the script is known without a search.
  if (lower === a.length + b.length) return [...(a.length > 0 ? [{ kind: '-' as const, count: a.length }] : []), ...(b.length > 0 ? [{ kind: '+' as const, count: b.length }] : [])];
  const budget = new Budget(limits.maxWork);
  const runs = new Runs();
  // Ranges still to solve, the next one last; each range's script follows the previous one's.
  const stack: Range[] = [{ aLo: 0, aHi: a.length, bLo: 0, bHi: b.length }];
  let top = true;
  while (stack.length > 0) {
    let { aLo, aHi, bLo, bHi } = stack.pop()!;
    const prefixStart = aLo;
    while (aLo < aHi && bLo < bHi && a[aLo] === b[bLo]) {
      aLo++;
      bLo++;
    }
    let suffix = 0;
    while (aHi > aLo && bHi > bLo && a[aHi - 1] === b[bHi - 1]) {
      aHi--;
      bHi--;
      suffix++;
    }
    budget.steps += aLo - prefixStart + suffix;
    runs.push(' ', aLo - prefixStart);
    if (aLo === aHi || bLo === bHi) {
      runs.push('-', aHi - aLo);
      runs.push('+', bHi - bLo);
      runs.push(' ', suffix);
      continue;
    }
    const range = { aLo, aHi, bLo, bHi };
    // Only the whole problem needs the cap: a part's distance is at most the whole's.
    const capped = top;
    top = false;
    const mid = yield* middleSnake(a, b, range, capped ? Math.ceil(limits.maxEditDistance / 2) + 1 : Number.MAX_SAFE_INTEGER, budget);
    if (mid === OUT_OF_WORK) return { limit: 'work', steps: budget.steps };
    if (!mid && capped) return { limit: 'edit-distance', atLeast: limits.maxEditDistance + 1 };
    if (!mid) {
      // Cannot happen with an uncapped search; a valid (if long) script all the same.
      runs.push('-', aHi - aLo);
      runs.push('+', bHi - bLo);
      runs.push(' ', suffix);
      continue;
    }
    // The suffix goes after both halves: a zero-size range carries it.
    if (suffix > 0) stack.push({ aLo: aHi, aHi: aHi + suffix, bLo: bHi, bHi: bHi + suffix });
    stack.push({ aLo: aLo + mid.x, aHi, bLo: bLo + mid.y, bHi });
    stack.push({ aLo, aHi: aLo + mid.x, bLo, bHi: bLo + mid.y });
    if (budget.steps > budget.max) return { limit: 'work', steps: budget.steps };
    if (budget.due()) yield;
  }
  const script = runs.list;
  const distance = script.reduce((s, run) => s + (run.kind === ' ' ? 0 : run.count), 0);
  if (distance > limits.maxEditDistance) return { limit: 'edit-distance', atLeast: distance };
  return script;
}

/** Runs `editScript` to completion on the calling thread. */
export function runEditScript(from: readonly string[], to: readonly string[], limits: EditLimits): EditRun[] | EditLimitHit {
  const it = editScript(from, to, limits);
  for (;;) {
    const step = it.next();
    if (step.done) return step.value;
  }
}
