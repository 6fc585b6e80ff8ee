/**
 * Every command a workspace package declares (`bin` in its package.json) is on the PATH of npm
 * scripts and `npx` right after a fresh `npm install`: npm links bins at install time, before
 * `dist/` is built, so each must point at a committed, executable launcher outside `dist/`.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const tracked = new Set(execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n'));

function workspaceDirs(): string[] {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  return root.workspaces.flatMap((w) =>
    w.endsWith('/*') ? readdirSync(join(ROOT, w.slice(0, -2))).map((d) => `${w.slice(0, -2)}/${d}`) : [w],
  ).filter((d) => existsSync(join(ROOT, d, 'package.json')));
}

const bins = workspaceDirs().flatMap((dir) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  return Object.entries(pkg.bin ?? {}).map(([name, file]) => ({ name, file: join(dir, file).replace(/\\/g, '/') }));
});

describe('workspace commands', () => {
  it('declares the service commands', () => {
    expect(bins.map((b) => b.name)).toEqual(expect.arrayContaining(['palisade', 'palisade-configd']));
  });

  it.each(bins)('$name points at a committed executable launcher outside dist/', ({ file }) => {
    expect(file).not.toMatch(/(^|\/)dist\//);
    expect(tracked.has(file)).toBe(true);
    expect(() => accessSync(join(ROOT, file), constants.X_OK)).not.toThrow();
    expect(readFileSync(join(ROOT, file), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });
});
