/* SPDX-License-Identifier: BSD-3-Clause */
/* Faults around the ports, seen from the control thread: a link that goes
 * down or up, an MTU that changes, the steering program removed by someone
 * else (`ip link set dev X xdp off`), the interface deleted.  Each is
 * logged once when it happens, kept in the port's health (xgwctl ports,
 * stats and metrics), and recovered where xgwd can: a missing program is
 * attached again with its maps as they were (rules, bound sockets), a new
 * MTU is what the workers check against from their next burst on (the
 * FIB generation their route caches key on is bumped with it).
 *
 * AF_XDP sockets stay bound across a link going down and up (the kernel
 * unbinds them only when the device is unregistered), so nothing needs
 * re-binding there; a deleted interface takes its sockets with it and
 * needs a restart of xgwd, which is what its log line says. */
#define XGW_LOG_COMP "ports"
#include "pipeline/port_watch.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "steer-bpf/steer.h"

/* XDP_PACKET_HEADROOM, which the kernel keeps in front of every received
 * frame (xsk/umem.c). */
#define FRAME_HEADROOM 256

static void watch_link(struct xgw_port *p, int fd, bool *changed)
{
	struct xgw_port_health *h = &p->health;
	struct ifreq ifr;
	bool up;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->iface);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		return;
	up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	if (up != atomic_load(&h->up)) {
		atomic_store(&h->up, up);
		atomic_fetch_add(&h->link_changes, 1);
		*changed = true;
		if (up)
			pr_info("port %s (%s): link up", p->name, p->iface);
		else
			pr_warn("port %s (%s): link down (%s)", p->name, p->iface,
				ifr.ifr_flags & IFF_UP ? "no carrier" : "administratively down");
	}
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		return;
	if ((uint32_t)ifr.ifr_mtu != xgw_port_mtu(p)) {
		pr_info("port %s (%s): MTU %u -> %d", p->name, p->iface, xgw_port_mtu(p),
			ifr.ifr_mtu);
		__atomic_store_n(&p->mtu, (uint32_t)ifr.ifr_mtu, __ATOMIC_RELAXED);
		atomic_fetch_add(&h->mtu_changes, 1);
		*changed = true;
	}
}

static void warn_frame_room(const struct xgw_dataplane *dp, const struct xgw_port *p)
{
	uint32_t room;

	if (!dp->n_workers)
		return;
	room = dp->workers[0]->umem.frame_size - FRAME_HEADROOM;
	if (xgw_port_mtu(p) + 18 > room) /* Ethernet header and two VLAN tags */
		pr_warn("port %s (%s): MTU %u does not fit a UMEM frame (%u bytes after "
			"headroom): larger frames never reach the workers (umem.frame_size)",
			p->name, p->iface, xgw_port_mtu(p), room);
}

static void watch_xdp(struct xgw_port *p, bool *changed)
{
	struct xgw_port_health *h = &p->health;
	enum xgw_steer_state st;
	uint32_t id;
	int err;

	st = xgw_steer_state(p->steer, &id);
	if (st == XGW_STEER_ATTACHED || st == XGW_STEER_UNKNOWN) {
		if (st == XGW_STEER_ATTACHED)
			atomic_store(&h->foreign, false);
		return;
	}
	if (atomic_load(&h->xdp_ok)) {
		atomic_store(&h->xdp_ok, false);
		atomic_fetch_add(&h->xdp_lost, 1);
		*changed = true;
		if (st == XGW_STEER_MISSING)
			pr_warn("port %s (%s): steering program removed by someone else; "
				"attaching it again",
				p->name, p->iface);
	}
	if (st == XGW_STEER_FOREIGN) {
		/* Never replace what someone else loaded (as at start-up
		 * without --force-attach): say so once, keep watching. */
		if (!atomic_exchange(&h->foreign, true))
			pr_err("port %s (%s): another XDP program (id %u) replaced the steering "
			       "program; not replacing it: traffic of this port is not served "
			       "until it is detached",
			       p->name, p->iface, id);
		return;
	}
	atomic_store(&h->foreign, false);
	err = xgw_steer_reattach(p->steer);
	if (err) {
		/* Tried again on the next event or period. */
		pr_debug("port %s (%s): re-attach failed: %s", p->name, p->iface, strerror(-err));
		return;
	}
	atomic_store(&h->xdp_ok, true);
	atomic_fetch_add(&h->xdp_reattached, 1);
	pr_info("port %s (%s): steering program attached again (%s mode)", p->name, p->iface,
		xgw_steer_mode(p->steer));
}

void xgw_port_watch_init(struct xgw_dataplane *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct xgw_port_health *h = &dp->ports[i].health;

		/* As xgw_dp_open left them: attached, and up until seen
		 * otherwise (the first check logs a link that is down). */
		atomic_store(&h->up, true);
		atomic_store(&h->xdp_ok, true);
		if (dp->ports[i].steer)
			warn_frame_room(dp, &dp->ports[i]);
	}
}

bool xgw_port_watch(struct xgw_dataplane *dp)
{
	bool changed = false;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct xgw_port *p = &dp->ports[i];
		unsigned ifindex;
		uint32_t mtu = xgw_port_mtu(p);

		/* AF_XDP ports only: a DPDK port's device is the PMD's, with
		 * no steering program (and maybe no kernel interface). */
		if (!p->steer)
			continue;
		ifindex = if_nametoindex(p->iface);

		if (ifindex != (unsigned)p->ifindex) {
			if (!atomic_exchange(&p->health.gone, true)) {
				atomic_store(&p->health.up, false);
				atomic_store(&p->health.xdp_ok, false);
				atomic_fetch_add(&p->health.link_changes, 1);
				changed = true;
				pr_err(
				    "port %s (%s): interface %s (ifindex %d); its AF_XDP sockets "
				    "are gone with it: restart xgwd to serve it again",
				    p->name, p->iface, ifindex ? "replaced" : "deleted",
				    p->ifindex);
			}
			continue;
		}
		watch_link(p, fd, &changed);
		if (mtu != xgw_port_mtu(p)) {
			warn_frame_room(dp, p);
			/* The workers' route caches hold the egress MTU
			 * (forward.h): a new generation empties them, from
			 * their next burst on. */
			if (dp->fib)
				xgw_fib_bump(dp->fib);
		}
		watch_xdp(p, &changed);
	}
	close(fd);
	return changed;
}

json_t *xgw_port_health_json(const struct xgw_port *p)
{
	const struct xgw_port_health *h = &p->health;
	const char *xdp = atomic_load(&h->xdp_ok)    ? "attached"
			  : atomic_load(&h->foreign) ? "foreign"
						     : "missing";

	return json_pack("{s:s,s:b,s:i,s:s,s:b,s:I,s:I,s:I,s:I}", "link",
			 atomic_load(&h->gone) ? "gone"
			 : atomic_load(&h->up) ? "up"
					       : "down",
			 "link_up", atomic_load(&h->up), "mtu", (int)xgw_port_mtu(p), "xdp", xdp,
			 "xdp_attached", atomic_load(&h->xdp_ok), "link_changes",
			 (json_int_t)atomic_load(&h->link_changes), "mtu_changes",
			 (json_int_t)atomic_load(&h->mtu_changes), "xdp_lost",
			 (json_int_t)atomic_load(&h->xdp_lost), "xdp_reattached",
			 (json_int_t)atomic_load(&h->xdp_reattached));
}
