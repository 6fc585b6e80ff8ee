#!/usr/bin/env node
import { main } from '../dist/main.js';

// A closed pipe (`palisade … | head`) ends the output, not with a stack trace. A command that
// holds resources (the lab's namespaces) listens for SIGTERM and cleans up; others just exit.
let closing = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    if (closing) return;
    closing = true;
    if (process.listenerCount('SIGTERM') > 0) process.kill(process.pid, 'SIGTERM');
    else process.exit(process.exitCode ?? 0);
  });
}

process.exitCode = await main(process.argv.slice(2));
