#!/usr/bin/env node
// Regenerates packages/api/src/gen/ from proto/ with buf + ts-proto (options in proto/buf.gen.yaml).
// With --check, generates into a temporary directory and fails (exit 1) when the committed
// code differs, so CI catches a proto change without regenerated code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'packages/api');
const protoDir = join(root, 'proto');
const genDir = join(pkg, 'src/gen');
const check = process.argv.includes('--check');

function findBin(name) {
  for (let dir = pkg; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules/.bin', name);
    try {
      statSync(candidate);
      return candidate;
    } catch {
      if (dir === dirname(dir)) throw new Error(`${name} not found in node_modules/.bin`);
    }
  }
}

function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  try {
    walk(dir);
  } catch {
    /* missing directory: no files */
  }
  return out.sort();
}

const templateText = readFileSync(join(protoDir, 'buf.gen.yaml'), 'utf8');
const opts = [...templateText.matchAll(/^\s+-\s+(\S+=\S+)\s*$/gm)].map((m) => m[1]);
const out = check ? mkdtempSync(join(tmpdir(), 'palisade-api-gen-')) : genDir;
const template = JSON.stringify({
  version: 'v2',
  plugins: [{ local: findBin('protoc-gen-ts_proto'), out, opt: opts }],
});
try {
  if (!check) rmSync(genDir, { recursive: true, force: true });
  execFileSync(findBin('buf'), ['generate', protoDir, '--template', template], { stdio: 'inherit', cwd: root });
  if (check) {
    const a = listFiles(out);
    const b = listFiles(genDir);
    const diffs = [];
    for (const f of new Set([...a, ...b])) {
      let x = null;
      let y = null;
      try { x = readFileSync(join(out, f), 'utf8'); } catch { /* absent */ }
      try { y = readFileSync(join(genDir, f), 'utf8'); } catch { /* absent */ }
      if (x !== y) diffs.push(f);
    }
    if (diffs.length > 0) {
      console.error(`generated code is stale (run: npm run generate -w @palisade/api): ${diffs.join(', ')}`);
      process.exit(1);
    }
    console.log(`generated code up to date (${a.length} files)`);
  }
} finally {
  if (check) rmSync(out, { recursive: true, force: true });
}
