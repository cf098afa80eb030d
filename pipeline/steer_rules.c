/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline/steer_rules.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash_mix.h"
#include "pipeline/snapshot.h"
#include "steer-bpf/steer_maps.h"
#include "tunnel/table.h"

/* ---- the whole list -------------------------------------------------------- */

static int grow(void **arr, unsigned n, unsigned *cap, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, (*cap ? *cap * 2 : 16) * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

/* Append the element at e (size bytes) to *arr. */
static int push(void **arr, unsigned *n, unsigned *cap, const void *e, size_t size)
{
	if (grow(arr, *n, cap, size))
		return -ENOMEM;
	memcpy((char *)*arr + (size_t)(*n)++ * size, e, size);
	return 0;
}

static int add_rule(struct xgw_steer_rule **rules, unsigned *n, unsigned *cap,
		    const struct xgw_steer_rule *r)
{
	return push((void **)rules, n, cap, r, sizeof(*r));
}

static int add_src(struct xgw_steer_src_rule **rules, unsigned *n, unsigned *cap,
		   const struct xgw_steer_src_rule *r)
{
	return push((void **)rules, n, cap, r, sizeof(*r));
}

static uint8_t icmp_of(const struct xgw_addr *vip)
{
	return vip->family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
}

/* A service's VIP rules: its port, and ICMP (echo to the VIP is answered
 * by the workers).  Kernel services too: what their XDP datapath does not
 * handle (kern_kdp.h) goes on to the workers. */
static void vip_rules(struct xgw_steer_rule r[2], const struct xgw_addr *vip, uint16_t port,
		      uint8_t proto)
{
	memset(r, 0, 2 * sizeof(*r));
	r[0].dst.addr = *vip;
	r[0].dst.len = (uint8_t)xgw_addr_bits(vip);
	r[0].proto = proto;
	r[0].dport = port;
	r[0].id = XGW_STEER_SVC_ID;
	r[1] = r[0];
	r[1].proto = icmp_of(vip);
	r[1].dport = 0;
}

/* A backend's source rules: its port, ICMP (errors), and fragments of
 * replies: a later IPv4 fragment has no ports (the program looks it up
 * with sport 0), an IPv6 fragment's next header is the fragment header.
 * The workers drop them (fragment_unsupported) rather than the kernel
 * routing them untranslated. */
static void src_rules(struct xgw_steer_src_rule r[3], const struct xgw_addr *ip, uint16_t port,
		      uint8_t proto, const struct xgw_addr *vip)
{
	memset(r, 0, 3 * sizeof(*r));
	r[0].addr = *ip;
	r[0].proto = proto;
	r[0].sport = port;
	r[1].addr = *ip;
	r[1].proto = icmp_of(vip);
	r[2].addr = *ip;
	r[2].proto = ip->family == AF_INET6 ? IPPROTO_FRAGMENT : proto;
}

/* Tunnel packets to tunnel.local_ip, for the decap stage. */
static void tunnel_rule(struct xgw_steer_rule *r, const struct xgw_config *cfg, unsigned k)
{
	memset(r, 0, sizeof(*r));
	r->dst.addr = cfg->tunnel.local_ip;
	r->dst.len = (uint8_t)xgw_addr_bits(&cfg->tunnel.local_ip);
	r->proto = IPPROTO_UDP;
	r->dport = k ? cfg->tunnel.geneve_port : cfg->tunnel.vxlan_port;
	r->id = XGW_STEER_ID_TUNNEL | k; /* the program looks into these (steer.bpf.c) */
}

static void steer_entry_rule(struct xgw_steer_rule *r, const struct xgw_steer_cfg *e)
{
	memset(r, 0, sizeof(*r));
	r->dst = e->dst;
	r->proto = e->proto;
	/* "icmp" means ICMPv6 for an IPv6 destination, as in policies. */
	if (r->proto == IPPROTO_ICMP && r->dst.addr.family == AF_INET6)
		r->proto = IPPROTO_ICMPV6;
	r->dport = e->dport;
	r->id = e->id;
}

int xgw_steer_rules_full(const struct xgw_config *cfg, struct xgw_steer_rule **rules, unsigned *n,
			 struct xgw_steer_src_rule **src, unsigned *n_src)
{
	struct xgw_steer_rule r[2];
	struct xgw_steer_src_rule sr[3];
	unsigned cap = cfg->n_steer + 2 * cfg->n_services + 2, cap_src = 0;
	int rc = 0;

	/* Sized once: 120,000 source entries at 10,000 x 4, grown by
	 * doubling, were copied about twice over on every write. */
	for (unsigned i = 0; i < cfg->n_services; i++)
		cap_src += 3 * cfg->services[i].n_backends;
	*n = *n_src = 0;
	*rules = malloc((size_t)cap * sizeof(**rules));
	*src = malloc((size_t)(cap_src ? cap_src : 1) * sizeof(**src));
	if (!*rules || !*src)
		rc = -ENOMEM;
	/* In this order: the last of equal keys wins (xgw_steer_set_rules). */
	for (unsigned i = 0; i < cfg->n_steer && !rc; i++) {
		steer_entry_rule(&r[0], &cfg->steer[i]);
		rc = add_rule(rules, n, &cap, &r[0]);
	}
	for (unsigned i = 0; i < cfg->n_services && !rc; i++) {
		const struct xgw_service_cfg *s = &cfg->services[i];

		vip_rules(r, &s->vip, s->port, s->proto);
		for (int k = 0; k < 2 && !rc; k++)
			rc = add_rule(rules, n, &cap, &r[k]);
		for (unsigned b = 0; b < s->n_backends && !rc; b++) {
			src_rules(sr, &s->backends[b].ip, s->backends[b].port, s->proto, &s->vip);
			for (int k = 0; k < 3 && !rc; k++)
				rc = add_src(src, n_src, &cap_src, &sr[k]);
		}
	}
	for (unsigned k = 0; k < 2 && !rc && xgw_cfg_has_tunnels(cfg); k++) {
		tunnel_rule(&r[0], cfg, k);
		rc = add_rule(rules, n, &cap, &r[0]);
	}
	if (rc) {
		free(*rules);
		free(*src);
		*rules = NULL;
		*src = NULL;
	}
	return rc;
}

/* ---- rule keys with their counts ------------------------------------------- */

/* A rule's key, padding zeroed (compared and hashed as bytes). */
struct rkey {
	uint32_t w[4];
	uint8_t family, len, proto, src; /* src: a source rule */
	uint16_t port, pad;
};

struct kent {
	struct rkey k;
	uint32_t refs;	/* services giving the key */
	uint32_t touch; /* the diff that last touched it */
	uint8_t used;
	uint8_t other;	/* a steer entry's or a tunnel rule (not counted) */
	uint8_t before; /* in the maps before the diff that touches it */
	uint8_t pad;
};

static void dst_key(struct rkey *k, const struct xgw_steer_rule *r)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->w, r->dst.addr.w, sizeof(k->w));
	k->family = r->dst.addr.family;
	k->len = r->dst.len;
	k->proto = r->proto;
	k->port = r->dport;
}

static void src_key(struct rkey *k, const struct xgw_steer_src_rule *r)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->w, r->addr.w, sizeof(k->w));
	k->family = r->addr.family;
	k->proto = r->proto;
	k->port = r->sport;
	k->src = 1;
}

static uint64_t rkey_hash(const struct rkey *k)
{
	uint64_t w[3];

	memcpy(w, k, sizeof(w));
	return xgw_hash_fmix64(xgw_hash_round(xgw_hash_round(xgw_hash_round(0, w[0]), w[1]), w[2]) ^
			       ((uint64_t)k->port << 32 | k->pad));
}

/* ---- services' rules, by service key ----------------------------------------- */

struct srec {
	struct xgw_addr vip;
	uint16_t port; /* host order, as in the config */
	uint8_t proto;
	uint32_t mark;
	unsigned pos; /* in the config last diffed */
	unsigned n_tun; /* its tunnel backends */
	unsigned n_be;
	struct {
		struct xgw_addr ip;
		uint16_t port;
	} be[];
};

struct xgw_steer_rules {
	bool valid;
	uint32_t epoch;
	struct kent *keys; /* open addressing, at most half full */
	size_t kcap, kn;
	struct srec **recs; /* the same, by service key */
	size_t rcap, rn;
	/* The records in the order of the config last diffed (a write
	 * leaves the rest in order: most are found there, not hashed), and
	 * the array the next diff fills. */
	struct srec **order, **next;
	size_t n_order, cap_order;
	/* The services array of the config last diffed (an address, never
	 * read: compared with the caller's prev). */
	const void *src;
	/* What the rules other than services' were made of at the reset. */
	struct xgw_steer_cfg *steer;
	unsigned n_steer;
	bool tun;
	struct xgw_tunnel_cfg tunnel;
	/* Keys in the maps: destination keys by class, source keys. */
	unsigned n_cls[3], n_src;
	unsigned long n_tun; /* tunnel backends of the config last diffed */
	/* Keys touched by the diff in progress. */
	struct rkey *touched;
	unsigned n_touched, cap_touched;
};

static struct kent *kfind(struct kent *t, size_t cap, const struct rkey *k)
{
	for (size_t i = rkey_hash(k) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!t[i].used || !memcmp(&t[i].k, k, sizeof(*k)))
			return &t[i];
}

static int kresize(struct xgw_steer_rules *r, size_t cap)
{
	struct kent *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->kcap; i++)
		if (r->keys[i].used)
			*kfind(t, cap, &r->keys[i].k) = r->keys[i];
	free(r->keys);
	r->keys = t;
	r->kcap = cap;
	return 0;
}

/* The entry of k, made (zero counts) if new; NULL when out of memory. */
static struct kent *kget(struct xgw_steer_rules *r, const struct rkey *k)
{
	struct kent *e;

	if ((r->kn + 1) * 2 > r->kcap && kresize(r, r->kcap ? r->kcap * 2 : 1024))
		return NULL;
	e = kfind(r->keys, r->kcap, k);
	if (!e->used) {
		memset(e, 0, sizeof(*e));
		e->k = *k;
		e->used = 1;
		r->kn++;
	}
	return e;
}

static void kremove(struct xgw_steer_rules *r, struct kent *e)
{
	size_t mask = r->kcap - 1, i = (size_t)(e - r->keys), j = i;

	for (;;) {
		size_t h;

		j = (j + 1) & mask;
		if (!r->keys[j].used)
			break;
		h = rkey_hash(&r->keys[j].k) & mask;
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		r->keys[i] = r->keys[j];
		i = j;
	}
	memset(&r->keys[i], 0, sizeof(r->keys[i]));
	r->kn--;
}

static size_t rhome(const struct xgw_steer_rules *r, const struct xgw_addr *vip, uint16_t port,
		    uint8_t proto)
{
	return xgw_snapshot_key_hash(vip, port, proto) & (r->rcap - 1);
}

static struct srec **rfind(const struct xgw_steer_rules *r, const struct xgw_addr *vip,
			   uint16_t port, uint8_t proto)
{
	for (size_t i = rhome(r, vip, port, proto);; i = (i + 1) & (r->rcap - 1)) {
		struct srec *s = r->recs[i];
		if (!s || (s->port == port && s->proto == proto && xgw_addr_eq(&s->vip, vip)))
			return &r->recs[i];
	}
}

static int rresize(struct xgw_steer_rules *r, size_t cap)
{
	struct srec **old = r->recs;
	size_t ocap = r->rcap;

	r->recs = calloc(cap, sizeof(*r->recs));
	if (!r->recs) {
		r->recs = old;
		return -ENOMEM;
	}
	r->rcap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			*rfind(r, &old[i]->vip, old[i]->port, old[i]->proto) = old[i];
	free(old);
	return 0;
}

static void rremove(struct xgw_steer_rules *r, struct srec **slot)
{
	size_t mask = r->rcap - 1, i = (size_t)(slot - r->recs), j = i;

	free(*slot);
	for (;;) {
		size_t h;

		j = (j + 1) & mask;
		if (!r->recs[j])
			break;
		h = rhome(r, &r->recs[j]->vip, r->recs[j]->port, r->recs[j]->proto);
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		r->recs[i] = r->recs[j];
		i = j;
	}
	r->recs[i] = NULL;
	r->rn--;
}

static struct srec *rec_new(const struct xgw_service_cfg *s, uint32_t mark)
{
	struct srec *v = malloc(sizeof(*v) + s->n_backends * sizeof(v->be[0]));

	if (!v)
		return NULL;
	v->vip = s->vip;
	v->port = s->port;
	v->proto = s->proto;
	v->mark = mark;
	v->n_be = s->n_backends;
	v->n_tun = 0;
	for (unsigned b = 0; b < s->n_backends; b++) {
		v->be[b].ip = s->backends[b].ip;
		v->be[b].port = s->backends[b].port;
		v->n_tun += s->backends[b].tun != XGW_TUN_NONE;
	}
	return v;
}

/* Whether v gives the rules s gives (the key is the same). */
static bool rec_same(const struct srec *v, const struct xgw_service_cfg *s)
{
	if (v->n_be != s->n_backends)
		return false;
	for (unsigned b = 0; b < v->n_be; b++)
		if (v->be[b].port != s->backends[b].port ||
		    !xgw_addr_eq(&v->be[b].ip, &s->backends[b].ip))
			return false;
	return true;
}

/* Insert v (its key absent). */
static int rinsert(struct xgw_steer_rules *r, struct srec *v)
{
	if ((r->rn + 1) * 2 > r->rcap && rresize(r, r->rcap ? r->rcap * 2 : 1024))
		return -ENOMEM;
	*rfind(r, &v->vip, v->port, v->proto) = v;
	r->rn++;
	return 0;
}

struct xgw_steer_rules *xgw_steer_rules_new(void)
{
	return calloc(1, sizeof(struct xgw_steer_rules));
}

void xgw_steer_rules_invalidate(struct xgw_steer_rules *r)
{
	for (size_t i = 0; i < r->rcap; i++)
		free(r->recs[i]);
	free(r->recs);
	free(r->keys);
	free(r->steer);
	free(r->order);
	free(r->next);
	r->order = r->next = NULL;
	r->n_order = r->cap_order = 0;
	r->src = NULL;
	r->recs = NULL;
	r->keys = NULL;
	r->steer = NULL;
	r->rcap = r->rn = r->kcap = r->kn = 0;
	r->n_steer = 0;
	memset(r->n_cls, 0, sizeof(r->n_cls));
	r->n_src = 0;
	r->valid = false;
}

void xgw_steer_rules_free(struct xgw_steer_rules *r)
{
	if (!r)
		return;
	xgw_steer_rules_invalidate(r);
	free(r->touched);
	free(r);
}

void xgw_steer_delta_free(struct xgw_steer_delta *d)
{
	free(d->add);
	free(d->del);
	free(d->src_add);
	free(d->src_del);
	memset(d, 0, sizeof(*d));
}

static int dst_class(const struct rkey *k)
{
	return k->proto && k->port ? 0 : k->proto ? 1 : 2; /* as steer.c's rule_class */
}

static void count_key(struct xgw_steer_rules *r, const struct rkey *k, int d)
{
	if (k->src)
		r->n_src += (unsigned)d;
	else
		r->n_cls[dst_class(k)] += (unsigned)d;
}

static uint32_t classes_of(const struct xgw_steer_rules *r)
{
	return (r->n_cls[0] ? XGW_STEER_CLASS_PROTO_PORT : 0) |
	       (r->n_cls[1] ? XGW_STEER_CLASS_PROTO : 0) | (r->n_cls[2] ? XGW_STEER_CLASS_ANY : 0) |
	       (r->n_src ? XGW_STEER_CLASS_SRC : 0);
}

/* One rule key counted up (d = 1) or down (-1).  With touch: its
 * presence before this diff is noted on first touch and the key listed.
 * -EAGAIN: the key is also a steer entry's or a tunnel rule (their
 * precedence is the whole list's), or its count is not what it should be. */
static int count_one(struct xgw_steer_rules *r, const struct rkey *k, int d, bool touch)
{
	struct kent *e = kget(r, k);

	if (!e)
		return -ENOMEM;
	if (touch && e->other)
		return -EAGAIN;
	if (touch && e->touch != r->epoch) {
		e->touch = r->epoch;
		e->before = e->refs || e->other;
		if (grow((void **)&r->touched, r->n_touched, &r->cap_touched, sizeof(*r->touched)))
			return -ENOMEM;
		r->touched[r->n_touched++] = e->k;
	}
	if (d < 0 && !e->refs)
		return -EAGAIN;
	e->refs += (uint32_t)d;
	return 0;
}

/* A service's rule keys, counted (backend b's address and port at
 * be_ip/be_port + b * be_stride). */
static int count_service(struct xgw_steer_rules *r, const struct xgw_addr *vip, uint16_t port,
			 uint8_t proto, const struct xgw_addr *be_ip, const uint16_t *be_port,
			 size_t be_stride, unsigned n_be, int d, bool touch)
{
	struct xgw_steer_rule vr[2];
	struct xgw_steer_src_rule sr[3];
	struct rkey k;
	int rc = 0;

	vip_rules(vr, vip, port, proto);
	for (int i = 0; i < 2 && !rc; i++) {
		dst_key(&k, &vr[i]);
		rc = count_one(r, &k, d, touch);
	}
	for (unsigned b = 0; b < n_be && !rc; b++) {
		const struct xgw_addr *ip =
		    (const struct xgw_addr *)((const char *)be_ip + b * be_stride);
		uint16_t bp = *(const uint16_t *)((const char *)be_port + b * be_stride);

		src_rules(sr, ip, bp, proto, vip);
		for (int i = 0; i < 3 && !rc; i++) {
			src_key(&k, &sr[i]);
			rc = count_one(r, &k, d, touch);
		}
	}
	return rc;
}

static int count_cfg_service(struct xgw_steer_rules *r, const struct xgw_service_cfg *s, int d,
			     bool touch)
{
	return count_service(r, &s->vip, s->port, s->proto,
			     s->n_backends ? &s->backends[0].ip : NULL,
			     s->n_backends ? &s->backends[0].port : NULL, sizeof(s->backends[0]),
			     s->n_backends, d, touch);
}

static int count_rec(struct xgw_steer_rules *r, const struct srec *v, int d)
{
	return count_service(r, &v->vip, v->port, v->proto, v->n_be ? &v->be[0].ip : NULL,
			     v->n_be ? &v->be[0].port : NULL, sizeof(v->be[0]), v->n_be, d, true);
}

/* The steer entries and, with tunnel rules, the tunnel settings as at the
 * reset (whether there are tunnel backends at all: counted by the pass). */
static bool other_inputs_same(const struct xgw_steer_rules *r, const struct xgw_config *cfg)
{
	if (r->n_steer != cfg->n_steer ||
	    (cfg->n_steer && memcmp(r->steer, cfg->steer, cfg->n_steer * sizeof(*cfg->steer))))
		return false;
	return !r->tun || (xgw_addr_eq(&r->tunnel.local_ip, &cfg->tunnel.local_ip) &&
			   r->tunnel.vxlan_port == cfg->tunnel.vxlan_port &&
			   r->tunnel.geneve_port == cfg->tunnel.geneve_port);
}

int xgw_steer_rules_reset(struct xgw_steer_rules *r, const struct xgw_config *cfg)
{
	struct xgw_steer_rule tr;
	struct rkey k;
	size_t need = 1024;
	int rc = 0;

	xgw_steer_rules_invalidate(r);
	while (need < 2 * (size_t)cfg->n_services + 2)
		need *= 2;
	if (rresize(r, need))
		goto nomem;
	r->cap_order = cfg->n_services + cfg->n_services / 8 + 16;
	r->order = malloc(r->cap_order * sizeof(*r->order));
	r->next = malloc(r->cap_order * sizeof(*r->next));
	if (!r->order || !r->next)
		goto nomem;
	r->epoch++;
	if (cfg->n_steer) {
		r->steer = malloc(cfg->n_steer * sizeof(*r->steer));
		if (!r->steer)
			goto nomem;
		memcpy(r->steer, cfg->steer, cfg->n_steer * sizeof(*r->steer));
		r->n_steer = cfg->n_steer;
	}
	r->tun = xgw_cfg_has_tunnels(cfg);
	r->tunnel = cfg->tunnel;
	r->n_tun = 0;
	for (unsigned i = 0; i < cfg->n_steer; i++) {
		struct kent *e;

		steer_entry_rule(&tr, &cfg->steer[i]);
		dst_key(&k, &tr);
		if (!(e = kget(r, &k)))
			goto nomem;
		e->other = 1;
	}
	for (unsigned t = 0; t < 2 && r->tun; t++) {
		struct kent *e;

		tunnel_rule(&tr, cfg, t);
		dst_key(&k, &tr);
		if (!(e = kget(r, &k)))
			goto nomem;
		e->other = 1;
	}
	for (unsigned i = 0; i < cfg->n_services; i++) {
		const struct xgw_service_cfg *s = &cfg->services[i];
		struct srec **slot;

		rc = count_cfg_service(r, s, 1, false);
		if (rc)
			goto fail;
		r->n_tun += xgw_service_n_tun(s);
		if ((r->rn + 1) * 2 > r->rcap && rresize(r, r->rcap * 2))
			goto nomem;
		slot = rfind(r, &s->vip, s->port, s->proto);
		if (*slot) /* two services with one key: no diff on them */
			continue;
		if (!(*slot = rec_new(s, r->epoch)))
			goto nomem;
		(*slot)->pos = r->n_order;
		r->order[r->n_order++] = *slot;
		r->rn++;
	}
	for (size_t i = 0; i < r->kcap; i++)
		if (r->keys[i].used)
			count_key(r, &r->keys[i].k, 1);
	r->valid = r->rn == cfg->n_services;
	r->src = cfg->services;
	return 0;
nomem:
	rc = -ENOMEM;
fail:
	xgw_steer_rules_invalidate(r);
	return rc;
}

static int delta_key(struct xgw_steer_delta *d, const struct rkey *k, bool add)
{
	if (k->src) {
		struct xgw_steer_src_rule s;

		memset(&s, 0, sizeof(s));
		memcpy(s.addr.w, k->w, sizeof(k->w));
		s.addr.family = k->family;
		s.proto = k->proto;
		s.sport = k->port;
		return add ? add_src(&d->src_add, &d->n_src_add, &d->cap_src_add, &s)
			   : add_src(&d->src_del, &d->n_src_del, &d->cap_src_del, &s);
	}
	struct xgw_steer_rule v;

	memset(&v, 0, sizeof(v));
	memcpy(v.dst.addr.w, k->w, sizeof(k->w));
	v.dst.addr.family = k->family;
	v.dst.len = k->len;
	v.proto = k->proto;
	v.dport = k->port;
	v.id = XGW_STEER_SVC_ID;
	return add ? add_rule(&d->add, &d->n_add, &d->cap_add, &v)
		   : add_rule(&d->del, &d->n_del, &d->cap_del, &v);
}

/* Whether s gives the rules ps gives, by the backends array's address. */
static bool same_cfg(const struct xgw_service_cfg *s, const struct xgw_service_cfg *ps)
{
	return s->backends == ps->backends && s->n_backends == ps->n_backends &&
	       s->port == ps->port && s->proto == ps->proto && xgw_addr_eq(&s->vip, &ps->vip);
}

/* The pass for a config whose changes are named (cfg->delta; order[i]
 * is the record of prev's services[i]): those services alone, their
 * records replaced in place.  *n_tun: cfg's tunnel backends. */
static int diff_named(struct xgw_steer_rules *r, const struct xgw_config *cfg, unsigned long *n_tun)
{
	const struct xgw_svc_delta *dl = cfg->delta;
	unsigned n_new = cfg->n_services - dl->n_prev;
	int rc;

	*n_tun = r->n_tun;
	for (unsigned k = 0; k < dl->n_idx + n_new; k++) {
		unsigned i = k < dl->n_idx ? dl->idx[k] : dl->n_prev + (k - dl->n_idx);
		const struct xgw_service_cfg *s = &cfg->services[i];
		unsigned st = xgw_service_n_tun(s);
		struct srec *o = i < dl->n_prev ? r->order[i] : NULL, *v;

		*n_tun += st;
		if (o) {
			/* Named services keep their keys: else the whole pass. */
			if (o->port != s->port || o->proto != s->proto ||
			    !xgw_addr_eq(&o->vip, &s->vip))
				return -EAGAIN;
			*n_tun -= o->n_tun;
			if (rec_same(o, s)) {
				o->n_tun = st;
				continue;
			}
			rc = count_rec(r, o, -1);
			if (rc)
				return rc;
			rremove(r, rfind(r, &o->vip, o->port, o->proto));
		} else if (*rfind(r, &s->vip, s->port, s->proto)) {
			return -EAGAIN; /* not a new key after all */
		}
		rc = count_cfg_service(r, s, 1, true);
		if (rc)
			return rc;
		if (!(v = rec_new(s, r->epoch)))
			return -ENOMEM;
		if ((rc = rinsert(r, v))) {
			free(v);
			return rc;
		}
		v->pos = i;
		r->order[i] = v;
	}
	return 0;
}

int xgw_steer_rules_diff(struct xgw_steer_rules *r, const struct xgw_config *cfg,
			 const struct xgw_config *prev, struct xgw_steer_delta *d)
{
	bool named;
	struct srec **gone = NULL;
	size_t n_gone = 0;
	unsigned long n_tun = 0;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	if (!r->valid || !other_inputs_same(r, cfg)) {
		xgw_steer_rules_invalidate(r);
		return -EAGAIN;
	}
	if (++r->epoch == 0)
		r->epoch = 1;
	r->n_touched = 0;
	/* prev is what r was made from, in its order: order[j] is the record
	 * of prev's services[j]. */
	if (prev && (r->src != prev->services || r->n_order != prev->n_services))
		prev = NULL;
	if (cfg->n_services > r->cap_order) {
		size_t cap = cfg->n_services + cfg->n_services / 8 + 16;
		void *a = realloc(r->order, cap * sizeof(*r->order));

		if (a)
			r->order = a;
		a = a ? realloc(r->next, cap * sizeof(*r->next)) : NULL;
		if (!a) {
			xgw_steer_rules_invalidate(r);
			return -ENOMEM;
		}
		r->next = a;
		r->cap_order = cap;
	}
	/* The services the writer named, when it did. */
	named = prev && xgw_svc_delta_usable(cfg, prev);
	if (named)
		rc = diff_named(r, cfg, &n_tun);
	/* Else the one pass over every service: those with the rules they
	 * gave last time cost a comparison (found where the last one matched
	 * ended, else by a probe).  Records at or after position j in the
	 * last order are all unmatched yet: j never moves back. */
	for (unsigned i = 0, j = 0; !named && i < cfg->n_services && !rc; i++) {
		const struct xgw_service_cfg *s = &cfg->services[i];
		struct srec **slot = NULL, *o = NULL, *v;
		unsigned st = 0;

		if (prev && j < r->n_order && same_cfg(s, &prev->services[j]) &&
		    r->order[j]->mark != r->epoch) {
			/* As prev has it: its record, nothing compared. */
			o = r->order[j++];
			o->mark = r->epoch;
			o->pos = i;
			r->next[i] = o;
			n_tun += o->n_tun;
			continue;
		}
		for (unsigned b = 0; b < s->n_backends; b++)
			st += s->backends[b].tun != XGW_TUN_NONE;
		n_tun += st;
		if (j < r->n_order) {
			struct srec *c = r->order[j];

			if (c->port == s->port && c->proto == s->proto &&
			    xgw_addr_eq(&c->vip, &s->vip)) {
				o = c;
				j++;
			}
		}
		if (!o) {
			slot = rfind(r, &s->vip, s->port, s->proto);
			o = *slot;
			if (o && o->mark != r->epoch && o->pos >= j)
				j = o->pos + 1;
		}
		if (o && o->mark == r->epoch) {
			rc = -EAGAIN; /* two services with one key */
			break;
		}
		if (o) {
			if (rec_same(o, s)) {
				o->mark = r->epoch;
				o->pos = i;
				o->n_tun = st; /* of this config's array */
				r->next[i] = o;
				continue;
			}
			rc = count_rec(r, o, -1);
			if (rc)
				break;
			rremove(r, slot ? slot : rfind(r, &o->vip, o->port, o->proto));
		}
		rc = count_cfg_service(r, s, 1, true);
		if (!rc && !(v = rec_new(s, r->epoch)))
			rc = -ENOMEM;
		if (!rc && (rc = rinsert(r, v)))
			free(v);
		if (!rc) {
			v->pos = i;
			r->next[i] = v;
		}
	}
	/* Tunnel rules come or go with the first or last tunnel backend. */
	if (!rc && (n_tun != 0) != r->tun)
		rc = -EAGAIN;
	/* Services gone: every record not marked (collected first, as a
	 * removal moves entries). */
	if (!rc && r->rn > cfg->n_services) {
		gone = malloc(r->rn * sizeof(*gone));
		if (!gone)
			rc = -ENOMEM;
		for (size_t i = 0; !rc && i < r->rcap; i++)
			if (r->recs[i] && r->recs[i]->mark != r->epoch)
				gone[n_gone++] = r->recs[i];
		for (size_t i = 0; i < n_gone && !rc; i++) {
			rc = count_rec(r, gone[i], -1);
			if (!rc)
				rremove(r, rfind(r, &gone[i]->vip, gone[i]->port, gone[i]->proto));
		}
		free(gone);
	}
	/* The keys whose presence changed. */
	for (unsigned i = 0; i < r->n_touched && !rc; i++) {
		struct kent *e = kfind(r->keys, r->kcap, &r->touched[i]);
		bool after = e->used && e->refs;

		if (!e->used)
			continue;
		if (after != (bool)e->before) {
			rc = delta_key(d, &e->k, after);
			count_key(r, &e->k, after ? 1 : -1);
		}
		if (!after)
			kremove(r, e);
	}
	if (rc) {
		xgw_steer_rules_invalidate(r);
		xgw_steer_delta_free(d);
		return rc == -ENOMEM ? -ENOMEM : -EAGAIN;
	}
	d->classes = classes_of(r);
	if (!named) {
		struct srec **t = r->order;

		r->order = r->next;
		r->next = t;
	}
	r->n_order = cfg->n_services;
	r->n_tun = n_tun;
	r->src = cfg->services;
	return 0;
}
