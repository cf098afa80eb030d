/* SPDX-License-Identifier: BSD-3-Clause */
/* Cross-object checks.  They run on every loaded file and on every control
 * socket write (on the edited copy), so they also re-check the invariants
 * that later code relies on blindly, such as enums used as table indexes. */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config.h"
#include "ctl/config_json.h"

static uint64_t key_hash(const unsigned char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

long cfg_find_dup(const void *keys, size_t n, size_t keysize, size_t *first)
{
	const unsigned char *k = keys;
	size_t *tab, mask = 31;

	if (n < 2)
		return -1;
	/* A service's few backends: pairwise, no allocation (a write
	 * validates every service's backends: 10,000 of these). */
	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (!memcmp(k + i * keysize, k + j * keysize, keysize)) {
					*first = j;
					return (long)i;
				}
		return -1;
	}
	/* Else a hash set of the first index of each key, filled in order:
	 * the first key found already there is the earliest duplicate, and
	 * the entry it hits the first of its equals (the pairwise answer).
	 * O(n): a sort of 10,000 service keys was half a write's validation. */
	while (mask + 1 < 2 * n)
		mask = mask * 2 + 1;
	tab = malloc((mask + 1) * sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	memset(tab, 0xff, (mask + 1) * sizeof(*tab));
	for (size_t i = 0; i < n; i++) {
		const unsigned char *ki = k + i * keysize;
		size_t h = (size_t)key_hash(ki, keysize) & mask;

		for (; tab[h] != SIZE_MAX; h = (h + 1) & mask)
			if (!memcmp(k + tab[h] * keysize, ki, keysize)) {
				*first = tab[h];
				free(tab);
				return (long)i;
			}
		tab[h] = i;
	}
	free(tab);
	return -1;
}

/* Fixed-size, fully initialised keys: padding must not make equal entries
 * differ, so every key struct is built from a zeroed buffer. */
struct addr_key {
	uint8_t family;
	uint8_t b[16];
};

static void addr_key(struct addr_key *k, const struct xgw_addr *a)
{
	k->family = a->family;
	memcpy(k->b, a->b, 16);
}

/* Runs cfg_find_dup over n keys made by `make`; -ENOMEM, -1 or the index. */
typedef void (*key_fn)(void *key, const void *cfg, size_t i);

static long find_dup(const void *cfg, size_t n, size_t keysize, key_fn make, size_t *first)
{
	char *keys;
	long r;

	if (n < 2)
		return -1;
	keys = calloc(n, keysize);
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		make(keys + i * keysize, cfg, i);
	r = cfg_find_dup(keys, n, keysize, first);
	free(keys);
	return r;
}

static void name_key(void *k, const void *cfg, size_t i)
{
	const struct xgw_config *c = cfg;

	strncpy(k, c->ports[i].name, XGW_NAME_MAX);
}

static void iface_key(void *k, const void *cfg, size_t i)
{
	const struct xgw_config *c = cfg;

	strncpy(k, c->ports[i].iface, IF_NAMESIZE);
	/* A DPDK port without a kernel interface: a key of its own. */
	if (!c->ports[i].iface[0])
		snprintf(k, IF_NAMESIZE, "\x01%zu", i);
}

static void queue_key(void *k, const void *cfg, size_t i)
{
	const struct xgw_port_cfg *p = cfg;

	memcpy(k, &p->queues[i].queue, sizeof(p->queues[i].queue));
}

static int check_ports(const struct xgw_config *c, int ncpus, char *err, size_t errlen)
{
	char path[CJ_PATH_MAX];
	size_t first;
	long d;

	if (c->n_ports > XGW_CONFIG_MAX_PORTS)
		return cj_fail(err, errlen, "", "ports", "%u ports, at most %d", c->n_ports,
			       XGW_CONFIG_MAX_PORTS);
	for (unsigned i = 0; i < c->n_ports; i++) {
		const struct xgw_port_cfg *p = &c->ports[i];

		cj_path(path, sizeof(path), "", "ports", i);
		if (!p->name[0] || (!p->iface[0] && p->driver != XGW_DRV_DPDK))
			return cj_fail(err, errlen, path, p->name[0] ? "iface" : "name",
				       "must not be empty");
		if (p->driver == XGW_DRV_DPDK && !XGW_HAVE_DPDK)
			return cj_fail(err, errlen, path, "driver",
				       "\"dpdk\": this xgw was built without DPDK");
		if (p->driver == XGW_DRV_DPDK && !p->device[0])
			return cj_fail(err, errlen, path, "device", "must not be empty");
		/* One RX/TX queue pair per configured queue: ethdev numbers
		 * them from 0. */
		for (unsigned q = 0; p->driver == XGW_DRV_DPDK && q < p->n_queues; q++)
			if (p->queues[q].queue >= p->n_queues)
				return cj_fail(
				    err, errlen, path, "queues",
				    "a dpdk port's queues are 0..%u (one per entry), not %u",
				    p->n_queues - 1, p->queues[q].queue);
		if ((unsigned)p->zerocopy > XGW_ZC_OFF || (unsigned)p->xdp_mode > XGW_XDP_SKB)
			return cj_fail(err, errlen, path, NULL, "bad zerocopy or xdp_mode value");
		d = find_dup(p, p->n_queues, sizeof(uint16_t), queue_key, &first);
		if (d == -ENOMEM)
			return -ENOMEM;
		if (d >= 0) {
			char qpath[CJ_PATH_MAX];

			return cj_fail(err, errlen,
				       cj_path(qpath, sizeof(qpath), path, "queues", d), NULL,
				       "duplicate queue %u on %s (also queues[%zu])",
				       p->queues[d].queue, p->iface, first);
		}
		for (unsigned q = 0; q < p->n_queues; q++) {
			int core = p->queues[q].core;
			char qpath[CJ_PATH_MAX];

			if (core >= 0 && (ncpus < 0 || core < ncpus))
				continue;
			cj_path(qpath, sizeof(qpath), path, "queues", q);
			if (core < 0)
				return cj_fail(err, errlen, qpath, "core",
					       "expected an integer >= 0");
			return cj_fail(err, errlen, qpath, "core",
				       "core %d does not exist (this machine has %d CPUs)", core,
				       ncpus);
		}
	}
	d = find_dup(c, c->n_ports, XGW_NAME_MAX, name_key, &first);
	if (d == -ENOMEM)
		return -ENOMEM;
	if (d >= 0)
		return cj_fail(err, errlen, cj_path(path, sizeof(path), "", "ports", d), "name",
			       "duplicate port name \"%s\" (also ports[%zu])", c->ports[d].name,
			       first);
	/* One steering program and one set of XSKs per interface. */
	d = find_dup(c, c->n_ports, IF_NAMESIZE, iface_key, &first);
	if (d == -ENOMEM)
		return -ENOMEM;
	if (d >= 0)
		return cj_fail(err, errlen, cj_path(path, sizeof(path), "", "ports", d), "iface",
			       "\"%s\" is already used by ports[%zu]", c->ports[d].iface, first);
	return 0;
}

struct svc_key {
	struct addr_key vip;
	uint8_t port[2];
	uint8_t proto;
};

static void svc_key(void *k, const void *cfg, size_t i)
{
	const struct xgw_service_cfg *s = &((const struct xgw_config *)cfg)->services[i];
	struct svc_key *key = k;

	addr_key(&key->vip, &s->vip);
	memcpy(key->port, &s->port, 2);
	key->proto = s->proto;
}

static int check_backend(const struct xgw_config *c, const struct xgw_service_cfg *s,
			 const struct xgw_backend_cfg *b, const char *where, char *err,
			 size_t errlen)
{
	char path[CJ_PATH_MAX], a[XGW_ADDR_STRLEN];

	if (!b->port)
		return cj_fail(err, errlen, where, "port",
			       "expected an integer between 1 and 65535");
	if (b->weight > 65535)
		return cj_fail(err, errlen, where, "weight",
			       "expected an integer between 0 and 65535");
	if (b->tun == XGW_TUN_NONE)
		return 0;
	cj_path(path, sizeof(path), where, "tunnel", -1);
	if ((unsigned)b->tun > XGW_TUN_GENEVE)
		return cj_fail(err, errlen, path, "type", "bad tunnel type");
	if (b->vni >= 1u << 24)
		return cj_fail(err, errlen, path, "vni",
			       "expected an integer between 0 and 16777215");
	if (b->tun_remote.family != AF_INET && b->tun_remote.family != AF_INET6)
		return cj_fail(err, errlen, path, "remote", "missing");
	/* The outer header needs a source address of the remote's family. */
	if (!c->tunnel.local_ip.family)
		return cj_fail(err, errlen, path, "remote", "needs tunnel.local_ip to be set");
	if (c->tunnel.local_ip.family != b->tun_remote.family)
		return cj_fail(err, errlen, path, "remote", "%s is %s but tunnel.local_ip is %s",
			       xgw_addr_str(&b->tun_remote, a, sizeof(a)),
			       b->tun_remote.family == AF_INET6 ? "IPv6" : "IPv4",
			       c->tunnel.local_ip.family == AF_INET6 ? "IPv6" : "IPv4");
	/* What the data plane does not serve is refused, never accepted and
	 * then ignored. */
	if (b->tun_remote.family != AF_INET)
		return cj_fail(err, errlen, path, "remote",
			       "tunnels over an IPv6 underlay are not supported (IPv4 "
			       "tunnel.local_ip and remote only)");
	if (s->snat)
		return cj_fail(err, errlen, path, NULL,
			       "tunnel backends are not supported in a service with snat");
	if (c->tunnel.vxlan_port == c->tunnel.geneve_port)
		return cj_fail(err, errlen, "tunnel", "geneve_port",
			       "must differ from tunnel.vxlan_port");
	return 0;
}

/* A backend (address, port, proto) is reached one way in every service
 * (user and kernel datapath alike, which both hand packets to each other): the data plane picks the
 * tunnel by the packet's destination after DNAT, so two different tunnels (or one and none) for the
 * same backend cannot both be served, and one would be silently ignored. */
struct be_tun {
	uint8_t key[20]; /* family, address, port (2), proto */
	uint8_t tun[28]; /* type, remote, vni (4), inner MAC flag and MAC */
	unsigned svc, be;
};

static int cmp_be_tun(const void *a, const void *b)
{
	const struct be_tun *x = a, *y = b;
	int r = memcmp(x->key, y->key, sizeof(x->key));

	if (!r)
		r = memcmp(x->tun, y->tun, sizeof(x->tun));
	if (!r)
		r = x->svc != y->svc ? (x->svc < y->svc ? -1 : 1)
				     : (x->be > y->be) - (x->be < y->be);
	return r;
}

/* c's tunnel backends, from c->delta when it is usable: prev's count
 * with the changed services' difference. */
static size_t count_tun(const struct xgw_config *c, const struct xgw_config *prev)
{
	const struct xgw_svc_delta *dl = c->delta;
	size_t n_tun;

	if (!prev || !xgw_svc_delta_usable(c, prev)) {
		n_tun = 0;
		for (unsigned i = 0; i < c->n_services; i++)
			n_tun += xgw_service_n_tun(&c->services[i]);
		return n_tun;
	}
	n_tun = dl->n_tun;
	for (unsigned k = 0; k < dl->n_idx; k++)
		n_tun += xgw_service_n_tun(&c->services[dl->idx[k]]) -
			 (size_t)xgw_service_n_tun(&prev->services[dl->idx[k]]);
	for (unsigned i = dl->n_prev; i < c->n_services; i++)
		n_tun += xgw_service_n_tun(&c->services[i]);
	return n_tun;
}

static int check_backend_tunnels(const struct xgw_config *c, const struct xgw_config *prev,
				 unsigned long *n_tun, char *err, size_t errlen)
{
	char spath[CJ_PATH_MAX], path[CJ_PATH_MAX], ep[XGW_KEY_STRLEN];
	struct be_tun *v;
	size_t n = 0;
	int rc = 0;

	/* Without a tunnel backend no two entries can disagree: skip the
	 * sort (and, with the changes named, the count of backends). */
	*n_tun = count_tun(c, prev);
	if (!*n_tun)
		return 0;
	for (unsigned i = 0; i < c->n_services; i++)
		n += c->services[i].n_backends;
	if (n < 2)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	for (unsigned i = 0; i < c->n_services; i++) {
		const struct xgw_service_cfg *s = &c->services[i];
		for (unsigned b = 0; b < s->n_backends; b++) {
			const struct xgw_backend_cfg *bc = &s->backends[b];
			struct be_tun *e = &v[n++];
			e->key[0] = bc->ip.family;
			memcpy(e->key + 1, bc->ip.b, 16);
			memcpy(e->key + 17, &bc->port, 2);
			e->key[19] = s->proto;
			if (bc->tun != XGW_TUN_NONE) {
				e->tun[0] = (uint8_t)bc->tun;
				memcpy(e->tun + 1, bc->tun_remote.b, 16);
				memcpy(e->tun + 17, &bc->vni, 4);
				e->tun[21] = bc->has_inner_mac;
				if (bc->has_inner_mac)
					memcpy(e->tun + 22, bc->inner_mac, 6);
			}
			e->svc = i;
			e->be = b;
		}
	}
	qsort(v, n, sizeof(*v), cmp_be_tun);
	for (size_t k = 1; k < n && !rc; k++) {
		if (memcmp(v[k].key, v[k - 1].key, sizeof(v[k].key)) ||
		    !memcmp(v[k].tun, v[k - 1].tun, sizeof(v[k].tun)))
			continue;
		const struct xgw_backend_cfg *bc = &c->services[v[k].svc].backends[v[k].be];
		cj_path(spath, sizeof(spath), "", "services", (long)v[k].svc);
		cj_path(path, sizeof(path), spath, "backends", (long)v[k].be);
		rc = cj_fail(err, errlen, path, "tunnel",
			     "backend %s is reached %s in services[%u]: a backend has the same "
			     "tunnel (or none) in every service",
			     xgw_endpoint_str(&bc->ip, bc->port, ep, sizeof(ep)),
			     v[k - 1].tun[0] ? "through another tunnel" : "without a tunnel",
			     v[k - 1].svc);
	}
	free(v);
	return rc;
}

/* Health checks leave from the gateway's own stack; those of a backend
 * behind a tunnel go through it from tunnel.local_ip (health/tun_path.h),
 * an IPv4 address: an IPv6 backend there could not be checked, and is
 * refused rather than checked on the wrong path. */
static int check_health(const struct xgw_service_cfg *s, const char *path, char *err, size_t errlen)
{
	char kpath[CJ_PATH_MAX], ep[XGW_KEY_STRLEN];
	int rc;

	if (s->check.type == XGW_CHECK_NONE)
		return 0;
	cj_path(kpath, sizeof(kpath), path, "check", -1);
	if ((rc = xgw_check_validate(&s->check, kpath, err, errlen)))
		return rc;
	for (unsigned b = 0; b < s->n_backends; b++)
		if (s->backends[b].tun != XGW_TUN_NONE && s->backends[b].ip.family != AF_INET)
			return cj_fail(err, errlen, path, "check",
				       "health checks through a tunnel leave from tunnel.local_ip "
				       "(IPv4) and cannot reach IPv6 backend %s: remove the check "
				       "or the backend",
				       xgw_endpoint_str(&s->backends[b].ip, s->backends[b].port, ep,
							sizeof(ep)));
	return 0;
}

/* One service's checks.  path is NULL on the first run: error paths are
 * only formatted when a check fails (a write at 10,000 services would
 * otherwise spend most of its validation in snprintf), and the caller runs
 * the checks again with the path to get the message. */
static int check_service(const struct xgw_config *c, const struct xgw_service_cfg *s,
			 const char *path, char *err, size_t errlen)
{
	const char *where = path ? path : "";
	char bpath[CJ_PATH_MAX] = "";
	int rc;

	if (s->vip.family != AF_INET && s->vip.family != AF_INET6)
		return cj_fail(err, errlen, where, "vip", "missing");
	if (!s->port)
		return cj_fail(err, errlen, where, "port",
			       "expected an integer between 1 and 65535");
	if (s->proto != IPPROTO_TCP && s->proto != IPPROTO_UDP)
		return cj_fail(err, errlen, where, "proto", "expected \"tcp\" or \"udp\"");
	if ((unsigned)s->datapath > XGW_DP_KERNEL || (unsigned)s->algo > XGW_ALGO_RANDOM)
		return cj_fail(err, errlen, where, NULL, "bad datapath or algorithm value");
	/* Maglev gives each backend at least one slot only if M >= N. */
	if (s->n_backends > (s->maglev_size ? s->maglev_size : c->maglev_size))
		return cj_fail(err, errlen, where, "backends", "%u backends do not fit %s %u",
			       s->n_backends, s->maglev_size ? "maglev_size" : "lb.maglev_size",
			       s->maglev_size ? s->maglev_size : c->maglev_size);
	for (unsigned b = 0; b < s->n_backends; b++) {
		if (path)
			cj_path(bpath, sizeof(bpath), path, "backends", b);
		if ((rc = check_backend(c, s, &s->backends[b], bpath, err, errlen)))
			return rc;
	}
	if ((rc = cfg_service_check(s, where, err, errlen)))
		return rc;
	return check_health(s, where, err, errlen);
}

/* Whether a and b are the same service, backends included (the backends
 * arrays compared by content; struct copies keep padding equal). */
static bool same_service(const struct xgw_service_cfg *a, const struct xgw_service_cfg *b)
{
	return a->n_backends == b->n_backends &&
	       !memcmp(a, b, offsetof(struct xgw_service_cfg, backends)) &&
	       (!a->n_backends || a->backends == b->backends || /* shared: unchanged */
		!memcmp(a->backends, b->backends, a->n_backends * sizeof(*a->backends)));
}

/* Whether what check_service reads outside the service is as in prev. */
static bool same_service_context(const struct xgw_config *c, const struct xgw_config *prev)
{
	return c->maglev_size == prev->maglev_size &&
	       !memcmp(&c->tunnel, &prev->tunnel, sizeof(c->tunnel));
}

/* Few services changed since a valid config: a duplicate key, if any,
 * has one of them in it (the rest are distinct, as they were in prev). */
#define FEW_CHANGED 16

static bool same_key(const struct xgw_service_cfg *a, const struct xgw_service_cfg *b)
{
	return a->port == b->port && a->proto == b->proto && xgw_addr_eq(&a->vip, &b->vip);
}

/* The services c->delta names (changed, added), each checked on its
 * own; their keys are distinct from the others' (see the delta). */
static int check_named_services(const struct xgw_config *c, char *err, size_t errlen)
{
	const struct xgw_svc_delta *dl = c->delta;
	char path[CJ_PATH_MAX];
	int rc;

	for (unsigned k = 0, i; k < dl->n_idx + (c->n_services - dl->n_prev); k++) {
		i = k < dl->n_idx ? dl->idx[k] : dl->n_prev + (k - dl->n_idx);
		if (!(rc = check_service(c, &c->services[i], NULL, err, errlen)))
			continue;
		cj_path(path, sizeof(path), "", "services", i);
		return check_service(c, &c->services[i], path, err, errlen) ?: rc;
	}
	return 0;
}

/* Whether the changed services c->delta names have prev's keys. */
static bool named_keys_kept(const struct xgw_config *c, const struct xgw_config *prev)
{
	for (unsigned k = 0; k < c->delta->n_idx; k++)
		if (!same_key(&c->services[c->delta->idx[k]], &prev->services[c->delta->idx[k]]))
			return false;
	return true;
}

static int check_services(const struct xgw_config *c, const struct xgw_config *prev, char *err,
			  size_t errlen)
{
	char path[CJ_PATH_MAX], key[XGW_KEY_STRLEN];
	size_t first, j = 0;
	unsigned changed[FEW_CHANGED], n_changed = 0;
	long d = -1;
	int rc;

	if (prev && !same_service_context(c, prev))
		prev = NULL;
	if (prev && xgw_svc_delta_usable(c, prev) && named_keys_kept(c, prev))
		return check_named_services(c, err, errlen);
	for (unsigned i = 0; i < c->n_services; i++) {
		/* A service as it is in prev (valid) is valid: a write checks
		 * what it changed.  prev is walked along (a service added at
		 * the end or one removed keep the rest aligned). */
		if (prev && j < prev->n_services &&
		    same_service(&c->services[i], &prev->services[j])) {
			j++;
			continue;
		}
		if (prev && j + 1 < prev->n_services &&
		    same_service(&c->services[i], &prev->services[j + 1])) {
			j += 2;
			continue;
		}
		if (n_changed < FEW_CHANGED)
			changed[n_changed] = i;
		n_changed++;
		if (!(rc = check_service(c, &c->services[i], NULL, err, errlen)))
			continue;
		cj_path(path, sizeof(path), "", "services", i);
		return check_service(c, &c->services[i], path, err, errlen) ?: rc;
	}
	if (prev && n_changed <= FEW_CHANGED) {
		/* The first service whose key an earlier one has, as the
		 * whole search below finds it: one pass per changed service. */
		for (unsigned k = 0; k < n_changed; k++) {
			const struct xgw_service_cfg *u = &c->services[changed[k]];

			for (unsigned i = 0; i < c->n_services; i++) {
				unsigned later = i > changed[k] ? i : changed[k];

				if (i == changed[k] || (d >= 0 && later >= (unsigned)d) ||
				    !same_key(u, &c->services[i]))
					continue;
				d = later;
			}
		}
	} else {
		d = find_dup(c, c->n_services, sizeof(struct svc_key), svc_key, &first);
	}
	if (d == -ENOMEM)
		return -ENOMEM;
	if (d >= 0) {
		const struct xgw_service_cfg *s = &c->services[d];

		return cj_fail(err, errlen, cj_path(path, sizeof(path), "", "services", d), NULL,
			       "duplicate service %s",
			       xgw_service_key_str(&s->vip, s->port, s->proto, key, sizeof(key)));
	}
	return 0;
}

/* Steer rules and policies both carry a uint32 id at a known offset. */
struct id_list {
	const char *base;
	size_t stride;
};

static void id_key(void *k, const void *cfg, size_t i)
{
	const struct id_list *l = cfg;

	memcpy(k, l->base + i * l->stride, sizeof(uint32_t));
}

static int check_ids(const void *first_id, size_t stride, unsigned n, const char *what, char *err,
		     size_t errlen)
{
	struct id_list l = {.base = first_id, .stride = stride};
	char path[CJ_PATH_MAX];
	uint32_t id;
	size_t first;
	long d;

	for (unsigned i = 0; i < n; i++) {
		memcpy(&id, l.base + i * stride, sizeof(id));
		if (!id)
			return cj_fail(err, errlen, cj_path(path, sizeof(path), "", what, i), "id",
				       "expected an integer >= 1");
	}
	d = find_dup(&l, n, sizeof(uint32_t), id_key, &first);
	if (d == -ENOMEM)
		return -ENOMEM;
	if (d < 0)
		return 0;
	memcpy(&id, l.base + (size_t)d * stride, sizeof(id));
	return cj_fail(err, errlen, cj_path(path, sizeof(path), "", what, d), "id",
		       "duplicate id %u (also %s[%zu])", id, what, first);
}

struct steer_key {
	struct addr_key dst;
	uint8_t len, proto, dport[2];
};

static void steer_key(void *k, const void *cfg, size_t i)
{
	const struct xgw_steer_cfg *s = &((const struct xgw_config *)cfg)->steer[i];
	struct steer_key *key = k;

	addr_key(&key->dst, &s->dst.addr);
	key->len = s->dst.len;
	key->proto = s->proto;
	memcpy(key->dport, &s->dport, 2);
}

static void route_key(void *k, const void *cfg, size_t i)
{
	const struct xgw_route_cfg *r = &((const struct xgw_config *)cfg)->routes[i];
	struct steer_key *key = k; /* same shape: a prefix */

	addr_key(&key->dst, &r->dst.addr);
	key->len = r->dst.len;
}

struct neigh_key {
	struct addr_key ip;
	char port[XGW_NAME_MAX];
};

static void neigh_key(void *k, const void *cfg, size_t i)
{
	const struct xgw_neigh_cfg *n = &((const struct xgw_config *)cfg)->neighbours[i];
	struct neigh_key *key = k;

	addr_key(&key->ip, &n->ip);
	strncpy(key->port, n->port, sizeof(key->port));
}

static bool port_exists(const struct xgw_config *c, const char *name)
{
	for (unsigned i = 0; i < c->n_ports; i++)
		if (!strncmp(c->ports[i].name, name, XGW_NAME_MAX))
			return true;
	return false;
}

static int check_rules(const struct xgw_config *c, char *err, size_t errlen)
{
	char path[CJ_PATH_MAX], pfx[XGW_ADDR_STRLEN + 8], a[XGW_ADDR_STRLEN];
	size_t first;
	long d;
	int rc;

	if (c->n_steer &&
	    (rc = check_ids(&c->steer[0].id, sizeof(*c->steer), c->n_steer, "steer", err, errlen)))
		return rc;
	d = find_dup(c, c->n_steer, sizeof(struct steer_key), steer_key, &first);
	if (d == -ENOMEM)
		return -ENOMEM;
	if (d >= 0)
		return cj_fail(err, errlen, cj_path(path, sizeof(path), "", "steer", d), NULL,
			       "duplicate rule (same dst, proto and dport as steer[%zu])", first);
	if (c->n_policies && (rc = check_ids(&c->policies[0].id, sizeof(*c->policies),
					     c->n_policies, "policies", err, errlen)))
		return rc;
	for (unsigned i = 0; i < c->n_routes; i++) {
		if (port_exists(c, c->routes[i].port))
			continue;
		return cj_fail(err, errlen, cj_path(path, sizeof(path), "", "routes", i), "port",
			       "unknown port \"%s\"", c->routes[i].port);
	}
	d = find_dup(c, c->n_routes, sizeof(struct steer_key), route_key, &first);
	if (d == -ENOMEM)
		return -ENOMEM;
	if (d >= 0)
		return cj_fail(err, errlen, cj_path(path, sizeof(path), "", "routes", d), NULL,
			       "duplicate route %s (also routes[%zu])",
			       xgw_prefix_str(&c->routes[d].dst, pfx, sizeof(pfx)), first);
	for (unsigned i = 0; i < c->n_neighbours; i++) {
		if (!c->neighbours[i].port[0] || port_exists(c, c->neighbours[i].port))
			continue;
		return cj_fail(err, errlen, cj_path(path, sizeof(path), "", "neighbours", i),
			       "port", "unknown port \"%s\"", c->neighbours[i].port);
	}
	d = find_dup(c, c->n_neighbours, sizeof(struct neigh_key), neigh_key, &first);
	if (d == -ENOMEM)
		return -ENOMEM;
	if (d >= 0)
		return cj_fail(err, errlen, cj_path(path, sizeof(path), "", "neighbours", d), NULL,
			       "duplicate neighbour %s (also neighbours[%zu])",
			       xgw_addr_str(&c->neighbours[d].ip, a, sizeof(a)), first);
	return 0;
}

int xgw_config_validate(const struct xgw_config *c, int ncpus, char *err, size_t errlen)
{
	return xgw_config_validate_since(c, NULL, ncpus, err, errlen);
}

int xgw_config_validate_since(const struct xgw_config *c, const struct xgw_config *prev, int ncpus,
			      char *err, size_t errlen)
{
	unsigned long n_tun;

	return xgw_config_validate_count(c, prev, ncpus, &n_tun, err, errlen);
}

int xgw_config_validate_count(const struct xgw_config *c, const struct xgw_config *prev, int ncpus,
			      unsigned long *n_tun, char *err, size_t errlen)
{
	int rc;

	if ((rc = check_ports(c, ncpus, err, errlen)) ||
	    (rc = check_services(c, prev, err, errlen)) ||
	    (rc = check_backend_tunnels(c, prev, n_tun, err, errlen)) ||
	    (rc = check_rules(c, err, errlen))) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		return rc;
	}
	return 0;
}
