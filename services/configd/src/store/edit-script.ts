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
  const v1 = new Int32Array(length).fill(-1);
  const v2 = new Int32Array(length).fill(-1);
  v1[offset + 1] = 0;
  v2[offset + 1] = 0;
  const delta = n - m;
  const front = (delta & 1) !== 0;
  let k1start = 0;
  let k1end = 0;
  let k2start = 0;
  let k2end = 0;
  for (let d = 0; d <= dLimit; d++) {
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const i = offset + k1;
      let x1 = k1 === -d || (k1 !== d && v1[i - 1]! < v1[i + 1]!) ? v1[i + 1]! : v1[i - 1]! + 1;
      let y1 = x1 - k1;
      const x0 = x1;
      while (x1 < n && y1 < m && a[aLo + x1] === b[bLo + y1]) {
        x1++;
        y1++;
      }
      budget.steps += 1 + x1 - x0;
      v1[i] = x1;
      if (x1 > n) k1end += 2;
      else if (y1 > m) k1start += 2;
      else if (front) {
        const j = offset + delta - k1;
        if (j >= 0 && j < length && v2[j] !== -1 && x1 >= n - v2[j]!) return { x: x1, y: y1 };
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const i = offset + k2;
      let x2 = k2 === -d || (k2 !== d && v2[i - 1]! < v2[i + 1]!) ? v2[i + 1]! : v2[i - 1]! + 1;
      let y2 = x2 - k2;
      const x0 = x2;
      while (x2 < n && y2 < m && a[aHi - x2 - 1] === b[bHi - y2 - 1]) {
        x2++;
        y2++;
      }
      budget.steps += 1 + x2 - x0;
      v2[i] = x2;
      if (x2 > n) k2end += 2;
      else if (y2 > m) k2start += 2;
      else if (!front) {
        const j = offset + delta - k2;
        if (j >= 0 && j < length && v1[j] !== -1) {
          const x1 = v1[j]!;
          const y1 = x1 - (j - offset);
          if (x1 >= n - x2) return { x: x1, y: y1 };
        }
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
