import { describe, expect, it } from 'vitest';
import { runEditScript, type EditRun } from './edit-script.js';
import { DEFAULT_DIFF_LIMITS, unifiedDiff, unifiedDiffAsync, type DiffResult } from './unified-diff.js';

const text = (r: DiffResult): string => (r.kind === 'diff' ? r.unified : r.kind);

/** A seeded generator (mulberry32): the same cases on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Length of the longest common subsequence, by dynamic programming (small inputs only). */
function lcs(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = [0];
    for (let j = 0; j < b.length; j++) row.push(x === b[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, row[j]!));
    prev = row;
  }
  return prev[b.length]!;
}

/** Applies an edit script to `a`, checking every kept line against `b`. */
function apply(a: readonly string[], b: readonly string[], runs: readonly EditRun[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  for (const r of runs) {
    for (let c = 0; c < r.count; c++) {
      if (r.kind === ' ') {
        expect(a[i]).toBe(b[j]);
        out.push(a[i++]!);
        j++;
      } else if (r.kind === '-') i++;
      else out.push(b[j++]!);
    }
  }
  expect([i, j]).toEqual([a.length, b.length]);
  return out;
}

/** Samples heap + array buffers at every event-loop turn while `work` runs; the peak growth. */
async function peakGrowth<T>(work: () => Promise<T>): Promise<{ result: T; bytes: number; maxGapMs: number }> {
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = used();
  let peak = base;
  let last = Date.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, used());
    const now = Date.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  try {
    const result = await work();
    peak = Math.max(peak, used());
    return { result, bytes: peak - base, maxGapMs };
  } finally {
    clearInterval(timer);
  }
}

const MiB = 1024 * 1024;

describe('unifiedDiff', () => {
  it('is identical for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y')).toEqual({ kind: 'identical' });
  });
  it('prints one hunk with context', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8'].join('\n') + '\n';
    const b = ['1', '2', '3', 'four', '5', '6', '7', '8', '9'].join('\n') + '\n';
    expect(text(unifiedDiff(a, b, 'a/f@1', 'b/f@2'))).toBe(
      ['--- a/f@1', '+++ b/f@2', '@@ -1,8 +1,9 @@', ' 1', ' 2', ' 3', '-4', '+four', ' 5', ' 6', ' 7', ' 8', '+9', ''].join('\n'),
    );
  });
  it('splits distant changes into hunks', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
    const b = a.replace('l1\n', 'L1\n').replace('l18\n', 'L18\n');
    const d = text(unifiedDiff(a, b, 'a', 'b'));
    expect(d.match(/^@@/gm)).toHaveLength(2);
    expect(d).toContain('@@ -1,5 +1,5 @@');
    expect(d).toContain('@@ -16,5 +16,5 @@');
  });
  it('handles creation, deletion and a missing final newline', () => {
    expect(text(unifiedDiff('', 'x\n', 'a', 'b'))).toBe('--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n');
    expect(text(unifiedDiff('x\n', '', 'a', 'b'))).toBe('--- a\n+++ b\n@@ -1,1 +0,0 @@\n-x\n');
    expect(text(unifiedDiff('x\n', 'x', 'a', 'b'))).toBe('--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n+x\n\\ No newline at end of file\n');
  });

  it('finds a shortest edit script (500 seeded random cases against dynamic programming)', () => {
    const rnd = seeded(14);
    for (let n = 0; n < 500; n++) {
      const alphabet = 1 + Math.floor(rnd() * 6);
      const line = (): string => `l${Math.floor(rnd() * alphabet)}`;
      const a = Array.from({ length: Math.floor(rnd() * 30) }, line);
      const b = Array.from({ length: Math.floor(rnd() * 30) }, line);
      const runs = runEditScript(a, b, { maxEditDistance: 1000, maxWork: 1e9 });
      if (!Array.isArray(runs)) throw new Error('limit hit on a small case');
      expect(apply(a, b, runs)).toEqual(b);
      const edits = runs.reduce((s, r) => s + (r.kind === ' ' ? 0 : r.count), 0);
      expect(edits).toBe(a.length + b.length - 2 * lcs(a, b));
    }
  });

  it('answers "too different" beyond the edit-distance and line limits', () => {
    const limits = { ...DEFAULT_DIFF_LIMITS, maxEditDistance: 10 };
    const a = Array.from({ length: 100 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? `b${i}` : `a${i}`)).join('\n');
    expect(unifiedDiff(a, b, 'a', 'b', 3, { ...limits, maxEditDistance: 20 }).kind).toBe('diff');
    const r = unifiedDiff(a, b, 'a', 'b', 3, limits);
    expect(r).toEqual({ kind: 'too-different', reason: 'at least 20 lines differ; diffs show at most 10 changed lines' });
    // Same lines in another order: the histogram bound does not see it, the capped search does.
    const shuffled = [...a.split('\n')].reverse().join('\n');
    expect(unifiedDiff(a, shuffled, 'a', 'b', 3, limits).kind).toBe('too-different');
    expect(unifiedDiff(a, b, 'a', 'b', 3, { ...limits, maxEditDistance: 1000, maxLines: 50 })).toEqual({
      kind: 'too-different',
      reason: 'a side has 100 lines; diffs are limited to 50 lines a side',
    });
    expect(unifiedDiff(a, shuffled, 'a', 'b', 3, { ...limits, maxEditDistance: 1000, maxWork: 100 }).kind).toBe('too-different');
  });

  // The measurements of issue 14: the old algorithm took 7.6 s and +1.45 GB for 8,000 changed
  // lines and +1.1 GB for 12,000 lines against their deletion.
  it('diffs 8,000 changed lines among 16,000 in bounded memory (< 64 MiB) without blocking the event loop', async () => {
    const entry = (i: number, net: string): string => `${net}.${i >> 8}.${i & 255}.0/24 # entry ${i}`;
    const a = Array.from({ length: 16_000 }, (_, i) => entry(i, '10')).join('\n') + '\n';
    const b = Array.from({ length: 16_000 }, (_, i) => entry(i, i % 2 ? '10' : '172')).join('\n') + '\n';
    const started = Date.now();
    const { result, bytes, maxGapMs } = await peakGrowth(() => unifiedDiffAsync(a, b, { from: 'a', to: 'b' }));
    expect(result.kind).toBe('diff');
    expect(text(result).split('\n').filter((l) => l.startsWith('-1') || l.startsWith('+1'))).toHaveLength(16_000);
    expect(bytes).toBeLessThan(64 * MiB);
    // About 130 million steps: seconds, generous for a loaded machine.
    expect(Date.now() - started).toBeLessThan(90_000);
    // Chunks of a few ms; generous for a loaded machine.
    expect(maxGapMs).toBeLessThan(1000);
  }, 120_000);

  it('diffs 12,000 lines against their deletion in bounded memory (< 32 MiB)', async () => {
    const a = Array.from({ length: 12_000 }, (_, i) => `IN ACCEPT -source 10.0.${i >> 8}.${i & 255} -p tcp -dport ${i}`).join('\n') + '\n';
    const { result, bytes } = await peakGrowth(() => unifiedDiffAsync(a, '', { from: 'a', to: 'b' }));
    expect(text(result)).toMatch(/^--- a\n\+\+\+ b\n@@ -1,12000 \+0,0 @@\n-IN ACCEPT/);
    expect(bytes).toBeLessThan(32 * MiB);
  });

  it('answers "too different" at once for a 1 MiB IP set replaced by another', async () => {
    const set = (net: number): string => Array.from({ length: 75_000 }, (_, i) => `${net}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).join('\n') + '\n';
    const a = set(10);
    const b = set(11);
    expect(a.length).toBeGreaterThan(MiB * 0.8);
    const started = Date.now();
    const { result, bytes } = await peakGrowth(() => unifiedDiffAsync(a, b, { from: 'a', to: 'b' }));
    expect(result).toEqual({ kind: 'too-different', reason: 'at least 150000 lines differ; diffs show at most 20000 changed lines' });
    expect(bytes).toBeLessThan(64 * MiB);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops when the signal aborts', async () => {
    const a = Array.from({ length: 20_000 }, (_, i) => `x${i % 97}`).join('\n');
    const b = Array.from({ length: 20_000 }, (_, i) => `x${(i * 7) % 97}`).join('\n');
    const ac = new AbortController();
    const pending = unifiedDiffAsync(a, b, { from: 'a', to: 'b' }, { signal: ac.signal });
    ac.abort(new DOMException('gone', 'AbortError'));
    await expect(pending).rejects.toThrow('gone');
  });
});
