/**
 * The walk over the messages of one netlink datagram that the NFLOG and rtnetlink decoders
 * share: header fields, bounds checks and alignment, keeping the messages before a malformed one.
 */
import { view } from './bytes.js';
import { NLMSG_HDRLEN } from './constants.js';

/** One message seen by {@link walkNetlinkMessages}: its header fields, offset and body (a view, not a copy). */
export interface NetlinkMessageRef {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  /** Offset of the message in the datagram (for error texts). */
  readonly at: number;
  /** The bytes after `nlmsghdr`. */
  readonly body: Uint8Array;
}

/**
 * Calls `visit` for each message of `bytes` in order. Why the walk stopped early (a datagram
 * over `maxBytes`, a truncated header, a length that does not fit) is pushed to `errors`.
 * Never throws.
 */
export function walkNetlinkMessages(bytes: Uint8Array, maxBytes: number, errors: string[], visit: (m: NetlinkMessageRef) => void): void {
  if (bytes.length > maxBytes) {
    errors.push(`datagram of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
    return;
  }
  const v = view(bytes);
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < NLMSG_HDRLEN) {
      errors.push(`truncated message header at ${at} (${bytes.length - at} of ${NLMSG_HDRLEN} bytes)`);
      return;
    }
    const len = v.getUint32(at, true);
    if (len < NLMSG_HDRLEN || len > bytes.length - at) {
      errors.push(`nlmsg_len ${len} at ${at} does not fit the datagram (${bytes.length - at} bytes left)`);
      return;
    }
    visit({ type: v.getUint16(at + 4, true), flags: v.getUint16(at + 6, true), seq: v.getUint32(at + 8, true), pid: v.getUint32(at + 12, true), at, body: bytes.subarray(at + NLMSG_HDRLEN, at + len) });
    at += Math.min((len + 3) & ~3, bytes.length - at);
  }
}
