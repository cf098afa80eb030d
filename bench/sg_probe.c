/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-sg-probe: does AF_XDP multi-buffer (XDP_USE_SG) carry more than an
 * MTU per packet on this kernel's veth?  Issue 17 asks whether it would
 * let the user datapath forward the kernel's 64 KB aggregates.
 *
 *   xgw-sg-probe IFNAME SECONDS [TXLEN DST_MAC SRC_MAC]
 *
 * Attaches a multi-buffer aware XDP program (sg_probe.bpf.c) to IFNAME
 * natively, binds an AF_XDP socket to its queue 0 with XDP_COPY |
 * XDP_USE_SG, and for SECONDS receives: frames, descriptors, chains (a
 * descriptor with XDP_PKT_CONTD continues the packet) and the longest.
 * With TXLEN it then sends one IPv4 UDP frame of TXLEN bytes from
 * 198.18.0.2 to 198.18.0.1, in descriptors of 3,000 bytes chained by
 * XDP_PKT_CONTD, and reports the completion.  bench/sg_probe.sh builds the
 * namespaces, sends UDP GSO traffic and reads the peer's counters; the
 * figures are in bench/README.md.  Not installed, not a test. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "bench/sg_probe.skel.h"

/* From Linux 6.6's if_xdp.h, newer than Debian 12's headers. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

#define N_FRAMES  4096
#define FRAME	  4096
#define RX_FRAMES 2048 /* frames 0..2047 receive, the rest transmit */
#define TX_CHUNK  3000
#define MAX_TXLEN 60000

struct probe {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	uint8_t *buf;
};

static uint16_t ip_csum(const uint8_t *b, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static int probe_open(struct probe *pr, const char *ifname)
{
	struct xsk_umem_config uc = {
	    .fill_size = RX_FRAMES, .comp_size = RX_FRAMES, .frame_size = FRAME};
	struct xsk_socket_config sc = {.rx_size = RX_FRAMES,
				       .tx_size = RX_FRAMES,
				       .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
				       .bind_flags = XDP_COPY | XDP_USE_SG};
	uint32_t idx;
	int err;

	pr->buf = mmap(NULL, (size_t)N_FRAMES * FRAME, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pr->buf == MAP_FAILED)
		return -errno;
	err = xsk_umem__create(&pr->umem, pr->buf, (size_t)N_FRAMES * FRAME, &pr->fq, &pr->cq, &uc);
	if (err)
		return err;
	err = xsk_socket__create(&pr->xsk, ifname, 0, pr->umem, &pr->rx, &pr->tx, &sc);
	if (err)
		return err;
	if (xsk_ring_prod__reserve(&pr->fq, RX_FRAMES, &idx) != RX_FRAMES)
		return -ENOSPC;
	for (uint32_t i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&pr->fq, idx + i) = (uint64_t)i * FRAME;
	xsk_ring_prod__submit(&pr->fq, RX_FRAMES);
	return 0;
}

/* Receives for secs seconds; every frame goes back to the fill ring. */
static void probe_rx(struct probe *pr, int secs)
{
	uint64_t descs = 0, pkts = 0, chained = 0, longest = 0, most = 0, len = 0, n_in = 0;
	time_t end = time(NULL) + secs;

	while (time(NULL) < end) {
		struct pollfd p = {.fd = xsk_socket__fd(pr->xsk), .events = POLLIN};
		uint32_t idx, fi;

		(void)poll(&p, 1, 100);
		unsigned n = xsk_ring_cons__peek(&pr->rx, 64, &idx);
		if (!n)
			continue;
		if (xsk_ring_prod__reserve(&pr->fq, n, &fi) != n)
			break; /* cannot happen: every frame taken is given back */
		for (unsigned i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&pr->rx, idx + i);

			descs++;
			len += d->len;
			n_in++;
			*xsk_ring_prod__fill_addr(&pr->fq, fi + i) =
			    d->addr & ~(uint64_t)(FRAME - 1);
			if (d->options & XDP_PKT_CONTD)
				continue;
			pkts++;
			chained += n_in > 1;
			if (len > longest)
				longest = len;
			if (n_in > most)
				most = n_in;
			len = n_in = 0;
		}
		xsk_ring_cons__release(&pr->rx, n);
		xsk_ring_prod__submit(&pr->fq, n);
	}
	printf("socket: %llu descriptors, %llu packets, %llu of them chained; longest %llu bytes, "
	       "most descriptors in a packet %llu\n",
	       (unsigned long long)descs, (unsigned long long)pkts, (unsigned long long)chained,
	       (unsigned long long)longest, (unsigned long long)most);
}

/* One UDP frame of txlen bytes in TX_CHUNK-byte descriptors. */
static int probe_tx(struct probe *pr, unsigned txlen, const uint8_t dst[6], const uint8_t src[6])
{
	static uint8_t f[MAX_TXLEN];
	unsigned nd = (txlen + TX_CHUNK - 1) / TX_CHUNK;
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t w;
	uint32_t idx;

	memset(f, 0x5a, txlen);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	w = htons((uint16_t)(txlen - 14));
	memcpy(ip + 2, &w, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	inet_pton(AF_INET, "198.18.0.2", ip + 12);
	inet_pton(AF_INET, "198.18.0.1", ip + 16);
	w = ip_csum(ip, 20);
	memcpy(ip + 10, &w, 2);
	w = htons(9998);
	memcpy(udp, &w, 2);
	w = htons(9999);
	memcpy(udp + 2, &w, 2);
	w = htons((uint16_t)(txlen - 34));
	memcpy(udp + 4, &w, 2);
	udp[6] = udp[7] = 0; /* no UDP checksum (IPv4) */
	if (xsk_ring_prod__reserve(&pr->tx, nd, &idx) != nd)
		return -ENOSPC;
	for (unsigned i = 0; i < nd; i++) {
		uint64_t addr = (uint64_t)(RX_FRAMES + i) * FRAME;
		unsigned l = txlen - i * TX_CHUNK < TX_CHUNK ? txlen - i * TX_CHUNK : TX_CHUNK;
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&pr->tx, idx + i);

		memcpy(pr->buf + addr, f + i * TX_CHUNK, l);
		d->addr = addr;
		d->len = l;
		d->options = i + 1 < nd ? XDP_PKT_CONTD : 0;
	}
	xsk_ring_prod__submit(&pr->tx, nd);
	int r = (int)sendto(xsk_socket__fd(pr->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
	int e = errno;

	usleep(200000);
	unsigned done = xsk_ring_cons__peek(&pr->cq, nd, &idx);
	xsk_ring_cons__release(&pr->cq, done);
	printf("tx: one %u-byte frame in %u descriptors: sendto %s, %u descriptors completed\n",
	       txlen, nd, r < 0 ? strerror(e) : "ok", done);
	return 0;
}

static int parse_mac(const char *s, uint8_t m[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4],
		      &m[5]) == 6
		   ? 0
		   : -1;
}

int main(int argc, char **argv)
{
	uint8_t dst[6], src[6];
	unsigned txlen = 0;
	int ifindex, secs, err = 1;

	if (argc != 3 && argc != 6) {
		fprintf(stderr, "usage: xgw-sg-probe IFNAME SECONDS [TXLEN DST_MAC SRC_MAC]\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	secs = atoi(argv[2]);
	if (argc == 6) {
		txlen = (unsigned)atoi(argv[3]);
		if (txlen < 64 || txlen > MAX_TXLEN || parse_mac(argv[4], dst) ||
		    parse_mac(argv[5], src)) {
			fprintf(stderr, "xgw-sg-probe: TXLEN 64-%u, MACs as aa:bb:cc:dd:ee:ff\n",
				MAX_TXLEN);
			return 2;
		}
	}
	if (!ifindex || secs < 1 || secs > 60) {
		fprintf(stderr, "xgw-sg-probe: no interface %s, or SECONDS not 1-60\n", argv[1]);
		return 2;
	}
	struct sg_probe_bpf *skel = sg_probe_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "xgw-sg-probe: loading the XDP program: %s\n", strerror(errno));
		return 1;
	}
	if (bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.sg_probe), XDP_FLAGS_DRV_MODE,
			   NULL)) {
		fprintf(stderr, "xgw-sg-probe: native XDP on %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	struct probe pr = {0};
	int e = probe_open(&pr, argv[1]);
	if (e) {
		fprintf(stderr, "xgw-sg-probe: AF_XDP with XDP_COPY | XDP_USE_SG on %s: %s\n",
			argv[1], strerror(-e));
		goto close;
	}
	int fd = xsk_socket__fd(pr.xsk);
	uint32_t k0 = 0;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.sg_xsks), &k0, &fd, 0)) {
		fprintf(stderr, "xgw-sg-probe: xskmap: %s\n", strerror(errno));
		goto close;
	}
	printf("bound: XDP_COPY | XDP_USE_SG, program with multi-buffer support\n");
	probe_rx(&pr, secs);
	uint64_t seen[3] = {0, 0, 0};
	for (uint32_t i = 0; i < 3; i++)
		(void)bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_seen), &i, &seen[i]);
	printf("xdp: %llu UDP frames, %llu in more than one buffer, longest %llu bytes\n",
	       (unsigned long long)seen[0], (unsigned long long)seen[2],
	       (unsigned long long)seen[1]);
	err = txlen ? probe_tx(&pr, txlen, dst, src) != 0 : 0;
close:
	if (pr.xsk)
		xsk_socket__delete(pr.xsk);
	if (pr.umem)
		xsk_umem__delete(pr.umem);
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
out:
	sg_probe_bpf__destroy(skel);
	return err;
}
