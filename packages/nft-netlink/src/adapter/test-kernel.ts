/**
 * Test support (not built): why the kernel tests of this package cannot run here, or undefined.
 * They need root (network namespaces, nftables) and the `nft` and `ip` commands.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export async function kernelTestSkipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  for (const [cmd, args] of [['nft', ['--version']], ['ip', ['-V']]] as const) {
    try {
      await exec(cmd, [...args]);
    } catch {
      return `\`${cmd}\` is not installed`;
    }
  }
  return undefined;
}
