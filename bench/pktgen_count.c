/* SPDX-License-Identifier: BSD-3-Clause */
/* Counting sink (--mode count, the default): pktgen_count.bpf.c counts,
 * checks sequence numbers and latency in per-CPU maps and drops every
 * frame, so the instrument copies nothing to user space and costs the
 * device under test's transmit softirq a map update per frame, not an
 * AF_XDP copy. */
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/pktgen.h"
#include "bench/pktgen_count.h"
#include "bench/pktgen_count.skel.h"
#include "bench/pktgen_hist.h"
#include "bench/pktgen_out.h"

/* The per-CPU counters summed over the CPUs. */
static int count_read(struct pktgen_count_bpf *skel, struct pg_count_cpu *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pg_count_cpu *v;
	uint32_t zero = 0;
	int err;

	if (ncpu < 0)
		return ncpu;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.pg_count), &zero, v);
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; !err && c < ncpu; c++) {
		if (!v[c].packets)
			continue;
		if (!sum->packets || v[c].first_ns < sum->first_ns)
			sum->first_ns = v[c].first_ns;
		if (v[c].last_ns > sum->last_ns)
			sum->last_ns = v[c].last_ns;
		if (v[c].stamped && (!sum->stamped || v[c].lat_min < sum->lat_min))
			sum->lat_min = v[c].lat_min;
		if (v[c].lat_max > sum->lat_max)
			sum->lat_max = v[c].lat_max;
		if (v[c].max_seq > sum->max_seq)
			sum->max_seq = v[c].max_seq;
		sum->packets += v[c].packets;
		sum->bytes += v[c].bytes;
		sum->stamped += v[c].stamped;
		sum->reordered += v[c].reordered;
		sum->lat_sum += v[c].lat_sum;
	}
	free(v);
	return err ? -errno : 0;
}

static int hist_read(struct pktgen_count_bpf *skel, struct pg_hist *h)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(skel->maps.pg_lat);
	uint64_t *v;

	if (ncpu < 0)
		return ncpu;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t b = 0; b < PG_HIST_BUCKETS; b++) {
		if (bpf_map_lookup_elem(fd, &b, v)) {
			free(v);
			return -errno;
		}
		for (int c = 0; c < ncpu; c++)
			h->b[b] += v[c];
	}
	free(v);
	return 0;
}

/* Counting sink: the XDP program does all the work; this loop only waits
 * for the bounds and reads the maps at the end.  Sequence accounting from
 * per-CPU maxima and counts: lost = expected - received, and received
 * beyond expected counts as duplicates (no per-number window in BPF). */
int pg_sink_count(const struct pg_opts *o)
{
	_Static_assert(PG_COUNT_HIST_BUCKETS == PG_HIST_BUCKETS, "histogram layouts differ");
	struct pktgen_count_bpf *skel = pktgen_count_bpf__open_and_load();
	struct pg_sink_result res = {.xsk_bind = "none"};
	struct pg_count_cpu sum = {0};
	struct pg_progress pr;
	struct pg_seq *seq = calloc(1, sizeof(*seq));
	struct pg_hist *lat = calloc(1, sizeof(*lat));
	uint32_t flags = 0;
	bool attached = false;
	uint64_t start, end;
	int err;

	if (!skel || !seq || !lat) {
		err = skel ? -ENOMEM : -errno;
		fprintf(stderr, "xgw-pktgen: loading the counting sink: %s\n", strerror(-err));
		goto out;
	}
	err = pg_xdp_attach(o, bpf_program__fd(skel->progs.pktgen_count), &flags, &res.xdp_mode);
	if (err)
		goto out;
	attached = true;
	fprintf(stderr, "xgw-pktgen sink: ready on %s (%s XDP, counting in BPF)\n", o->ifname,
		res.xdp_mode);
	start = pg_now_ns();
	end = start + (uint64_t)(o->duration * 1e9);
	pg_progress_init(&pr, o, "sink", start);
	while (!pg_stop) {
		uint64_t now = pg_now_ns();

		err = count_read(skel, &sum);
		if (err)
			break;
		if (now >= end || (o->count && sum.stamped >= o->count))
			break;
		pg_progress_tick(&pr, now, sum.packets, o->pkt.size);
		pg_wait_until(now + 10 * 1000 * 1000);
	}
	pg_progress_end(&pr);
	/* Detach first: the counts read next are final. */
	bpf_xdp_detach((int)o->ifindex, flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	attached = false;
	if (!err)
		err = count_read(skel, &sum);
	pg_hist_init(lat);
	if (!err)
		err = hist_read(skel, lat);
	if (err) {
		fprintf(stderr, "xgw-pktgen: reading the counting sink's maps: %s\n",
			strerror(-err));
		goto out;
	}
	lat->n = sum.stamped;
	lat->sum = sum.lat_sum;
	lat->min = sum.stamped ? sum.lat_min : UINT64_MAX;
	lat->max = sum.lat_max;
	pg_seq_init(seq);
	seq->received = sum.stamped;
	seq->any = sum.max_seq > 0;
	seq->max_seq = sum.max_seq ? sum.max_seq - 1 : 0;
	seq->reordered = sum.reordered;
	seq->duplicates = sum.stamped > sum.max_seq ? sum.stamped - sum.max_seq : 0;
	res.packets = sum.packets;
	res.bytes = sum.bytes;
	res.unstamped = sum.packets - sum.stamped;
	res.seconds = sum.last_ns > sum.first_ns ? (double)(sum.last_ns - sum.first_ns) / 1e9 : 0;
	res.seq = seq;
	res.lat = lat;
	pg_print_sink(o, &res);
out:
	if (attached)
		bpf_xdp_detach((int)o->ifindex, flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	pktgen_count_bpf__destroy(skel);
	free(seq);
	free(lat);
	return err;
}
