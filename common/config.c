/* SPDX-License-Identifier: BSD-3-Clause */
/* The config model's defaults, deep copy and release. */
#include "common/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xgw_config_defaults(struct xgw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->umem.frames = 8192;
	c->umem.frame_size = 2048;
	c->dpdk.mbufs = XGW_DPDK_DEFAULT_MBUFS;
	c->conntrack.max_entries = 1048576;
	c->conntrack.tcp_timeout_s = 21600;
	c->conntrack.tcp_syn_timeout_s = 60;
	c->conntrack.tcp_close_timeout_s = 10;
	c->conntrack.udp_timeout_s = 60;
	c->conntrack.other_timeout_s = 60;
	c->tunnel.vxlan_port = 4789;
	c->tunnel.geneve_port = 6081;
	/* Prime, as Maglev needs; Katran's choice, 100x a few hundred backends. */
	c->maglev_size = 65537;
	c->hash_seed = XGW_DEFAULT_HASH_SEED;
	c->drain_timeout_s = 30;
	c->policy_default_allow = true;
	c->next_policy_id = 1;
	c->next_steer_id = 1;
	snprintf(c->ctl.socket, sizeof(c->ctl.socket), "%s", "/run/xgw/xgw.sock");
	c->ctl.mode = 0660;
}

void xgw_check_defaults(struct xgw_check_cfg *k)
{
	memset(k, 0, sizeof(*k));
	k->interval_ms = 2000;
	k->timeout_ms = 1000;
	k->rise = 2;
	k->fall = 3;
	k->status = 200;
	snprintf(k->path, sizeof(k->path), "%s", "/");
}

static void free_but_services(struct xgw_config *c)
{
	for (unsigned i = 0; i < c->n_ports; i++)
		free(c->ports[i].queues);
	free(c->ports);
	free(c->services);
	free(c->steer);
	free(c->routes);
	free(c->neighbours);
	free(c->policies);
	memset(c, 0, sizeof(*c));
}

void xgw_config_free(struct xgw_config *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->n_services; i++)
		xgw_service_free(&c->services[i]);
	free_but_services(c);
}

void xgw_config_free_keep_backends(struct xgw_config *c)
{
	if (c)
		free_but_services(c);
}

void xgw_service_free(struct xgw_service_cfg *s)
{
	if (!s->backends_shared)
		free(s->backends);
	memset(s, 0, sizeof(*s));
}

/* malloc+memcpy that treats n == 0 as "no array" rather than failure. */
static int dup_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (!n)
		return 0;
	*dst = malloc(n * size);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * size);
	return 0;
}

static int copy(struct xgw_config *dst, const struct xgw_config *src, bool services, bool share,
		struct xgw_service_cfg *buf, size_t cap)
{
	struct xgw_config c = *src;
	unsigned i;

	c.delta = NULL; /* the write's, not the copy's */

	/* Nothing of src is owned yet; count up only what was duplicated so
	 * that xgw_config_free can unwind a partial copy. */
	c.ports = NULL;
	c.services = NULL;
	c.steer = NULL;
	c.routes = NULL;
	c.neighbours = NULL;
	c.policies = NULL;
	c.n_ports = c.n_services = c.n_steer = c.n_routes = c.n_neighbours = c.n_policies = 0;

	if (dup_array((void **)&c.ports, src->ports, src->n_ports, sizeof(*c.ports)))
		goto nomem;
	for (i = 0; i < src->n_ports; i++) {
		c.ports[i].queues = NULL;
		c.ports[i].n_queues = 0;
	}
	c.n_ports = src->n_ports;
	for (i = 0; i < src->n_ports; i++) {
		if (dup_array((void **)&c.ports[i].queues, src->ports[i].queues,
			      src->ports[i].n_queues, sizeof(*c.ports[i].queues)))
			goto nomem;
		c.ports[i].n_queues = src->ports[i].n_queues;
	}
	if (!services) {
		free(buf);
		buf = NULL;
		goto rest;
	}
	if (buf && cap >= src->n_services && src->n_services) {
		c.services = buf;
		memcpy(c.services, src->services, src->n_services * sizeof(*c.services));
	} else if (share && src->n_services) {
		/* With room: a service added in place, and the array reused
		 * by the next write (buf) when it let go of it. */
		free(buf);
		c.services =
		    malloc((src->n_services + src->n_services / 8 + 16) * sizeof(*c.services));
		if (!c.services)
			goto nomem_nobuf;
		memcpy(c.services, src->services, src->n_services * sizeof(*c.services));
	} else {
		free(buf);
		if (dup_array((void **)&c.services, src->services, src->n_services,
			      sizeof(*c.services)))
			goto nomem_nobuf;
	}
	buf = NULL;
	for (i = 0; i < src->n_services; i++) {
		if (share) {
			c.services[i].backends_shared = true;
			continue;
		}
		c.services[i].backends = NULL;
		c.services[i].n_backends = 0;
		c.services[i].backends_shared = false;
	}
	c.n_services = src->n_services;
	for (i = 0; i < src->n_services && !share; i++) {
		if (dup_array((void **)&c.services[i].backends, src->services[i].backends,
			      src->services[i].n_backends, sizeof(*c.services[i].backends)))
			goto nomem;
		c.services[i].n_backends = src->services[i].n_backends;
	}
rest:
	if (dup_array((void **)&c.steer, src->steer, src->n_steer, sizeof(*c.steer)))
		goto nomem;
	c.n_steer = src->n_steer;
	if (dup_array((void **)&c.routes, src->routes, src->n_routes, sizeof(*c.routes)))
		goto nomem;
	c.n_routes = src->n_routes;
	if (dup_array((void **)&c.neighbours, src->neighbours, src->n_neighbours,
		      sizeof(*c.neighbours)))
		goto nomem;
	c.n_neighbours = src->n_neighbours;
	if (dup_array((void **)&c.policies, src->policies, src->n_policies, sizeof(*c.policies)))
		goto nomem;
	c.n_policies = src->n_policies;
	*dst = c;
	return 0;
nomem:
	free(buf);
nomem_nobuf:
	xgw_config_free(&c);
	memset(dst, 0, sizeof(*dst));
	return -ENOMEM;
}

int xgw_config_copy(struct xgw_config *dst, const struct xgw_config *src)
{
	return copy(dst, src, true, false, NULL, 0);
}

int xgw_config_copy_but_services(struct xgw_config *dst, const struct xgw_config *src)
{
	return copy(dst, src, false, false, NULL, 0);
}

int xgw_config_copy_shared(struct xgw_config *dst, const struct xgw_config *src,
			   struct xgw_service_cfg *buf, size_t cap)
{
	return copy(dst, src, true, true, buf, cap);
}

unsigned xgw_service_n_tun(const struct xgw_service_cfg *s)
{
	unsigned n = 0;

	for (unsigned b = 0; b < s->n_backends; b++)
		n += s->backends[b].tun != XGW_TUN_NONE;
	return n;
}

bool xgw_svc_delta_usable(const struct xgw_config *cfg, const struct xgw_config *prev)
{
	const struct xgw_svc_delta *d = cfg->delta;

	if (!d || !prev || d->prev_services != prev->services || d->n_prev != prev->n_services ||
	    d->n_prev > cfg->n_services || d->n_idx > d->n_prev)
		return false;
	for (unsigned k = 0; k < d->n_idx; k++)
		if (d->idx[k] >= d->n_prev || (k && d->idx[k] <= d->idx[k - 1]))
			return false;
	return true;
}

int xgw_config_find_service(const struct xgw_config *c, const struct xgw_addr *vip, uint16_t port,
			    uint8_t proto)
{
	for (unsigned i = 0; i < c->n_services; i++) {
		const struct xgw_service_cfg *s = &c->services[i];

		if (s->port == port && s->proto == proto && xgw_addr_eq(&s->vip, vip))
			return (int)i;
	}
	return -1;
}
