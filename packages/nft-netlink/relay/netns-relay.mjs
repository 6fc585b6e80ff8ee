// The network-namespace relay of @palisade/nft-netlink (see README "Network namespaces").
// Started by netns-link.ts as `ip netns exec NS node netns-relay.mjs` with an IPC channel
// (serialization "advanced"): `ip netns exec` enters the namespace (setns) and execs node, so
// the NETLINK_NETFILTER socket opened here belongs to NS. The relay only moves bytes: it sends
// each datagram it is given and forwards every datagram the kernel sends back. Encoding,
// decoding and waiting for acks stay in the parent. It exits when told to, and when the IPC
// channel goes away (the parent died), so it never outlives its parent.
//
// Parent -> relay: { t: 'send', id, b: Uint8Array } | { t: 'sendFile', id, path, length } | { t: 'close' }
//   (`sendFile`: a large datagram staged in an unlinked file the parent holds open, read here
//   as /proc/PID/fd/N: two memory copies instead of the IPC channel's serialisation)
// Relay -> parent: { t: 'ready', maxSendBytes, fileTransfer: true } | { t: 'sent', id } | { t: 'sendError', id, errno, code, message }
//                  | { t: 'dgram', b: Uint8Array } | { t: 'error', errno, code, message }
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';
import { RawNetlinkSocket } from 'netlink';

const require = createRequire(import.meta.url);

const NETLINK_NETFILTER = 12;

/**
 * @typedef {{ errno?: number, code?: string, message?: string }} ErrnoLike
 * @typedef {{ t: 'send', id: number, b: Uint8Array } | { t: 'sendFile', id: number, path: string, length: number } | { t: 'close' }} Request
 */

const bufferBytes = Number(process.env.PALISADE_NFT_RELAY_BUFFER_BYTES ?? 4 << 20);

/** @param {unknown} m */
const post = (m) => {
  if (process.connected) process.send?.(m);
};

/** @type {InstanceType<typeof RawNetlinkSocket>} */
let socket;
try {
  socket = new RawNetlinkSocket(NETLINK_NETFILTER, { sendBufferSize: bufferBytes, recvBufferSize: bufferBytes });
} catch (err) {
  const e = /** @type {ErrnoLike} */ (err);
  post({ t: 'error', errno: e.errno, code: e.code, message: `cannot open a NETLINK_NETFILTER socket: ${e.message ?? String(err)}` });
  process.disconnect?.();
  process.exit(1);
}
// SO_SNDBUFFORCE past net.core.wmem_max (native/sndbuf.c), as socket-link.ts does: a whole replace is one datagram
const forceBytes = Number(process.env.PALISADE_NFT_RELAY_FORCE_SNDBUF_BYTES ?? 64 << 20);
if (forceBytes > 0) {
  try {
    /** @type {{ forceSendBuffer(protocol: number, portId: number, bytes: number): number }} */
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- a native module: require() is untyped
    const addon = require('../native/build/sndbuf.node');
    addon.forceSendBuffer(NETLINK_NETFILTER, socket.address().port, forceBytes);
  } catch {
    // not built or not allowed: the send buffer stays as SO_SNDBUF left it
  }
}
socket.on('message', (msg) => post({ t: 'dgram', b: new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength) }));
socket.on('error', (e) => post({ t: 'error', errno: e.errno, code: e.code, message: `netlink socket: ${e.message}` }));

const shutdown = () => {
  try {
    socket.close();
  } catch {
    // already closed
  }
  process.disconnect?.();
  process.exitCode = 0;
};
process.on('disconnect', () => {
  try {
    socket.close();
  } catch {
    // already closed
  }
  process.exit(0);
});
/** @param {number} id @param {Uint8Array} bytes */
const send = (id, bytes) => {
  socket.send(bytes, { port: 0 }, (e) => {
    if (e) post({ t: 'sendError', id, errno: e.errno, code: e.code, message: `sendmsg: ${e.message}` });
    else post({ t: 'sent', id });
  });
};
process.on('message', (/** @type {Request} */ m) => {
  if (m.t === 'send') send(m.id, m.b);
  else if (m.t === 'sendFile') {
    let bytes;
    try {
      bytes = readFileSync(m.path);
    } catch (err) {
      const e = /** @type {ErrnoLike} */ (err);
      post({ t: 'sendError', id: m.id, errno: e.errno, code: e.code, message: `reading the staged datagram: ${e.message ?? String(err)}` });
      return;
    }
    if (bytes.length !== m.length) post({ t: 'sendError', id: m.id, message: `staged datagram has ${bytes.length} bytes, not ${m.length}` });
    else send(m.id, bytes);
  } else if (m.t === 'close') shutdown();
});
post({ t: 'ready', maxSendBytes: Math.max(0, socket.getSendBufferSize() - 32), fileTransfer: true });
