/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-pktgen: options and the entry points of its modes. */
#ifndef XGW_PKTGEN_H
#define XGW_PKTGEN_H

#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "bench/pktgen_pkt.h"

enum pg_mode { PG_MODE_AUTO, PG_MODE_LIVE, PG_MODE_XSK, PG_MODE_COUNT };
enum pg_zc { PG_ZC_AUTO, PG_ZC_ON, PG_ZC_OFF };

struct pg_opts {
	bool sink;
	char ifname[IF_NAMESIZE];
	unsigned int ifindex;
	uint32_t queue;
	enum pg_mode mode; /* sink: COUNT (XDP, default) or XSK (AF_XDP) */
	enum pg_zc zerocopy;
	int core;	 /* -1: not pinned */
	uint64_t rate;	 /* pps, 0 = as fast as possible */
	double duration; /* seconds; bound on every run */
	uint64_t count;	 /* 0 = until duration */
	bool json;
	bool verify; /* sink: check IPv4 and L4 checksums */
	bool quiet;  /* no progress line even on a terminal */
	bool have_src_mac, have_dst_mac;
	struct pg_pkt_params pkt;
};

/* What a transmitter or the sink measured. */
struct pg_tx_result {
	const char *mode;     /* "live" or "xsk" */
	const char *xsk_bind; /* "zerocopy" or "copy" (xsk only) */
	bool fell_back;	      /* live frames unsupported: used AF_XDP */
	uint64_t packets;
	double seconds;
	uint64_t wakeups; /* sendto() kicks (xsk) or BPF_PROG_RUN calls (live) */
};

/* Set by SIGINT/SIGTERM: every loop ends and prints what it has. */
extern volatile sig_atomic_t pg_stop;

/* 0, or a negative errno with the reason printed.  */
int pg_opts_parse(struct pg_opts *o, int argc, char **argv);
void pg_usage(FILE *f);

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(), so stamps made
 * by the BPF program and by user space compare at the sink. */
uint64_t pg_now_ns(void);
int pg_pin_core(int core);
int pg_iface_mac(const char *ifname, uint8_t mac[6]);
/* Wait until deadline_ns (sleeping if far, spinning if near). */
void pg_wait_until(uint64_t deadline_ns);

/* The transmit loop shared by both transmitters: rate, bounds, progress.
 * send() sends up to n packets and returns how many it sent, or a negative
 * errno to stop; drain() (may be NULL) finishes outstanding work. */
struct pg_txer {
	void *ctx;
	int (*send)(void *ctx, uint32_t n, uint32_t *sent);
	void (*drain)(void *ctx);
	uint32_t batch; /* packets per send() at full speed */
	bool paced;	/* send() keeps the rate itself: no bucket here */
};
int pg_tx_run(const struct pg_opts *o, struct pg_txer *t, struct pg_tx_result *r);

/* Returns 0 and fills r, -EOPNOTSUPP when the kernel lacks live frames
 * (nothing was sent), or another negative errno. */
int pg_tx_live(const struct pg_opts *o, struct pg_tx_result *r);
int pg_tx_xsk(const struct pg_opts *o, struct pg_tx_result *r);
int pg_sink(const struct pg_opts *o);
int pg_sink_count(const struct pg_opts *o);
/* Attach an XDP program to o's interface: native, else generic; never
 * replaces another program.  *flags and *mode say what it got. */
int pg_xdp_attach(const struct pg_opts *o, int fd, uint32_t *flags, const char **mode);

#endif
