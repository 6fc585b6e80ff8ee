/**
 * The demo's child processes: each is started with its output in a log file of the demo's
 * work directory, waited for until it logs that it is ready, and stopped by its PID
 * (SIGTERM, then SIGKILL after a grace period). Nothing here touches a process the demo did
 * not start.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** A free TCP port on loopback (bound and released; the caller binds it right after). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `command args` with stdout and stderr appended to `logFile`; resolves once a JSON log
 * line satisfies `ready(entry)` (or, for a plain-text program, a line matches `readyText`).
 * Rejects with the log's end when the process exits first or `timeoutMs` passes.
 */
export async function startService(name, command, args, { logFile, ready, readyText, timeoutMs = 30_000, env } = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const out = createWriteStream(logFile, { flags: 'a' });
  let tail = '';
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', (code, sig) => ((exited = true), resolve(code ?? sig))));
  const readiness = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} was not ready within ${timeoutMs} ms; its log (${logFile}) ends:\n${tail}`)), timeoutMs);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) while starting; its log (${logFile}) ends:\n${tail}`));
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        out.write(`${line}\n`);
        tail = `${tail}${line}\n`.slice(-3000);
        let entry;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = undefined;
        }
        if ((entry && ready?.(entry)) || (readyText && readyText.test(line))) {
          clearTimeout(timer);
          resolve(entry);
        }
      });
    }
  });
  const handle = {
    name,
    pid: child.pid,
    logFile,
    get running() {
      return !exited;
    },
    /** SIGTERM, SIGKILL after `graceMs`; resolves when the process is gone. Idempotent. */
    async stop(graceMs = 5000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => !exited && child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
      out.end();
    },
  };
  try {
    handle.readyEntry = await readiness;
  } catch (err) {
    await handle.stop(1000);
    throw err;
  }
  return handle;
}
