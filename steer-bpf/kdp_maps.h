/* SPDX-License-Identifier: BSD-3-Clause */
/* Map layouts of the in-kernel datapath (services with "datapath":
 * "kernel"), shared by the XDP program (steer.bpf.c and kern_*.h) and by
 * xgwd's map sync (pipeline/kdp.c), as katran's balancer_structs.h.
 * Sizes overridable with -D. */
#ifndef XGW_KDP_MAPS_H
#define XGW_KDP_MAPS_H

#include <linux/types.h>

#ifndef XGW_KDP_MAX_SVCS
#define XGW_KDP_MAX_SVCS 32 /* kernel services (Maglev rings) */
#endif
#ifndef XGW_KDP_MAX_BE
#define XGW_KDP_MAX_BE 256 /* backend positions per kernel service */
#endif
/* One Maglev ring per service in one big array, Katran-style: the slot of
 * (service s, index i) is s * XGW_KDP_RING_STRIDE + i.  The stride is the
 * default table size; a service's own M (its "maglev_size", or the size
 * its weights give, pipeline/snapshot.h) may not
 * exceed it (xgwd refuses kernel services otherwise). */
#ifndef XGW_KDP_RING_STRIDE
#define XGW_KDP_RING_STRIDE 65537
#endif
#ifndef XGW_KDP_MAX_POLICIES
#define XGW_KDP_MAX_POLICIES 64 /* rules the program scans (first match wins) */
#endif
#ifndef XGW_KDP_CT_MAX
#define XGW_KDP_CT_MAX 131072 /* LRU entries per family: two per connection */
#endif

/* Service key: VIP, port (network order), proto.  Port 0 + ICMP: the VIP
 * answers echo. */
struct xgw_kdp_svc_key {
	__u8 addr[16]; /* v4 in [0..3], rest zero */
	__u16 port;
	__u8 proto;
	__u8 family; /* AF_INET (2) or AF_INET6 (10) */
};

struct xgw_kdp_svc {
	__u32 idx;   /* ring and backend block of this service */
	__u32 m;     /* Maglev table size (prime <= XGW_KDP_RING_STRIDE) */
	__u32 id;    /* the snapshot's stable service id (conntrack) */
	__u32 flags; /* XGW_KDP_SVC_* */
	__u32 ctr;   /* counter slot (pipeline/svc_stats.h): kdp_svc_ctr's index */
};

enum {
	XGW_KDP_SVC_ECHO = 1 << 0, /* ICMP echo entry, no backends */
	XGW_KDP_SVC_SNAT = 1 << 1, /* source NAT to the egress address */
};

/* Backend at position idx * XGW_KDP_MAX_BE + pos (pos >= 1; 0 = none). */
struct xgw_kdp_be {
	__u8 addr[16];
	__u16 port; /* network order */
	__u8 family;
	__u8 pad;
	__u32 ctr; /* counter slot (pipeline/svc_stats.h): kdp_be_ctr's index */
};

/* Conntrack key: the tuple as the packet carries it.  Every pad byte 0.
 * The form the program works with and the entries' `other`; IPv6
 * connections are kept under it (kdp_ct6). */
struct xgw_kdp_ct_key {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport; /* network order */
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

/* IPv4 connections are kept under this 16-byte key instead (kdp_ct4), as
 * cilium splits its conntrack by family: the LRU hashes and compares 16
 * bytes per lookup, not 40.  No padding: every byte is written. */
struct xgw_kdp_ct4_key {
	__u32 src; /* network order */
	__u32 dst;
	__u16 sport;
	__u16 dport;
	__u32 proto;
};

/* One LRU entry per direction.  The ORIG entry (client -> VIP) holds the
 * connection's state and counters and, in `other`, the reply tuple
 * (backend -> client); the REPLY entry holds the orig tuple, so a reply is
 * reverse-translated from its own entry and its state kept in the orig one.
 * States and flags are lb/conntrack.h's (enum xgw_ct_state,
 * enum xgw_ct_flags), so both datapaths time connections out alike.  With
 * SNAT (flag 1, on both entries) the reply tuple's destination is the
 * gateway's address and port. */
struct xgw_kdp_ct {
	struct xgw_kdp_ct_key other;
	/* bpf_jiffies64: the kernel's tick counter, read from memory, where
	 * bpf_ktime_get_coarse_ns makes a timekeeping read per packet (and
	 * the fine clock cost a third of the packet path on this VM).  xgwd
	 * reads it as xgw_kdp_jiffies() and converts with xgw_kdp_hz(). */
	__u64 last_seen;
	__u64 pkts[2];	 /* by direction: orig, reply (ORIG entry only) */
	__u64 bytes[2];
	__u32 backend; /* backend position, for `ct list` */
	__u32 svc_id;
	__u8 state;
	__u8 flags;
	__u8 dir; /* 0 = this is the ORIG entry, 1 = REPLY entry */
	__u8 pad;
	/* The flow hash of the orig tuple (kdp_flow_hash, the Maglev pick's):
	 * the outer UDP source port towards a tunnel backend. */
	__u32 hash;
	/* This direction's next hop, as bpf_fib_lookup last gave it, reused
	 * until nh_until (jiffies, kdp_cfg's nh_ttl later: XGW_KDP_NH_CACHE_NS):
	 * one FIB lookup per flow and direction and interval, not per packet. */
	__u64 nh_until;
	__u32 nh_ifindex;
	__u8 nh_dmac[6];
	__u8 nh_smac[6];
	/* The backend's counter slot (struct xgw_kdp_be's ctr when the
	 * connection was made), on both entries: each packet is counted with
	 * one per-CPU array lookup, whatever the config does since. */
	__u32 ctr;
	/* ORIG entry: the kdp_cfg gen under which its service was last
	 * found in kdp_svcs.  While it is the current one, a packet of the
	 * connection skips the service lookup (xgwd bumps gen with every
	 * change of kdp_svcs, so a service gone or moved to the workers is
	 * looked up, and missed, again). */
	__u32 gen;
	/* The cached next hop's MTU (the route's, else the device's), each
	 * packet checked against it. */
	__u16 nh_mtu;
};

#ifndef XGW_KDP_NH_CACHE_NS
#define XGW_KDP_NH_CACHE_NS 1000000000ull /* route/neighbour changes: <= 1 s */
#endif

/* Per-service and per-backend counters, per CPU, indexed by the counter
 * slots xgwd gives every service and backend of both datapaths
 * (pipeline/svc_stats.h): one slot means one service or backend whichever
 * datapath serves it, and xgwd adds these to the workers' counts.  Slot 0
 * is "none", counted into and never read.  dir 0: client to backend, 1:
 * backend to client (the conntrack's orig and reply). */
#define XGW_KDP_BE_SLOTS  65536 /* = XGW_BE_SLOTS (pipeline/svc_stats.h) */
#define XGW_KDP_SVC_SLOTS 16384 /* = XGW_SVC_SLOTS */
struct xgw_kdp_be_ctr {
	struct {
		__u64 pkts, bytes;
	} d[2];
	__u64 conns; /* connections opened */
};

/* Why a kernel service refused new connections: the reasons of
 * kdp_new_flow, packed (a service's value stays 40 bytes per CPU, not one
 * counter per enum xgw_drop). */
#define XGW_FOREACH_KDP_SVC_DROP(_)                                                                \
	_(POLICY)                                                                                  \
	_(NO_BACKEND)                                                                              \
	_(CT_FULL)                                                                                 \
	_(CT_INVALID)                                                                              \
	_(SNAT_NO_PORT)
enum {
#define _(n) XGW_KDP_SVC_DROP_##n,
	XGW_FOREACH_KDP_SVC_DROP(_)
#undef _
	    XGW_KDP_SVC_DROP__MAX
};
struct xgw_kdp_svc_ctr {
	__u64 drops[XGW_KDP_SVC_DROP__MAX];
};

/* kdp_cfg[0]: global settings written by xgwd. */
struct xgw_kdp_cfg {
	__u32 flags; /* XGW_KDP_F_* */
	__u32 hash_seed;
	__u32 n_policies;
	__u32 policy_default_allow;
	__u64 to_tcp[8]; /* timeouts by enum xgw_ct_state, jiffies (as all here) */
	__u64 to_udp, to_other;
	__u16 snat_port_min, snat_port_max; /* host order */
	__be32 tun_local;		    /* tunnel.local_ip (IPv4 underlay only) */
	__be16 vxlan_port, geneve_port;	    /* network order */
	/* Bumped by xgwd after every change of kdp_svcs (never 0 once
	 * synced): invalidates what conntrack entries cached of it. */
	__u32 gen;
	/* The program's clock is bpf_jiffies64, so every time above is in
	 * jiffies, converted by xgwd at HZ hz (measured: xgw_kdp_hz). */
	__u32 hz;
	__u32 nh_ttl; /* the cached next hop's lifetime, XGW_KDP_NH_CACHE_NS */
};

enum {
	XGW_KDP_F_ENABLED = 1 << 0, /* kernel services exist (or existed: ct) */
	XGW_KDP_F_TUNNELS = 1 << 1, /* kernel services have tunnel backends */
	/* A trace or capture runs (pipeline/tap.h): every packet the program
	 * handles emits one struct xgw_kdp_trace into kdp_trace_ring.  Off,
	 * it costs the test of this bit in the flags word already read. */
	XGW_KDP_F_TRACE = 1 << 2,
};

/* One kernel-datapath packet as the program saw it, while XGW_KDP_F_TRACE
 * is set: what it decided, and the frame's first XGW_KDP_TRACE_SNAP bytes
 * as received (in) and as it left (out), for the trace's text, the
 * filter and the capture.  xgwd turns it into the workers' trace text. */
#define XGW_KDP_TRACE_SNAP 256
enum {
	XGW_KDP_TR_CT_NONE = 0,
	XGW_KDP_TR_CT_NEW,   /* this packet opened the connection */
	XGW_KDP_TR_CT_ORIG,  /* hit, client to backend */
	XGW_KDP_TR_CT_REPLY, /* hit, backend to client */
};
struct xgw_kdp_trace {
	__u64 ts_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u32 ifindex, rx_queue;
	__u32 len_in, len_out;		/* the frame's length as received, as it left */
	__u16 cap_in, cap_out;		/* bytes of in / out held */
	__s32 verdict;			/* XDP action; -1: handed on to the steering rules */
	__u32 drop;			/* enum xgw_drop (common/drop.h), 0: none */
	__u32 events;			/* 1 << XGW_KDP_CNT_* for each counter it moved */
	__u32 svc_id;			/* the service's stable id, when svc */
	__u32 out_ifindex;		/* the connection's cached next hop (ct) */
	__u8 svc;			/* the packet's (VIP, port, proto) is a kernel service */
	__u8 ct;			/* XGW_KDP_TR_CT_* */
	__u8 state_before, state_after; /* enum xgw_ct_state */
	__u8 be_addr[16];		/* backend (ct) */
	__u16 be_port;			/* network order */
	__u8 be_family;
	__u8 parsed; /* TCP or UDP the program parsed (ct and svc valid) */
	__u8 in[XGW_KDP_TRACE_SNAP];
	__u8 out[XGW_KDP_TRACE_SNAP];
};

/* Tunnel backends of kernel services (tunnel/tunnel.h, VXLAN and Geneve
 * over IPv4).  Encap: by the translated destination (backend address,
 * port, proto: struct xgw_kdp_svc_key's layout), the endpoint's template
 * as tunnel/codec.c's xgw_tun_ep_init makes it (outer Ethernet, IPv4, UDP,
 * VXLAN/Geneve header, inner Ethernet: 64 bytes) and the outer IPv4
 * header's folded sum with length and checksum 0.  Decap: (type << 24 |
 * VNI, outer source) of the kernel services' endpoints. */
#define XGW_KDP_TUN_TMPL_LEN 64
struct xgw_kdp_tun {
	__u8 tmpl[XGW_KDP_TUN_TMPL_LEN];
	__u32 ip_sum;
	__be32 remote;
	__u8 type; /* enum xgw_tun_kind: 1 VXLAN, 2 Geneve */
	__u8 has_mac;
	__u8 pad[2];
};
struct xgw_kdp_tun_dec_key {
	__be32 remote;
	__u32 type_vni;
};
#ifndef XGW_KDP_MAX_TUN
#define XGW_KDP_MAX_TUN (XGW_KDP_MAX_SVCS * 16) /* tunnel backends, endpoints */
#endif
/* Geneve options the program walks (each checked for the critical bit, as
 * the workers do); a packet with more is handed on to the workers. */
#ifndef XGW_KDP_GENEVE_OPTS_MAX
#define XGW_KDP_GENEVE_OPTS_MAX 8
#endif

/* A policy rule (config order; first match wins): addresses and masks as
 * 16 bytes (v4 in the first word), family 0 for a rule without prefixes. */
struct xgw_kdp_policy {
	__be32 src[4], src_mask[4];
	__be32 dst[4], dst_mask[4];
	__u16 dport_lo, dport_hi; /* host order */
	__u8 proto;		  /* 0 = any */
	__u8 allow;
	__u8 family; /* 0 any, 2 IPv4, 10 IPv6 */
	__u8 pad;
};

/* Per-CPU counters besides the drop reasons (common/drop.h), which have
 * their own per-CPU array indexed by enum xgw_drop. */
#define XGW_FOREACH_KDP_CNT(_)                                                                     \
	_(RX, "rx")			   /* packets of kernel services */                        \
	_(TX, "tx")			   /* XDP_TX, same interface */                            \
	_(REDIRECT, "redirect")		   /* bpf_redirect_map, other port */                      \
	_(PASS_NEIGH, "pass_no_neighbour") /* translated, stack resolves */                        \
	_(PUNT, "punted_to_user")	   /* cannot: to the steering rules */                     \
	_(ICMP_ECHO, "icmp_echo_replies")                                                          \
	_(CT_NEW, "ct_created")                                                                    \
	_(CT_REPLY, "ct_reply")	  /* reverse-translated replies */                                 \
	_(CT_REUSED, "ct_reused") /* a closed connection's backend tuple, taken by a SYN */        \
	_(ICMP_ERR, "icmp_errors_translated") /* about kernel connections */                       \
	_(TOO_BIG_SENT, "icmp_too_big_sent")  /* to a backend: its reply too big */                \
	_(VXLAN_ENCAP, "vxlan_encapsulated")                                                       \
	_(VXLAN_DECAP, "vxlan_decapsulated")                                                       \
	_(GENEVE_ENCAP, "geneve_encapsulated")                                                     \
	_(GENEVE_DECAP, "geneve_decapsulated")

enum {
#define _(n, s) XGW_KDP_CNT_##n,
	XGW_FOREACH_KDP_CNT(_)
#undef _
	    XGW_KDP_CNT__MAX
};

/* All of them in one per-CPU value (kdp_cnt[0]), not one map entry each:
 * a packet moves two or three of them (rx, then tx; a reply ct_reply as
 * well), and one lookup now serves them all. */
struct xgw_kdp_cnt {
	__u64 n[XGW_KDP_CNT__MAX];
};

#endif
