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
 * Port ids are per network namespace, so only a socket of the calling thread's namespace
 * counts (SIOCGSKNS; when the kernel cannot say, the first match).
 *
 * inNetns(path, fn) -> fn(): runs fn with the calling thread inside the network namespace
 * `path` (/run/netns/NAME, setns(2)), then returns the thread to its own namespace, also when
 * fn throws. A socket opened in fn stays in that namespace for its whole life: the netns relay
 * process (and its copy of every datagram) is not needed. Only this thread moves, only for the
 * synchronous call; if it cannot move back the process aborts rather than go on in the wrong
 * namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <node_api.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static napi_value fail(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  char code[24];
  snprintf(code, sizeof code, "E%d", err);
  napi_throw_error(env, code, msg);
  return NULL;
}

/* 1: fd is a socket of the calling thread's network namespace, 0: of another, -1: unknown. */
static int in_own_netns(int fd) {
  struct stat own, its;
  if (stat("/proc/thread-self/ns/net", &own) != 0) return -1;
  int ns = ioctl(fd, SIOCGSKNS);
  if (ns < 0) return -1;
  int r = fstat(ns, &its);
  close(ns);
  if (r != 0) return -1;
  return own.st_ino == its.st_ino && own.st_dev == its.st_dev;
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
    if (in_own_netns(fd) == 0) continue;
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

static napi_value in_netns(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char path[4096];
  size_t len = 0;
  napi_valuetype fntype;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len == 0 || len >= sizeof path - 1 ||
      napi_typeof(env, argv[1], &fntype) != napi_ok || fntype != napi_function)
    return fail(env, "inNetns(path, fn)", EINVAL);
  int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own < 0) return fail(env, "open(/proc/thread-self/ns/net)", errno);
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(own);
    return fail(env, "open(network namespace)", e);
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int e = errno;
    close(target);
    close(own);
    return fail(env, "setns(CLONE_NEWNET)", e);
  }
  close(target);
  napi_value global, result = NULL;
  napi_get_global(env, &global);
  napi_status st = napi_call_function(env, global, argv[1], 0, NULL, &result);
  if (setns(own, CLONE_NEWNET) != 0) {
    fprintf(stderr, "nft-netlink inNetns: cannot return to the thread's own network namespace: %s\n", strerror(errno));
    abort();
  }
  close(own);
  return st == napi_ok ? result : NULL; /* otherwise fn's exception propagates */
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "forceSendBuffer", NAPI_AUTO_LENGTH, force_send_buffer, NULL, &fn);
  napi_set_named_property(env, exports, "forceSendBuffer", fn);
  napi_create_function(env, "inNetns", NAPI_AUTO_LENGTH, in_netns, NULL, &fn);
  napi_set_named_property(env, exports, "inNetns", fn);
  return exports;
}
