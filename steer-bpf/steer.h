/* SPDX-License-Identifier: BSD-3-Clause */
/* Loading, attaching and feeding the steering program of one interface. */
#ifndef XGW_STEER_H
#define XGW_STEER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "steer-bpf/steer_maps.h"

struct xgw_steer;
struct bpf_object;

enum xgw_steer_attach { XGW_ATTACH_AUTO, XGW_ATTACH_NATIVE, XGW_ATTACH_SKB };

/* A rule as user space sees it; host-order port, 0 = any. */
struct xgw_steer_rule {
	struct xgw_prefix dst;
	uint8_t proto;
	uint16_t dport;
	uint32_t id;
};

/* Load the program for ifname and attach it (native, falling back to SKB
 * mode for AUTO).  With `share` the rule maps of that instance are reused,
 * so one rule set serves every port.  Stale xgw programs left on the
 * interface by a killed daemon are removed first. */
int xgw_steer_open(struct xgw_steer **out, const char *ifname, enum xgw_steer_attach want,
		   struct xgw_steer *share);
/* "native" or "skb". */
const char *xgw_steer_mode(const struct xgw_steer *s);
int xgw_steer_bind_xsk(struct xgw_steer *s, uint32_t queue, int xsk_fd);
int xgw_steer_unbind_xsk(struct xgw_steer *s, uint32_t queue);
/* A source rule: packets from addr (proto, sport; host order, 0 for ICMP). */
struct xgw_steer_src_rule {
	struct xgw_addr addr;
	uint8_t proto;
	uint16_t sport;
};

/* Make the rule maps hold exactly `rules` and `src` (call on any instance:
 * they share the maps).  New rules go in before stale ones leave, so flows
 * matched by both never fall to the kernel in between. */
int xgw_steer_set_rules(struct xgw_steer *s, const struct xgw_steer_rule *rules, unsigned n,
			const struct xgw_steer_src_rule *src, unsigned n_src);
/* Change the rule maps by difference, from what the last call that
 * succeeded (this one or xgw_steer_set_rules) left: write add and src_add,
 * then delete del and src_del (new rules before stale ones leave, as
 * above), the classes in use becoming `classes` (XGW_STEER_CLASS_*).
 * -ESTALE when the maps are not known to hold what was last written
 * (then nothing was written: call xgw_steer_set_rules). */
int xgw_steer_update_rules(struct xgw_steer *s, const struct xgw_steer_rule *add, unsigned n_add,
			   const struct xgw_steer_rule *del, unsigned n_del,
			   const struct xgw_steer_src_rule *src_add, unsigned n_src_add,
			   const struct xgw_steer_src_rule *src_del, unsigned n_src_del,
			   uint32_t classes);
/* Sum the per-CPU u64 array map fd's entries 0..n-1 into out[]. */
int xgw_bpf_percpu_sum(int fd, uint32_t n, uint64_t *out);
/* Sum entry 0 of the per-CPU map fd, whose value is n u64 counters, into
 * out[] (kdp_cnt: struct xgw_kdp_cnt). */
int xgw_bpf_percpu_sum_vec(int fd, uint32_t n, uint64_t *out);
/* Sum the per-CPU counters into out[XGW_STEER_CNT__MAX]. */
int xgw_steer_counters(struct xgw_steer *s, uint64_t *out);
/* The loaded object, for the kernel datapath's map sync (pipeline/kdp.c). */
struct bpf_object *xgw_steer_obj(struct xgw_steer *s);
/* Replace an XDP program xgw did not load (xgwd --force-attach); by
 * default xgw_steer_open refuses with -EBUSY and says why. */
void xgw_steer_set_force(bool force);
/* Is the program still attached?  Someone may have removed it (`ip link
 * set dev X xdp off`) or put another in its place.  *id: the id now on the
 * interface in our mode (0: none). */
enum xgw_steer_state {
	XGW_STEER_ATTACHED,
	XGW_STEER_MISSING, /* nothing attached in our mode */
	XGW_STEER_FOREIGN, /* another program in our place: left alone */
	XGW_STEER_UNKNOWN, /* the query failed (interface gone?) */
};
enum xgw_steer_state xgw_steer_state(struct xgw_steer *s, uint32_t *id);
/* Attach the loaded program again, in the same mode, with its maps as they
 * are (rules, bound sockets); never replaces another program. */
int xgw_steer_reattach(struct xgw_steer *s);
/* Detach and free. */
void xgw_steer_close(struct xgw_steer *s);
/* Remove xgw steering programs from an interface (used at start-up and by
 * tests); returns how many were removed or -errno. */
int xgw_steer_remove_stale(int ifindex);

#endif
