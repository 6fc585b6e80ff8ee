/*
 * SO_SNDBUFFORCE for the netlink socket of the `netlink` npm package (issue #9): a whole
 * ruleset replace is one nfnetlink batch, hence one datagram, and a datagram must fit the
 * socket's send buffer. SO_SNDBUF is capped at net.core.wmem_max (a global setting Palisade
 * must not change); SO_SNDBUFFORCE (CAP_NET_ADMIN) is not, and is what nft does for large
 * batches. The package does not expose its file descriptor, so the socket is found by its
 * address: the AF_NETLINK socket of this process bound to `portId` with protocol `protocol`.
 *
 * forceSendBuffer(protocol, portId, bytes) -> the socket's SO_SNDBUF afterwards (bytes);
 * throws with the errno when no such socket exists or the kernel refuses (no CAP_NET_ADMIN).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static napi_value fail(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  char code[24];
  snprintf(code, sizeof code, "E%d", err);
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value force_send_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, "forceSendBuffer(protocol, portId, bytes)", EINVAL);
  uint32_t protocol = 0, port = 0;
  int32_t bytes = 0;
  if (napi_get_value_uint32(env, argv[0], &protocol) != napi_ok || napi_get_value_uint32(env, argv[1], &port) != napi_ok ||
      napi_get_value_int32(env, argv[2], &bytes) != napi_ok || bytes <= 0)
    return fail(env, "forceSendBuffer: bad arguments", EINVAL);
  for (int fd = 0; fd < 65536; fd++) {
    struct sockaddr_nl addr;
    socklen_t len = sizeof addr;
    memset(&addr, 0, sizeof addr);
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
      if (errno == EBADF && fd > 4096) break;
      continue;
    }
    if (addr.nl_family != AF_NETLINK || addr.nl_pid != port) continue;
    int proto = -1;
    socklen_t plen = sizeof proto;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) != 0 || (uint32_t)proto != protocol) continue;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) return fail(env, "setsockopt(SO_SNDBUFFORCE)", errno);
    int now = 0;
    socklen_t nlen = sizeof now;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &now, &nlen) != 0) return fail(env, "getsockopt(SO_SNDBUF)", errno);
    napi_value out;
    napi_create_int32(env, now, &out);
    return out;
  }
  return fail(env, "forceSendBuffer: no netlink socket with that port in this process", ENOENT);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "forceSendBuffer", NAPI_AUTO_LENGTH, force_send_buffer, NULL, &fn);
  napi_set_named_property(env, exports, "forceSendBuffer", fn);
  return exports;
}
