/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <unistd.h>

#include "bench/pktgen_out.h"

static const char *proto_name(enum pg_proto p)
{
	return p == PG_PROTO_UDP ? "udp" : p == PG_PROTO_TCP_SYN ? "tcp-syn" : "tcp-ack";
}

void pg_progress_init(struct pg_progress *p, const struct pg_opts *o, const char *what,
		      uint64_t now_ns)
{
	p->on = !o->quiet && isatty(STDERR_FILENO);
	p->what = what;
	p->start_ns = p->last_ns = now_ns;
	p->last_pkts = 0;
}

void pg_progress_tick(struct pg_progress *p, uint64_t now_ns, uint64_t pkts, uint32_t size)
{
	double dt;

	if (!p->on || now_ns - p->last_ns < 1000000000ull)
		return;
	dt = (double)(now_ns - p->last_ns) / 1e9;
	double pps = (double)(pkts - p->last_pkts) / dt;
	fprintf(stderr, "\r%s %8.3f Mpps %8.3f Gbps  total %12llu pkts  elapsed %6.1f s ", p->what,
		pps / 1e6, pps * size * 8 / 1e9, (unsigned long long)pkts,
		(double)(now_ns - p->start_ns) / 1e9);
	fflush(stderr);
	p->last_ns = now_ns;
	p->last_pkts = pkts;
}

void pg_progress_end(struct pg_progress *p)
{
	if (p->on && p->last_ns != p->start_ns)
		fputc('\n', stderr);
}

void pg_print_tx(const struct pg_opts *o, const struct pg_tx_result *r)
{
	double pps = r->seconds > 0 ? (double)r->packets / r->seconds : 0;
	char src[XGW_ADDR_STRLEN], dst[XGW_ADDR_STRLEN];

	xgw_addr_str(&o->pkt.src, src, sizeof(src));
	xgw_addr_str(&o->pkt.dst, dst, sizeof(dst));
	if (!o->json) {
		printf("%s: sent %llu packets of %u bytes in %.3f s: %.3f Mpps, %.3f Gbps%s%s\n",
		       r->mode, (unsigned long long)r->packets, o->pkt.size, r->seconds, pps / 1e6,
		       pps * o->pkt.size * 8 / 1e9, r->xsk_bind ? ", " : "",
		       r->xsk_bind ? r->xsk_bind : "");
		return;
	}
	printf("{\"mode\":\"%s\",\"iface\":\"%s\",\"queue\":%u,", r->mode, o->ifname, o->queue);
	if (r->xsk_bind)
		printf("\"xsk_bind\":\"%s\",", r->xsk_bind);
	printf("\"live_fallback\":%s,\"family\":\"%s\",\"proto\":\"%s\",\"size\":%u,"
	       "\"flows\":%u,\"src\":\"%s\",\"dst\":\"%s\",\"sport\":%u,\"dport\":%u,"
	       "\"rate_target_pps\":%llu,\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.6f,"
	       "\"pps\":%.1f,\"gbps\":%.4f,\"syscalls\":%llu}\n",
	       r->fell_back ? "true" : "false", o->pkt.src.family == AF_INET6 ? "ipv6" : "ipv4",
	       proto_name(o->pkt.proto), o->pkt.size, o->pkt.flows, src, dst, o->pkt.sport,
	       o->pkt.dport, (unsigned long long)o->rate, (unsigned long long)r->packets,
	       (unsigned long long)(r->packets * o->pkt.size), r->seconds, pps,
	       pps * o->pkt.size * 8 / 1e9, (unsigned long long)r->wakeups);
}

void pg_print_sink(const struct pg_opts *o, const struct pg_sink_result *r)
{
	const struct pg_seq *s = r->seq;
	const struct pg_hist *h = r->lat;
	double pps = r->seconds > 0 ? (double)r->packets / r->seconds : 0;
	uint64_t lost = pg_seq_lost(s);
	uint64_t min = h->n ? h->min : 0, p50 = pg_hist_quantile(h, 0.5),
		 p99 = pg_hist_quantile(h, 0.99), p999 = pg_hist_quantile(h, 0.999);
	double mean = h->n ? (double)h->sum / (double)h->n : 0;

	if (!o->json) {
		printf("sink: %llu packets (%llu stamped) in %.3f s: %.3f Mpps; lost %llu, "
		       "reordered %llu, duplicates %llu",
		       (unsigned long long)r->packets, (unsigned long long)s->received, r->seconds,
		       pps / 1e6, (unsigned long long)lost, (unsigned long long)s->reordered,
		       (unsigned long long)s->duplicates);
		if (o->verify)
			printf(", checksum errors %llu", (unsigned long long)r->csum_errors);
		printf("\nlatency ns: min %llu p50 %llu p99 %llu p99.9 %llu max %llu\n",
		       (unsigned long long)min, (unsigned long long)p50, (unsigned long long)p99,
		       (unsigned long long)p999, (unsigned long long)h->max);
		return;
	}
	printf("{\"mode\":\"sink\",\"iface\":\"%s\",\"queue\":%u,\"xdp_mode\":\"%s\","
	       "\"xsk_bind\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"stamped\":%llu,"
	       "\"unstamped\":%llu,\"seconds\":%.6f,\"pps\":%.1f,\"expected\":%llu,\"lost\":%llu,"
	       "\"loss_ratio\":%.6g,\"reordered\":%llu,\"late\":%llu,\"duplicates\":%llu,",
	       o->ifname, o->queue, r->xdp_mode, r->xsk_bind, (unsigned long long)r->packets,
	       (unsigned long long)r->bytes, (unsigned long long)s->received,
	       (unsigned long long)r->unstamped, r->seconds, pps,
	       (unsigned long long)(s->any ? s->max_seq + 1 : 0), (unsigned long long)lost,
	       s->any ? (double)lost / (double)(s->max_seq + 1) : 0.0,
	       (unsigned long long)s->reordered, (unsigned long long)s->late,
	       (unsigned long long)s->duplicates);
	if (o->verify)
		printf("\"csum_errors\":%llu,", (unsigned long long)r->csum_errors);
	printf("\"xsk_rx_dropped\":%llu,\"xsk_fill_empty\":%llu,",
	       (unsigned long long)r->rx_dropped, (unsigned long long)r->fill_empty);
	printf("\"latency_ns\":{\"samples\":%llu,\"min\":%llu,\"mean\":%.1f,\"p50\":%llu,"
	       "\"p99\":%llu,\"p999\":%llu,\"max\":%llu}}\n",
	       (unsigned long long)h->n, (unsigned long long)min, mean, (unsigned long long)p50,
	       (unsigned long long)p99, (unsigned long long)p999, (unsigned long long)h->max);
}
