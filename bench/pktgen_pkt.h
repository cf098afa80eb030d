/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-pktgen frames: building the template of a stream and reading the
 * stamp back at the sink. */
#ifndef XGW_PKTGEN_PKT_H
#define XGW_PKTGEN_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "bench/pktgen_fill.h"

#define PG_SIZE_MIN 64
#define PG_SIZE_MAX 1518

enum pg_proto { PG_PROTO_UDP, PG_PROTO_TCP_SYN, PG_PROTO_TCP_ACK };

struct pg_pkt_params {
	uint8_t src_mac[6], dst_mac[6];
	struct xgw_addr src, dst; /* same family */
	uint16_t sport, dport;	  /* host order; sport is the flow base */
	enum pg_proto proto;
	uint32_t size;	/* frame length without FCS */
	uint32_t flows; /* >= 1 */
};

/* Header length of a layout (Ethernet to the end of L4). */
uint32_t pg_hdr_len(enum pg_layout l);
/* Source ports used per source address: from sport up to 65535, at most
 * flows.  Always >= 1. */
uint32_t pg_ports_per_addr(uint16_t sport, uint32_t flows);
/* Flow index -> its source port and source address. */
void pg_flow_tuple(const struct pg_pkt_params *p, uint32_t flow, struct xgw_addr *src,
		   uint16_t *sport);

/* Check the parameters and build the fill configuration and the frame
 * (size bytes at frame) of flow 0, sequence 0, timestamp 0.  Returns 0 or
 * -EINVAL with a reason in err (at least 128 bytes). */
int pg_tpl_build(const struct pg_pkt_params *p, struct pg_fill_cfg *cfg, uint8_t *frame, char *err,
		 size_t errlen);

/* What the sink finds in a frame. */
struct pg_rx_info {
	uint64_t seq, ts;
	bool stamped;  /* a stamp with the magic was found */
	bool csum_bad; /* set only when asked to verify */
};

/* Parse Ethernet / IPv4|IPv6 / UDP|TCP and the stamp behind it; verify the
 * IPv4 and L4 checksums when verify is set.  Returns 0, or -1 when the
 * frame is not IP/UDP/TCP. */
int pg_rx_parse(const uint8_t *frame, uint32_t len, bool verify, struct pg_rx_info *ri);

#endif
