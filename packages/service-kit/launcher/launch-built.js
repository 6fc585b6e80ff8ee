// Shared by the committed launchers under services/*/bin/: npm links bins at install time,
// before dist/ exists, so a bin is a plain committed file that imports this one (plain
// JavaScript for the same reason: service-kit's dist/ may not be built yet either).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Runs the built `main(argv)` of a service. When `mainUrl` (its dist/main.js) is not there,
 * prints "PROGRAM: not built yet; run `npm run build` in the repository first" and exits 2.
 * @param {string} program the command's name, e.g. `palisade-configd`
 * @param {URL} mainUrl the service's built entry module
 * @param {readonly string[]} [argv] the arguments (default: the process's)
 * @returns {Promise<void>}
 */
export async function launchBuilt(program, mainUrl, argv = process.argv.slice(2)) {
  if (!existsSync(fileURLToPath(mainUrl))) {
    process.stderr.write(`${program}: not built yet; run \`npm run build\` in the repository first\n`);
    process.exit(2);
  }
  const entry = await import(mainUrl.href);
  await entry.main(argv);
}
