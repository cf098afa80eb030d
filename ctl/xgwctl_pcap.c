/* SPDX-License-Identifier: BSD-3-Clause */
/* capture -w FILE: the frames xgwd returns (hex) written as a pcap file by
 * libpcap's dumper, so that tcpdump, tshark and Wireshark read it. */
#include "ctl/xgwctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef XGW_HAVE_PCAP
#include <pcap/pcap.h>

struct xgwctl_pcap {
	pcap_t *dead;
	pcap_dumper_t *d;
};

struct xgwctl_pcap *xgwctl_pcap_open(const char *file, char *err, size_t errlen)
{
	struct xgwctl_pcap *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->dead = pcap_open_dead(DLT_EN10MB, 65535);
	p->d = p->dead ? pcap_dump_open(p->dead, file) : NULL;
	if (!p->d) {
		snprintf(err, errlen, "%s: %s", file, p->dead ? pcap_geterr(p->dead) : "libpcap");
		if (p->dead)
			pcap_close(p->dead);
		free(p);
		return NULL;
	}
	return p;
}

static int unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int xgwctl_pcap_write(struct xgwctl_pcap *p, json_t *rec)
{
	const char *hex = json_string_value(json_object_get(rec, "data"));
	json_int_t ts = json_integer_value(json_object_get(rec, "ts_ns"));
	json_int_t wirelen = json_integer_value(json_object_get(rec, "wirelen"));
	size_t n = hex ? strlen(hex) / 2 : 0;
	unsigned char buf[65536];
	struct pcap_pkthdr h;

	if (!hex || n > sizeof(buf))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = unhex(hex[2 * i]), lo = unhex(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	h.ts.tv_sec = (time_t)(ts / 1000000000);
	h.ts.tv_usec = (suseconds_t)(ts % 1000000000 / 1000);
	h.caplen = (bpf_u_int32)n;
	h.len = wirelen > (json_int_t)n ? (bpf_u_int32)wirelen : (bpf_u_int32)n;
	pcap_dump((u_char *)p->d, &h, buf);
	return 0;
}

int xgwctl_pcap_close(struct xgwctl_pcap *p)
{
	int ret = 0;

	if (!p)
		return 0;
	if (pcap_dump_flush(p->d))
		ret = -EIO;
	pcap_dump_close(p->d);
	pcap_close(p->dead);
	free(p);
	return ret;
}

#else

struct xgwctl_pcap *xgwctl_pcap_open(const char *file, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: this xgwctl was built without libpcap", file);
	return NULL;
}

int xgwctl_pcap_write(struct xgwctl_pcap *p, json_t *rec)
{
	return -EOPNOTSUPP;
}

int xgwctl_pcap_close(struct xgwctl_pcap *p)
{
	return 0;
}

#endif
