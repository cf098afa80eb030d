/* SPDX-License-Identifier: BSD-3-Clause */
#define XGW_LOG_COMP "steer"
#include "steer-bpf/steer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "common/log.h"
#include "steer-bpf/steer_shadow.h"
#include "steer.skel.h"

#define PROG_NAME "xgw_steer"

struct xgw_steer {
	struct steer_bpf *skel;
	struct xdp_program *prog;
	int ifindex;
	char ifname[IF_NAMESIZE];
	enum xdp_attach_mode mode;
	/* The program id the interface shows in our mode while we are
	 * attached (ours, or libxdp's dispatcher in front of it). */
	uint32_t attached_id;
	int xsks_fd, rules_fd, src_fd, classes_fd, stats_fd;
	/* The rule maps as last written (steer_shadow.h), so that a new rule
	 * set writes and deletes only the keys that changed. */
	struct xgw_shadow dst_shadow, src_shadow;
	/* The rule set of the last call that succeeded, as given: a write
	 * that changes no steering input (a weight, a policy, a route) skips
	 * the sort of every rule, which at 10,000 services x 4 backends is
	 * two thirds of a config write. */
	struct xgw_steer_rule *last_rules;
	struct xgw_steer_src_rule *last_src;
	unsigned n_last_rules, n_last_src;
};

/* The kernel datapath's maps, shared by every port's program as the rule
 * maps are (kdp_maps.h). */
static const char *const kdp_maps[] = {
    "kdp_cfg",	   "kdp_svcs",	 "kdp_backends",    "kdp_ring",
    "kdp_ct4",	   "kdp_ct6",	 "kdp_policy",	    "kdp_tx_ports",
    "kdp_drops",   "kdp_cnt",	 "kdp_policy_hits", "kdp_tun_enc",
    "kdp_tun_dec", "kdp_be_ctr", "kdp_svc_ctr",	    "kdp_trace_ring"};

static bool force_attach;

void xgw_steer_set_force(bool force)
{
	force_attach = force;
}

struct bpf_object *xgw_steer_obj(struct xgw_steer *s)
{
	return s->skel->obj;
}

static bool is_xgw_prog(struct xdp_program *p)
{
	const char *name = xdp_program__name(p);

	return name && !strcmp(name, PROG_NAME);
}

int xgw_steer_remove_stale(int ifindex)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int removed = 0, err;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!mp || libxdp_get_error(mp))
		return 0; /* nothing attached */
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && is_xgw_prog(p)) {
			err = xdp_multiprog__detach(mp);
			if (err)
				goto out_err;
			removed++;
		}
		goto out;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (!is_xgw_prog(p))
			continue;
		err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
		if (err)
			goto out_err;
		removed++;
	}
out:
	xdp_multiprog__close(mp);
	return removed;
out_err:
	xdp_multiprog__close(mp);
	return err;
}

/* Another program on the interface (not xgw's, those are gone by now):
 * refused, so that xgwd never silently replaces what someone else loaded,
 * unless forced (xgwd --force-attach), which detaches it. */
static int check_foreign(const char *ifname, int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	const char *name = "?";
	int err = 0;

	if (!mp || libxdp_get_error(mp))
		return 0;
	/* Behind a libxdp dispatcher, programs coexist: nothing is replaced. */
	if (!xdp_multiprog__is_legacy(mp))
		goto out;
	p = xdp_multiprog__main_prog(mp);
	if (!p)
		goto out;
	if (xdp_program__name(p))
		name = xdp_program__name(p);
	if (!force_attach) {
		pr_err("%s: an XDP program xgw did not load is attached (%s); refusing to "
		       "replace it (detach it, or start xgwd with --force-attach)",
		       ifname, name);
		err = -EBUSY;
		goto out;
	}
	pr_warn("%s: detaching XDP program %s (--force-attach)", ifname, name);
	err = xdp_multiprog__detach(mp);
out:
	xdp_multiprog__close(mp);
	return err;
}

/* The id of the program attached to ifindex in mode, 0 for none. */
static int attached_id(int ifindex, enum xdp_attach_mode mode, uint32_t *id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, o);
	int err = bpf_xdp_query(ifindex, 0, &o);

	if (err)
		return err;
	*id = mode == XDP_MODE_SKB ? o.skb_prog_id : o.drv_prog_id;
	return 0;
}

static int try_attach(struct xgw_steer *s, enum xdp_attach_mode mode)
{
	int err = xdp_program__attach(s->prog, s->ifindex, mode, 0);

	if (!err) {
		s->mode = mode;
		err = attached_id(s->ifindex, mode, &s->attached_id);
	}
	return err;
}

int xgw_steer_open(struct xgw_steer **out, const char *ifname, enum xgw_steer_attach want,
		   struct xgw_steer *share)
{
	struct xgw_steer *s;
	char errbuf[128];
	int err, stale;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	xgw_shadow_init(&s->dst_shadow, sizeof(struct xgw_steer_key));
	xgw_shadow_init(&s->src_shadow, sizeof(struct xgw_steer_src_key));
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	s->ifindex = (int)if_nametoindex(ifname);
	if (!s->ifindex) {
		err = -errno;
		pr_err("%s: no such interface", ifname);
		goto err_free;
	}
	stale = xgw_steer_remove_stale(s->ifindex);
	if (stale > 0)
		pr_warn("%s: removed %d stale xgw program(s) left by a previous run", ifname,
			stale);

	err = check_foreign(ifname, s->ifindex);
	if (err)
		goto err_free;

	s->skel = steer_bpf__open();
	if (!s->skel) {
		err = -errno;
		pr_err("%s: cannot open steering program: %s", ifname, strerror(-err));
		goto err_free;
	}
	if (share) {
		err = bpf_map__reuse_fd(s->skel->maps.steer_rules, share->rules_fd);
		if (!err)
			err = bpf_map__reuse_fd(s->skel->maps.steer_src, share->src_fd);
		if (!err)
			err = bpf_map__reuse_fd(s->skel->maps.steer_classes, share->classes_fd);
		for (unsigned i = 0; !err && i < sizeof(kdp_maps) / sizeof(kdp_maps[0]); i++) {
			struct bpf_map *m = bpf_object__find_map_by_name(s->skel->obj, kdp_maps[i]);
			int fd = bpf_object__find_map_fd_by_name(share->skel->obj, kdp_maps[i]);

			err = m && fd >= 0 ? bpf_map__reuse_fd(m, fd) : -ENOENT;
		}
		if (err) {
			pr_err("%s: cannot share rule maps: %s", ifname, strerror(-err));
			goto err_skel;
		}
	}
	s->prog = xdp_program__from_bpf_obj(s->skel->obj, "xdp");
	err = (int)libxdp_get_error(s->prog);
	if (err) {
		s->prog = NULL;
		libxdp_strerror(err, errbuf, sizeof(errbuf));
		pr_err("%s: cannot create xdp program: %s", ifname, errbuf);
		goto err_skel;
	}

	err = -EINVAL;
	if (want == XGW_ATTACH_NATIVE || want == XGW_ATTACH_AUTO)
		err = try_attach(s, XDP_MODE_NATIVE);
	if (err && want == XGW_ATTACH_AUTO) {
		libxdp_strerror(err, errbuf, sizeof(errbuf));
		pr_info("%s: native XDP not available (%s), using generic (SKB) mode", ifname,
			errbuf);
	}
	if (err && (want == XGW_ATTACH_SKB || want == XGW_ATTACH_AUTO))
		err = try_attach(s, XDP_MODE_SKB);
	if (err) {
		libxdp_strerror(err, errbuf, sizeof(errbuf));
		pr_err("%s: cannot attach XDP program: %s", ifname, errbuf);
		goto err_prog;
	}
	s->xsks_fd = bpf_map__fd(s->skel->maps.xsks);
	s->rules_fd = bpf_map__fd(s->skel->maps.steer_rules);
	s->src_fd = bpf_map__fd(s->skel->maps.steer_src);
	s->classes_fd = bpf_map__fd(s->skel->maps.steer_classes);
	s->stats_fd = bpf_map__fd(s->skel->maps.steer_stats);
	pr_info("%s: steering program attached in %s mode", ifname, xgw_steer_mode(s));
	*out = s;
	return 0;

err_prog:
	xdp_program__close(s->prog);
err_skel:
	steer_bpf__destroy(s->skel);
err_free:
	free(s);
	return err;
}

const char *xgw_steer_mode(const struct xgw_steer *s)
{
	switch (s->mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "unspec";
	}
}

int xgw_steer_bind_xsk(struct xgw_steer *s, uint32_t queue, int xsk_fd)
{
	if (bpf_map_update_elem(s->xsks_fd, &queue, &xsk_fd, BPF_ANY))
		return -errno;
	return 0;
}

int xgw_steer_unbind_xsk(struct xgw_steer *s, uint32_t queue)
{
	if (bpf_map_delete_elem(s->xsks_fd, &queue) && errno != ENOENT)
		return -errno;
	return 0;
}

static void rule_key(struct xgw_steer_key *k, const struct xgw_steer_rule *r)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = XGW_STEER_KEY_FIXED_BITS + r->dst.len;
	k->family = r->dst.addr.family;
	k->proto = r->proto;
	k->dport = htons(r->dport);
	memcpy(k->addr, r->dst.addr.b, 16);
}

static uint32_t rule_class(const struct xgw_steer_rule *r)
{
	if (r->proto && r->dport)
		return XGW_STEER_CLASS_PROTO_PORT;
	if (r->proto)
		return XGW_STEER_CLASS_PROTO;
	return XGW_STEER_CLASS_ANY;
}

static void src_key(struct xgw_steer_src_key *k, const struct xgw_steer_src_rule *r)
{
	memset(k, 0, sizeof(*k));
	k->family = r->addr.family;
	k->proto = r->proto;
	k->sport = htons(r->sport);
	memcpy(k->addr, r->addr.b, 16);
}

static int set_rules(struct xgw_steer *s, const struct xgw_steer_rule *rules, unsigned n,
		     const struct xgw_steer_src_rule *src, unsigned n_src);

/* Field by field: the structs have padding that callers need not clear. */
static bool same_rules(const struct xgw_steer *s, const struct xgw_steer_rule *rules, unsigned n,
		       const struct xgw_steer_src_rule *src, unsigned n_src)
{
	if (!s->dst_shadow.valid || !s->src_shadow.valid || n != s->n_last_rules ||
	    n_src != s->n_last_src)
		return false;
	for (unsigned i = 0; i < n; i++) {
		const struct xgw_steer_rule *a = &rules[i], *b = &s->last_rules[i];

		if (a->dst.len != b->dst.len || !xgw_addr_eq(&a->dst.addr, &b->dst.addr) ||
		    a->proto != b->proto || a->dport != b->dport || a->id != b->id)
			return false;
	}
	for (unsigned i = 0; i < n_src; i++) {
		const struct xgw_steer_src_rule *a = &src[i], *b = &s->last_src[i];

		if (!xgw_addr_eq(&a->addr, &b->addr) || a->proto != b->proto ||
		    a->sport != b->sport)
			return false;
	}
	return true;
}

/* Remember what was written; on no memory, forget (the next call then
 * does the whole work). */
static void keep_rules(struct xgw_steer *s, const struct xgw_steer_rule *rules, unsigned n,
		       const struct xgw_steer_src_rule *src, unsigned n_src)
{
	free(s->last_rules);
	free(s->last_src);
	s->last_rules = malloc((n ? n : 1) * sizeof(*rules));
	s->last_src = malloc((n_src ? n_src : 1) * sizeof(*src));
	if (!s->last_rules || !s->last_src) {
		free(s->last_rules);
		free(s->last_src);
		s->last_rules = NULL;
		s->last_src = NULL;
		xgw_shadow_invalidate(&s->dst_shadow);
		xgw_shadow_invalidate(&s->src_shadow);
		return;
	}
	if (n)
		memcpy(s->last_rules, rules, n * sizeof(*rules));
	if (n_src)
		memcpy(s->last_src, src, n_src * sizeof(*src));
	s->n_last_rules = n;
	s->n_last_src = n_src;
}

int xgw_steer_set_rules(struct xgw_steer *s, const struct xgw_steer_rule *rules, unsigned n,
			const struct xgw_steer_src_rule *src, unsigned n_src)
{
	int err;

	if (same_rules(s, rules, n, src, n_src))
		return 0;
	err = set_rules(s, rules, n, src, n_src);
	if (!err)
		keep_rules(s, rules, n, src, n_src);
	return err;
}

static int set_rules(struct xgw_steer *s, const struct xgw_steer_rule *rules, unsigned n,
		     const struct xgw_steer_src_rule *src, unsigned n_src)
{
	uint32_t classes = n_src ? XGW_STEER_CLASS_SRC : 0, old_classes = 0, zero = 0;
	int err = 0, rc;

	for (unsigned i = 0; i < n; i++) {
		if (rules[i].dport && rules[i].proto != IPPROTO_TCP &&
		    rules[i].proto != IPPROTO_UDP)
			return -EINVAL; /* a port needs TCP or UDP; nothing written */
		classes |= rule_class(&rules[i]);
	}
	err = xgw_shadow_begin(&s->dst_shadow, n);
	if (!err)
		err = xgw_shadow_begin(&s->src_shadow, n_src);
	/* In reverse: the last of equal keys wins (xgw_shadow_write). */
	for (unsigned i = n; i-- > 0 && !err;) {
		struct xgw_steer_key k;

		rule_key(&k, &rules[i]);
		err = xgw_shadow_write(&s->dst_shadow, s->rules_fd, &k, rules[i].id);
	}
	for (unsigned i = n_src; i-- > 0 && !err;) {
		struct xgw_steer_src_key k;

		src_key(&k, &src[i]);
		err = xgw_shadow_write(&s->src_shadow, s->src_fd, &k, 0); /* no id */
	}
	if (err)
		goto fail;
	/* Widen the classes first so that new rules are visible at once. */
	bpf_map_lookup_elem(s->classes_fd, &zero, &old_classes);
	old_classes |= classes;
	if (bpf_map_update_elem(s->classes_fd, &zero, &old_classes, BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	err = xgw_shadow_delete_stale(&s->dst_shadow, s->rules_fd);
	rc = xgw_shadow_delete_stale(&s->src_shadow, s->src_fd);
	err = err ? err : rc;
	if (bpf_map_update_elem(s->classes_fd, &zero, &classes, BPF_ANY) && !err)
		err = -errno;
	return err;
fail:
	/* The maps are now somewhere between the two rule sets: the next
	 * call writes every key and walks the maps for stale ones. */
	xgw_shadow_invalidate(&s->dst_shadow);
	xgw_shadow_invalidate(&s->src_shadow);
	return err;
}

int xgw_steer_update_rules(struct xgw_steer *s, const struct xgw_steer_rule *add, unsigned n_add,
			   const struct xgw_steer_rule *del, unsigned n_del,
			   const struct xgw_steer_src_rule *src_add, unsigned n_src_add,
			   const struct xgw_steer_src_rule *src_del, unsigned n_src_del,
			   uint32_t classes)
{
	uint32_t zero = 0, cur = 0;
	int err = 0;

	if (!s->dst_shadow.valid || !s->src_shadow.valid)
		return -ESTALE;
	for (unsigned i = 0; i < n_add; i++)
		if (add[i].dport && add[i].proto != IPPROTO_TCP && add[i].proto != IPPROTO_UDP)
			return -EINVAL; /* a port needs TCP or UDP; nothing written */
	/* The rule list last given is no longer what the maps hold. */
	free(s->last_rules);
	free(s->last_src);
	s->last_rules = NULL;
	s->last_src = NULL;
	s->n_last_rules = s->n_last_src = UINT_MAX;
	for (unsigned i = 0; i < n_add && !err; i++) {
		struct xgw_steer_key k;

		rule_key(&k, &add[i]);
		err = xgw_shadow_put(&s->dst_shadow, s->rules_fd, &k, add[i].id);
	}
	for (unsigned i = 0; i < n_src_add && !err; i++) {
		struct xgw_steer_src_key k;

		src_key(&k, &src_add[i]);
		err = xgw_shadow_put(&s->src_shadow, s->src_fd, &k, 0);
	}
	if (err)
		goto fail;
	/* Widen the classes first so that new rules are visible at once. */
	bpf_map_lookup_elem(s->classes_fd, &zero, &cur);
	if ((cur | classes) != cur) {
		cur |= classes;
		if (bpf_map_update_elem(s->classes_fd, &zero, &cur, BPF_ANY)) {
			err = -errno;
			goto fail;
		}
	}
	for (unsigned i = 0; i < n_del && !err; i++) {
		struct xgw_steer_key k;

		rule_key(&k, &del[i]);
		err = xgw_shadow_del(&s->dst_shadow, s->rules_fd, &k);
	}
	for (unsigned i = 0; i < n_src_del && !err; i++) {
		struct xgw_steer_src_key k;

		src_key(&k, &src_del[i]);
		err = xgw_shadow_del(&s->src_shadow, s->src_fd, &k);
	}
	if (err)
		goto fail;
	if (cur != classes && bpf_map_update_elem(s->classes_fd, &zero, &classes, BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	xgw_shadow_invalidate(&s->dst_shadow);
	xgw_shadow_invalidate(&s->src_shadow);
	return err;
}

int xgw_bpf_percpu_sum(int fd, uint32_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

int xgw_bpf_percpu_sum_vec(int fd, uint32_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t zero = 0;
	uint64_t *vals;
	int rc = 0;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu * n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(out, 0, n * sizeof(*out));
	if (bpf_map_lookup_elem(fd, &zero, vals))
		rc = -errno;
	for (int c = 0; !rc && c < ncpu; c++)
		for (uint32_t i = 0; i < n; i++)
			out[i] += vals[(size_t)c * n + i];
	free(vals);
	return rc;
}

int xgw_steer_counters(struct xgw_steer *s, uint64_t *out)
{
	return xgw_bpf_percpu_sum(s->stats_fd, XGW_STEER_CNT__MAX, out);
}

enum xgw_steer_state xgw_steer_state(struct xgw_steer *s, uint32_t *id)
{
	*id = 0;
	if (attached_id(s->ifindex, s->mode, id))
		return XGW_STEER_UNKNOWN;
	if (*id == s->attached_id)
		return XGW_STEER_ATTACHED;
	return *id ? XGW_STEER_FOREIGN : XGW_STEER_MISSING;
}

int xgw_steer_reattach(struct xgw_steer *s)
{
	int err;

	/* Attached on its own (no dispatcher, as on kernels where libxdp's
	 * dispatcher cannot load): put the same loaded program back, its maps
	 * (rules, sockets) untouched.  UPDATE_IF_NOEXIST: if someone attached
	 * a program in the meantime, theirs stays. */
	if (s->attached_id == xdp_program__id(s->prog)) {
		uint32_t flags =
		    XDP_FLAGS_UPDATE_IF_NOEXIST |
		    (s->mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);

		err = bpf_xdp_attach(s->ifindex, xdp_program__fd(s->prog), flags, NULL);
		if (err)
			return err;
		return attached_id(s->ifindex, s->mode, &s->attached_id);
	}
	/* Behind a dispatcher: let libxdp build a new one. */
	return try_attach(s, s->mode);
}

void xgw_steer_close(struct xgw_steer *s)
{
	int err;

	if (!s)
		return;
	err = xdp_program__detach(s->prog, s->ifindex, s->mode, 0);
	if (err)
		pr_warn("%s: detach failed: %d", s->ifname, err);
	else
		pr_info("%s: steering program detached", s->ifname);
	xdp_program__close(s->prog);
	steer_bpf__destroy(s->skel);
	xgw_shadow_free(&s->dst_shadow);
	xgw_shadow_free(&s->src_shadow);
	free(s->last_rules);
	free(s->last_src);
	free(s);
}
