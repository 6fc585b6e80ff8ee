import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './unified-diff.js';

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y')).toBe('');
  });
  it('prints one hunk with context', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8'].join('\n') + '\n';
    const b = ['1', '2', '3', 'four', '5', '6', '7', '8', '9'].join('\n') + '\n';
    expect(unifiedDiff(a, b, 'a/f@1', 'b/f@2')).toBe(
      ['--- a/f@1', '+++ b/f@2', '@@ -1,8 +1,9 @@', ' 1', ' 2', ' 3', '-4', '+four', ' 5', ' 6', ' 7', ' 8', '+9', ''].join('\n'),
    );
  });
  it('splits distant changes into hunks', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
    const b = a.replace('l1\n', 'L1\n').replace('l18\n', 'L18\n');
    const d = unifiedDiff(a, b, 'a', 'b');
    expect(d.match(/^@@/gm)).toHaveLength(2);
    expect(d).toContain('@@ -1,5 +1,5 @@');
    expect(d).toContain('@@ -16,5 +16,5 @@');
  });
  it('handles creation and deletion', () => {
    expect(unifiedDiff('', 'x\n', 'a', 'b')).toBe('--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n');
    expect(unifiedDiff('x\n', '', 'a', 'b')).toBe('--- a\n+++ b\n@@ -1,1 +0,0 @@\n-x\n');
  });
});
