/** Whether a service's `main.ts` is the program being run, so importing it runs nothing. */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * True when `moduleUrl` (the caller's `import.meta.url`) is the script node was started with
 * (`node dist/main.js`, or a bin link resolving to it). The committed launchers under `bin/`
 * import `main` and call it themselves, so for them this is false.
 */
export function isEntryPoint(moduleUrl: string, script: string | undefined = process.argv[1]): boolean {
  if (!script) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
