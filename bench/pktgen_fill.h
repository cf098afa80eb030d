/* SPDX-License-Identifier: BSD-3-Clause */
/* The per-packet rewrite of xgw-pktgen, compiled both into the live-frames
 * XDP program (pktgen_tx.bpf.c) and into the AF_XDP transmitter, so that
 * both paths send byte-identical frames and the unit tests check the very
 * code the kernel runs.  Plain C that clang -target bpf accepts: no libc,
 * constant-size copies, every write bounded by `end`.
 *
 * A frame is a template (flow 0, sequence 0, timestamp 0, checksums
 * complete) on which each packet rewrites: the source address (low 32
 * bits) and source port chosen by its flow index, the stamp in the payload
 * (magic, sequence number, CLOCK_MONOTONIC nanoseconds) and the IPv4 and
 * L4 checksums, updated incrementally from the template's (RFC 1624) so
 * the payload is never summed per packet.  Every header byte is copied from
 * the template each time: live frames reuse pages that the receiver may
 * have written to. */
#ifndef XGW_PKTGEN_FILL_H
#define XGW_PKTGEN_FILL_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define PG_STAMP_MAGIC 0x58475750u /* "XGWP" */
#define PG_STAMP_LEN   20	   /* magic, seq (64), ts (64), all big-endian */
#define PG_TPL_MAX     80	   /* longest header: Ethernet + IPv6 + TCP = 74 */
#define PG_L3_OFF      14	   /* no VLAN tags */

enum pg_layout { PG_V4_UDP, PG_V4_TCP, PG_V6_UDP, PG_V6_TCP };

/* Read-only configuration: .rodata of the BPF program (frozen, so the
 * verifier sees the layout as a constant and prunes the other cases). */
struct pg_fill_cfg {
	__u8 tpl[PG_TPL_MAX]; /* headers of flow 0, checksums complete */
	__u32 flows;	      /* >= 1 */
	__u32 ports_per_addr; /* source ports tried before the next address */
	__u32 addr_base;      /* host order: low 32 bits of the first source */
	__u16 sport_base;     /* host order */
	__u16 ip_csum;	      /* template IPv4 header checksum, as stored */
	__u16 l4_csum;	      /* template L4 checksum, as stored (stamp zero) */
	__u8 layout;	      /* enum pg_layout */
	__u8 stamp;	      /* 1: the frame is long enough for the stamp */
};

static __always_inline __u16 pg_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* Flow index -> source port and address offset from the bases: the port
 * varies fastest, so N flows need ceil(N / ports_per_addr) addresses. */
static __always_inline void pg_flow_split(__u32 flow, __u32 ports_per_addr, __u32 *port_i,
					  __u32 *addr_i)
{
	*port_i = flow % ports_per_addr;
	*addr_i = flow / ports_per_addr;
}

static __always_inline void pg_put16(__u8 *p, __u16 v)
{
	__builtin_memcpy(p, &v, 2);
}

static __always_inline void pg_put32(__u8 *p, __u32 v)
{
	__builtin_memcpy(p, &v, 4);
}

/* One layout; every argument but the packet and the counters is a
 * compile-time constant after inlining. */
static __always_inline int pg_fill_one(__u8 *p, const __u8 *end,
				       const volatile struct pg_fill_cfg *c, __u64 seq, __u64 ts,
				       const __u32 hdr_len, const __u32 addr_off,
				       const __u32 l4_off, const __u32 csum_off, const int v4,
				       const int udp)
{
	__u32 port_i, addr_i, flow;
	__u64 sum;

	const __u8 *tpl = (const __u8 *)c->tpl;

	if (p + hdr_len > end)
		return -1;
	/* Casting away volatile would let clang fold the copy to the
	 * template's compile-time initialiser (zeros) in the BPF build;
	 * hiding the pointer's origin keeps the loads real. */
	__asm__ volatile("" : "+r"(tpl));
	__builtin_memcpy(p, tpl, hdr_len);

	flow = c->flows > 1 ? (__u32)(seq % c->flows) : 0;
	pg_flow_split(flow, c->ports_per_addr, &port_i, &addr_i);
	__u32 a_old = bpf_htonl(c->addr_base);
	__u32 a_new = bpf_htonl(c->addr_base + addr_i);
	__u16 p_old = bpf_htons(c->sport_base);
	__u16 p_new = bpf_htons((__u16)(c->sport_base + port_i));
	/* RFC 1624 eqn. 3 terms: ~m + m' for each changed word. */
	__u64 d_addr = (__u64)(__u32)~a_old + a_new;

	pg_put32(p + addr_off, a_new);
	pg_put16(p + l4_off, p_new);
	if (v4)
		pg_put16(p + PG_L3_OFF + 10, (__u16)~pg_fold((__u16)~c->ip_csum + d_addr));

	sum = (__u16)~c->l4_csum + d_addr + (__u16)~p_old + p_new;
	if (c->stamp) {
		__u8 *s = p + hdr_len;
		__u32 w[4] = {bpf_htonl((__u32)(seq >> 32)), bpf_htonl((__u32)seq),
			      bpf_htonl((__u32)(ts >> 32)), bpf_htonl((__u32)ts)};

		if (s + PG_STAMP_LEN > end)
			return -1;
		/* The template carries the magic and zeros here: only the
		 * four new words enter the sum. */
		pg_put32(s, bpf_htonl(PG_STAMP_MAGIC));
		__builtin_memcpy(s + 4, w, 16);
		sum += (__u64)w[0] + w[1] + w[2] + w[3];
	}
	__u16 l4 = (__u16)~pg_fold(sum);
	if (udp && l4 == 0)
		l4 = 0xffff; /* 0 means "no checksum" in UDP */
	pg_put16(p + csum_off, l4);
	return 0;
}

/* Rewrite frame [p, end) for sequence number seq sent at ts ns.
 * Returns 0, or -1 if the frame is shorter than the template. */
static __always_inline int pg_fill(__u8 *p, const __u8 *end, const volatile struct pg_fill_cfg *c,
				   __u64 seq, __u64 ts)
{
	switch (c->layout) {
	case PG_V4_UDP:
		return pg_fill_one(p, end, c, seq, ts, 42, 26, 34, 40, 1, 1);
	case PG_V4_TCP:
		return pg_fill_one(p, end, c, seq, ts, 54, 26, 34, 50, 1, 0);
	case PG_V6_UDP:
		return pg_fill_one(p, end, c, seq, ts, 62, 34, 54, 60, 0, 1);
	case PG_V6_TCP:
		return pg_fill_one(p, end, c, seq, ts, 74, 34, 54, 70, 0, 0);
	}
	return -1;
}

#endif
