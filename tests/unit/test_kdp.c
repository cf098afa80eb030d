/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel datapath run on crafted frames with BPF_PROG_RUN: DNAT of a
 * SYN, reverse NAT of the reply, conntrack keeping the backend across a
 * table change, the Maglev pick equal to the workers' pick for the same
 * flows, ICMP echo, drop reasons, what is handed on to the steering rules.
 * Needs root (BPF, a network namespace of its own with a veth pair
 * for bpf_fib_lookup); exits 77 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/csum.h"
#include "common/drop.h"
#include "common/hash.h"
#include "lb/conntrack.h"
#include "lb/maglev.h"
#include "pipeline/kdp.h"
#include "pipeline/snapshot.h"
#include "pipeline/tap.h"
#include "pipeline/worker.h"
#include "steer-bpf/kdp_maps.h"
#include "steer-bpf/steer.h"
#include "steer.skel.h"
#include "tests/lib/pktbuild.h"
#include "tunnel/tunnel.h"

#define SEED	      0x5eedu
#define SLOT_BE(i, b) (100 + 8 * (i) + (b))
static const uint8_t BE_MAC[3][6] = {{2, 0, 0, 0, 2, 11}, {2, 0, 0, 0, 2, 12}, {2, 0, 0, 0, 2, 13}};
static const uint8_t CLI_MAC[6] = {2, 0, 0, 0, 1, 2};
/* Tunnel endpoints (remotes) on kd0's 198.18.2.0/24; kd0's 198.18.2.1 is
 * tunnel.local_ip. */
static const uint8_t VTEP_MAC[2][6] = {{2, 0, 0, 0, 2, 0x20}, {2, 0, 0, 0, 2, 0x21}};
static const uint8_t INNER_MAC[6] = {2, 0, 0, 0, 4, 10};
static uint8_t kd0_mac[6];

static struct steer_bpf *skel;
static struct xgw_kdp *kdp;
static struct xgw_ct_table *ct;
static struct xgw_config cfg;
static struct xgw_snapshot *snap;
static int ifindex, prog_fd;

static int sh(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* keep: made from the snapshot before (xgwd's way), which shares what did
 * not change, the policy set and its hits among it. */
static void resync_from(bool keep)
{
	struct xgw_snapshot *old = snap;
	char err[256] = "";

	snap = keep && old ? xgw_snapshot_rebuild(&cfg, 1, SEED, old, err, sizeof(err))
			   : xgw_snapshot_build(&cfg, 1, SEED, err, sizeof(err));
	xgw_snapshot_free(old);
	assert_non_null(snap);
	/* Counter slots as xgwd's allocator would give them (stable: a
	 * service keeps its slot across syncs): service i 1 + i, its
	 * backend b SLOT_BE(i, b). */
	for (unsigned i = 0; i < snap->n_svcs; i++) {
		snap->svcs[i]->ctr = 1 + i;
		for (uint32_t b = 1; b <= snap->svcs[i]->n_backends; b++)
			snap->svcs[i]->be[b].ctr = SLOT_BE(i, b);
	}
	if (xgw_kdp_sync(kdp, &cfg, snap, ct, err, sizeof(err)))
		fail_msg("sync: %s", err);
}

static void resync(void)
{
	resync_from(false);
}

static int setup(void **state)
{
	int err;

	if (unshare(CLONE_NEWNET))
		return -1;
	/* One veth end holds both subnets: every next hop is XDP_TX. */
	if (sh("ip link set lo up && ip link add kd0 type veth peer name kd1 && ip link set kd0 up "
	       "&& ip link set kd1 up") ||
	    sh("ip addr add 198.18.1.1/24 dev kd0 && ip addr add 198.18.2.1/24 dev kd0") ||
	    sh("sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv4.conf.kd0.forwarding=1"))
		return -1;
	for (int i = 0; i < 3; i++)
		if (sh("ip neigh add 198.18.2.1%d lladdr 02:00:00:00:02:%02x dev kd0", i + 1,
		       BE_MAC[i][5]))
			return -1;
	if (sh("ip neigh add 198.18.1.2 lladdr 02:00:00:00:01:02 dev kd0") ||
	    sh("ip neigh add 198.18.2.20 lladdr 02:00:00:00:02:20 dev kd0") ||
	    sh("ip neigh add 198.18.2.21 lladdr 02:00:00:00:02:21 dev kd0"))
		return -1;
	/* IPv6: the same hosts on 2001:db8:1::/64 and 2001:db8:2::/64. */
	if (sh("ip addr add 2001:db8:1::1/64 dev kd0 nodad && "
	       "ip addr add 2001:db8:2::1/64 dev kd0 nodad && "
	       "sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.kd0.forwarding=1 && "
	       "ip neigh add 2001:db8:1::2 lladdr 02:00:00:00:01:02 dev kd0"))
		return -1;
	for (int i = 0; i < 3; i++)
		if (sh("ip neigh add 2001:db8:2::1%d lladdr 02:00:00:00:02:%02x dev kd0", i + 1,
		       BE_MAC[i][5]))
			return -1;
	ifindex = (int)if_nametoindex("kd0");
	{
		struct ifreq ifr = {0};
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "kd0");
		if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr))
			return -1;
		memcpy(kd0_mac, ifr.ifr_hwaddr.sa_data, 6);
		close(fd);
	}
	skel = steer_bpf__open_and_load();
	if (!skel)
		return -1;
	prog_fd = bpf_program__fd(skel->progs.xgw_steer);
	kdp = xgw_kdp_open(skel->obj, &ifindex, 1, &err);
	if (!kdp)
		return -1;

	xgw_config_defaults(&cfg);
	/* [0]: 198.18.100.1:80/tcp, [1]: [2001:db8:100::1]:80/tcp, each over
	 * three backends :8080.  [2]: 198.18.100.2:80/tcp over VXLAN (VNI 42,
	 * to 198.18.2.20, inner MAC set) to 198.18.4.10:8080; [3]:
	 * 198.18.100.3:80/tcp over Geneve (VNI 77, to 198.18.2.21) to
	 * 198.18.5.10:8080; [4]: [2001:db8:100::2]:80/tcp over VXLAN to
	 * [2001:db8:4::10]:8080 (IPv6 inside an IPv4 underlay). */
	cfg.services = calloc(5, sizeof(*cfg.services));
	cfg.n_services = 5;
	cfg.tunnel.local_ip = xgw_pb_ip("198.18.2.1");
	for (int v = 2; v < 5; v++) {
		struct xgw_service_cfg *s = &cfg.services[v];
		struct xgw_backend_cfg *b;
		static const char *const vip[] = {"198.18.100.2", "198.18.100.3",
						  "2001:db8:100::2"};
		static const char *const be[] = {"198.18.4.10", "198.18.5.10", "2001:db8:4::10"};
		s->vip = xgw_pb_ip(vip[v - 2]);
		s->port = 80;
		s->proto = IPPROTO_TCP;
		s->datapath = XGW_DP_KERNEL;
		s->backends = calloc(1, sizeof(*s->backends));
		s->n_backends = 1;
		b = &s->backends[0];
		b->ip = xgw_pb_ip(be[v - 2]);
		b->port = 8080;
		b->weight = 1;
		b->tun = v == 3 ? XGW_TUN_GENEVE : XGW_TUN_VXLAN;
		b->tun_remote = xgw_pb_ip(v == 3 ? "198.18.2.21" : "198.18.2.20");
		b->vni = v == 3 ? 77 : 42;
		b->has_inner_mac = v != 3;
		memcpy(b->inner_mac, INNER_MAC, 6);
	}
	for (int v = 0; v < 2; v++) {
		struct xgw_service_cfg *s = &cfg.services[v];
		s->vip = xgw_pb_ip(v ? "2001:db8:100::1" : "198.18.100.1");
		s->port = 80;
		s->proto = IPPROTO_TCP;
		s->datapath = XGW_DP_KERNEL;
		s->backends = calloc(3, sizeof(*s->backends));
		s->n_backends = 3;
		for (int i = 0; i < 3; i++) {
			char a[32];
			snprintf(a, sizeof(a), v ? "2001:db8:2::1%d" : "198.18.2.1%d", i + 1);
			s->backends[i].ip = xgw_pb_ip(a);
			s->backends[i].port = 8080;
			s->backends[i].weight = 1;
		}
	}
	ct = xgw_ct_new(&cfg.conntrack);
	if (!ct)
		return -1;
	resync();
	return 0;
}

static int teardown(void **state)
{
	xgw_kdp_close(kdp);
	steer_bpf__destroy(skel);
	xgw_snapshot_free(snap);
	xgw_ct_free(ct);
	xgw_config_free(&cfg);
	return 0;
}

/* Run one frame; returns the XDP verdict, the frame rewritten in place. */
static int run(uint8_t *frame, uint32_t *len)
{
	struct xdp_md ctx = {.data_end = *len, .ingress_ifindex = (uint32_t)ifindex};
	uint8_t out[2048];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = *len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(prog_fd, &o), 0);
	memcpy(frame, out, o.data_size_out);
	*len = o.data_size_out;
	return (int)o.retval;
}

static uint64_t drops(unsigned reason)
{
	uint64_t v[XGW_DROP__MAX];

	assert_int_equal(xgw_bpf_percpu_sum(bpf_map__fd(skel->maps.kdp_drops), XGW_DROP__MAX, v),
			 0);
	return v[reason];
}

static uint32_t build(struct xgw_pb *b, uint8_t *buf)
{
	int n;

	memcpy(b->src_mac, CLI_MAC, 6);
	b->dst_mac[0] = 2;
	n = xgw_pb_build(b, buf, 2048);
	assert_true(n > 0);
	return (uint32_t)n;
}

/* The backend (1..3) the workers would pick for this flow. */
static unsigned user_pick(const char *src, uint16_t sport)
{
	struct xgw_addr s = xgw_pb_ip(src), d = xgw_pb_ip("198.18.100.1");
	const struct xgw_svc_rt *svc = xgw_snapshot_service(snap, &d, htons(80), IPPROTO_TCP);

	assert_non_null(svc);
	uint32_t id = xgw_maglev_pick(
	    svc->maglev, xgw_flow_hash(&s, &d, htons(sport), htons(80), IPPROTO_TCP, SEED));
	return id ? (unsigned)(svc->be[id].ip.b[3] - 10) : 0;
}

static unsigned dst_backend(const uint8_t *f)
{
	const uint8_t *ip = f + 14;

	if (ip[16] != 198 || ip[17] != 18 || ip[18] != 2)
		return 0;
	return ip[19] - 10u;
}

/* A TCP segment from the client to VIP:80 through XDP (XDP_TX): the
 * backend it went to. */
static unsigned client_segment(uint16_t sport, uint8_t flags)
{
	uint8_t f[2048];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = sport,
			   .dport = 80,
			   .tcp_flags = flags};
	uint32_t len = build(&b, f);

	assert_int_equal(run(f, &len), XDP_TX);
	return dst_backend(f);
}

static void test_syn_dnat_and_reply(void **state)
{
	uint8_t f[2048];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 40000,
			   .dport = 80,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len = build(&b, f);
	unsigned be = user_pick("198.18.1.2", 40000);

	assert_int_equal(run(f, &len), XDP_TX);
	assert_int_equal(dst_backend(f), be);
	assert_int_equal(f[14 + 22] << 8 | f[14 + 23], 8080); /* dport */
	assert_int_equal(f[14 + 8], 63);		      /* TTL */
	assert_memory_equal(f, BE_MAC[be - 1], 6);	      /* next hop */
	assert_true(xgw_pb_csum_ok(f, len));

	/* The SYN+ACK back: from the VIP:80 again, to the client's MAC. */
	char bip[32];
	snprintf(bip, sizeof(bip), "198.18.2.1%u", be);
	struct xgw_pb r = {.src = xgw_pb_ip(bip),
			   .dst = xgw_pb_ip("198.18.1.2"),
			   .proto = IPPROTO_TCP,
			   .sport = 8080,
			   .dport = 40000,
			   .tcp_flags = XGW_PB_SYN | XGW_PB_ACK};
	len = build(&r, f);
	assert_int_equal(run(f, &len), XDP_TX);
	assert_memory_equal(f + 14 + 12, "\xc6\x12\x64\x01", 4); /* saddr VIP */
	assert_int_equal(f[14 + 20] << 8 | f[14 + 21], 80);
	assert_memory_equal(f, CLI_MAC, 6);
	assert_true(xgw_pb_csum_ok(f, len));
}

static void test_ct_keeps_backend(void **state)
{
	uint8_t f[2048];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 40001,
			   .dport = 80,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len = build(&b, f);

	assert_int_equal(run(f, &len), XDP_TX);
	unsigned be = dst_backend(f);
	assert_true(be >= 1 && be <= 3);
	/* Drain that backend: new flows avoid it, this one stays. */
	cfg.services[0].backends[be - 1].weight = 0;
	resync();
	b.tcp_flags = XGW_PB_ACK;
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_TX);
	assert_int_equal(dst_backend(f), be);
	/* A new flow that Maglev gave to it before goes elsewhere now. */
	assert_true(user_pick("198.18.1.2", 40001) != be);
	cfg.services[0].backends[be - 1].weight = 1;
	resync();
}

/* on_down "reset" in XDP: a backend's connections leave the kernel
 * conntrack (both entries), the others stay; a removed one's next segment
 * is picked up by the table without the backend (a drained one, above,
 * stays on it). */
static void test_flush_backend(void **state)
{
	unsigned on[4] = {0}, first[30], be;
	uint16_t base = 49000; /* ports no other test's flows use */
	struct xgw_ct_backend_sel sel = {
	    .vip = xgw_pb_ip("198.18.100.1"), .vport = 80, .port = 8080, .proto = IPPROTO_TCP};

	for (uint16_t p = base; p < base + 30; p++) {
		first[p - base] = client_segment(p, XGW_PB_SYN);
		on[first[p - base]]++;
	}
	be = on[1] ? 1 : 2;
	assert_true(on[be] > 0 && on[be] < 30);
	sel.ip = xgw_pb_ip(be == 1 ? "198.18.2.11" : "198.18.2.12");
	cfg.services[0].backends[be - 1].weight = 0;
	resync();
	assert_int_equal(xgw_kdp_ct_flush_backend(kdp, ct, &sel), (int)on[be]);
	assert_int_equal(xgw_kdp_ct_flush_backend(kdp, ct, &sel), 0);
	for (uint16_t p = base; p < base + 30; p++) {
		unsigned now_on = client_segment(p, XGW_PB_ACK);

		/* the flushed ones moved, the others kept their backend */
		if (first[p - base] == be)
			assert_true(now_on != be && now_on != 0);
		else
			assert_int_equal(now_on, first[p - base]);
	}
	cfg.services[0].backends[be - 1].weight = 1;
	resync();
}

/* The kernel's pick equals the workers' for 600 new flows (source ports
 * from base: conntrack pins flows already seen), at table size M. */
static void same_pick(uint32_t m, uint16_t base)
{
	uint8_t f[2048];
	unsigned hits[4] = {0};
	struct xgw_addr vip = xgw_pb_ip("198.18.100.1");

	assert_int_equal(xgw_snapshot_service(snap, &vip, htons(80), IPPROTO_TCP)->maglev->size, m);
	for (unsigned i = 0; i < 600; i++) {
		char src[32];
		uint16_t sport = (uint16_t)(base + i * 7);
		snprintf(src, sizeof(src), "198.18.%u.%u", 1 + i % 2, 2 + i % 200);
		struct xgw_pb b = {.src = xgw_pb_ip(src),
				   .dst = vip,
				   .proto = IPPROTO_TCP,
				   .sport = sport,
				   .dport = 80,
				   .tcp_flags = XGW_PB_SYN};
		uint32_t len = build(&b, f);
		run(f, &len); /* next hop may be unknown: the rewrite is what counts */
		unsigned be = dst_backend(f);
		if (be != user_pick(src, sport))
			fail_msg("M %u, flow %s:%u: kernel picked be%u, workers pick be%u", m, src,
				 sport, be, user_pick(src, sport));
		hits[be]++;
	}
	assert_true(hits[1] > 100 && hits[2] > 100 && hits[3] > 100);
}

/* Default M from the weights (3 x 1: 401 slots), a service's own
 * maglev_size (65537, the ring stride), and back. */
static void test_maglev_same_pick(void **state)
{
	(void)state;
	same_pick(401, 1024);
	cfg.services[0].maglev_size = 65537;
	resync();
	same_pick(65537, 6000);
	cfg.services[0].maglev_size = 0;
	resync();
	same_pick(401, 11000);
}

static void test_icmp_echo(void **state)
{
	uint8_t f[2048];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_ICMP,
			   .sport = 7,
			   .dport = 1};
	uint32_t len = build(&b, f);

	assert_int_equal(run(f, &len), XDP_TX);
	assert_int_equal(f[14 + 20], 0); /* echo reply */
	assert_memory_equal(f + 14 + 12, "\xc6\x12\x64\x01", 4);
	assert_memory_equal(f + 14 + 16, "\xc6\x12\x01\x02", 4);
	assert_memory_equal(f, CLI_MAC, 6);
	assert_true(xgw_pb_csum_ok(f, len));
}

static void test_drops_and_handoff(void **state)
{
	uint8_t f[2048];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.9"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 5000,
			   .dport = 80,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len;
	uint64_t before;

	/* Policy deny. */
	cfg.policies = calloc(1, sizeof(*cfg.policies));
	cfg.n_policies = 1;
	cfg.policies[0].src = (struct xgw_prefix){xgw_pb_ip("198.18.1.9"), 32};
	cfg.policies[0].dport_lo = 80;
	cfg.policies[0].dport_hi = 80;
	resync();
	before = drops(XGW_DROP_POLICY);
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_DROP);
	assert_int_equal(drops(XGW_DROP_POLICY), before + 1);
	uint64_t hits[2] = {0, 0};
	xgw_kdp_policy_hits_add(kdp, hits, 1);
	assert_int_equal(hits[0], 1); /* the rule; hits[1]: the default */
	/* A write that keeps the rules (a backend's weight) keeps their
	 * hits; new rules start at 0. */
	cfg.services[0].backends[0].weight++;
	resync_from(true);
	hits[0] = 0;
	xgw_kdp_policy_hits_add(kdp, hits, 1);
	assert_int_equal(hits[0], 1);
	cfg.policies[0].dport_hi = 81;
	resync_from(true);
	hits[0] = 0;
	xgw_kdp_policy_hits_add(kdp, hits, 1);
	assert_int_equal(hits[0], 0);
	cfg.services[0].backends[0].weight--;
	free(cfg.policies);
	cfg.policies = NULL;
	cfg.n_policies = 0;

	/* No backend with weight > 0. */
	for (int i = 0; i < 3; i++)
		cfg.services[0].backends[i].weight = 0;
	resync();
	before = drops(XGW_DROP_NO_BACKEND);
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_DROP);
	assert_int_equal(drops(XGW_DROP_NO_BACKEND), before + 1);
	/* A lone RST opens nothing. */
	for (int i = 0; i < 3; i++)
		cfg.services[0].backends[i].weight = 1;
	resync();
	b.tcp_flags = XGW_PB_RST;
	before = drops(XGW_DROP_CT_INVALID);
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_DROP);
	assert_int_equal(drops(XGW_DROP_CT_INVALID), before + 1);

	/* IPv4 options: handed on to the steering rules (none loaded here:
	 * the kernel stack), untouched. */
	b.tcp_flags = XGW_PB_SYN;
	b.ip4_opt_len = 4;
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_PASS);
	assert_memory_equal(f + 14 + 16, "\xc6\x12\x64\x01", 4);
}

/* A connection's packets skip the service lookup while their entry's gen
 * is kdp_cfg's: a service moved to the workers (or removed) must stop
 * being served by XDP at the next packet, and pick the flow up again
 * when it comes back, each after one sync.  Fails if a sync does not
 * bump the gen or an entry is trusted across it. */
static void test_svc_gen(void **state)
{
	uint8_t f[2048];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 40100,
			   .dport = 80,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len = build(&b, f);

	assert_int_equal(run(f, &len), XDP_TX);
	unsigned be = dst_backend(f);
	b.tcp_flags = XGW_PB_ACK;
	for (int i = 0; i < 2; i++) { /* the second one on the cached gen */
		len = build(&b, f);
		assert_int_equal(run(f, &len), XDP_TX);
		assert_int_equal(dst_backend(f), be);
	}
	cfg.services[0].datapath = XGW_DP_USER;
	resync();
	for (int i = 0; i < 2; i++) { /* handed on, untouched, each time */
		len = build(&b, f);
		assert_int_equal(run(f, &len), XDP_PASS);
		assert_memory_equal(f + 14 + 16, "\xc6\x12\x64\x01", 4);
	}
	cfg.services[0].datapath = XGW_DP_KERNEL;
	resync();
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_TX);
	assert_int_equal(dst_backend(f), be); /* the same connection */
}

/* The counters of service [0]'s backend whose address ends in .1N. */
static void be_counts(unsigned n, struct xgw_kdp_counts *o)
{
	const struct xgw_svc_rt *s = snap->svcs[0];

	for (uint32_t b = 1; b <= s->n_backends; b++)
		if (s->be[b].ip.b[3] == 10 + n) {
			assert_true(xgw_kdp_be_counts(kdp, s->be[b].ctr, o));
			return;
		}
	fail_msg("no backend .1%u", n);
}

/* Per-backend counters by counter slot: every packet each way, bytes,
 * the connections opened, the live ones (a conntrack count), and the
 * service's refusals by reason. */
static void test_counters(void **state)
{
	enum { FLOWS = 24 };
	struct xgw_kdp_counts c0[4], c1[4];
	uint64_t d0[XGW_DROP__MAX] = {0}, d1[XGW_DROP__MAX] = {0};
	uint64_t sent[4] = {0}, back[4] = {0}, bytes_sent[4] = {0}, bytes_back[4] = {0};
	unsigned made[4] = {0};
	static const uint8_t body[100];
	uint8_t f[2048];

	assert_true(snap->svcs[0]->ctr != 0);
	xgw_kdp_ct_count(kdp, ct, 0);
	for (unsigned n = 1; n <= 3; n++)
		be_counts(n, &c0[n]);
	xgw_kdp_svc_drops_add(kdp, snap->svcs[0]->ctr, d0);
	for (unsigned i = 0; i < FLOWS; i++) {
		uint16_t sport = (uint16_t)(43000 + i); /* no other test's flows */
		struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
				   .dst = xgw_pb_ip("198.18.100.1"),
				   .proto = IPPROTO_TCP,
				   .sport = sport,
				   .dport = 80,
				   .tcp_flags = XGW_PB_SYN};
		uint32_t len = build(&b, f), l0 = len;
		assert_int_equal(run(f, &len), XDP_TX);
		unsigned be = dst_backend(f);
		assert_true(be >= 1 && be <= 3);
		made[be]++;
		sent[be]++;
		bytes_sent[be] += l0;
		/* i % 3 + 1 more packets from the client, i % 2 + 1 back. */
		b.tcp_flags = XGW_PB_ACK;
		for (unsigned k = 0; k < i % 3 + 1; k++) {
			len = l0 = build(&b, f);
			assert_int_equal(run(f, &len), XDP_TX);
			sent[be]++;
			bytes_sent[be] += l0;
		}
		char bip[32];
		snprintf(bip, sizeof(bip), "198.18.2.1%u", be);
		struct xgw_pb r = {.src = xgw_pb_ip(bip),
				   .dst = xgw_pb_ip("198.18.1.2"),
				   .proto = IPPROTO_TCP,
				   .sport = 8080,
				   .dport = sport,
				   .tcp_flags = XGW_PB_ACK,
				   .payload = body,
				   .payload_len = sizeof(body)};
		for (unsigned k = 0; k < i % 2 + 1; k++) {
			len = l0 = build(&r, f);
			assert_int_equal(run(f, &len), XDP_TX);
			back[be]++;
			bytes_back[be] += l0;
		}
	}
	xgw_kdp_ct_count(kdp, ct, 0);
	unsigned total = 0;
	for (unsigned n = 1; n <= 3; n++) {
		be_counts(n, &c1[n]);
		assert_int_equal(c1[n].conns - c0[n].conns, made[n]);
		assert_int_equal(c1[n].pkts[0] - c0[n].pkts[0], sent[n]);
		assert_int_equal(c1[n].pkts[1] - c0[n].pkts[1], back[n]);
		assert_int_equal(c1[n].bytes[0] - c0[n].bytes[0], bytes_sent[n]);
		assert_int_equal(c1[n].bytes[1] - c0[n].bytes[1], bytes_back[n]);
		assert_int_equal(c1[n].active - c0[n].active, made[n]);
		total += made[n];
	}
	assert_int_equal(total, FLOWS);

	/* Refused for want of a backend: the service's no_backend. */
	for (int i = 0; i < 3; i++)
		cfg.services[0].backends[i].weight = 0;
	resync();
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.3"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 42000,
			   .dport = 80,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_DROP);
	for (int i = 0; i < 3; i++)
		cfg.services[0].backends[i].weight = 1;
	resync();
	xgw_kdp_svc_drops_add(kdp, snap->svcs[0]->ctr, d1);
	assert_int_equal(d1[XGW_DROP_NO_BACKEND] - d0[XGW_DROP_NO_BACKEND], 1);
	assert_int_equal(d1[XGW_DROP_POLICY], d0[XGW_DROP_POLICY]);
	/* A slot no kernel service had reads as none. */
	struct xgw_kdp_counts none;
	assert_false(xgw_kdp_be_counts(kdp, 60000, &none));
	assert_int_equal(none.conns, 0);
}

/* IPv6: the SYN's DNAT and its reply, the same Maglev pick as the
 * workers, echo. */
static void test_ipv6(void **state)
{
	const struct xgw_addr vip = xgw_pb_ip("2001:db8:100::1");
	const struct xgw_svc_rt *svc = xgw_snapshot_service(snap, &vip, htons(80), IPPROTO_TCP);
	uint8_t f[2048];
	uint32_t len;

	assert_non_null(svc);
	for (unsigned i = 0; i < 200; i++) {
		char src[64];
		snprintf(src, sizeof(src), "2001:db8:1::%x", 2 + i % 50);
		struct xgw_pb b = {.src = xgw_pb_ip(src),
				   .dst = vip,
				   .proto = IPPROTO_TCP,
				   .sport = (uint16_t)(2000 + i),
				   .dport = 80,
				   .tcp_flags = XGW_PB_SYN};
		len = build(&b, f);
		int verdict = run(f, &len);
		uint32_t id =
		    xgw_maglev_pick(svc->maglev, xgw_flow_hash(&b.src, &vip, htons(b.sport),
							       htons(80), IPPROTO_TCP, SEED));
		/* daddr at 14 + 24: the backend's last byte 0x11..0x13 */
		assert_memory_equal(f + 14 + 24, svc->be[id].ip.b, 16);
		assert_int_equal(f[14 + 40 + 2] << 8 | f[14 + 40 + 3], 8080);
		assert_true(xgw_pb_csum_ok(f, len));
		if (i == 0) {
			assert_int_equal(verdict, XDP_TX);
			assert_int_equal(f[14 + 7], 63); /* hop limit */
			/* The SYN+ACK back from that backend. */
			struct xgw_pb r = {.src = svc->be[id].ip,
					   .dst = b.src,
					   .proto = IPPROTO_TCP,
					   .sport = 8080,
					   .dport = b.sport,
					   .tcp_flags = XGW_PB_SYN | XGW_PB_ACK};
			len = build(&r, f);
			assert_int_equal(run(f, &len), XDP_TX);
			assert_memory_equal(f + 14 + 8, vip.b, 16);
			assert_int_equal(f[14 + 40] << 8 | f[14 + 41], 80);
			assert_memory_equal(f, CLI_MAC, 6);
			assert_true(xgw_pb_csum_ok(f, len));
		}
	}
	struct xgw_pb e = {.src = xgw_pb_ip("2001:db8:1::2"),
			   .dst = vip,
			   .proto = IPPROTO_ICMPV6,
			   .sport = 7,
			   .dport = 1};
	len = build(&e, f);
	assert_int_equal(run(f, &len), XDP_TX);
	assert_int_equal(f[14 + 40], 129); /* echo reply */
	assert_memory_equal(f + 14 + 8, vip.b, 16);
	assert_true(xgw_pb_csum_ok(f, len));
}

/* One connection per family's map (kdp_ct4 holds IPv4 under a 16-byte key,
 * kdp_ct6 IPv6 under the full one): `ct list` shows both with the tuples
 * as sent, a limit stops across the two, and flush empties both. */
static void test_ct_both_families(void **state)
{
	static const char *const src[] = {"198.18.1.2", "198.18.1.3", "2001:db8:1::7"};
	static const char *const vip[] = {"198.18.100.1", "198.18.100.1", "2001:db8:100::1"};
	uint8_t f[2048];
	json_t *arr;

	xgw_kdp_ct_flush(kdp);
	for (unsigned i = 0; i < 3; i++) {
		struct xgw_pb b = {.src = xgw_pb_ip(src[i]),
				   .dst = xgw_pb_ip(vip[i]),
				   .proto = IPPROTO_TCP,
				   .sport = (uint16_t)(41000 + i),
				   .dport = 80,
				   .tcp_flags = XGW_PB_SYN};
		uint32_t len = build(&b, f);

		assert_int_equal(run(f, &len), XDP_TX);
	}
	arr = json_array();
	xgw_kdp_ct_json(kdp, ct, arr, 0);
	assert_int_equal(json_array_size(arr), 3);
	for (unsigned i = 0; i < 3; i++) {
		bool found = false;

		for (size_t j = 0; j < json_array_size(arr); j++) {
			json_t *e = json_array_get(arr, j);

			if (strcmp(json_string_value(json_object_get(e, "src")), src[i]))
				continue;
			found = true;
			assert_string_equal(json_string_value(json_object_get(e, "dst")), vip[i]);
			assert_int_equal(json_integer_value(json_object_get(e, "sport")),
					 41000 + i);
			assert_int_equal(json_integer_value(json_object_get(e, "dport")), 80);
			assert_string_equal(json_string_value(json_object_get(e, "state")),
					    "syn_sent");
			/* The backend, as the reply tuple's source: 8080 on
			 * the VIP's family. */
			const char *be = json_string_value(json_object_get(e, "backend"));
			assert_non_null(strstr(be, i < 2 ? "198.18.2.1" : "[2001:db8:2::1"));
			assert_non_null(strstr(be, ":8080"));
		}
		assert_true(found);
	}
	json_decref(arr);
	arr = json_array();
	xgw_kdp_ct_json(kdp, ct, arr, 2);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
	assert_int_equal(xgw_kdp_ct_flush(kdp), 3);
	arr = json_array();
	xgw_kdp_ct_json(kdp, ct, arr, 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

/* SNAT: the client's address and port become the gateway's (the address
 * the kernel would use towards the backend) and come back. */
static void test_snat(void **state)
{
	uint8_t f[2048];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 41000,
			   .dport = 80,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len;

	cfg.services[0].snat = true;
	resync();
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_TX);
	unsigned be = dst_backend(f);
	assert_true(be >= 1 && be <= 3);
	assert_memory_equal(f + 14 + 12, "\xc6\x12\x02\x01", 4); /* 198.18.2.1 */
	uint16_t port = (uint16_t)(f[14 + 20] << 8 | f[14 + 21]);
	assert_true(port >= 1024);
	assert_true(xgw_pb_csum_ok(f, len));

	char bip[32];
	snprintf(bip, sizeof(bip), "198.18.2.1%u", be);
	struct xgw_pb r = {.src = xgw_pb_ip(bip),
			   .dst = xgw_pb_ip("198.18.2.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 8080,
			   .dport = port,
			   .tcp_flags = XGW_PB_SYN | XGW_PB_ACK};
	len = build(&r, f);
	assert_int_equal(run(f, &len), XDP_TX);
	assert_memory_equal(f + 14 + 12, "\xc6\x12\x64\x01", 4); /* from the VIP */
	assert_memory_equal(f + 14 + 16, "\xc6\x12\x01\x02", 4); /* to the client */
	assert_int_equal(f[14 + 20] << 8 | f[14 + 21], 80);
	assert_int_equal(f[14 + 22] << 8 | f[14 + 23], 41000);
	assert_memory_equal(f, CLI_MAC, 6);
	assert_true(xgw_pb_csum_ok(f, len));

	/* The egress policy sees the translated packet: a rule on the SNAT
	 * address (not the client's) stops a new flow. */
	cfg.policies = calloc(1, sizeof(*cfg.policies));
	cfg.n_policies = 1;
	cfg.policies[0].src = (struct xgw_prefix){xgw_pb_ip("198.18.2.1"), 32};
	cfg.policies[0].dport_lo = 8080;
	cfg.policies[0].dport_hi = 8080;
	cfg.policy_default_allow = true;
	resync();
	b.sport = 41001;
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_DROP);
	free(cfg.policies);
	cfg.policies = NULL;
	cfg.n_policies = 0;
	cfg.services[0].snat = false;
	resync();
}

static uint64_t kcnt(unsigned idx)
{
	uint64_t v[XGW_KDP_CNT__MAX];

	assert_int_equal(
	    xgw_bpf_percpu_sum_vec(bpf_map__fd(skel->maps.kdp_cnt), XGW_KDP_CNT__MAX, v), 0);
	return v[idx];
}

/* One segment of client 198.18.1.2:sport to vip:80 (from_be: be1's
 * 198.18.2.11:8080 to the client instead): the verdict. */
static int seg(const char *vip, uint16_t sport, int from_be, uint8_t flags, uint8_t *f)
{
	struct xgw_pb b = {.src = xgw_pb_ip(from_be ? "198.18.2.11" : "198.18.1.2"),
			   .dst = xgw_pb_ip(from_be ? "198.18.1.2" : vip),
			   .proto = IPPROTO_TCP,
			   .sport = from_be ? 8080 : sport,
			   .dport = from_be ? sport : 80,
			   .tcp_flags = flags};
	uint32_t len = build(&b, f);

	return run(f, &len);
}

/* Two VIPs onto one backend, and a client that reuses its port for the
 * second (it may: the destination differs): both connections want the
 * backend tuple be1:8080 -> client:port.  A live holder refuses the new
 * flow (conntrack_invalid); one closed by both FINs gives it to a new SYN,
 * and only to a SYN (ct_reused): the old connection's entries go, the
 * backend's replies now come from the second VIP.  xgw_ct_create's rule
 * (test_conntrack's test_closed_tuple_reuse). */
static void test_closed_tuple_reuse(void **state)
{
	struct xgw_service_cfg *s;
	uint8_t f[2048];
	uint16_t port = 47000;
	uint64_t inv, reused;

	while (user_pick("198.18.1.2", port) != 1)
		port++;
	cfg.services = realloc(cfg.services, 6 * sizeof(*cfg.services));
	s = &cfg.services[5];
	memset(s, 0, sizeof(*s));
	s->vip = xgw_pb_ip("198.18.100.9");
	s->port = 80;
	s->proto = IPPROTO_TCP;
	s->datapath = XGW_DP_KERNEL;
	s->backends = calloc(1, sizeof(*s->backends));
	s->n_backends = 1;
	s->backends[0].ip = xgw_pb_ip("198.18.2.11");
	s->backends[0].port = 8080;
	s->backends[0].weight = 1;
	cfg.n_services = 6;
	resync();

	assert_int_equal(seg("198.18.100.1", port, 0, XGW_PB_SYN, f), XDP_TX);
	assert_int_equal(dst_backend(f), 1);
	assert_int_equal(seg(0, port, 1, XGW_PB_SYN | XGW_PB_ACK, f), XDP_TX);
	assert_int_equal(seg("198.18.100.1", port, 0, XGW_PB_ACK, f), XDP_TX);
	inv = drops(XGW_DROP_CT_INVALID);
	reused = kcnt(XGW_KDP_CNT_CT_REUSED);
	/* live: refused */
	assert_int_equal(seg("198.18.100.9", port, 0, XGW_PB_SYN, f), XDP_DROP);
	assert_int_equal(drops(XGW_DROP_CT_INVALID), inv + 1);
	/* closed by both FINs; a segment that is no SYN still opens nothing */
	assert_int_equal(seg("198.18.100.1", port, 0, XGW_PB_FIN | XGW_PB_ACK, f), XDP_TX);
	assert_int_equal(seg(0, port, 1, XGW_PB_FIN | XGW_PB_ACK, f), XDP_TX);
	assert_memory_equal(f + 14 + 12, "\xc6\x12\x64\x01", 4);
	assert_int_equal(seg("198.18.100.9", port, 0, XGW_PB_ACK, f), XDP_DROP);
	assert_int_equal(drops(XGW_DROP_CT_INVALID), inv + 2);
	/* a SYN takes the tuple over */
	assert_int_equal(seg("198.18.100.9", port, 0, XGW_PB_SYN, f), XDP_TX);
	assert_int_equal(dst_backend(f), 1);
	assert_int_equal(kcnt(XGW_KDP_CNT_CT_REUSED), reused + 1);
	/* the backend's reply now comes from the second VIP */
	assert_int_equal(seg(0, port, 1, XGW_PB_SYN | XGW_PB_ACK, f), XDP_TX);
	assert_memory_equal(f + 14 + 12, "\xc6\x12\x64\x09", 4);
	/* the old connection's late segment opens nothing: the tuple is live */
	assert_int_equal(seg("198.18.100.1", port, 0, XGW_PB_ACK, f), XDP_DROP);
	assert_int_equal(drops(XGW_DROP_CT_INVALID), inv + 3);

	free(s->backends);
	cfg.n_services = 5;
	resync();
}

/* A client's SYN on its closed connection's tuple (it reused its port for
 * the same VIP): a new connection, its backend picked afresh, so a
 * backend drained since is not used again (the state machine alone
 * reopened the entry and kept it).  test_reopen.c is the workers' side. */
static void test_reopen_repicks(void **state)
{
	uint8_t f[2048];
	uint16_t port = 47100;
	uint64_t created;
	unsigned be;

	while (user_pick("198.18.1.2", port) != 1) /* be1: seg()'s backend */
		port++;
	assert_int_equal(seg("198.18.100.1", port, 0, XGW_PB_SYN, f), XDP_TX);
	be = dst_backend(f);
	assert_int_equal(be, 1);
	assert_int_equal(seg(0, port, 1, XGW_PB_SYN | XGW_PB_ACK, f), XDP_TX);
	assert_int_equal(seg("198.18.100.1", port, 0, XGW_PB_ACK, f), XDP_TX);
	assert_int_equal(seg("198.18.100.1", port, 0, XGW_PB_FIN | XGW_PB_ACK, f), XDP_TX);
	assert_int_equal(seg(0, port, 1, XGW_PB_FIN | XGW_PB_ACK, f), XDP_TX);
	assert_int_equal(seg("198.18.100.1", port, 0, XGW_PB_ACK, f), XDP_TX);
	assert_int_equal(dst_backend(f), 1);	/* TIME_WAIT: still tracked */
	cfg.services[0].backends[0].weight = 0; /* be1 drained */
	resync();
	created = kcnt(XGW_KDP_CNT_CT_NEW);
	assert_int_equal(seg("198.18.100.1", port, 0, XGW_PB_SYN, f), XDP_TX);
	be = dst_backend(f);
	assert_true(be == 2 || be == 3);
	assert_int_equal(kcnt(XGW_KDP_CNT_CT_NEW), created + 1);
	/* be1's late segment matches nothing: the workers' (none here) */
	assert_int_equal(seg(0, port, 1, XGW_PB_ACK, f), XDP_PASS);
	cfg.services[0].backends[0].weight = 1;
	resync();
}

/* XDP hands frame f on to the steering rules: untouched, counted once as
 * punted_to_user. */
static void assert_handed_on(uint8_t *f, uint32_t len)
{
	static uint8_t ref[4096];
	uint64_t p0 = kcnt(XGW_KDP_CNT_PUNT);

	memcpy(ref, f, len);
	assert_int_equal(run(f, &len), XDP_PASS);
	assert_memory_equal(f, ref, len);
	assert_int_equal(kcnt(XGW_KDP_CNT_PUNT), p0 + 1);
}

static uint32_t build_mac(struct xgw_pb *b, uint8_t *buf, const uint8_t *dmac, const uint8_t *smac)
{
	int n;

	memcpy(b->dst_mac, dmac, 6);
	memcpy(b->src_mac, smac, 6);
	n = xgw_pb_build(b, buf, 2048);
	assert_true(n > 0);
	return (uint32_t)n;
}

/* What the workers' codec (tunnel/tunnel.h) makes of the frame's IP
 * packet for an endpoint local -> remote: the independent reference. */
static uint32_t user_encap(uint8_t *out, const uint8_t *frame, uint32_t len, uint8_t type,
			   const char *local, const char *remote, uint32_t vni,
			   const uint8_t *inner_mac, uint64_t hash, const uint8_t *dmac,
			   const uint8_t *smac)
{
	static uint8_t buf[4096];
	struct xgw_pkt p = {0};
	struct xgw_tun_ep ep;

	memcpy(buf + 256, frame, len);
	p.data = buf + 256;
	p.len = len;
	p.headroom = 256;
	assert_int_equal(xgw_parse(&p), 0);
	xgw_tun_ep_init(&ep, type, xgw_pb_ip(local).w[0], xgw_pb_ip(remote).w[0],
			htons(type == XGW_TUNK_VXLAN ? 4789 : 6081), vni, inner_mac);
	xgw_tun_encap(&p, &ep, hash, dmac, smac);
	memcpy(out, p.data, p.len);
	return p.len;
}

/* A frame's Geneve header (at 42) gets n options of 8 bytes (class
 * 0x0102, type 0x11, or 0x91 with the critical bit), lengths and the outer
 * IPv4 checksum fixed. */
static uint32_t geneve_opts(uint8_t *f, uint32_t len, unsigned n, bool crit)
{
	uint32_t add = n * 8;
	uint16_t v;

	memmove(f + 50 + add, f + 50, len - 50);
	for (unsigned i = 0; i < n; i++) {
		uint8_t o[8] = {0x01, 0x02, crit ? 0x91 : 0x11, 1, 0xde, 0xad, 0xbe, (uint8_t)i};
		memcpy(f + 50 + i * 8, o, 8);
	}
	f[42] = (uint8_t)((f[42] & 0xc0) | (n * 2));
	v = htons((uint16_t)(f[16] << 8 | f[17]) + (uint16_t)add);
	memcpy(f + 16, &v, 2);
	v = htons((uint16_t)(f[38] << 8 | f[39]) + (uint16_t)add);
	memcpy(f + 38, &v, 2);
	f[24] = f[25] = 0;
	v = xgw_csum(f + 14, 20);
	memcpy(f + 24, &v, 2);
	return len + add;
}

/* A SYN to the VIP of a tunnel backend: the frame XDP sends is byte for
 * byte the workers' codec's output for the DNATed packet (same template,
 * next hop, flow hash); then the backend's SYN+ACK, encapsulated by the
 * remote as the codec does, comes back decapsulated and reverse-NATed. */
static void tunnel_case(const char *client, const char *vip, const char *be, uint8_t type,
			const char *remote, uint32_t vni, const uint8_t *inner_mac,
			const uint8_t *vtep_mac, uint16_t sport)
{
	static uint8_t f[2048], x[2048], e[2048];
	unsigned enc = type == XGW_TUNK_VXLAN ? XGW_KDP_CNT_VXLAN_ENCAP : XGW_KDP_CNT_GENEVE_ENCAP;
	unsigned dec = type == XGW_TUNK_VXLAN ? XGW_KDP_CNT_VXLAN_DECAP : XGW_KDP_CNT_GENEVE_DECAP;
	struct xgw_pb b = {.src = xgw_pb_ip(client),
			   .dst = xgw_pb_ip(vip),
			   .proto = IPPROTO_TCP,
			   .sport = sport,
			   .dport = 80,
			   .seq = 1000,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len = build(&b, f), elen, xlen;
	uint64_t n0 = kcnt(enc), d0 = kcnt(dec);
	uint64_t hash = xgw_flow_hash(&b.src, &b.dst, htons(sport), htons(80), IPPROTO_TCP, SEED);

	assert_int_equal(run(f, &len), XDP_TX);
	struct xgw_pb d = b;
	d.dst = xgw_pb_ip(be);
	d.dport = 8080;
	d.ttl = 63;
	elen = build(&d, e);
	xlen = user_encap(x, e, elen, type, "198.18.2.1", remote, vni, inner_mac, hash, vtep_mac,
			  kd0_mac);
	assert_int_equal(len, xlen);
	assert_memory_equal(f, x, xlen);
	assert_int_equal(kcnt(enc), n0 + 1);

	/* An ACK padded to 60 bytes: the padding is not carried. */
	b.tcp_flags = XGW_PB_ACK;
	b.pad_to = 60;
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_TX);
	d.tcp_flags = XGW_PB_ACK;
	elen = build(&d, e);
	xlen = user_encap(x, e, elen, type, "198.18.2.1", remote, vni, inner_mac, hash, vtep_mac,
			  kd0_mac);
	assert_int_equal(len, xlen);
	assert_memory_equal(f, x, xlen);

	/* The SYN+ACK through the tunnel. */
	struct xgw_pb r = {.src = xgw_pb_ip(be),
			   .dst = xgw_pb_ip(client),
			   .proto = IPPROTO_TCP,
			   .sport = 8080,
			   .dport = sport,
			   .seq = 5000,
			   .tcp_flags = XGW_PB_SYN | XGW_PB_ACK};
	elen = build_mac(&r, e, kd0_mac, INNER_MAC);
	len =
	    user_encap(f, e, elen, type, remote, "198.18.2.1", vni, kd0_mac, 7, kd0_mac, vtep_mac);
	if (type == XGW_TUNK_GENEVE) /* options are skipped */
		len = geneve_opts(f, len, 2, false);
	assert_int_equal(run(f, &len), XDP_TX);
	r.src = b.dst;
	r.sport = 80;
	r.ttl = 63;
	elen = build_mac(&r, e, CLI_MAC, kd0_mac);
	assert_int_equal(len, elen);
	assert_memory_equal(f, e, elen);
	assert_int_equal(kcnt(dec), d0 + 1);
}

static void test_tunnel_vxlan(void **state)
{
	(void)state;
	tunnel_case("198.18.1.2", "198.18.100.2", "198.18.4.10", XGW_TUNK_VXLAN, "198.18.2.20", 42,
		    INNER_MAC, VTEP_MAC[0], 45000);
	/* IPv6 inside the IPv4 underlay. */
	tunnel_case("2001:db8:1::2", "2001:db8:100::2", "2001:db8:4::10", XGW_TUNK_VXLAN,
		    "198.18.2.20", 42, INNER_MAC, VTEP_MAC[0], 45001);
}

static void test_tunnel_geneve(void **state)
{
	(void)state;
	/* No inner MAC configured: the egress port's own. */
	tunnel_case("198.18.1.2", "198.18.100.3", "198.18.5.10", XGW_TUNK_GENEVE, "198.18.2.21", 77,
		    NULL, VTEP_MAC[1], 46000);
}

/* What XDP leaves to the workers, untouched and counted: Geneve with more
 * options than it walks, a critical option, a reply of no kernel
 * connection, a packet too big once encapsulated. */
static void test_tunnel_hand_on(void **state)
{
	static uint8_t f[4096], e[2048];
	uint32_t len, elen;

	(void)state;
	struct xgw_pb r = {.src = xgw_pb_ip("198.18.5.10"),
			   .dst = xgw_pb_ip("198.18.1.2"),
			   .proto = IPPROTO_TCP,
			   .sport = 8080,
			   .dport = 46000,
			   .tcp_flags = XGW_PB_ACK};
	elen = build_mac(&r, e, kd0_mac, INNER_MAC);
	for (int c = 0; c < 3; c++) {
		len = user_encap(f, e, elen, XGW_TUNK_GENEVE, "198.18.2.21", "198.18.2.1", 77,
				 kd0_mac, 7, kd0_mac, VTEP_MAC[1]);
		if (c == 0) /* one option past the bound */
			len = geneve_opts(f, len, XGW_KDP_GENEVE_OPTS_MAX + 1, false);
		else if (c == 1)
			len = geneve_opts(f, len, 1, true);
		else /* no connection from 198.18.5.10:8081 */
			f[50 + 14 + 20 + 1] = 0x91;
		if (c == 2)
			xgw_pb_csum_fill(f + 50, len - 50);
		assert_handed_on(f, len);
	}
	/* The same number of options as the bound is decapsulated. */
	len = user_encap(f, e, elen, XGW_TUNK_GENEVE, "198.18.2.21", "198.18.2.1", 77, kd0_mac, 7,
			 kd0_mac, VTEP_MAC[1]);
	len = geneve_opts(f, len, XGW_KDP_GENEVE_OPTS_MAX, false);
	assert_int_equal(run(f, &len), XDP_TX);

	/* 1460 bytes of TCP payload: 1500 + 50 do not fit kd0's MTU. */
	static uint8_t pl[1460];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.100.2"),
			   .proto = IPPROTO_TCP,
			   .sport = 45000,
			   .dport = 80,
			   .tcp_flags = XGW_PB_ACK,
			   .payload = pl,
			   .payload_len = sizeof(pl)};
	len = build(&b, f);
	assert_handed_on(f, len);
	b.payload_len = 1450 - 40; /* 1450 + 50 fit */
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_TX);
}

static uint64_t scnt(unsigned idx)
{
	uint64_t v[XGW_STEER_CNT__MAX];

	assert_int_equal(
	    xgw_bpf_percpu_sum(bpf_map__fd(skel->maps.steer_stats), XGW_STEER_CNT__MAX, v), 0);
	return v[idx];
}

/* Through the VXLAN endpoint of service [2] (a kernel one), the frame of
 * inner packet b: its steering verdict, as counted (passed: the kernel's;
 * steered: no socket here, so counted as such), and no kernel punt
 * counted for a check's answer. */
static void check_answer_case(struct xgw_pb *b, bool answer)
{
	static uint8_t f[2048], e[2048];
	uint64_t passed = scnt(XGW_STEER_CNT_PASSED), nosock = scnt(XGW_STEER_CNT_NOSOCK);
	uint64_t punt = kcnt(XGW_KDP_CNT_PUNT);
	uint32_t elen = build_mac(b, e, kd0_mac, INNER_MAC), len;

	len = user_encap(f, e, elen, XGW_TUNK_VXLAN, "198.18.2.20", "198.18.2.1", 42, kd0_mac, 7,
			 kd0_mac, VTEP_MAC[0]);
	assert_int_equal(run(f, &len), XDP_PASS);
	assert_int_equal(scnt(XGW_STEER_CNT_PASSED), passed + answer);
	assert_int_equal(scnt(XGW_STEER_CNT_NOSOCK), nosock + !answer);
	if (answer && b->proto == IPPROTO_TCP)
		assert_int_equal(kcnt(XGW_KDP_CNT_PUNT), punt);
}

/* The answer of a health check through a tunnel (health/tun_path.h): a
 * tunnel packet whose inner packet goes to tunnel.local_ip and a check
 * port, or is an ICMP error quoting a check's packet, is passed to the
 * kernel (xgwd's relay) by the steering rules; a backend's reply to a
 * client that happens to use a port in that range is steered as ever. */
static void test_tunnel_check_answer(void **state)
{
	struct xgw_steer_key k = {.prefixlen = XGW_STEER_KEY_FIXED_BITS + 32,
				  .family = AF_INET,
				  .proto = IPPROTO_UDP,
				  .dport = htons(4789)};
	struct xgw_steer_val v = {.rule_id = XGW_STEER_ID_TUNNEL};
	__u32 zero = 0, classes = XGW_STEER_CLASS_PROTO_PORT;
	static uint8_t q[256];
	int n;

	(void)state;
	memcpy(k.addr, xgw_pb_ip("198.18.2.1").b, 4);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.steer_rules), &k, &v, 0), 0);
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.steer_classes), &zero, &classes, 0), 0);

	struct xgw_pb b = {.src = xgw_pb_ip("198.18.4.10"),
			   .dst = xgw_pb_ip("198.18.2.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 8081,
			   .dport = 65100,
			   .tcp_flags = XGW_PB_SYN | XGW_PB_ACK};
	check_answer_case(&b, true);
	b.dport = 65000; /* below the checks' range: a service's */
	check_answer_case(&b, false);
	b.dst = xgw_pb_ip("198.18.1.2"); /* a client's port in the range */
	b.dport = 65100;
	check_answer_case(&b, false);

	/* Port unreachable about a UDP check's datagram, and about a
	 * client's from the same port. */
	struct xgw_pb u = {.src = xgw_pb_ip("198.18.2.1"),
			   .dst = xgw_pb_ip("198.18.4.10"),
			   .proto = IPPROTO_UDP,
			   .sport = 65100,
			   .dport = 53};
	n = xgw_pb_build(&u, q, sizeof(q));
	assert_true(n > 14);
	struct xgw_pb i = {.src = xgw_pb_ip("198.18.4.10"),
			   .dst = xgw_pb_ip("198.18.2.1"),
			   .proto = IPPROTO_ICMP,
			   .icmp_other = true,
			   .icmp_type = 3,
			   .icmp_code = 3,
			   .payload = q + 14,
			   .payload_len = (size_t)n - 14};
	check_answer_case(&i, true);
	u.src = xgw_pb_ip("198.18.1.2");
	n = xgw_pb_build(&u, q, sizeof(q));
	i.dst = u.src;
	check_answer_case(&i, false);

	classes = 0;
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.steer_classes), &zero, &classes, 0), 0);
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(skel->maps.steer_rules), &k), 0);
}

/* One frame through the program: steered (to no socket here: counted as
 * such) or passed to the kernel. */
static void steer_case(struct xgw_pb *b, bool passed)
{
	static uint8_t f[2048];
	uint64_t p0 = scnt(XGW_STEER_CNT_PASSED), n0 = scnt(XGW_STEER_CNT_NOSOCK);
	uint32_t len = build_mac(b, f, kd0_mac, kd0_mac);

	assert_int_equal(run(f, &len), XDP_PASS);
	assert_int_equal(scnt(XGW_STEER_CNT_PASSED), p0 + passed);
	assert_int_equal(scnt(XGW_STEER_CNT_NOSOCK), n0 + !passed);
}

/* A backend's packet to a port of the checks' range is a health check's
 * answer only if one of this host's sockets holds it (here a UDP socket
 * and a connecting TCP one, as the checker's); a client of a user service
 * using such a port (Windows, macOS) gets its replies steered to the
 * workers as any other. */
static void test_check_answer_native(void **state)
{
	int fd_sk = bpf_map__fd(skel->maps.steer_src),
	    fd_cl = bpf_map__fd(skel->maps.steer_classes);
	struct xgw_steer_val v = {.rule_id = 1};
	struct xgw_steer_src_key sk = {.family = AF_INET, .sport = htons(8080)};
	struct sockaddr_in be = {.sin_family = AF_INET, .sin_port = htons(8080)};
	struct sockaddr_in me = {.sin_family = AF_INET};
	__u32 zero = 0, classes = XGW_STEER_CLASS_SRC;
	int u, t;

	(void)state;
	memcpy(sk.addr, xgw_pb_ip("198.18.2.30").b, 4);
	for (int i = 0; i < 2; i++) {
		sk.proto = i ? IPPROTO_UDP : IPPROTO_TCP;
		assert_int_equal(bpf_map_update_elem(fd_sk, &sk, &v, 0), 0);
	}
	assert_int_equal(bpf_map_update_elem(fd_cl, &zero, &classes, 0), 0);
	inet_pton(AF_INET, "198.18.2.30", &be.sin_addr);
	inet_pton(AF_INET, "198.18.1.1", &me.sin_addr);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	me.sin_port = htons(65200);
	assert_int_equal(bind(u, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(connect(u, (struct sockaddr *)&be, sizeof(be)), 0);
	t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	me.sin_port = htons(65300);
	assert_int_equal(bind(t, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(connect(t, (struct sockaddr *)&be, sizeof(be)), -1);
	assert_int_equal(errno, EINPROGRESS); /* SYN_SENT: the check's state */

	struct xgw_pb b = {.src = xgw_pb_ip("198.18.2.30"),
			   .dst = xgw_pb_ip("198.18.1.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 8080,
			   .dport = 65300,
			   .tcp_flags = XGW_PB_SYN | XGW_PB_ACK};
	steer_case(&b, true);
	b.dst = xgw_pb_ip("198.18.1.2"); /* a client's port 65300 */
	steer_case(&b, false);
	b.proto = IPPROTO_UDP;
	b.dst = xgw_pb_ip("198.18.1.1");
	b.dport = 65200;
	steer_case(&b, true);
	b.dport = 65201; /* no socket */
	steer_case(&b, false);
	b.dport = 5000; /* below the range: a service reply */
	steer_case(&b, false);

	close(u);
	close(t);
	classes = 0;
	assert_int_equal(bpf_map_update_elem(fd_cl, &zero, &classes, 0), 0);
	for (int i = 0; i < 2; i++) {
		sk.proto = i ? IPPROTO_UDP : IPPROTO_TCP;
		assert_int_equal(bpf_map_delete_elem(fd_sk, &sk), 0);
	}
}

/* A packet too big for the way to the backend goes on untouched to the
 * workers (which answer with frag-needed / packet too big), both when the
 * next hop is looked up for it and when it comes from the connection's
 * cache; one too big for the way back to the client is dropped as
 * exceeds_mtu.  kd0 at MTU 1300 for the test. */
/* Backend frame f (len bytes, to kd0) too big for the way to the client
 * (kd0 at MTU 1300): answered with fragmentation needed / packet too big
 * to the backend be, from the gateway's gw, back where it came from, with
 * MTU 1300 and f's IP packet quoted (the header + 8 bytes, or 1232 bytes
 * of IPv6) as it came, checksums right (pktbuild's own), counted. */
static void too_big_back(uint8_t *f, uint32_t len, const char *gw, const char *be, int v6)
{
	static uint8_t in[2048];
	uint64_t n0 = kcnt(XGW_KDP_CNT_TOO_BIG_SENT), d0 = drops(XGW_DROP_MTU);
	struct xgw_addr g = xgw_pb_ip(gw), b = xgw_pb_ip(be);
	unsigned q = v6 ? 1232 : 28, l3 = v6 ? 48 : 28;

	memcpy(in, f, len);
	assert_int_equal(run(f, &len), XDP_TX);
	assert_int_equal(len, 14 + l3 + q);
	assert_memory_equal(f, in + 6, 6); /* back to the sender's MAC */
	assert_memory_equal(f + 6, in, 6);
	if (v6) {
		assert_int_equal(f[12] << 8 | f[13], 0x86dd);
		assert_int_equal(f[14 + 6], IPPROTO_ICMPV6);
		assert_int_equal(f[14 + 4] << 8 | f[14 + 5], 8 + q);
		assert_memory_equal(f + 14 + 8, g.b, 16);
		assert_memory_equal(f + 14 + 24, b.b, 16);
		assert_int_equal(f[54], 2); /* packet too big */
		assert_int_equal(f[55], 0);
		assert_int_equal(f[58] << 24 | f[59] << 16 | f[60] << 8 | f[61], 1300);
	} else {
		assert_int_equal(f[12] << 8 | f[13], 0x0800);
		assert_int_equal(f[14 + 9], IPPROTO_ICMP);
		assert_int_equal(f[14 + 2] << 8 | f[14 + 3], 28 + q);
		assert_memory_equal(f + 14 + 12, g.b, 4);
		assert_memory_equal(f + 14 + 16, b.b, 4);
		assert_int_equal(f[34], 3); /* destination unreachable */
		assert_int_equal(f[35], 4); /* fragmentation needed */
		assert_int_equal(f[40] << 8 | f[41], 1300);
	}
	assert_memory_equal(f + 14 + l3, in + 14, q);
	assert_true(xgw_pb_csum_ok(f, len));
	assert_int_equal(kcnt(XGW_KDP_CNT_TOO_BIG_SENT), n0 + 1);
	assert_int_equal(drops(XGW_DROP_MTU), d0);
}

static void too_big_case(const char *client, const char *vip, const char *be_prefix, int v6)
{
	static uint8_t f[2048], pl[1400];
	unsigned hdr = v6 ? 40 + 20 : 20 + 20;
	uint32_t len;
	struct xgw_pb b = {.src = xgw_pb_ip(client),
			   .dst = xgw_pb_ip(vip),
			   .proto = IPPROTO_TCP,
			   .sport = 48000,
			   .dport = 80,
			   .tcp_flags = XGW_PB_ACK,
			   .payload = pl};

	/* 1. The connection's first packet too big (the FIB lookup's
	 * verdict): untouched, counted as handed on. */
	b.payload_len = 1300 - hdr + 1;
	len = build(&b, f);
	assert_handed_on(f, len);
	/* 2. One that fits exactly goes out (and fills the cache). */
	b.payload_len = 1300 - hdr;
	len = build(&b, f);
	assert_int_equal(run(f, &len), XDP_TX);
	unsigned be = v6 ? f[14 + 39] - 0x10 : f[14 + 19] - 10;
	assert_true(be >= 1 && be <= 3);
	/* 3. Too big again, now against the cached next hop's MTU. */
	b.payload_len = 1300 - hdr + 1;
	len = build(&b, f);
	assert_handed_on(f, len);
	/* 4. The backend's reply too big for the way to the client. */
	char bip[64];
	snprintf(bip, sizeof(bip), "%s%u", be_prefix, be);
	struct xgw_pb r = {.src = xgw_pb_ip(bip),
			   .dst = xgw_pb_ip(client),
			   .proto = IPPROTO_TCP,
			   .sport = 8080,
			   .dport = 48000,
			   .tcp_flags = XGW_PB_ACK,
			   .payload = pl,
			   .payload_len = 1300 - hdr + 1};
	len = build_mac(&r, f, kd0_mac, BE_MAC[be - 1]);
	too_big_back(f, len, be_prefix, bip, v6);
	r.payload_len = 1300 - hdr;
	len = build_mac(&r, f, kd0_mac, BE_MAC[be - 1]);
	assert_int_equal(run(f, &len), XDP_TX);
	assert_memory_equal(f, CLI_MAC, 6);
	assert_true(xgw_pb_csum_ok(f, len));
}

static void test_too_big(void **state)
{
	(void)state;
	assert_int_equal(sh("ip link set kd0 mtu 1300"), 0);
	too_big_case("198.18.1.2", "198.18.100.1", "198.18.2.1", 0);
	too_big_case("2001:db8:1::2", "2001:db8:100::1", "2001:db8:2::1", 1);
	assert_int_equal(sh("ip link set kd0 mtu 1500"), 0);
}

/* An ICMP error from the backend quoting the DNATed packet goes back to
 * the client as if the VIP had sent it, quoting the client's own packet:
 * compared with a frame built from scratch (checksums in full). */
static void icmp_case(const char *client, const char *vip, uint8_t type, uint8_t code, uint16_t mtu,
		      uint16_t sport)
{
	static uint8_t f[2048], e[2048], q[2048];
	bool v6 = strchr(client, ':') != NULL;
	unsigned qlen = v6 ? 60 : 40, l3 = v6 ? 40 : 20;
	struct xgw_pb b = {.src = xgw_pb_ip(client),
			   .dst = xgw_pb_ip(vip),
			   .proto = IPPROTO_TCP,
			   .sport = sport,
			   .dport = 80,
			   .seq = 77,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len = build(&b, f), elen;
	struct xgw_addr be = {.family = v6 ? AF_INET6 : AF_INET};
	uint64_t n0 = kcnt(XGW_KDP_CNT_ICMP_ERR);

	assert_int_equal(run(f, &len), XDP_TX);
	memcpy(q, f + 14, qlen); /* the DNATed packet as the backend got it */
	memcpy(be.b, f + 14 + (v6 ? 24 : 16), v6 ? 16 : 4);
	struct xgw_pb err = {.src = be,
			     .dst = b.src,
			     .proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
			     .icmp_other = true,
			     .icmp_type = type,
			     .icmp_code = code,
			     .dport = mtu,
			     .payload = q,
			     .payload_len = qlen};
	len = build_mac(&err, f, kd0_mac, BE_MAC[0]);
	assert_int_equal(run(f, &len), XDP_TX);
	/* Expected: the client's SYN as it left the gateway's view (TTL 63)
	 * quoted, from the VIP to the client. */
	b.ttl = 63;
	elen = build(&b, e);
	memcpy(q, e + 14, qlen);
	err.src = b.dst;
	err.ttl = 63;
	elen = build_mac(&err, e, CLI_MAC, kd0_mac);
	assert_int_equal(len, elen);
	assert_memory_equal(f, e, elen);
	assert_true(xgw_pb_csum_ok(f, len));
	assert_int_equal(kcnt(XGW_KDP_CNT_ICMP_ERR), n0 + 1);
	(void)l3;
}

static void test_icmp_errors(void **state)
{
	static uint8_t f[2048], ref[2048], q[64];
	uint32_t len;

	(void)state;
	icmp_case("198.18.1.2", "198.18.100.1", 3, 4, 1400, 42000);	  /* frag needed */
	icmp_case("198.18.1.2", "198.18.100.1", 3, 3, 0, 42001);	  /* port unreachable */
	icmp_case("2001:db8:1::2", "2001:db8:100::1", 2, 0, 1280, 42002); /* packet too big */
	/* About no kernel connection: handed on untouched. */
	struct xgw_pb o = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.2.11"),
			   .proto = IPPROTO_TCP,
			   .sport = 999,
			   .dport = 8080};
	len = build(&o, f);
	memcpy(q, f + 14, 40);
	struct xgw_pb err = {.src = xgw_pb_ip("198.18.2.11"),
			     .dst = xgw_pb_ip("198.18.1.2"),
			     .proto = IPPROTO_ICMP,
			     .icmp_other = true,
			     .icmp_type = 3,
			     .icmp_code = 3,
			     .payload = q,
			     .payload_len = 40};
	len = build(&err, f);
	memcpy(ref, f, len);
	assert_int_equal(run(f, &len), XDP_PASS);
	assert_memory_equal(f, ref, len);
}

static void test_refusals(void **state)
{
	char err[256];
	struct xgw_service_cfg *s = &cfg.services[0];

	/* Tunnel backends are served now (test_tunnel_*). */
	assert_int_equal(xgw_kdp_check(&cfg, err, sizeof(err)), 0);
	s->algo = XGW_ALGO_RR;
	assert_int_equal(xgw_kdp_check(&cfg, err, sizeof(err)), -EINVAL);
	s->algo = XGW_ALGO_MAGLEV;
	assert_int_equal(xgw_kdp_check(&cfg, err, sizeof(err)), 0);
}

/* Trace: with the flag on, one record per kernel packet, saying what the
 * program did (service, conntrack and state, backend, verdict, drop
 * reason), the frame before and after; none once off.  Then the same
 * records as the tap turns them into trace text, marked kernel. */
#define MAX_TR 8
static struct xgw_kdp_trace trs[MAX_TR];
static unsigned n_tr;

static void collect(void *ctx, const struct xgw_kdp_trace *r)
{
	if (n_tr < MAX_TR)
		trs[n_tr] = *r;
	n_tr++;
}

/* SYN, the backend's SYN+ACK, the ACK, then a lone RST of another flow
 * (refused: conntrack_invalid). */
static void trace_flow(uint16_t sport, unsigned *be)
{
	uint8_t f[2048];
	char bip[32];
	struct xgw_pb c = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = sport,
			   .dport = 80,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len = build(&c, f);

	*be = user_pick("198.18.1.2", sport);
	assert_int_equal(run(f, &len), XDP_TX);
	snprintf(bip, sizeof(bip), "198.18.2.1%u", *be);
	struct xgw_pb r = {.src = xgw_pb_ip(bip),
			   .dst = xgw_pb_ip("198.18.1.2"),
			   .proto = IPPROTO_TCP,
			   .sport = 8080,
			   .dport = sport,
			   .tcp_flags = XGW_PB_SYN | XGW_PB_ACK};
	len = build(&r, f);
	assert_int_equal(run(f, &len), XDP_TX);
	c.tcp_flags = XGW_PB_ACK;
	len = build(&c, f);
	assert_int_equal(run(f, &len), XDP_TX);
	c.sport = (uint16_t)(sport + 1);
	c.tcp_flags = XGW_PB_RST;
	len = build(&c, f);
	assert_int_equal(run(f, &len), XDP_DROP);
}

static void test_trace(void **state)
{
	uint8_t f[2048];
	unsigned be;

	xgw_kdp_trace_poll(kdp, NULL, NULL); /* nothing from earlier tests */
	assert_int_equal(xgw_kdp_trace_set(kdp, true), 0);
	resync();		/* a config change keeps the trace on */
	trace_flow(47000, &be); /* ports no other test's flows use */
	n_tr = 0;
	assert_int_equal(xgw_kdp_trace_poll(kdp, collect, NULL), 4);
	assert_int_equal(n_tr, 4);

	const struct xgw_kdp_trace *syn = &trs[0], *sa = &trs[1], *ack = &trs[2], *rst = &trs[3];
	assert_int_equal(syn->verdict, XDP_TX);
	assert_true(syn->svc && syn->parsed);
	assert_int_equal(syn->ct, XGW_KDP_TR_CT_NEW);
	assert_int_equal(syn->state_after, XGW_CT_SYN_SENT);
	assert_int_equal(syn->be_family, AF_INET);
	assert_int_equal(syn->be_addr[3], 10 + be);
	assert_int_equal(ntohs(syn->be_port), 8080);
	assert_int_equal(syn->ifindex, (uint32_t)ifindex);
	assert_true(syn->events & (1u << XGW_KDP_CNT_CT_NEW));
	/* In: to the VIP; out: to the backend, from its MAC on. */
	assert_memory_equal(syn->in + 14 + 16, "\xc6\x12\x64\x01", 4);
	assert_int_equal(syn->out[14 + 19], 10 + be);
	assert_memory_equal(syn->out, BE_MAC[be - 1], 6);
	assert_int_equal(syn->cap_in, syn->len_in);

	assert_int_equal(sa->ct, XGW_KDP_TR_CT_REPLY);
	assert_false(sa->svc);
	assert_int_equal(sa->state_before, XGW_CT_SYN_SENT);
	assert_int_equal(sa->state_after, XGW_CT_SYN_RECV);
	assert_int_equal(sa->verdict, XDP_TX);
	assert_memory_equal(sa->out + 14 + 12, "\xc6\x12\x64\x01", 4); /* from the VIP */

	assert_int_equal(ack->ct, XGW_KDP_TR_CT_ORIG);
	assert_int_equal(ack->state_before, XGW_CT_SYN_RECV);
	assert_int_equal(ack->state_after, XGW_CT_ESTABLISHED);
	assert_int_equal(ack->be_addr[3], 10 + be);

	assert_int_equal(rst->verdict, XDP_DROP);
	assert_int_equal(rst->drop, XGW_DROP_CT_INVALID);
	assert_int_equal(rst->ct, XGW_KDP_TR_CT_NONE);
	assert_true(rst->svc);

	/* Not a kernel service's packet: the workers' to trace, no record. */
	struct xgw_pb o = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.1.1"),
			   .proto = IPPROTO_TCP,
			   .sport = 1,
			   .dport = 22,
			   .tcp_flags = XGW_PB_SYN};
	uint32_t len = build(&o, f);
	run(f, &len);
	assert_int_equal(xgw_kdp_trace_poll(kdp, collect, NULL), 0);

	/* Off: no record. */
	assert_int_equal(xgw_kdp_trace_set(kdp, false), 0);
	trace_flow(47100, &be);
	assert_int_equal(xgw_kdp_trace_poll(kdp, NULL, NULL), 0);
}

/* The tap's side: a trace session takes the kernel records in as text
 * (filter and count applied), marked datapath kernel. */
static void test_trace_tap(void **state)
{
	struct xgw_dataplane dp = {0};
	char err[256] = "", want[64];
	json_t *args = json_pack("{s:i,s:s}", "count", 3, "filter", "tcp port 47200 or port 47201");
	unsigned be;

	dp.kdp = kdp;
	assert_int_equal(xgw_tap_start(&dp, XGW_TAP_TRACE, args, err, sizeof(err)), 0);
	json_decref(args);
	trace_flow(47300, &be); /* filtered out */
	trace_flow(47200, &be);
	json_t *res = xgw_tap_read(&dp, XGW_TAP_TRACE, 100, err, sizeof(err));
	assert_non_null(res);
	json_t *recs = json_object_get(res, "records");
	assert_int_equal(json_array_size(recs), 3); /* the count */
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(recs, i), "datapath")),
		    "kernel");
	const char *syn = json_string_value(json_object_get(json_array_get(recs, 0), "text"));
	const char *ack = json_string_value(json_object_get(json_array_get(recs, 2), "text"));
	assert_non_null(strstr(syn, "datapath kernel"));
	assert_non_null(strstr(syn, "tcp 198.18.1.2:47200 -> 198.18.100.1:80 [S]"));
	assert_non_null(strstr(syn, "service    198.18.100.1:80/tcp (kernel datapath)"));
	assert_non_null(strstr(syn, "conntrack  new, syn_sent"));
	snprintf(want, sizeof(want), "backend    198.18.2.1%u:8080", be);
	assert_non_null(strstr(syn, want));
	snprintf(want, sizeof(want), "nat        ipv4 tcp 198.18.1.2:47200 -> 198.18.2.1%u:8080",
		 be);
	assert_non_null(strstr(syn, want));
	assert_non_null(strstr(syn, "verdict    forwarded"));
	assert_non_null(strstr(ack, "conntrack  hit (original), syn_recv -> established"));
	assert_true(json_is_true(json_object_get(res, "done")));
	json_decref(res);
	res = xgw_tap_stop(&dp, XGW_TAP_TRACE, err, sizeof(err));
	assert_non_null(res);
	json_decref(res);
	/* The session over, the program makes no more records. */
	trace_flow(47400, &be);
	assert_int_equal(xgw_kdp_trace_poll(kdp, NULL, NULL), 0);

	/* A lone RST refused, traced with its reason. */
	args = json_pack("{s:i,s:s}", "count", 1, "filter", "tcp port 47501");
	assert_int_equal(xgw_tap_start(&dp, XGW_TAP_TRACE, args, err, sizeof(err)), 0);
	json_decref(args);
	trace_flow(47500, &be);
	res = xgw_tap_stop(&dp, XGW_TAP_TRACE, err, sizeof(err));
	recs = json_object_get(res, "records");
	assert_int_equal(json_array_size(recs), 1);
	const char *rst = json_string_value(json_object_get(json_array_get(recs, 0), "text"));
	assert_non_null(strstr(rst, "conntrack  none (new connection refused)"));
	assert_non_null(strstr(rst, "verdict    dropped: conntrack_invalid"));
	json_decref(res);
}

/* The IPv4 entry of client 198.18.1.2:sport to the VIP 198.18.100.1:80. */
static void ct4_entry(uint16_t sport, struct xgw_kdp_ct *v, bool write)
{
	struct xgw_kdp_ct4_key k4 = {.src = xgw_pb_ip("198.18.1.2").w[0],
				     .dst = xgw_pb_ip("198.18.100.1").w[0],
				     .sport = htons(sport),
				     .dport = htons(80),
				     .proto = IPPROTO_TCP};
	int fd = bpf_map__fd(skel->maps.kdp_ct4);

	assert_int_equal(write ? bpf_map_update_elem(fd, &k4, v, BPF_EXIST)
			       : bpf_map_lookup_elem(fd, &k4, v),
			 0);
}

/* `ct list`'s row of that connection, NULL if not listed (a new ref). */
static json_t *ct_row(uint16_t sport)
{
	json_t *arr = json_array(), *row = NULL;

	xgw_kdp_ct_json(kdp, ct, arr, 0);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);

		if (!strcmp(json_string_value(json_object_get(e, "src")), "198.18.1.2") &&
		    json_integer_value(json_object_get(e, "sport")) == sport)
			row = json_incref(e);
	}
	json_decref(arr);
	return row;
}

/* A translated UDP datagram never leaves with checksum 0, which would mean
 * "no checksum" over IPv4 (and is invalid over IPv6): the incremental
 * update's result is 0 for one payload in 65536, sent as 0xffff (RFC 768),
 * as the workers do (lb/nat.h).  Every payload word is tried, so that one
 * is among them. */
static void test_udp_csum_never_zero(void **state)
{
	uint8_t f[2048];
	unsigned ffff = 0;

	(void)state;
	cfg.services[0].proto = IPPROTO_UDP;
	resync();
	for (uint32_t x = 0; x < 65536; x++) {
		uint8_t pl[2] = {(uint8_t)(x >> 8), (uint8_t)x};
		struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
				   .dst = xgw_pb_ip("198.18.100.1"),
				   .proto = IPPROTO_UDP,
				   .sport = 40001,
				   .dport = 80,
				   .payload = pl,
				   .payload_len = sizeof(pl)};
		uint32_t len = build(&b, f);
		uint16_t cs;

		assert_int_equal(run(f, &len), XDP_TX);
		cs = (uint16_t)(f[14 + 20 + 6] << 8 | f[14 + 20 + 7]);
		if (cs == 0)
			fail_msg("payload %04x: UDP checksum 0 after DNAT", x);
		ffff += cs == 0xffff;
		assert_true(xgw_pb_csum_ok(f, len));
	}
	assert_true(ffff >= 1);
	cfg.services[0].proto = IPPROTO_TCP;
	resync();
}

/* The program's clock is bpf_jiffies64: kdp_cfg's timeouts and the next
 * hop's lifetime are in jiffies at the kernel's HZ, and xgwd reads the
 * entries' ages on that clock.  Fails if a timeout is left in ns, HZ is
 * measured wrong (its jiffies against CLOCK_MONOTONIC here), or `ct list`
 * ages entries on another clock. */
static void test_ct_aging(void **state)
{
	const uint16_t sport = 47500; /* no other test's flow */
	unsigned hz = xgw_kdp_hz();
	uint64_t est_s = xgw_ct_timeout(ct, IPPROTO_TCP, XGW_CT_ESTABLISHED) / 1000000000ull;
	struct xgw_kdp_ct v0, v;
	struct xgw_kdp_cfg kc;
	struct timespec t0, t1;
	uint32_t zero = 0;
	unsigned be;
	json_t *row;

	(void)state;
	assert_true(hz == 100 || hz == 250 || hz == 300 || hz == 1000);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.kdp_cfg), &zero, &kc), 0);
	assert_int_equal(kc.hz, hz);
	assert_int_equal(kc.nh_ttl, hz * XGW_KDP_NH_CACHE_NS / 1000000000ull);
	assert_true(est_s > 2);
	assert_int_equal(kc.to_tcp[XGW_CT_ESTABLISHED], est_s * hz);
	assert_int_equal(kc.to_udp,
			 xgw_ct_timeout(ct, IPPROTO_UDP, XGW_CT_NONE) / 1000000000ull * hz);

	/* Picked up mid-stream (ESTABLISHED), then a second segment: its
	 * last_seen is the program's now, on the clock xgwd reads. */
	be = client_segment(sport, XGW_PB_ACK);
	assert_true(be >= 1 && be <= 3);
	/* The entry a new flow makes holds its first packet's next hop and
	 * the gen its service was found under (kdp_new_flow fills both
	 * before the insert, where they used to be written after it). */
	ct4_entry(sport, &v0, false);
	assert_true(v0.nh_until > v0.last_seen && v0.nh_until - v0.last_seen <= kc.nh_ttl);
	assert_int_not_equal(v0.nh_ifindex, 0);
	assert_int_equal(v0.gen, kc.gen);
	assert_int_equal(client_segment(sport, XGW_PB_ACK), be);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ct4_entry(sport, &v0, false);
	uint64_t j = xgw_kdp_jiffies();
	assert_true(v0.last_seen <= j && j - v0.last_seen <= 2);
	assert_true(v0.nh_until > v0.last_seen && v0.nh_until - v0.last_seen <= kc.nh_ttl);

	/* HZ: the program's jiffies over 300 ms of CLOCK_MONOTONIC (a tick
	 * either end, and 5% for a loaded machine). */
	usleep(300000);
	assert_int_equal(client_segment(sport, XGW_PB_ACK), be);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ct4_entry(sport, &v, false);
	double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double want = el * hz, got = (double)(v.last_seen - v0.last_seen);
	if (got < want * 0.95 - 2 || got > want * 1.05 + 2)
		fail_msg("jiffies advanced %.0f in %.3f s: HZ %u would make %.0f", got, el, hz,
			 want);

	/* One second short of the timeout: listed, that old, and served. */
	uint64_t before = kcnt(XGW_KDP_CNT_CT_NEW);
	v.last_seen = xgw_kdp_jiffies() - (kc.to_tcp[XGW_CT_ESTABLISHED] - hz);
	ct4_entry(sport, &v, true);
	row = ct_row(sport);
	assert_non_null(row);
	assert_int_equal(json_integer_value(json_object_get(row, "age_s")), est_s - 1);
	assert_true(json_integer_value(json_object_get(row, "expires_s")) <= 1);
	json_decref(row);
	assert_int_equal(client_segment(sport, XGW_PB_ACK), be);
	assert_int_equal(kcnt(XGW_KDP_CNT_CT_NEW), before);

	/* Two seconds past it: not listed, and the next segment opens a new
	 * connection. */
	ct4_entry(sport, &v, false);
	v.last_seen = xgw_kdp_jiffies() - kc.to_tcp[XGW_CT_ESTABLISHED] - 2 * hz;
	ct4_entry(sport, &v, true);
	row = ct_row(sport);
	assert_null(row);
	client_segment(sport, XGW_PB_ACK);
	assert_int_equal(kcnt(XGW_KDP_CNT_CT_NEW), before + 1);
	assert_non_null(row = ct_row(sport));
	json_decref(row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syn_dnat_and_reply),
	    cmocka_unit_test(test_ct_keeps_backend),
	    cmocka_unit_test(test_ct_both_families),
	    cmocka_unit_test(test_flush_backend),
	    cmocka_unit_test(test_maglev_same_pick),
	    cmocka_unit_test(test_icmp_echo),
	    cmocka_unit_test(test_drops_and_handoff),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_counters),
	    cmocka_unit_test(test_snat),
	    cmocka_unit_test(test_tunnel_vxlan),
	    cmocka_unit_test(test_tunnel_geneve),
	    cmocka_unit_test(test_tunnel_hand_on),
	    cmocka_unit_test(test_tunnel_check_answer),
	    cmocka_unit_test(test_check_answer_native),
	    cmocka_unit_test(test_icmp_errors),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_trace),
	    cmocka_unit_test(test_trace_tap),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_svc_gen),
	    cmocka_unit_test(test_closed_tuple_reuse),
	    cmocka_unit_test(test_reopen_repicks),
	    cmocka_unit_test(test_ct_aging),
	    cmocka_unit_test(test_udp_csum_never_zero),
	};

	if (geteuid() != 0) {
		printf("SKIP: needs root (BPF_PROG_RUN, a network namespace)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
