#!/usr/bin/env node
// The committed launcher of palisade-logger: npm links bins at install time, before dist/
// exists, so the link must point at a file that is always there.
let entry;
try {
  entry = await import('../dist/main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    process.stderr.write('palisade-logger: not built yet; run `npm run build` in the repository first\n');
    process.exit(2);
  }
  throw err;
}
await entry.main(process.argv.slice(2));
