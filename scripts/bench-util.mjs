// What the benchmarks share: their command line (options with defaults, -h/--help printing the
// usage text), nearest-rank percentiles, and the machine's load average that goes with every
// figure (the machine may be shared: a figure without its load says little).
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

/**
 * Parses a benchmark's arguments: `defaults` are string options with their default values,
 * `flags` boolean options (false unless given), `optional` string options without a default.
 * `-h`/`--help` prints `help` and exits 0; an unknown option throws parseArgs' error.
 * @param {string} help
 * @param {{ defaults?: Record<string, string>, flags?: readonly string[], optional?: readonly string[] }} spec
 * @param {readonly string[]} [argv]
 * @returns {Record<string, string | boolean | undefined>}
 */
export function parseBenchArgs(help, spec, argv = process.argv.slice(2)) {
  const options = { help: { type: 'boolean', short: 'h', default: false } };
  for (const [name, value] of Object.entries(spec.defaults ?? {})) options[name] = { type: 'string', default: value };
  for (const name of spec.flags ?? []) options[name] = { type: 'boolean', default: false };
  for (const name of spec.optional ?? []) options[name] = { type: 'string' };
  const { values } = parseArgs({ args: [...argv], options });
  if (values.help) {
    process.stdout.write(help);
    process.exit(0);
  }
  return values;
}

/**
 * The nearest-rank `p`th percentile (0 < p <= 100) of `xs` (not sorted in place).
 * @param {readonly number[]} xs
 * @param {number} p
 */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** The 1, 5 and 15 minute load averages and the core count, e.g. `1.9, 1.2, 0.8 on 2 cores`. */
export function loadAverage() {
  return `${loadavg()
    .map((x) => x.toFixed(1))
    .join(', ')} on ${cpus().length} cores`;
}
