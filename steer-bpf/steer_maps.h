/* SPDX-License-Identifier: BSD-3-Clause */
/* Map layouts shared by the steering program and user space (as katran's
 * balancer_structs.h): one definition, sizes overridable with -D. */
#ifndef XGW_STEER_MAPS_H
#define XGW_STEER_MAPS_H

#include <linux/types.h>

#ifndef XGW_MAX_QUEUES
#define XGW_MAX_QUEUES 64
#endif
#ifndef XGW_MAX_STEER_RULES
#define XGW_MAX_STEER_RULES 65536
#endif

/* LPM-trie key: the first 32 bits (family, proto, dport) are always part of
 * the prefix, so prefixlen = 32 + address prefix length.  Rules with
 * wildcards are stored with proto and/or dport 0 and found by a second or
 * third lookup; `steer_classes` says which lookups can hit at all. */
struct xgw_steer_key {
	__u32 prefixlen;
	__u8 family; /* AF_INET (2) or AF_INET6 (10) */
	__u8 proto;  /* IPPROTO_*, 0 = any */
	__u16 dport; /* network order, 0 = any */
	__u8 addr[16];
};

#define XGW_STEER_KEY_FIXED_BITS 32

struct xgw_steer_val {
	__u32 rule_id;
	__u32 flags;
};

/* Exact source match: the replies of service backends (backend address,
 * proto, source port; port 0 for ICMP errors the backend sends), which must
 * reach the workers holding the conntrack entries to be reverse-NATed. */
struct xgw_steer_src_key {
	__u8 family;
	__u8 proto;
	__u16 sport; /* network order */
	__u8 addr[16];
};

/* Source ports of xgwd's health checks (health/checker.h).  A packet that
 * matches a backend's source rule, is addressed to one of these ports and
 * is held by one of the host's sockets (bpf_sk_lookup) is the answer to a
 * check, for the gateway's own stack: passed, not steered.  A client may
 * use these ports too: its replies are steered.  SNAT allocates below this
 * range (lb/nat.h). */
#define XGW_CHECK_PORT_MIN 65024
#define XGW_CHECK_PORT_MAX 65535

/* Ids of the rules xgwd derives from its config (user rules have their
 * own, small ids): a service's VIP, and a tunnel port on tunnel.local_ip
 * (| 0: VXLAN, | 1: Geneve).  The program looks into the packets that
 * match a tunnel port's rule for the answers of health checks through
 * tunnels (health/tun_path.h), which go to the kernel. */
#define XGW_STEER_ID_SERVICE 0x80000000u
#define XGW_STEER_ID_TUNNEL  0x40000000u

/* Bits of steer_classes[0]: which wildcard shapes have rules. */
enum {
	XGW_STEER_CLASS_PROTO_PORT = 1 << 0, /* proto and dport set */
	XGW_STEER_CLASS_PROTO = 1 << 1,      /* proto set, any dport */
	XGW_STEER_CLASS_ANY = 1 << 2,        /* any proto, any dport */
	XGW_STEER_CLASS_SRC = 1 << 3,        /* source rules exist */
};

/* Per-CPU counters, summed by user space. */
enum {
	XGW_STEER_CNT_STEERED,  /* redirected to an AF_XDP socket */
	XGW_STEER_CNT_PASSED,   /* not matched: kernel stack */
	XGW_STEER_CNT_NOSOCK,   /* matched, no socket bound on the queue: kernel */
	XGW_STEER_CNT_MALFORMED, /* too short to classify: kernel decides */
	XGW_STEER_CNT__MAX,
};

#endif
