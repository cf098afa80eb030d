/* SPDX-License-Identifier: BSD-3-Clause */
#define XGW_LOG_COMP "kdp"
#include "pipeline/kdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "common/drop.h"
#include "common/log.h"
#include "lb/conntrack.h"
#include "lb/nat.h"
#include "pipeline/snapshot.h"
#include "pipeline/svc_stats.h"
#include "steer-bpf/kdp_maps.h"
#include "steer-bpf/steer.h"
#include "tunnel/tunnel.h"
#include "steer-bpf/steer_maps.h"

/* The XDP program's counter arrays are indexed by xgwd's counter slots. */
_Static_assert(XGW_KDP_BE_SLOTS == XGW_BE_SLOTS && XGW_KDP_SVC_SLOTS == XGW_SVC_SLOTS,
	       "kdp_be_ctr and kdp_svc_ctr hold every counter slot");
/* SNAT never takes a health check's source port (both datapaths). */
_Static_assert(XGW_NAT_PORT_MAX < XGW_CHECK_PORT_MIN, "SNAT ports below the check ports");

static const char *const cnt_names[] = {
#define _(n, s) s,
    XGW_FOREACH_KDP_CNT(_)
#undef _
};

/* One kernel service's block: which service holds it, its backends'
 * stable positions (so that removing a backend rewrites only the slots
 * that were its own) and the ring as last pushed, to diff against. */
struct kdp_block {
	bool used, seen;
	struct xgw_addr vip;
	uint16_t port; /* network order */
	uint8_t proto;
	struct {
		struct xgw_addr ip;
		uint16_t port;
		bool used;
	} pos[XGW_KDP_MAX_BE];
	uint32_t m;
	uint32_t *ring; /* m entries: positions */
};

/* The conntrack maps, one per family (kern_maps.h): k->ct_fd[CT4] holds
 * the IPv4 connections under the 16-byte key, k->ct_fd[CT6] the IPv6 ones
 * under the program's full key, which is what every reader here sees. */
enum { CT4, CT6 };

struct xgw_kdp {
	int cfg_fd, svcs_fd, be_fd, ring_fd, ct_fd[2], pol_fd, hits_fd, tx_fd, drops_fd, cnt_fd;
	int tun_enc_fd, tun_dec_fd, be_ctr_fd, svc_ctr_fd, trace_fd;
	/* Trace records (kdp_trace_ring) and whether the program is to make
	 * them (XGW_KDP_F_TRACE, kept by every sync); control thread only. */
	struct ring_buffer *trace_rb;
	xgw_kdp_trace_fn trace_fn;
	void *trace_ctx;
	bool trace_on;
	bool enabled; /* sticky: connections may outlive the services */
	/* kdp_cfg's gen as last written: bumped after every pass over
	 * kdp_svcs (control thread only). */
	uint32_t gen;
	/* The snapshot policy set (xgw_policy_set's id) kdp_policy holds,
	 * 0 = none yet: a write that keeps the rules rewrites neither the
	 * rules nor the hit counters (control thread only). */
	uint64_t pol_id;
	/* Counter slots a kernel service or backend ever had: only these are
	 * read back (one syscall each), and they stay set, since a service
	 * that left the kernel datapath keeps the counts it made there.  Set
	 * by the control thread, read by the stats readers (the control
	 * socket's and the metrics' threads): atomic bytes. */
	uint8_t be_used[XGW_KDP_BE_SLOTS / 8], svc_used[XGW_KDP_SVC_SLOTS / 8];
	/* Live kernel connections by backend slot, from the last walk of the
	 * conntrack map (xgw_kdp_ct_count), and when it was made; under
	 * active_lock, as two readers may ask at once. */
	pthread_mutex_t active_lock;
	uint32_t *active;
	uint64_t active_at;
	int ncpu;
	struct kdp_block blk[XGW_KDP_MAX_SVCS];
};

/* ---- the program's clock: jiffies ---------------------------------------- */

/* The kernel's jiffies, read by a program of ten instructions that
 * writes bpf_jiffies64() into the packet BPF_PROG_RUN hands it (it comes
 * back in data_out; the return value is only 32 bits).  A tc program, not
 * XDP: an XDP test run swaps the program into the XDP dispatcher and out
 * again, each with synchronize_rcu, milliseconds on a loaded machine,
 * where a tc one takes microseconds.  Raw instructions, not a skeleton:
 * nothing to build or load but this. */
#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
static int jiffies_prog_load(void)
{
	const struct bpf_insn insns[] = {
	    INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0), /* r6 = ctx */
	    INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_jiffies64),
	    INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct __sk_buff, data),
		 0),
	    INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_6,
		 offsetof(struct __sk_buff, data_end), 0),
	    INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_2, 0, 0),
	    INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, 8),
	    INSN(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_1, BPF_REG_3, 1, 0),  /* 8 bytes there? */
	    INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_2, BPF_REG_0, 0, 0), /* *data = jiffies */
	    INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),	  /* TC_ACT_OK */
	    INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "xgw_jiffies", "Dual BSD/GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}
#undef INSN

static struct {
	pthread_once_t once;
	int fd;
	unsigned hz;
} kclock = {PTHREAD_ONCE_INIT, -1, 0};

static uint64_t jiffies_read(int fd)
{
	uint64_t in[8] = {0}, out[8] = {0}; /* at least an Ethernet header */
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = sizeof(in),
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &o) || o.data_size_out < 8)
		return 0;
	return out[0];
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait for jiffies to step (read back to back, ~1 us each) and return the
 * new value, *t its CLOCK_MONOTONIC time; 0 if it did not step in 100 ms. */
static uint64_t jiffies_edge(int fd, uint64_t *t)
{
	uint64_t j0 = jiffies_read(fd), j, start = clock_ns(CLOCK_MONOTONIC);

	do {
		j = jiffies_read(fd);
		*t = clock_ns(CLOCK_MONOTONIC);
	} while (j == j0 && *t - start < 100000000ull);
	return j != j0 ? j : 0;
}

/* HZ is no kernel interface (CLK_TCK is USER_HZ): counted against
 * CLOCK_MONOTONIC between two steps of jiffies 20 ms or more apart, so the
 * count is exact and only the steps' sampling (a few us) errs, then
 * snapped to the nearest CONFIG_HZ (a jiffy is 1/HZ s exactly, on average,
 * even where ticks are late: tick_do_update_jiffies64 catches up). */
static void kclock_init(void)
{
	static const unsigned hzs[] = {100, 250, 300, 1000};
	const struct timespec gap = {0, 20000000};
	uint64_t t0, t1, j0, j1;
	double hz, best = 0;

	kclock.fd = jiffies_prog_load();
	if (kclock.fd < 0) {
		pr_err("cannot load the jiffies reader: %s", strerror(errno));
		return;
	}
	j0 = jiffies_edge(kclock.fd, &t0);
	nanosleep(&gap, NULL);
	j1 = jiffies_edge(kclock.fd, &t1);
	if (!j0 || !j1 || j1 <= j0 || t1 <= t0) {
		pr_err("cannot measure HZ: jiffies did not advance");
		return;
	}
	hz = (double)(j1 - j0) * 1e9 / (double)(t1 - t0);
	for (unsigned i = 0; i < sizeof(hzs) / sizeof(hzs[0]); i++) {
		double d = hz > hzs[i] ? hz - hzs[i] : hzs[i] - hz;

		if (!kclock.hz || d < best) {
			kclock.hz = hzs[i];
			best = d;
		}
	}
	if (best > 0.1 * kclock.hz)
		pr_warn("HZ measured %.1f, taken as %u", hz, kclock.hz);
	else
		pr_debug("HZ %u (measured %.1f)", kclock.hz, hz);
}

unsigned xgw_kdp_hz(void)
{
	pthread_once(&kclock.once, kclock_init);
	return kclock.hz;
}

uint64_t xgw_kdp_jiffies(void)
{
	return xgw_kdp_hz() ? jiffies_read(kclock.fd) : 0;
}

uint64_t xgw_kdp_ns_to_jiffies(uint64_t ns)
{
	uint64_t hz = xgw_kdp_hz();

	/* rounded up (a timeout never shorter than asked), without the
	 * overflow of ns * hz for long timeouts */
	return ns / 1000000000ull * hz + (ns % 1000000000ull * hz + 999999999ull) / 1000000000ull;
}

/* ct's timeout (ns) in the program's clock, as kdp_cfg holds it. */
static uint64_t timeout_j(const struct xgw_ct_table *ct, uint8_t proto, enum xgw_ct_state s)
{
	return xgw_kdp_ns_to_jiffies(xgw_ct_timeout(ct, proto, s));
}

static int check(const struct xgw_config *cfg, const unsigned *idx, unsigned n_idx, char *err,
		 size_t errlen)
{
	unsigned n = 0, n_tun = 0;
	char k[XGW_KEY_STRLEN];

	for (unsigned x = 0; x < (idx ? n_idx : cfg->n_services); x++) {
		const struct xgw_service_cfg *s = &cfg->services[idx ? idx[x] : x];
		const char *why = NULL;

		if (s->datapath != XGW_DP_KERNEL)
			continue;
		n++;
		if (s->algo != XGW_ALGO_MAGLEV)
			why = "the kernel datapath balances with maglev only";
		else if (xgw_service_maglev_size(s, cfg->maglev_size) > XGW_KDP_RING_STRIDE)
			why =
			    "a Maglev table above 65537 slots (maglev_size, lb.maglev_size) is not "
			    "supported by the kernel datapath";
		else if (s->n_backends >= XGW_KDP_MAX_BE)
			why = "too many backends for the kernel datapath (at most 255)";
		else if (n > XGW_KDP_MAX_SVCS)
			why = "too many kernel-datapath services (at most 32)";
		else if (cfg->n_policies > XGW_KDP_MAX_POLICIES)
			why = "more than 64 policy rules: the kernel datapath scans at most 64";
		for (unsigned b = 0; !why && b < s->n_backends; b++) {
			n_tun += s->backends[b].tun != XGW_TUN_NONE;
			if (s->backends[b].ip.family != s->vip.family)
				why = "a backend of another address family than the VIP";
			else if (n_tun > XGW_KDP_MAX_TUN)
				why = "too many tunnel backends for the kernel datapath (at most "
				      "512)";
		}
		if (why) {
			xgw_service_key_str(&s->vip, s->port, s->proto, k, sizeof(k));
			snprintf(err, errlen, "service %s: datapath kernel: %s (use datapath user)",
				 k, why);
			return -EINVAL;
		}
	}
	return 0;
}

static int map_fd(struct bpf_object *obj, const char *name, int *err)
{
	int fd = bpf_object__find_map_fd_by_name(obj, name);

	if (fd < 0 && !*err)
		*err = -ENOENT;
	return fd;
}

static int trace_cb(void *ctx, void *data, size_t size)
{
	struct xgw_kdp *k = ctx;

	if (k->trace_fn && size >= sizeof(struct xgw_kdp_trace))
		k->trace_fn(k->trace_ctx, data);
	return 0;
}

struct xgw_kdp *xgw_kdp_open(struct bpf_object *obj, const int *ifindex, unsigned n_ports, int *err)
{
	struct xgw_kdp *k = calloc(1, sizeof(*k));

	*err = 0;
	if (!k) {
		*err = -ENOMEM;
		return NULL;
	}
	k->cfg_fd = map_fd(obj, "kdp_cfg", err);
	k->svcs_fd = map_fd(obj, "kdp_svcs", err);
	k->be_fd = map_fd(obj, "kdp_backends", err);
	k->ring_fd = map_fd(obj, "kdp_ring", err);
	k->ct_fd[CT4] = map_fd(obj, "kdp_ct4", err);
	k->ct_fd[CT6] = map_fd(obj, "kdp_ct6", err);
	k->pol_fd = map_fd(obj, "kdp_policy", err);
	k->hits_fd = map_fd(obj, "kdp_policy_hits", err);
	k->tx_fd = map_fd(obj, "kdp_tx_ports", err);
	k->drops_fd = map_fd(obj, "kdp_drops", err);
	k->cnt_fd = map_fd(obj, "kdp_cnt", err);
	k->tun_enc_fd = map_fd(obj, "kdp_tun_enc", err);
	k->tun_dec_fd = map_fd(obj, "kdp_tun_dec", err);
	k->be_ctr_fd = map_fd(obj, "kdp_be_ctr", err);
	k->svc_ctr_fd = map_fd(obj, "kdp_svc_ctr", err);
	k->trace_fd = map_fd(obj, "kdp_trace_ring", err);
	if (!*err) {
		k->trace_rb = ring_buffer__new(k->trace_fd, trace_cb, k, NULL);
		if (!k->trace_rb)
			*err = -errno;
	}
	if (!*err && !xgw_kdp_hz())
		*err = -ENOTSUP; /* no clock to time connections out by */
	k->ncpu = libbpf_num_possible_cpus();
	pthread_mutex_init(&k->active_lock, NULL);
	k->active = calloc(XGW_KDP_BE_SLOTS, sizeof(*k->active));
	if (!*err && (k->ncpu <= 0 || !k->active))
		*err = -ENOMEM;
	for (unsigned p = 0; !*err && p < n_ports; p++) {
		uint32_t key = (uint32_t)ifindex[p];
		struct bpf_devmap_val v = {.ifindex = key};

		if (bpf_map_update_elem(k->tx_fd, &key, &v, BPF_ANY))
			*err = -errno;
	}
	if (*err) {
		ring_buffer__free(k->trace_rb);
		free(k->active);
		pthread_mutex_destroy(&k->active_lock);
		free(k);
		return NULL;
	}
	return k;
}

int xgw_kdp_check(const struct xgw_config *cfg, char *err, size_t errlen)
{
	return check(cfg, NULL, 0, err, errlen);
}

int xgw_kdp_check_some(const struct xgw_config *cfg, const unsigned *idx, unsigned n_idx, char *err,
		       size_t errlen)
{
	static const unsigned none;

	return check(cfg, idx ? idx : &none, n_idx, err, errlen);
}

void xgw_kdp_close(struct xgw_kdp *k)
{
	if (!k)
		return;
	for (unsigned i = 0; i < XGW_KDP_MAX_SVCS; i++)
		free(k->blk[i].ring);
	ring_buffer__free(k->trace_rb);
	free(k->active);
	pthread_mutex_destroy(&k->active_lock);
	free(k);
}

static void svc_key(struct xgw_kdp_svc_key *key, const struct xgw_addr *vip, uint16_t port,
		    uint8_t proto)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->addr, vip->b, 16);
	key->port = port;
	key->proto = proto;
	key->family = vip->family;
}

static void mark_used(uint8_t *bits, uint32_t slot)
{
	__atomic_fetch_or(&bits[slot / 8], (uint8_t)(1u << (slot % 8)), __ATOMIC_RELAXED);
}

static struct kdp_block *block_for(struct xgw_kdp *k, const struct xgw_svc_rt *s, uint32_t *idx)
{
	struct kdp_block *free_blk = NULL;

	for (uint32_t i = 0; i < XGW_KDP_MAX_SVCS; i++) {
		struct kdp_block *b = &k->blk[i];
		if (b->used && xgw_addr_eq(&b->vip, &s->vip) && b->port == s->port &&
		    b->proto == s->proto) {
			*idx = i;
			return b;
		}
		if (!b->used && !free_blk) {
			free_blk = b;
			*idx = i;
		}
	}
	if (free_blk) {
		memset(free_blk->pos, 0, sizeof(free_blk->pos));
		free_blk->used = true;
		free_blk->vip = s->vip;
		free_blk->port = s->port;
		free_blk->proto = s->proto;
	}
	return free_blk;
}

/* Position of backend be in block b, allocated on first sight. */
static uint32_t be_pos(struct kdp_block *b, const struct xgw_be_rt *be, const bool *keep)
{
	uint32_t free_pos = 0;

	for (uint32_t p = 1; p < XGW_KDP_MAX_BE; p++) {
		if (b->pos[p].used && xgw_addr_eq(&b->pos[p].ip, &be->ip) &&
		    b->pos[p].port == be->port)
			return p;
		if (!b->pos[p].used && !keep[p] && !free_pos)
			free_pos = p;
	}
	if (free_pos) {
		b->pos[free_pos].used = true;
		b->pos[free_pos].ip = be->ip;
		b->pos[free_pos].port = be->port;
	}
	return free_pos;
}

/* Backends, then the ring slots that changed; the service entry only
 * after (by the caller), so a new service is visible with a full table. */
static int sync_block(struct xgw_kdp *k, uint32_t idx, const struct xgw_svc_rt *s)
{
	struct kdp_block *b = &k->blk[idx];
	uint32_t id2pos[XGW_KDP_MAX_BE] = {0}, m = s->maglev ? s->maglev->size : 0;
	bool live[XGW_KDP_MAX_BE] = {false};
	uint32_t *keys = NULL, *vals = NULL, n = 0;
	int rc = 0;

	/* Positions of backends gone are freed; those still present keep
	 * theirs, new ones take a free one. */
	for (uint32_t p = 1; p < XGW_KDP_MAX_BE; p++) {
		bool present = false;
		for (uint32_t id = 1; id <= s->n_backends && !present; id++)
			present = b->pos[p].used && xgw_addr_eq(&b->pos[p].ip, &s->be[id].ip) &&
				  b->pos[p].port == s->be[id].port;
		if (!present)
			b->pos[p].used = false;
	}
	for (uint32_t id = 1; id <= s->n_backends; id++) {
		struct xgw_kdp_be v = {0};
		uint32_t key;

		id2pos[id] = be_pos(b, &s->be[id], live);
		if (!id2pos[id])
			return -E2BIG;
		live[id2pos[id]] = true;
		memcpy(v.addr, s->be[id].ip.b, 16);
		v.port = s->be[id].port;
		v.family = s->be[id].ip.family;
		v.ctr = s->be[id].ctr < XGW_KDP_BE_SLOTS ? s->be[id].ctr : 0;
		mark_used(k->be_used, v.ctr);
		key = idx * XGW_KDP_MAX_BE + id2pos[id];
		if (bpf_map_update_elem(k->be_fd, &key, &v, BPF_ANY))
			return -errno;
	}
	if (b->m != m) {
		free(b->ring);
		b->ring = NULL;
		b->m = 0;
	}
	if (!b->ring) {
		b->ring = calloc(m ? m : 1, sizeof(uint32_t));
		if (!b->ring)
			return -ENOMEM;
		b->m = m;
		memset(b->ring, 0xff, m * sizeof(uint32_t)); /* all differ */
	}
	keys = malloc((m ? m : 1) * sizeof(uint32_t));
	vals = malloc((m ? m : 1) * sizeof(uint32_t));
	if (!keys || !vals) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < m; i++) {
		uint32_t id = s->maglev->slot[i];
		uint32_t pos = id && id <= s->n_backends ? id2pos[id] : 0;
		if (b->ring[i] == pos)
			continue;
		keys[n] = idx * XGW_KDP_RING_STRIDE + i;
		vals[n++] = pos;
	}
	if (n) {
		uint32_t count = n;
		if (bpf_map_update_batch(k->ring_fd, keys, vals, &count, NULL)) {
			/* Older kernels: one by one. */
			for (uint32_t i = 0; i < n && !rc; i++)
				if (bpf_map_update_elem(k->ring_fd, &keys[i], &vals[i], BPF_ANY))
					rc = -errno;
			if (rc)
				goto out;
		}
		for (uint32_t i = 0; i < n; i++)
			b->ring[keys[i] - idx * XGW_KDP_RING_STRIDE] = vals[i];
	}
	pr_debug("service block %u: %u backends, %u ring slots rewritten", idx, s->n_backends, n);
out:
	free(keys);
	free(vals);
	return rc;
}

/* A prefix's address and mask as four network-order words. */
static void prefix_words(const struct xgw_prefix *pf, __be32 *addr, __be32 *mask)
{
	for (int w = 0; w < 4; w++) {
		int bits = pf->addr.family ? (int)pf->len - 32 * w : 0;

		bits = bits < 0 ? 0 : bits > 32 ? 32 : bits;
		mask[w] = bits ? htonl(~0u << (32 - bits)) : 0;
		addr[w] = pf->addr.w[w] & mask[w];
	}
}

static void sync_policy(struct xgw_kdp *k, const struct xgw_config *cfg,
			const struct xgw_snapshot *snap, struct xgw_kdp_cfg *kc)
{
	uint32_t n = 0;

	kc->n_policies =
	    cfg->n_policies < XGW_KDP_MAX_POLICIES ? cfg->n_policies : XGW_KDP_MAX_POLICIES;
	kc->policy_default_allow = cfg->policy_default_allow;
	if (snap->pset && snap->pset->id == k->pol_id)
		return; /* the same rules: their hits count on */
	k->pol_id = snap->pset ? snap->pset->id : 0;
	for (unsigned i = 0; i < cfg->n_policies && n < XGW_KDP_MAX_POLICIES; i++) {
		const struct xgw_policy_cfg *r = &cfg->policies[i];
		struct xgw_kdp_policy v = {0};

		v.family = r->src.addr.family ? r->src.addr.family : r->dst.addr.family;
		prefix_words(&r->src, v.src, v.src_mask);
		prefix_words(&r->dst, v.dst, v.dst_mask);
		v.proto = r->proto;
		v.allow = r->allow;
		v.dport_lo = r->dport_lo;
		v.dport_hi = r->dport_hi;
		bpf_map_update_elem(k->pol_fd, &n, &v, BPF_ANY);
		n++;
	}
	/* A new rule set starts its hit counters at 0, as the workers'
	 * (the snapshot's new xgw_policy_set) do. */
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *zero = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*zero)) : NULL;
	for (uint32_t i = 0; zero && i <= XGW_KDP_MAX_POLICIES; i++)
		bpf_map_update_elem(k->hits_fd, &i, zero, BPF_ANY);
	free(zero);
}

void xgw_kdp_policy_hits_add(struct xgw_kdp *k, uint64_t *sum, unsigned n_rules)
{
	uint64_t h[XGW_KDP_MAX_POLICIES + 1];

	if (!k || n_rules > XGW_KDP_MAX_POLICIES ||
	    xgw_bpf_percpu_sum(k->hits_fd, XGW_KDP_MAX_POLICIES + 1, h))
		return;
	for (unsigned i = 0; i < n_rules; i++)
		sum[i] += h[i];
	sum[n_rules] += h[XGW_KDP_MAX_POLICIES];
}

/* Delete the keys of map fd (key_size bytes each) that are not among the
 * n in want (at most max keys are looked at). */
static void remove_stale(int fd, const void *want, unsigned n, size_t key_size, unsigned max)
{
	uint8_t *stale = calloc(max + 1, key_size), key[64], next[64];
	unsigned n_stale = 0;
	int r;

	if (!stale || key_size > sizeof(key)) {
		free(stale);
		return;
	}
	r = bpf_map_get_next_key(fd, NULL, next);
	while (!r && n_stale < max) {
		bool found = false;
		memcpy(key, next, key_size);
		for (unsigned i = 0; i < n && !found; i++)
			found = !memcmp((const uint8_t *)want + i * key_size, key, key_size);
		if (!found)
			memcpy(stale + n_stale++ * key_size, key, key_size);
		r = bpf_map_get_next_key(fd, key, next);
	}
	for (unsigned i = 0; i < n_stale; i++)
		bpf_map_delete_elem(fd, stale + i * key_size);
	free(stale);
}

/* The tunnel endpoints of kernel services' backends: the encap entry per
 * (backend, port, proto) with the workers' template (xgw_tun_ep_init),
 * the decap entry per (type, VNI, remote).  Rewritten whole (a few
 * entries); stale ones deleted. */
static int sync_tunnels(struct xgw_kdp *k, const struct xgw_config *cfg,
			const struct xgw_snapshot *snap, struct xgw_kdp_cfg *kc)
{
	struct xgw_kdp_svc_key *enc = calloc(XGW_KDP_MAX_TUN, sizeof(*enc));
	struct xgw_kdp_tun_dec_key *dec = calloc(XGW_KDP_MAX_TUN, sizeof(*dec));
	unsigned n_enc = 0, n_dec = 0;
	int rc = 0;

	if (!enc || !dec) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned x = 0; x < snap->n_kernel && !rc; x++) {
		const struct xgw_service_cfg *s = &cfg->services[snap->kernel_idx[x]];

		for (unsigned b = 0; b < s->n_backends && !rc; b++) {
			const struct xgw_backend_cfg *bc = &s->backends[b];
			struct xgw_kdp_tun v = {0};
			struct xgw_tun_ep ep;
			uint16_t dport = htons(bc->tun == XGW_TUN_VXLAN ? cfg->tunnel.vxlan_port
									: cfg->tunnel.geneve_port);
			uint32_t one = 1;

			if (bc->tun == XGW_TUN_NONE)
				continue;
			if (n_enc >= XGW_KDP_MAX_TUN) {
				rc = -E2BIG;
				break;
			}
			xgw_tun_ep_init(&ep, (uint8_t)bc->tun, cfg->tunnel.local_ip.w[0],
					bc->tun_remote.w[0], dport, bc->vni,
					bc->has_inner_mac ? bc->inner_mac : NULL);
			_Static_assert(sizeof(v.tmpl) == sizeof(ep.tmpl), "the workers' template");
			memcpy(v.tmpl, ep.tmpl, sizeof(v.tmpl));
			v.ip_sum = ep.ip_sum;
			v.remote = bc->tun_remote.w[0];
			v.type = (uint8_t)bc->tun;
			v.has_mac = ep.has_mac;
			svc_key(&enc[n_enc], &bc->ip, htons(bc->port), s->proto);
			if (bpf_map_update_elem(k->tun_enc_fd, &enc[n_enc++], &v, BPF_ANY)) {
				rc = -errno;
				break;
			}
			dec[n_dec].remote = bc->tun_remote.w[0];
			dec[n_dec].type_vni = (uint32_t)bc->tun << 24 | bc->vni;
			if (bpf_map_update_elem(k->tun_dec_fd, &dec[n_dec++], &one, BPF_ANY))
				rc = -errno;
		}
	}
	if (!rc) {
		remove_stale(k->tun_enc_fd, enc, n_enc, sizeof(*enc), XGW_KDP_MAX_TUN);
		remove_stale(k->tun_dec_fd, dec, n_dec, sizeof(*dec), XGW_KDP_MAX_TUN);
	}
	if (n_enc)
		kc->flags |= XGW_KDP_F_TUNNELS;
	kc->tun_local = cfg->tunnel.local_ip.w[0];
	kc->vxlan_port = htons(cfg->tunnel.vxlan_port);
	kc->geneve_port = htons(cfg->tunnel.geneve_port);
out:
	free(enc);
	free(dec);
	return rc;
}

/* A new gen into kdp_cfg, the rest of it as it is (before the first sync:
 * zeros, the datapath still off). */
static int bump_gen(struct xgw_kdp *k)
{
	struct xgw_kdp_cfg kc;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(k->cfg_fd, &zero, &kc))
		return -errno;
	k->gen = k->gen + 1 ? k->gen + 1 : 1; /* 0 is no entry's after a wrap */
	kc.gen = k->gen;
	if (bpf_map_update_elem(k->cfg_fd, &zero, &kc, BPF_ANY))
		return -errno;
	return 0;
}

int xgw_kdp_sync(struct xgw_kdp *k, const struct xgw_config *cfg, const struct xgw_snapshot *snap,
		 const struct xgw_ct_table *ct, char *err, size_t errlen)
{
	struct xgw_kdp_svc_key want[2 * XGW_KDP_MAX_SVCS];
	struct xgw_kdp_cfg kc = {0};
	unsigned n_want = 0;
	uint32_t zero = 0;
	int rc;

	if (!k)
		return 0;
	rc = xgw_kdp_check_some(cfg, snap->kernel_idx, snap->n_kernel, err, errlen);
	if (rc)
		return rc;
	for (unsigned i = 0; i < XGW_KDP_MAX_SVCS; i++)
		k->blk[i].seen = false;
	for (unsigned x = 0; x < snap->n_kernel; x++) {
		unsigned i = snap->kernel_idx[x];
		const struct xgw_service_cfg *c = &cfg->services[i];
		const struct xgw_svc_rt *s;
		struct xgw_kdp_svc v = {0};
		struct kdp_block *b;
		uint32_t idx;

		__atomic_store_n(&k->enabled, true, __ATOMIC_RELAXED);
		s = xgw_snapshot_service(snap, &c->vip, htons(c->port), c->proto);
		b = s ? block_for(k, s, &idx) : NULL;
		if (!b) {
			snprintf(err, errlen, "kernel datapath: no room for service %u", i);
			return -ENOSPC;
		}
		b->seen = true;
		rc = sync_block(k, idx, s);
		if (rc) {
			snprintf(err, errlen, "kernel datapath: cannot load service maps: %s",
				 strerror(-rc));
			return rc;
		}
		v.idx = idx;
		v.m = b->m;
		v.id = s->id;
		v.flags = s->snat ? XGW_KDP_SVC_SNAT : 0;
		v.ctr = s->ctr < XGW_KDP_SVC_SLOTS ? s->ctr : 0;
		mark_used(k->svc_used, v.ctr);
		svc_key(&want[n_want], &s->vip, s->port, s->proto);
		if (bpf_map_update_elem(k->svcs_fd, &want[n_want++], &v, BPF_ANY))
			goto map_err;
		/* The VIP answers echo. */
		v.flags = XGW_KDP_SVC_ECHO;
		svc_key(&want[n_want], &s->vip, 0,
			s->vip.family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
		if (bpf_map_update_elem(k->svcs_fd, &want[n_want++], &v, BPF_ANY))
			goto map_err;
	}
	remove_stale(k->svcs_fd, want, n_want, sizeof(want[0]), 2 * XGW_KDP_MAX_SVCS);
	/* Conntrack entries skip the service lookup while their gen is
	 * kdp_cfg's: the new gen goes in now, after kdp_svcs is final, and
	 * not only with the config below, which an error may skip. */
	rc = bump_gen(k);
	if (rc) {
		snprintf(err, errlen, "kernel datapath: cannot update maps: %s", strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < XGW_KDP_MAX_SVCS; i++)
		if (k->blk[i].used && !k->blk[i].seen)
			k->blk[i].used = false;

	kc.flags = (k->enabled ? XGW_KDP_F_ENABLED : 0) | (k->trace_on ? XGW_KDP_F_TRACE : 0);
	kc.hash_seed = snap->hash_seed;
	kc.gen = k->gen;
	kc.snat_port_min = XGW_NAT_PORT_MIN; /* the workers' range */
	kc.snat_port_max = XGW_NAT_PORT_MAX;
	/* The program's clock is jiffies: every time in kdp_cfg is in them. */
	kc.hz = xgw_kdp_hz();
	kc.nh_ttl = (uint32_t)xgw_kdp_ns_to_jiffies(XGW_KDP_NH_CACHE_NS);
	for (unsigned s = 0; s < 8; s++)
		kc.to_tcp[s] = timeout_j(ct, IPPROTO_TCP, (enum xgw_ct_state)s);
	kc.to_udp = timeout_j(ct, IPPROTO_UDP, XGW_CT_NONE);
	kc.to_other = timeout_j(ct, IPPROTO_ICMP, XGW_CT_NONE);
	sync_policy(k, cfg, snap, &kc);
	rc = sync_tunnels(k, cfg, snap, &kc);
	if (rc) {
		snprintf(err, errlen, "kernel datapath: cannot load tunnel maps: %s",
			 strerror(-rc));
		return rc;
	}
	if (bpf_map_update_elem(k->cfg_fd, &zero, &kc, BPF_ANY))
		goto map_err;
	return 0;
map_err:
	rc = -errno;
	snprintf(err, errlen, "kernel datapath: cannot update maps: %s", strerror(errno));
	bump_gen(k); /* kdp_svcs may be half done: no entry may trust it */
	return rc;
}

json_t *xgw_kdp_stats_json(struct xgw_kdp *k, uint64_t *drops)
{
	uint64_t cnt[XGW_KDP_CNT__MAX], d[XGW_DROP__MAX];
	json_t *o, *dj;

	if (!k || xgw_bpf_percpu_sum_vec(k->cnt_fd, XGW_KDP_CNT__MAX, cnt) ||
	    xgw_bpf_percpu_sum(k->drops_fd, XGW_DROP__MAX, d))
		return NULL;
	o = json_object();
	dj = json_object();
	for (unsigned i = 0; i < XGW_KDP_CNT__MAX; i++)
		json_object_set_new(o, cnt_names[i], json_integer((json_int_t)cnt[i]));
	for (unsigned r = 1; r < XGW_DROP__MAX; r++) {
		drops[r] += d[r];
		if (d[r])
			json_object_set_new(dj, xgw_drop_name(r), json_integer((json_int_t)d[r]));
	}
	json_object_set_new(o, "drops", dj);
	return o;
}


static void key_tuple(struct xgw_ct_tuple *t, const struct xgw_kdp_ct_key *k)
{
	struct xgw_addr s = {.family = k->family}, d = {.family = k->family};

	memcpy(s.b, k->src, 16);
	memcpy(d.b, k->dst, 16);
	xgw_ct_tuple_init(t, &s, k->sport, &d, k->dport, k->proto);
}

/* Timed out by ct's timeouts (now: xgw_kdp_jiffies(), the entries'
 * clock), as the program decides it, not yet evicted by the LRU. */
static bool entry_expired(const struct xgw_ct_table *ct, const struct xgw_kdp_ct_key *key,
			  const struct xgw_kdp_ct *v, uint64_t now)
{
	uint64_t age = now > v->last_seen ? now - v->last_seen : 0;

	return age > timeout_j(ct, key->proto, (enum xgw_ct_state)v->state);
}

#define CT_BATCH 1024

static void key_from4(struct xgw_kdp_ct_key *k, const struct xgw_kdp_ct4_key *k4)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, &k4->src, 4);
	memcpy(k->dst, &k4->dst, 4);
	k->sport = k4->sport;
	k->dport = k4->dport;
	k->proto = (uint8_t)k4->proto;
	k->family = AF_INET;
}

static void key_to4(struct xgw_kdp_ct4_key *k4, const struct xgw_kdp_ct_key *k)
{
	memset(k4, 0, sizeof(*k4));
	memcpy(&k4->src, k->src, 4);
	memcpy(&k4->dst, k->dst, 4);
	k4->sport = k->sport;
	k4->dport = k->dport;
	k4->proto = k->proto;
}

static int ct_next_key(const struct xgw_kdp *k, int m, const struct xgw_kdp_ct_key *cur,
		       struct xgw_kdp_ct_key *next)
{
	struct xgw_kdp_ct4_key c4, n4;
	int r;

	if (m == CT6)
		return bpf_map_get_next_key(k->ct_fd[CT6], cur, next);
	if (cur)
		key_to4(&c4, cur);
	r = bpf_map_get_next_key(k->ct_fd[CT4], cur ? &c4 : NULL, &n4);
	if (!r)
		key_from4(next, &n4);
	return r;
}

static int ct_get(const struct xgw_kdp *k, int m, const struct xgw_kdp_ct_key *key,
		  struct xgw_kdp_ct *v)
{
	struct xgw_kdp_ct4_key k4;

	if (m == CT6)
		return bpf_map_lookup_elem(k->ct_fd[CT6], key, v);
	key_to4(&k4, key);
	return bpf_map_lookup_elem(k->ct_fd[CT4], &k4, v);
}

static int ct_delete(const struct xgw_kdp *k, const struct xgw_kdp_ct_key *key)
{
	struct xgw_kdp_ct4_key k4;

	if (key->family != AF_INET)
		return bpf_map_delete_elem(k->ct_fd[CT6], key);
	key_to4(&k4, key);
	return bpf_map_delete_elem(k->ct_fd[CT4], &k4);
}

/* Calls fn for every entry of the conntrack maps: in batches (a few
 * syscalls for the whole LRU), or key by key where the kernel has no batch
 * ops for it.  A batch walk that fails partway starts over key by key,
 * after fn(NULL, NULL, arg) tells fn to forget what it saw.  The key by key
 * walk is bounded: a key the LRU evicts under it sends it back to the
 * start. */
typedef void (*ct_visit_fn)(const struct xgw_kdp_ct_key *key, const struct xgw_kdp_ct *v,
			    void *arg);

/* One map in batches; false if a batch failed (fn may have seen some). */
static bool ct_walk_batch(struct xgw_kdp *k, int m, ct_visit_fn fn, void *arg, void *keys,
			  struct xgw_kdp_ct *vals, bool *seen)
{
	struct xgw_kdp_ct_key *full = keys, key;
	struct xgw_kdp_ct4_key *k4 = keys;
	uint32_t batch = 0, n;
	bool started = false;
	int r;

	for (;;) {
		n = CT_BATCH;
		r = bpf_map_lookup_batch(k->ct_fd[m], started ? &batch : NULL, &batch, keys, vals,
					 &n, NULL);
		if (r && errno != ENOENT)
			return false;
		for (uint32_t i = 0; i < n; i++) {
			if (m == CT4)
				key_from4(&key, &k4[i]);
			fn(m == CT4 ? &key : &full[i], &vals[i], arg);
			*seen = true;
		}
		started = true;
		if (r) /* ENOENT: that was the last batch */
			return true;
	}
}

static void ct_walk_keys(struct xgw_kdp *k, int m, ct_visit_fn fn, void *arg)
{
	struct bpf_map_info info = {0};
	__u32 info_len = sizeof(info);
	struct xgw_kdp_ct_key key, next;
	size_t steps;
	int r;

	steps = bpf_obj_get_info_by_fd(k->ct_fd[m], &info, &info_len)
		    ? SIZE_MAX
		    : 2 * (size_t)info.max_entries + 1024;
	r = ct_next_key(k, m, NULL, &next);
	while (!r && steps--) {
		struct xgw_kdp_ct v;

		key = next;
		r = ct_next_key(k, m, &key, &next);
		if (!ct_get(k, m, &key, &v))
			fn(&key, &v, arg);
	}
}

static void ct_walk(struct xgw_kdp *k, ct_visit_fn fn, void *arg)
{
	void *keys = calloc(CT_BATCH, sizeof(struct xgw_kdp_ct_key));
	struct xgw_kdp_ct *vals = calloc(CT_BATCH, sizeof(*vals));
	bool seen = false, done = keys && vals &&
				  ct_walk_batch(k, CT4, fn, arg, keys, vals, &seen) &&
				  ct_walk_batch(k, CT6, fn, arg, keys, vals, &seen);

	free(keys);
	free(vals);
	if (done)
		return;
	if (seen)
		fn(NULL, NULL, arg);
	ct_walk_keys(k, CT4, fn, arg);
	ct_walk_keys(k, CT6, fn, arg);
}

void xgw_kdp_ct_json(struct xgw_kdp *k, const struct xgw_ct_table *ct, json_t *arr, unsigned limit)
{
	struct xgw_kdp_ct_key key, next;
	uint64_t now = xgw_kdp_jiffies(), hz = xgw_kdp_hz();
	int r;

	if (!k || !k->enabled)
		return;
	for (int m = CT4; m <= CT6; m++)
		for (r = ct_next_key(k, m, NULL, &next);
		     !r && (!limit || json_array_size(arr) < limit);) {
			struct xgw_kdp_ct v;
			key = next;
			r = ct_next_key(k, m, &key, &next);
			if (ct_get(k, m, &key, &v) || v.dir != 0)
				continue;
			uint64_t age = now > v.last_seen ? now - v.last_seen : 0;
			uint64_t to = timeout_j(ct, key.proto, (enum xgw_ct_state)v.state);
			if (age > to)
				continue; /* expired, not yet evicted */
			struct xgw_ct_tuple o, rp;
			char s[XGW_ADDR_STRLEN], d[XGW_ADDR_STRLEN], be[XGW_KEY_STRLEN];
			key_tuple(&o, &key);
			key_tuple(&rp, &v.other);
			xgw_endpoint_str(&rp.src, ntohs(rp.sport), be, sizeof(be));
			json_t *e = json_pack(
			    "{s:s,s:s,s:s,s:i,s:i,s:s,s:s,s:I,s:I,s:I,s:I,s:s}", "proto",
			    xgw_proto_name(o.proto), "src", xgw_addr_str(&o.src, s, sizeof(s)),
			    "dst", xgw_addr_str(&o.dst, d, sizeof(d)), "sport", ntohs(o.sport),
			    "dport", ntohs(o.dport), "backend", be, "state",
			    xgw_ct_state_name(v.state), "age_s", (json_int_t)(age / hz),
			    "expires_s", (json_int_t)((to - age) / hz), "packets",
			    (json_int_t)(v.pkts[0] + v.pkts[1]), "bytes",
			    (json_int_t)(v.bytes[0] + v.bytes[1]), "datapath", "kernel");
			if (v.flags & XGW_CT_F_SNAT) {
				char sn[XGW_KEY_STRLEN];
				json_object_set_new(e, "snat",
						    json_string(xgw_endpoint_str(
							&rp.dst, ntohs(rp.dport), sn, sizeof(sn))));
			}
			json_array_append_new(arr, e);
		}
}

int xgw_kdp_ct_flush(struct xgw_kdp *k)
{
	struct xgw_kdp_ct_key key, next;
	int n = 0;

	if (!k)
		return 0;
	/* Delete the first key until none is left: deleting while walking
	 * would restart the walk anyway. */
	for (int m = CT4; m <= CT6; m++)
		while (!ct_next_key(k, m, NULL, &next)) {
			key = next;
			if (ct_delete(k, &key))
				break;
			n++;
		}
	return (n + 1) / 2; /* two entries per connection */
}

/* An ORIG entry's connection (both entries) marked for removal. */
struct flush_item {
	struct xgw_kdp_ct_key orig, reply;
	bool live; /* not timed out when seen: counted */
};

struct flush_arg {
	const struct xgw_ct_table *ct;
	const struct xgw_ct_backend_sel *sel;
	uint64_t now;
	struct flush_item *it;
	size_t n, cap;
	bool nomem;
};

static void flush_collect(const struct xgw_kdp_ct_key *key, const struct xgw_kdp_ct *v, void *arg)
{
	struct flush_arg *a = arg;
	struct xgw_ct_tuple o, r;

	if (!key) { /* the walk starts over */
		a->n = 0;
		return;
	}
	if (v->dir != 0 || a->nomem)
		return;
	key_tuple(&o, key);
	key_tuple(&r, &v->other);
	if (!xgw_ct_backend_sel_match(a->sel, &o, &r))
		return;
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 32;
		void *p = realloc(a->it, nc * sizeof(*a->it));

		if (!p) {
			a->nomem = true;
			return;
		}
		a->it = p;
		a->cap = nc;
	}
	a->it[a->n++] =
	    (struct flush_item){.orig = *key,
				.reply = v->other,
				.live = !a->ct || !entry_expired(a->ct, key, v, a->now)};
}

int xgw_kdp_ct_flush_backend(struct xgw_kdp *k, const struct xgw_ct_table *ct,
			     const struct xgw_ct_backend_sel *s)
{
	struct flush_arg a = {.ct = ct, .sel = s, .now = xgw_kdp_jiffies()};
	int removed = 0;

	if (!k || !k->enabled)
		return 0;
	/* Collect first, then delete: deleting under the walk would send it
	 * back to the start. */
	ct_walk(k, flush_collect, &a);
	if (a.nomem) {
		free(a.it);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a.n; i++) {
		/* The ORIG entry decides: one the LRU evicted meanwhile is
		 * no connection to count, nor one timed out, not yet evicted. */
		if (!ct_delete(k, &a.it[i].orig) && a.it[i].live)
			removed++;
		ct_delete(k, &a.it[i].reply);
	}
	free(a.it);
	return removed;
}

/* --- per-service and per-backend counters --------------------------------- */

_Static_assert(sizeof(struct xgw_kdp_be_ctr) % 8 == 0 && sizeof(struct xgw_kdp_svc_ctr) % 8 == 0,
	       "per-CPU values are laid out 8-byte aligned");

static bool used(const uint8_t *bits, uint32_t slot)
{
	return __atomic_load_n(&bits[slot / 8], __ATOMIC_RELAXED) >> (slot % 8) & 1;
}

bool xgw_kdp_be_counts(struct xgw_kdp *k, uint32_t slot, struct xgw_kdp_counts *o)
{
	struct xgw_kdp_be_ctr *v;

	memset(o, 0, sizeof(*o));
	if (!k || !slot || slot >= XGW_KDP_BE_SLOTS || !used(k->be_used, slot))
		return false;
	v = calloc((size_t)k->ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(k->be_ctr_fd, &slot, v))
		for (int c = 0; c < k->ncpu; c++) {
			for (int d = 0; d < 2; d++) {
				o->pkts[d] += v[c].d[d].pkts;
				o->bytes[d] += v[c].d[d].bytes;
			}
			o->conns += v[c].conns;
		}
	free(v);
	pthread_mutex_lock(&k->active_lock);
	o->active = k->active[slot];
	pthread_mutex_unlock(&k->active_lock);
	return true;
}

void xgw_kdp_svc_drops_add(struct xgw_kdp *k, uint32_t slot, uint64_t *drops)
{
	static const uint8_t reason[XGW_KDP_SVC_DROP__MAX] = {
#define _(n) XGW_DROP_##n,
	    XGW_FOREACH_KDP_SVC_DROP(_)
#undef _
	};
	struct xgw_kdp_svc_ctr *v;

	if (!k || !slot || slot >= XGW_KDP_SVC_SLOTS || !used(k->svc_used, slot))
		return;
	v = calloc((size_t)k->ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(k->svc_ctr_fd, &slot, v))
		for (int c = 0; c < k->ncpu; c++)
			for (unsigned r = 0; r < XGW_KDP_SVC_DROP__MAX; r++)
				drops[reason[r]] += v[c].drops[r];
	free(v);
}

struct count_arg {
	struct xgw_kdp *k;
	const struct xgw_ct_table *ct;
	uint64_t now; /* jiffies */
};

/* One connection's ORIG entry into the active counts, if it has not timed
 * out (what `ct list` shows). */
static void count_entry(const struct xgw_kdp_ct_key *key, const struct xgw_kdp_ct *v, void *arg)
{
	struct count_arg *a = arg;

	if (!key) { /* the walk starts over */
		memset(a->k->active, 0, XGW_KDP_BE_SLOTS * sizeof(*a->k->active));
		return;
	}
	if (v->dir != 0 || !v->ctr || v->ctr >= XGW_KDP_BE_SLOTS ||
	    entry_expired(a->ct, key, v, a->now))
		return;
	a->k->active[v->ctr]++;
}

void xgw_kdp_ct_count(struct xgw_kdp *k, const struct xgw_ct_table *ct, unsigned max_age_ms)
{
	struct count_arg a = {.k = k, .ct = ct};

	if (!k || !__atomic_load_n(&k->enabled, __ATOMIC_RELAXED) || !ct)
		return;
	/* Readers close together (a scrape, a watch) share one walk: the
	 * second waits for the first's. */
	pthread_mutex_lock(&k->active_lock);
	uint64_t t = clock_ns(CLOCK_MONOTONIC_COARSE); /* how old the counts are */
	if (k->active_at && t - k->active_at < (uint64_t)max_age_ms * 1000000ull) {
		pthread_mutex_unlock(&k->active_lock);
		return;
	}
	k->active_at = t;
	a.now = xgw_kdp_jiffies();
	memset(k->active, 0, XGW_KDP_BE_SLOTS * sizeof(*k->active));
	ct_walk(k, count_entry, &a);
	pthread_mutex_unlock(&k->active_lock);
}

/* ---- trace (pipeline/tap.h) --------------------------------------------- */

int xgw_kdp_trace_set(struct xgw_kdp *k, bool on)
{
	struct xgw_kdp_cfg kc;
	uint32_t zero = 0;

	if (!k)
		return 0;
	if (on && !k->trace_on) /* what an earlier session left unread */
		xgw_kdp_trace_poll(k, NULL, NULL);
	if (bpf_map_lookup_elem(k->cfg_fd, &zero, &kc))
		return -errno;
	kc.flags = on ? kc.flags | XGW_KDP_F_TRACE : kc.flags & ~(uint32_t)XGW_KDP_F_TRACE;
	if (bpf_map_update_elem(k->cfg_fd, &zero, &kc, BPF_ANY))
		return -errno;
	k->trace_on = on;
	return 0;
}

int xgw_kdp_trace_poll(struct xgw_kdp *k, xgw_kdp_trace_fn fn, void *ctx)
{
	int n;

	if (!k || !k->trace_rb)
		return 0;
	k->trace_fn = fn;
	k->trace_ctx = ctx;
	n = ring_buffer__consume(k->trace_rb);
	k->trace_fn = NULL;
	return n;
}
