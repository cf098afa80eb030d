/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration model of DESIGN.md as plain C structs with owned
 * arrays, read by every layer: ctl/ reads and writes it as JSON, lb/ and
 * pipeline/ build their tables from it.  Copy with xgw_config_copy,
 * release with xgw_config_free.  Ports (L4) are in host order here; the
 * datapath converts. */
#ifndef XGW_COMMON_CONFIG_H
#define XGW_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define XGW_NAME_MAX 32
/* A backend's weight: 0 drains it. */
#define XGW_MAX_WEIGHT 65535
/* Ports of one data plane (its per-port arrays are this long). */
#define XGW_CONFIG_MAX_PORTS 16
/* lb.hash_seed when the config names none (documented: README). */
#define XGW_DEFAULT_HASH_SEED 0x5eedu
/* IF_NAMESIZE, without <net/if.h>: it clashes with <linux/if.h>, which the
 * hot path's kernel headers pull in. */
#define XGW_IFNAME_MAX 16

enum xgw_zerocopy { XGW_ZC_AUTO, XGW_ZC_ON, XGW_ZC_OFF };
enum xgw_xdp_mode { XGW_XDP_AUTO, XGW_XDP_NATIVE, XGW_XDP_SKB };
enum xgw_datapath { XGW_DP_USER, XGW_DP_KERNEL };
enum xgw_algo { XGW_ALGO_MAGLEV, XGW_ALGO_RR, XGW_ALGO_RANDOM };
enum xgw_tun_type { XGW_TUN_NONE, XGW_TUN_VXLAN, XGW_TUN_GENEVE };

/* "driver" of a port. */
enum xgw_port_driver { XGW_DRV_AF_XDP, XGW_DRV_DPDK };
/* "dpdk": {"eal_args": [...]} and a port's "device". */
#define XGW_DPDK_MAX_ARGS      32
#define XGW_DPDK_ARG_MAX       256
#define XGW_DPDK_DEFAULT_MBUFS 16384

struct xgw_dpdk_cfg {
	char eal_args[XGW_DPDK_MAX_ARGS][XGW_DPDK_ARG_MAX];
	unsigned n_eal_args;
	uint32_t mbufs; /* per NUMA node's pool, default 16384 */
};

struct xgw_queue_cfg {
	uint16_t queue;
	int core;
};

struct xgw_port_cfg {
	char name[XGW_NAME_MAX];
	char iface[XGW_IFNAME_MAX];    /* "" only with driver dpdk */
	enum xgw_port_driver driver;   /* "driver": "af_xdp"|"dpdk" */
	char device[XGW_DPDK_ARG_MAX]; /* dpdk: ethdev name or vdev string */
	enum xgw_zerocopy zerocopy;   /* "zerocopy": "auto"|"on"|"off" */
	enum xgw_xdp_mode xdp_mode;   /* "xdp_mode": "auto"|"native"|"skb" */
	bool busy_poll;		      /* "busy_poll": false */
	uint32_t busy_poll_budget;    /* "busy_poll_budget": 64 */
	struct xgw_queue_cfg *queues; /* "queues": [ {queue, core} ] */
	unsigned n_queues;
};

struct xgw_umem_cfg {
	uint32_t frames;     /* per worker; power of two, default 8192 */
	uint32_t frame_size; /* 2048 or 4096 */
	bool hugepages;
};

struct xgw_ct_cfg {
	uint32_t max_entries;	      /* default 1048576 */
	uint32_t tcp_timeout_s;	      /* established, default 21600 (6 h) */
	uint32_t tcp_syn_timeout_s;   /* default 60 */
	uint32_t tcp_close_timeout_s; /* FIN/RST/close, default 10 */
	uint32_t udp_timeout_s;	      /* default 60 */
	uint32_t other_timeout_s;     /* default 60 */
};

struct xgw_tunnel_cfg {
	struct xgw_addr local_ip; /* family 0 = unset */
	uint16_t vxlan_port;	  /* default 4789 */
	uint16_t geneve_port;	  /* default 6081 */
};

struct xgw_backend_cfg {
	struct xgw_addr ip;
	uint16_t port;
	uint32_t weight; /* 0 = draining */
	enum xgw_tun_type tun;
	struct xgw_addr tun_remote;
	uint32_t vni;
	bool has_inner_mac;
	uint8_t inner_mac[6];
};

/* Active health checks of a service's backends (health/checker.h). */
enum xgw_check_type { XGW_CHECK_NONE, XGW_CHECK_TCP, XGW_CHECK_HTTP, XGW_CHECK_UDP };
/* What a backend's established connections get when its checks mark it
 * down: kept on it ("keep"), or removed from conntrack on both datapaths
 * so that each ends at its next packet ("reset": health/checker.h). */
enum xgw_on_down { XGW_ON_DOWN_KEEP, XGW_ON_DOWN_RESET };
#define XGW_CHECK_PATH_MAX    128
#define XGW_CHECK_PAYLOAD_MAX 64

struct xgw_check_cfg {
	enum xgw_check_type type;	    /* "type": "none" (default), "tcp", "http", "udp" */
	uint16_t port;			    /* 0 = the backend's own port */
	uint32_t interval_ms;		    /* default 2000 */
	uint32_t timeout_ms;		    /* default 1000; at most interval_ms */
	uint32_t rise, fall;		    /* default 2 and 3 */
	uint16_t status;		    /* http: expected status, default 200 */
	char path[XGW_CHECK_PATH_MAX];	    /* http: default "/" */
	char send[XGW_CHECK_PAYLOAD_MAX];   /* udp: the datagram sent */
	char expect[XGW_CHECK_PAYLOAD_MAX]; /* udp: the reply starts with this ("" = any) */
	enum xgw_on_down on_down;	    /* "on_down": "keep" (default) or "reset" */
};

struct xgw_service_cfg {
	struct xgw_addr vip;
	uint16_t port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	enum xgw_datapath datapath;
	enum xgw_algo algo;
	bool snat;
	uint32_t maglev_size; /* "maglev_size": prime; 0 = from the weights */
	struct xgw_check_cfg check;
	struct xgw_backend_cfg *backends;
	unsigned n_backends;
	/* backends belongs to the config this one was copied from
	 * (xgw_config_copy_shared): read-only here, not freed with it. */
	bool backends_shared;
};

struct xgw_steer_cfg {
	uint32_t id; /* assigned in order when absent from the file */
	struct xgw_prefix dst;
	uint8_t proto;	/* 0 = any */
	uint16_t dport; /* 0 = any */
};

struct xgw_route_cfg {
	struct xgw_prefix dst;
	struct xgw_addr via; /* family 0 = directly connected */
	char port[XGW_NAME_MAX];
};

/* Static neighbour entries override the kernel's neighbour table. */
struct xgw_neigh_cfg {
	struct xgw_addr ip;
	uint8_t mac[6];
	char port[XGW_NAME_MAX];
};

struct xgw_policy_cfg {
	uint32_t id;
	bool allow;	       /* "action": "allow"|"deny" */
	struct xgw_prefix src; /* family 0 = any */
	struct xgw_prefix dst;
	uint8_t proto;		     /* 0 = any */
	uint16_t dport_lo, dport_hi; /* 0,65535 = any; "dport": "22" or "1000-2000" */
};

struct xgw_ctl_cfg {
	char socket[108]; /* default /run/xgw/xgw.sock */
	unsigned mode;	  /* default 0660 */
	/* "group": the socket file's group, so that its members may connect
	 * (with mode's group bits); "" = xgwd's own.  Resolved when loaded. */
	char group[32];
	unsigned gid;
};

/* What a write changed in the services, named by the control socket's
 * request handlers (ctl/proto.c) relative to the config it was made from
 * (prev): services [0, n_prev) are prev's, at the same index and
 * unchanged but for those listed in idx (ascending, distinct, < n_prev);
 * services [n_prev, n_services) are new, with keys no other service has
 * (service.add looked).  No service was removed or moved.  n_tun: prev's
 * tunnel backends (xgw_service_n_tun summed).  Readers that get it with a
 * prev may visit only the services it names; they check n_prev against
 * prev and may always ignore it (then they compare every service). */
struct xgw_svc_delta {
	const struct xgw_service_cfg *prev_services; /* prev's array (an address) */
	unsigned n_prev;
	const unsigned *idx;
	unsigned n_idx;
	unsigned long n_tun;
};

struct xgw_config {
	struct xgw_port_cfg *ports;
	unsigned n_ports;
	struct xgw_umem_cfg umem;
	struct xgw_dpdk_cfg dpdk;
	struct xgw_ct_cfg conntrack;
	struct xgw_tunnel_cfg tunnel;
	uint32_t maglev_size;	   /* "lb": { "maglev_size": 65537 } prime */
	/* "lb": { "hash_seed": "0x5eed" }: seeds the flow hash (conntrack and
	 * Maglev slot choice).  From the config alone, so that every gateway
	 * of a fleet and every restart picks the same backend for a flow. */
	uint32_t hash_seed;
	bool policy_default_allow; /* "policy_default": "allow"|"deny", default allow */
	struct xgw_service_cfg *services;
	unsigned n_services;
	struct xgw_steer_cfg *steer;
	unsigned n_steer;
	struct xgw_route_cfg *routes;
	unsigned n_routes;
	struct xgw_neigh_cfg *neighbours;
	unsigned n_neighbours;
	struct xgw_policy_cfg *policies;
	unsigned n_policies;
	uint32_t next_policy_id, next_steer_id;
	struct xgw_ctl_cfg ctl;
	char metrics_listen[64]; /* "metrics": {"listen": "127.0.0.1:9100"}, "" = off */
	/* "announce": {"speaker": "bird", "table": 200, "drain_timeout_s": 30}:
	 * the served VIPs as routes in that kernel table, for the speaker to
	 * export.  table 0 = off. */
	uint32_t announce_table;
	uint32_t drain_timeout_s; /* xgwctl drain: exit when conntrack is empty, or after this */
	/* Set on a write's working copy only while it is validated and
	 * applied (ctl/proto.c), never on a config that outlives the write
	 * (copies do not carry it); NULL: the changes are not named. */
	const struct xgw_svc_delta *delta;
};

void xgw_config_defaults(struct xgw_config *c);
/* A service's check defaults (type none). */
void xgw_check_defaults(struct xgw_check_cfg *k);
int xgw_config_copy(struct xgw_config *dst, const struct xgw_config *src);
/* The same, but every service's backends shared with src (marked
 * backends_shared): a copy costs the services array, not an allocation
 * per service.  Whoever changes a shared array copies it first, and src
 * must outlive dst or hand its arrays over (ctl/proto.c).  buf (NULL, or
 * a malloc'd array of cap services) is taken for the services when it
 * holds them all, else freed: a write reuses the array the write before
 * let go, whose pages are already there. */
int xgw_config_copy_shared(struct xgw_config *dst, const struct xgw_config *src,
			   struct xgw_service_cfg *buf, size_t cap);
/* Everything but the services (none: the caller fills them). */
int xgw_config_copy_but_services(struct xgw_config *dst, const struct xgw_config *src);
void xgw_config_free(struct xgw_config *c);
/* Everything but the services' backends arrays (handed to another). */
void xgw_config_free_keep_backends(struct xgw_config *c);
void xgw_service_free(struct xgw_service_cfg *s);
/* How many of s's backends are behind a tunnel. */
unsigned xgw_service_n_tun(const struct xgw_service_cfg *s);
/* Whether cfg->delta is set, made from prev and consistent. */
bool xgw_svc_delta_usable(const struct xgw_config *cfg, const struct xgw_config *prev);

/* Index of the service (vip, port, proto) in c->services, or -1. */
int xgw_config_find_service(const struct xgw_config *c, const struct xgw_addr *vip, uint16_t port,
			    uint8_t proto);
/* "198.18.100.1:80/tcp" or "[2001:db8::1]:80/udp" as xgwctl writes it. */
int xgw_service_key_parse(const char *s, struct xgw_addr *vip, uint16_t *port, uint8_t *proto);
/* "198.18.2.10:8080" or "[2001:db8::a]:8080". */
int xgw_endpoint_parse(const char *s, struct xgw_addr *ip, uint16_t *port);
/* The same for a listening socket: port 0 (any free port) allowed. */
int xgw_listen_parse(const char *s, struct xgw_addr *ip, uint16_t *port);

/* The inverses of the two parsers; buf of XGW_KEY_STRLEN is enough. */
#define XGW_KEY_STRLEN 64
const char *xgw_service_key_str(const struct xgw_addr *vip, uint16_t port, uint8_t proto, char *buf,
				size_t len);
const char *xgw_endpoint_str(const struct xgw_addr *ip, uint16_t port, char *buf, size_t len);
/* "tcp", "udp", "icmp", "any" for 0, "?" otherwise.  "icmp" (IPPROTO_ICMP)
 * in a policy means ICMP for IPv4 and ICMPv6 for IPv6 traffic. */
const char *xgw_proto_name(uint8_t proto);
/* "02:00:00:00:04:0a" (case-insensitive hex, colons required); 0 or -EINVAL. */
int xgw_mac_parse(uint8_t mac[6], const char *s);

#endif
