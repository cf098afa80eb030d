/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, trace and capture (pipeline/tap.h): while xgwd sets
 * XGW_KDP_F_TRACE, kdp_run calls kdp_trace_begin before and
 * kdp_trace_end after a packet, and the packet's struct xgw_kdp_trace goes
 * into a ringbuf xgwd reads.  As the workers' trace does, the decisions
 * are read off what the datapath left: the counters it moved (per CPU,
 * and XDP runs on one CPU to the end), the conntrack entries of the
 * packet's tuple before and after, and the frame before and after.  No
 * stage of the datapath is told about the trace.  Both are subprograms
 * (their frames off the main one; only traced packets pay the calls). */
#ifndef XGW_KERN_TRACE_H
#define XGW_KERN_TRACE_H

/* The record being made and what it is compared with, per CPU. */
struct kdp_trace_scratch {
	struct xgw_kdp_trace r;
	struct xgw_kdp_ct_key k; /* the packet's tuple, as received */
	__u64 cnt[XGW_KDP_CNT__MAX];
	__u64 drops[XGW_DROP__MAX];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kdp_trace_scratch);
} kdp_trace_sc SEC(".maps");

/* Records to xgwd (about 1,800 of them: a trace's filter is applied by
 * xgwd, so every kernel packet is sent while a trace runs). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} kdp_trace_ring SEC(".maps");

/* Up to XGW_KDP_TRACE_SNAP bytes of the frame into buf; how many.  The
 * barrier keeps the bound check on the register the helper gets (the
 * verifier's view), which the compiler would otherwise fold away. */
static __always_inline __u16 ktr_copy(struct xdp_md *ctx, __u8 *buf, __u32 *len)
{
	__u64 n = bpf_xdp_get_buff_len(ctx);

	*len = (__u32)n;
	if (n > XGW_KDP_TRACE_SNAP)
		n = XGW_KDP_TRACE_SNAP;
	asm volatile("" : "+r"(n));
	if (n < 1 || n > XGW_KDP_TRACE_SNAP || bpf_xdp_load_bytes(ctx, 0, buf, (__u32)n))
		return 0;
	return (__u16)n;
}

/* The connection's state, kept in its ORIG entry. */
static __always_inline __u8 ktr_state(struct xgw_kdp_ct *c)
{
	if (c->dir == 1)
		c = kct_lookup(&c->other);
	return c ? c->state : 0;
}

/* The counters, by bpf_loop (a loop over map keys whose address is taken
 * is neither unrolled by clang nor proven finite by the verifier). */
struct ktr_arg {
	struct kdp_trace_scratch *sc;
};

static long ktr_snap_cnt(__u32 key, void *arg)
{
	struct kdp_trace_scratch *sc = ((struct ktr_arg *)arg)->sc;
	struct xgw_kdp_cnt *v = kdp_cnts();
	__u64 i = key;

	asm volatile("" : "+r"(i)); /* the bound on the index register */
	if (i >= XGW_KDP_CNT__MAX)
		return 1;
	sc->cnt[i] = v ? v->n[i] : 0;
	return 0;
}

static long ktr_snap_drop(__u32 key, void *arg)
{
	struct kdp_trace_scratch *sc = ((struct ktr_arg *)arg)->sc;
	__u64 *v = bpf_map_lookup_elem(&kdp_drops, &key);
	__u64 i = key;

	asm volatile("" : "+r"(i)); /* the bound on the index register */
	if (i >= XGW_DROP__MAX)
		return 1;
	sc->drops[i] = v ? *v : 0;
	return 0;
}

static long ktr_diff_cnt(__u32 key, void *arg)
{
	struct kdp_trace_scratch *sc = ((struct ktr_arg *)arg)->sc;
	struct xgw_kdp_cnt *v = kdp_cnts();
	__u64 i = key;

	asm volatile("" : "+r"(i)); /* the bound on the index register */
	if (i >= XGW_KDP_CNT__MAX)
		return 1;
	if (v && v->n[i] != sc->cnt[i])
		sc->r.events |= 1u << i;
	return 0;
}

/* The first reason counted (a packet is dropped once). */
static long ktr_diff_drop(__u32 key, void *arg)
{
	struct kdp_trace_scratch *sc = ((struct ktr_arg *)arg)->sc;
	__u64 *v = bpf_map_lookup_elem(&kdp_drops, &key);
	__u64 i = key;

	asm volatile("" : "+r"(i)); /* the bound on the index register */
	if (i >= XGW_DROP__MAX)
		return 1;
	if (i && v && *v != sc->drops[i]) {
		sc->r.drop = i;
		return 1;
	}
	return 0;
}

static __noinline int kdp_trace_begin(struct xdp_md *ctx)
{
	struct kdp_trace_scratch *sc;
	struct xgw_kdp_svc *svc;
	struct xgw_kdp_ct *c;
	struct kdp_pkt p = {};
	struct ktr_arg arg;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&kdp_trace_sc, &zero);
	if (!sc)
		return 0;
	arg.sc = sc;
	__builtin_memset(&sc->r, 0, __builtin_offsetof(struct xgw_kdp_trace, in));
	sc->r.ts_ns = bpf_ktime_get_ns();
	sc->r.ifindex = ctx->ingress_ifindex;
	sc->r.rx_queue = ctx->rx_queue_index;
	sc->r.cap_in = ktr_copy(ctx, sc->r.in, &sc->r.len_in);
	bpf_loop(XGW_KDP_CNT__MAX, ktr_snap_cnt, &arg, 0);
	bpf_loop(XGW_DROP__MAX, ktr_snap_drop, &arg, 0);
	if (kdp_parse(ctx, &p) != KDP_PARSED || (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP))
		return 0;
	sc->r.parsed = 1;
	kct_key(&sc->k, p.src, p.dst, p.sport, p.dport, p.proto, p.family);
	svc = kdp_service(p.family, p.dst, p.dport, p.proto);
	if (svc) {
		sc->r.svc = 1;
		sc->r.svc_id = svc->id;
	}
	c = kct_lookup(&sc->k);
	if (c)
		sc->r.state_before = ktr_state(c);
	return 0;
}

/* rc: what kdp_run returns. */
static __noinline int kdp_trace_end(struct xdp_md *ctx, int rc)
{
	struct kdp_trace_scratch *sc;
	struct xgw_kdp_trace *r;
	struct xgw_kdp_ct *c;
	struct ktr_arg arg;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&kdp_trace_sc, &zero);
	if (!sc)
		return 0;
	arg.sc = sc;
	r = &sc->r;
	r->verdict = rc;
	bpf_loop(XGW_KDP_CNT__MAX, ktr_diff_cnt, &arg, 0);
	bpf_loop(XGW_DROP__MAX, ktr_diff_drop, &arg, 0);
	/* Packets the program left alone are the workers' to trace. */
	if (rc == KDP_CONTINUE && !r->events && !r->drop)
		return 0;
	r->cap_out = ktr_copy(ctx, r->out, &r->len_out);
	c = r->parsed ? kct_lookup(&sc->k) : 0;
	if (c) {
		r->out_ifindex = c->nh_ifindex;
		r->state_after = ktr_state(c);
		r->be_family = sc->k.family;
		if (c->dir == 0) {
			r->ct = (r->events & (1u << XGW_KDP_CNT_CT_NEW)) ? XGW_KDP_TR_CT_NEW
									 : XGW_KDP_TR_CT_ORIG;
			__builtin_memcpy(r->be_addr, c->other.src, 16);
			r->be_port = c->other.sport;
		} else {
			r->ct = XGW_KDP_TR_CT_REPLY;
			__builtin_memcpy(r->be_addr, sc->k.src, 16);
			r->be_port = sc->k.sport;
		}
	}
	bpf_ringbuf_output(&kdp_trace_ring, r, sizeof(*r), 0);
	return 0;
}

#endif
