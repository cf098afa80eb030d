/* SPDX-License-Identifier: BSD-3-Clause */
/* tcpdump filter expressions for trace and capture: libpcap compiles them
 * (pcap_compile on a dead Ethernet handle) and interprets them on a frame
 * (bpf_filter).  Apart from tap.c because libpcap's pcap/bpf.h and
 * libbpf's linux/bpf.h, which the worker's headers pull in, clash. */
#include "pipeline/tap_filter.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef XGW_HAVE_PCAP
#include <pcap/pcap.h>

void *xgw_tap_filter_compile(const char *expr, char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	struct bpf_program *prog = calloc(1, sizeof(*prog));

	if (!p || !prog) {
		snprintf(err, errlen, "filter: out of memory");
		goto fail;
	}
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "filter \"%s\": %s", expr, pcap_geterr(p));
		goto fail;
	}
	pcap_close(p);
	return prog;
fail:
	free(prog);
	if (p)
		pcap_close(p);
	return NULL;
}

bool xgw_tap_filter_match(const void *prog, const uint8_t *frame, uint32_t len)
{
	const struct bpf_program *b = prog;

	return bpf_filter(b->bf_insns, frame, len, len) != 0;
}

void xgw_tap_filter_free(void *prog)
{
	if (prog)
		pcap_freecode(prog);
	free(prog);
}

#else

void *xgw_tap_filter_compile(const char *expr, char *err, size_t errlen)
{
	snprintf(err, errlen, "filter \"%s\": this xgwd was built without libpcap", expr);
	return NULL;
}

bool xgw_tap_filter_match(const void *prog, const uint8_t *frame, uint32_t len)
{
	return true;
}

void xgw_tap_filter_free(void *prog)
{
}

#endif
