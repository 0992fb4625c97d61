// Batched raw Ethernet sends for sweeps: one sendmmsg() carries up to 64 frames, where
// pcap_inject() makes one send() per frame. On the lab's VM a system call costs ~2 us, more than
// the kernel's own work for one ARP request, so a /16 sweep spent most of its CPU entering and
// leaving the kernel (bench/RESULTS.md, case 6).
//
// open(ifname) -> { fd, ifindex }: an AF_PACKET socket bound to the interface with protocol 0,
//   so it receives nothing (the libpcap session does the capturing).
// send(fd, ifindex, frames, frameLength, count) -> frames sent: `count` frames laid out back to
//   back in `frames`, each `frameLength` bytes, sent as ARP (EtherType 0x0806).
// close(fd)
//
// Errors are thrown as Error with `code` set to the errno name (EPERM, ENODEV, ENETDOWN, ...).
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
// A full device queue (a fast sweep on a slow link) refuses frames with ENOBUFS: wait for it to
// drain, 100 us at a time, for at most 200 ms in a row before giving up.
#define STALL_US 100
#define MAX_STALLS 2000

static const char *errno_name(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case ENETDOWN: return "ENETDOWN";
    case ENOBUFS: return "ENOBUFS";
    case EMSGSIZE: return "EMSGSIZE";
    case EBADF: return "EBADF";
    default: return "EIO";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, errno_name(err), msg);
  return NULL;
}

static int int_arg(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char ifname[64];
  size_t len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &len) != napi_ok || len == 0 || len >= IF_NAMESIZE) {
    napi_throw_type_error(env, NULL, "open(ifname: string)");
    return NULL;
  }
  unsigned ifindex = if_nametoindex(ifname);
  if (ifindex == 0) return throw_errno(env, ifname, errno);
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET, SOCK_RAW)", errno);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = (int)ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, ifname, err);
  }
  napi_value result, vfd, vidx;
  napi_create_object(env, &result);
  napi_create_int32(env, fd, &vfd);
  napi_create_uint32(env, ifindex, &vidx);
  napi_set_named_property(env, result, "fd", vfd);
  napi_set_named_property(env, result, "ifindex", vidx);
  return result;
}

static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t fd, ifindex, frame_len, count;
  void *data = NULL;
  size_t byte_len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || !int_arg(env, argv[0], &fd) || !int_arg(env, argv[1], &ifindex) || !int_arg(env, argv[3], &frame_len) ||
      !int_arg(env, argv[4], &count) || napi_get_buffer_info(env, argv[2], &data, &byte_len) != napi_ok || frame_len < ETH_HLEN ||
      frame_len > ETH_FRAME_LEN || count < 0 || (size_t)frame_len * (size_t)count > byte_len) {
    napi_throw_type_error(env, NULL, "send(fd, ifindex, frames: Buffer, frameLength: 14..1514, count: frames that fit)");
    return NULL;
  }
  struct sockaddr_ll dst;
  memset(&dst, 0, sizeof dst);
  dst.sll_family = AF_PACKET;
  dst.sll_protocol = htons(ETH_P_ARP);
  dst.sll_ifindex = ifindex;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  int32_t sent = 0;
  int stalls = 0;
  while (sent < count) {
    int n = count - sent < BATCH ? count - sent : BATCH;
    memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)n);
    for (int j = 0; j < n; j++) {
      iov[j].iov_base = (char *)data + (size_t)(sent + j) * (size_t)frame_len;
      iov[j].iov_len = (size_t)frame_len;
      msgs[j].msg_hdr.msg_name = &dst;
      msgs[j].msg_hdr.msg_namelen = sizeof dst;
      msgs[j].msg_hdr.msg_iov = &iov[j];
      msgs[j].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, (unsigned)n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS && stalls++ < MAX_STALLS) {
        usleep(STALL_US);
        continue;
      }
      return throw_errno(env, "sendmmsg", errno);
    }
    stalls = 0;
    sent += r;
  }
  napi_value out;
  napi_create_int32(env, sent, &out);
  return out;
}

static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !int_arg(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "close(fd)");
    return NULL;
  }
  close(fd);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, Open, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, Send, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, Close, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  return exports;
}
