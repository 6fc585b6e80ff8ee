/**
 * Proxmox's list digests (`copy_list_with_digest`, `copy_opject_with_digest`): what a client
 * sends back so that a write is refused when the list changed since its read.
 */
import { createHash } from 'node:crypto';

/** Proxmox's list digest: SHA-1 over every entry's `key:value\n`, keys sorted, undefined values left out. */
export function listDigest(entries: readonly Readonly<Record<string, string | number | undefined>>[]): string {
  const h = createHash('sha1');
  for (const e of entries) {
    for (const k of Object.keys(e).sort()) {
      const v = e[k];
      if (v !== undefined) h.update(`${k}:${v}\n`);
    }
  }
  return h.digest('hex');
}
