/* SPDX-License-Identifier: BSD-3-Clause */
/* Live trace and capture ("taps"), as vppctl trace and dpdk-dumpcap.
 *
 * The control thread publishes one tap session at a time (dp->tap).  A
 * worker reads that pointer once per burst: NULL, the usual case, is the
 * one branch the feature costs.  Otherwise the burst goes through
 * xgw_tap_burst, which runs the same stages (xgw_worker_stages) but each
 * packet the tap takes alone, so that what the stages did to it can be
 * read off the worker's counters and the frame before and after:
 *   trace:   per packet, each stage's decision (parse, policy rule,
 *            conntrack hit or new and state, backend, NAT rewrite, encap,
 *            route and next hop, verdict or drop reason) as text;
 *   capture: the frame as received (rx) and as sent (tx).
 * Packets of kernel-datapath services are reported by the XDP program
 * while a session runs (XGW_KDP_F_TRACE, steer-bpf/kern_trace.h) and taken
 * into the same ring by the control thread when it reads (tap_kdp.c).
 * Records go through a ring the control thread drains (xgw_tap_read);
 * packets are processed in order, and a stage is never told about taps.
 * A session ends when it has taken `count` records or at its deadline. */
#ifndef XGW_TAP_H
#define XGW_TAP_H

#include <jansson.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/pkt.h"

enum xgw_tap_mode { XGW_TAP_TRACE = 1, XGW_TAP_CAPTURE = 2 };

#define XGW_TAP_DIR_RX 1
#define XGW_TAP_DIR_TX 2

#define XGW_TAP_RING	  4096 /* records held until read */
#define XGW_TAP_DATA	  2048 /* bytes of frame (capture) or text (trace) */
#define XGW_TAP_MAX_COUNT 1000000
#define XGW_TAP_MAX_TRACE 1000

struct xgw_tap_rec {
	_Atomic uint32_t ready;
	uint32_t len;	  /* bytes in data */
	uint32_t wirelen; /* capture: the frame's length */
	uint16_t port;	  /* capture: the port received on (rx) or sent by (tx) */
	int16_t worker;	  /* -1: the kernel datapath's record (kernel set) */
	uint8_t dir;	  /* capture: XGW_TAP_DIR_* */
	uint8_t kernel;	  /* made from the XDP program's record (tap_kdp.c) */
	uint64_t ts_ns;	  /* CLOCK_REALTIME */
	uint8_t data[XGW_TAP_DATA];
};

struct xgw_tap {
	enum xgw_tap_mode mode;
	uint64_t count;	      /* records to take */
	uint64_t deadline_ns; /* CLOCK_MONOTONIC(_COARSE): none taken after */
	int port;	      /* capture: port index, -1 any */
	unsigned dirs;	      /* capture: XGW_TAP_DIR_* */
	void *filter;	      /* tap_filter.h, NULL: every packet */
	char filter_text[256];
	alignas(64) _Atomic uint64_t claimed; /* records taken */
	_Atomic uint64_t overrun;	      /* not taken: the ring was full */
	alignas(64) _Atomic uint64_t tail;    /* records read */
	struct xgw_tap_rec ring[XGW_TAP_RING];
};

struct xgw_worker;
struct xgw_dataplane;

/* The worker's side: process a burst with dp->tap set. */
void xgw_tap_burst(struct xgw_worker *w, struct xgw_tap *t, struct xgw_pkt *pkts, uint32_t n);

/* The control side.  args (validated here): trace {"count","filter",
 * "timeout_s"}, capture the same and "port" (a port name) and "dir"
 * ("rx", "tx" or "both").  Replaces any session running.  0 or -errno with
 * err filled (nothing changed). */
int xgw_tap_start(struct xgw_dataplane *dp, enum xgw_tap_mode mode, json_t *args, char *err,
		  size_t errlen);
/* The records ready so far (at most `max`), consumed: {"mode", "taken",
 * "count", "overrun", "done", "records":[...]}; trace records are
 * {"worker","datapath","text"}, capture records {"worker","datapath","port",
 * "dir","ts_ns","wirelen","data" (hex)}; datapath "kernel" for the XDP
 * program's (tap_kdp.c), "user" for the workers'.  NULL with err filled when no session of that
 * mode runs. */
json_t *xgw_tap_read(struct xgw_dataplane *dp, enum xgw_tap_mode mode, unsigned max, char *err,
		     size_t errlen);
/* Ends the session (after a grace period no worker holds it): what
 * xgw_tap_read would return last. */
json_t *xgw_tap_stop(struct xgw_dataplane *dp, enum xgw_tap_mode mode, char *err, size_t errlen);
/* At exit. */
void xgw_tap_free(struct xgw_dataplane *dp);

/* Internal to tap.c and tap_kdp.c: a record of the session for worker
 * (-1: the kernel datapath), or NULL (count taken, ring full); filled,
 * then published. */
struct xgw_tap_rec *xgw_tap_claim(struct xgw_tap *t, int worker);
void xgw_tap_publish(struct xgw_tap_rec *r);
/* The kernel datapath's records so far, taken into t's ring as the
 * workers' are (filter, port, direction and count applied here): called
 * by the control thread before it reads the ring. */
void xgw_tap_kdp_take(struct xgw_dataplane *dp, struct xgw_tap *t);

#endif
