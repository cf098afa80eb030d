/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-replay: run the worker pipeline offline over a pcap file, with no
 * kernel, no sockets and no root: frames are read with libpcap, pushed
 * through the same code the AF_XDP workers run (pipeline/offline.h), and
 * what the pipeline transmits is written to a pcap, with the input's
 * timestamps.  For operators checking what a config does to given traffic,
 * and for the packet tests (tests/pcap).  Usage: see usage() or
 * bench/README.md. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/drop.h"
#include "ctl/config.h"
#include "pipeline/offline.h"

#define DEFAULT_SEED 0x5eed1234u

struct input {
	struct xgw_offline_frame *f;
	struct pcap_pkthdr *hdr;
	uint32_t n, cap;
};

struct out {
	pcap_dumper_t *d[XGW_OFFLINE_MAX_PORTS]; /* all the same one unless -w DIR */
	const struct input *in;
	uint64_t tx[XGW_OFFLINE_MAX_PORTS];
	int last_port; /* --trace: where the last frame went, -1 none */
	uint32_t last_len;
};

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: xgw-replay -c CONFIG (--port NAME,MAC,IPV4[/LEN][,IPV6[/LEN]] ... |\n"
	       "                  --port-info FILE) -r IN.pcap [-w OUT.pcap|DIR]\n"
	       "                  [--in-port NAME|auto] [--burst N] [--seed N] [--trace] [--json]\n"
	       "                  [--dpdk]\n"
	       "Runs the frames of IN.pcap through the xgw worker pipeline in memory and\n"
	       "writes what it transmits to OUT.pcap (or DIR/<port>.pcap per egress port).\n"
	       "  --port         a port of the config: its MAC and addresses (with the\n"
	       "                 subnet length: a connected route); repeat per port\n"
	       "  --port-info    a file of --port values, one per line, # comments\n"
	       "  --in-port      the ingress port of every frame; auto (default): the port\n"
	       "                 whose MAC is the frame's destination MAC, else the first\n"
	       "  --burst        frames per burst, 1..64 (default 64)\n"
	       "  --trace        one line per frame: where it went or why it was dropped\n"
	       "  --json         the summary as JSON\n"
	       "  --dpdk         through DPDK net_pcap ports instead of memory: each port's\n"
	       "                 frames are read by its own rte_ethdev port, every port polled\n"
	       "                 in config order, a burst each per round, and written by it\n"
	       "                 to DIR/<port>.pcap (-w DIR needed; EAL arguments from the\n"
	       "                 config's dpdk.eal_args, default --no-huge -m 256 --no-pci)\n");
}

static int add_port(struct xgw_offline_port *ports, unsigned *n, const char *spec)
{
	if (*n == XGW_OFFLINE_MAX_PORTS) {
		fprintf(stderr, "xgw-replay: at most %d ports\n", XGW_OFFLINE_MAX_PORTS);
		return -1;
	}
	if (xgw_offline_port_parse(&ports[*n], spec)) {
		fprintf(stderr, "xgw-replay: bad port \"%s\": want NAME,MAC,IPV4[/LEN][,IPV6[/LEN]]\n",
			spec);
		return -1;
	}
	(*n)++;
	return 0;
}

static int read_port_info(struct xgw_offline_port *ports, unsigned *n, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "xgw-replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t");
		s[strcspn(s, " \t\r\n#")] = '\0';
		if (*s && add_port(ports, n, s)) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static int read_pcap(struct input *in, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO,
							     errbuf);
	int rc;

	if (!p) {
		fprintf(stderr, "xgw-replay: %s: %s\n", path, errbuf);
		return -1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "xgw-replay: %s: link type %s, want Ethernet\n", path,
			pcap_datalink_val_to_name(pcap_datalink(p)));
		pcap_close(p);
		return -1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		if (in->n == in->cap) {
			in->cap = in->cap ? in->cap * 2 : 256;
			in->f = realloc(in->f, in->cap * sizeof(*in->f));
			in->hdr = realloc(in->hdr, in->cap * sizeof(*in->hdr));
			if (!in->f || !in->hdr) {
				fprintf(stderr, "xgw-replay: out of memory\n");
				exit(1);
			}
		}
		uint8_t *copy = malloc(h->caplen ? h->caplen : 1);
		if (!copy) {
			fprintf(stderr, "xgw-replay: out of memory\n");
			exit(1);
		}
		memcpy(copy, data, h->caplen);
		in->hdr[in->n] = *h;
		in->f[in->n] = (struct xgw_offline_frame){
		    .data = copy,
		    .len = h->caplen,
		    .ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec,
		};
		in->n++;
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "xgw-replay: %s: %s\n", path, pcap_geterr(p));
	pcap_close(p);
	return rc == PCAP_ERROR ? -1 : 0;
}

static pcap_dumper_t *open_dump(pcap_t **dead, const char *path)
{
	pcap_dumper_t *d;

	if (!*dead)
		*dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
							     PCAP_TSTAMP_PRECISION_NANO);
	d = pcap_dump_open(*dead, path);
	if (!d)
		fprintf(stderr, "xgw-replay: %s: %s\n", path, pcap_geterr(*dead));
	return d;
}

static void on_tx(void *arg, uint32_t idx, uint16_t port, const uint8_t *data, uint32_t len)
{
	struct out *o = arg;
	struct pcap_pkthdr h = o->in->hdr[idx];

	o->tx[port]++;
	o->last_port = port;
	o->last_len = len;
	if (o->d[port]) {
		h.caplen = h.len = len;
		pcap_dump((u_char *)o->d[port], &h, data);
	}
}

/* The ingress port of a frame for --in-port auto. */
static uint16_t port_by_mac(const struct xgw_offline *x, const struct xgw_offline_frame *f)
{
	for (unsigned p = 0; f->len >= 6 && p < xgw_offline_n_ports(x); p++)
		if (!memcmp(f->data, xgw_offline_port_mac(x, p), 6))
			return (uint16_t)p;
	return 0;
}

static void trace(struct xgw_offline *x, struct input *in, struct out *o)
{
	for (uint32_t i = 0; i < in->n; i++) {
		struct xgw_offline_counters before, after;

		xgw_offline_counters(x, &before);
		o->last_port = -1;
		xgw_offline_run(x, &in->f[i], 1, 1, on_tx, o);
		xgw_offline_counters(x, &after);
		printf("%u: %s %u B", i + 1, xgw_offline_port_name(x, in->f[i].port), in->f[i].len);
		if (o->last_port >= 0) {
			printf(" -> %s %u B\n", xgw_offline_port_name(x, (unsigned)o->last_port),
			       o->last_len);
			continue;
		}
		for (unsigned r = 0; r < XGW_DROP__MAX; r++)
			if (after.drops[r] != before.drops[r])
				printf(" dropped: %s", xgw_drop_name(r));
		printf("\n");
	}
}

static void summary(const struct xgw_offline *x, const struct input *in, const struct out *o,
		    bool json)
{
	struct xgw_offline_counters c, *st = &c;
	uint64_t out = 0, dropped = 0;
	json_t *j = json_object(), *tx = json_object(), *dr = json_object();

	xgw_offline_counters(x, &c);
	for (unsigned p = 0; p < xgw_offline_n_ports(x); p++) {
		out += o->tx[p];
		json_object_set_new(tx, xgw_offline_port_name(x, p), json_integer((json_int_t)o->tx[p]));
	}
	for (unsigned r = 1; r < XGW_DROP__MAX; r++) {
		dropped += st->drops[r];
		if (st->drops[r])
			json_object_set_new(dr, xgw_drop_name(r),
					    json_integer((json_int_t)st->drops[r]));
	}
	json_object_set_new(j, "in", json_integer(in->n));
	json_object_set_new(j, "out", json_integer((json_int_t)out));
	json_object_set_new(j, "dropped", json_integer((json_int_t)dropped));
	json_object_set_new(j, "tx", tx);
	json_object_set_new(j, "drops", dr);
#define _(name, scope, help)                                                                       \
	if (XGW_COUNTER_SCOPE_##scope == XGW_COUNTER_SCOPE_PKT)                                    \
		json_object_set_new(j, #name, json_integer((json_int_t)st->name));
	XGW_FOREACH_WORKER_COUNTER(_)
#undef _
	if (json) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		const char *k;
		json_t *v;

		printf("in %u, out %llu, dropped %llu, conntrack entries created %llu\n", in->n,
		       (unsigned long long)out, (unsigned long long)dropped,
		       (unsigned long long)st->ct_created);
		json_object_foreach(tx, k, v)
			printf("  tx %-20s %lld\n", k, (long long)json_integer_value(v));
		json_object_foreach(dr, k, v)
			printf("  drop %-18s %lld\n", k, (long long)json_integer_value(v));
	}
	json_decref(j);
}

/* --dpdk: each port's input to a pcap of its own, read by a net_pcap
 * port that writes what the worker transmits there to DIR/<port>.pcap. */
static int run_dpdk(struct xgw_offline *x, const struct xgw_config *cfg, struct input *in,
		    struct out *o, const char *dir)
{
	static const char *const dflt[] = {"--no-huge", "-m", "256", "--no-pci"};
	char tmp[] = "/tmp/xgw-replay-XXXXXX", path[XGW_OFFLINE_MAX_PORTS][4200];
	char dev[9000], err[512];
	struct xgw_dpdk_cfg dc = cfg->dpdk;
	unsigned n = xgw_offline_n_ports(x);
	pcap_dumper_t *d[XGW_OFFLINE_MAX_PORTS] = {0};
	pcap_t *dead = NULL;
	int rc = -1;

	if (!dc.n_eal_args)
		for (unsigned i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++)
			snprintf(dc.eal_args[dc.n_eal_args++], XGW_DPDK_ARG_MAX, "%s", dflt[i]);
	if (!mkdtemp(tmp)) {
		fprintf(stderr, "xgw-replay: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	for (unsigned p = 0; p < n; p++) {
		snprintf(path[p], sizeof(path[p]), "%s/%s.pcap", tmp, xgw_offline_port_name(x, p));
		d[p] = open_dump(&dead, path[p]);
		if (!d[p])
			goto out;
	}
	for (uint32_t i = 0; i < in->n; i++) {
		struct pcap_pkthdr h = in->hdr[i];

		pcap_dump((u_char *)d[in->f[i].port], &h, in->f[i].data);
	}
	for (unsigned p = 0; p < n; p++) {
		pcap_dump_close(d[p]);
		d[p] = NULL;
	}
	for (unsigned p = 0; p < n; p++) {
		int len = snprintf(dev, sizeof(dev), "net_pcap%u,rx_pcap=%s,tx_pcap=%s/%s.pcap", p,
				   path[p], dir, xgw_offline_port_name(x, p));

		if (len < 0 || (size_t)len >= sizeof(dev)) {
			fprintf(stderr, "xgw-replay: --dpdk: output path too long\n");
			goto out;
		}
		if (xgw_offline_attach_dpdk(x, p, dev, &dc, err, sizeof(err))) {
			fprintf(stderr, "xgw-replay: --dpdk: %s\n", err);
			goto out;
		}
	}
	/* net_pcap returns nothing once its file is read: a few empty
	 * rounds in a row mean every input has gone through. */
	xgw_offline_poll(x, 64);
	for (unsigned p = 0; p < n; p++)
		o->tx[p] = xgw_offline_port_tx(x, p);
	rc = 0;
out:
	for (unsigned p = 0; p < n; p++) {
		if (d[p])
			pcap_dump_close(d[p]);
		unlink(path[p]);
	}
	if (dead)
		pcap_close(dead);
	rmdir(tmp);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"port", required_argument, NULL, 'p'},
					     {"port-info", required_argument, NULL, 'P'},
					     {"read", required_argument, NULL, 'r'},
					     {"write", required_argument, NULL, 'w'},
					     {"in-port", required_argument, NULL, 'i'},
					     {"burst", required_argument, NULL, 'b'},
					     {"seed", required_argument, NULL, 's'},
					     {"trace", no_argument, NULL, 't'},
					     {"json", no_argument, NULL, 'j'},
					     {"dpdk", no_argument, NULL, 'D'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct xgw_offline_port ports[XGW_OFFLINE_MAX_PORTS];
	const char *cfg_path = NULL, *in_path = NULL, *out_path = NULL, *in_port = "auto";
	unsigned n_ports = 0, burst = XGW_BURST_MAX;
	uint32_t seed = DEFAULT_SEED;
	bool json = false, do_trace = false, dpdk = false;
	struct xgw_config cfg;
	struct xgw_offline *x = NULL;
	struct input in = {0};
	struct out o = {.in = &in};
	pcap_t *dead = NULL;
	char err[256];
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "c:r:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 'p':
			if (add_port(ports, &n_ports, optarg))
				return 2;
			break;
		case 'P':
			if (read_port_info(ports, &n_ports, optarg))
				return 2;
			break;
		case 'r': in_path = optarg; break;
		case 'w': out_path = optarg; break;
		case 'i': in_port = optarg; break;
		case 'b':
			burst = (unsigned)strtoul(optarg, NULL, 0);
			if (!burst || burst > XGW_BURST_MAX) {
				fprintf(stderr, "xgw-replay: --burst: 1..%d\n", XGW_BURST_MAX);
				return 2;
			}
			break;
		case 's': seed = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 't': do_trace = true; break;
		case 'j': json = true; break;
		case 'D':
			dpdk = true;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!cfg_path || !in_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (dpdk) {
		struct stat sb;

		if (do_trace || !out_path || stat(out_path, &sb) || !S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "xgw-replay: --dpdk needs -w DIR (an existing directory: "
					"one pcap per port) and no --trace\n");
			return 2;
		}
	}
	if (xgw_config_load_file(&cfg, cfg_path, err, sizeof(err))) {
		fprintf(stderr, "xgw-replay: %s: %s\n", cfg_path, err);
		return 1;
	}
	if (read_pcap(&in, in_path))
		goto out_cfg;
	x = xgw_offline_open(&cfg, ports, n_ports, 256, seed, err, sizeof(err));
	if (!x) {
		fprintf(stderr, "xgw-replay: %s\n", err);
		goto out_cfg;
	}
	if (strcmp(in_port, "auto")) {
		int p = xgw_offline_port_index(x, in_port);
		if (p < 0) {
			fprintf(stderr, "xgw-replay: --in-port %s: no such port\n", in_port);
			goto out_x;
		}
		for (uint32_t i = 0; i < in.n; i++)
			in.f[i].port = (uint16_t)p;
	} else {
		for (uint32_t i = 0; i < in.n; i++)
			in.f[i].port = port_by_mac(x, &in.f[i]);
	}
	if (dpdk) {
		if (run_dpdk(x, &cfg, &in, &o, out_path))
			goto out_x;
		summary(x, &in, &o, json);
		rc = 0;
		goto out_x;
	}
	if (out_path) {
		struct stat sb;
		bool dir = !stat(out_path, &sb) && S_ISDIR(sb.st_mode);

		for (unsigned p = 0; p < xgw_offline_n_ports(x); p++) {
			char path[4096];

			if (!dir && p) {
				o.d[p] = o.d[0];
				continue;
			}
			snprintf(path, sizeof(path), dir ? "%s/%s.pcap" : "%s", out_path,
				 xgw_offline_port_name(x, p));
			o.d[p] = open_dump(&dead, path);
			if (!o.d[p])
				goto out_dump;
		}
	}
	if (do_trace)
		trace(x, &in, &o);
	else
		xgw_offline_run(x, in.f, in.n, burst, on_tx, &o);
	summary(x, &in, &o, json);
	rc = 0;
out_dump:
	for (unsigned p = 0; p < XGW_OFFLINE_MAX_PORTS; p++)
		if (o.d[p] && (!p || o.d[p] != o.d[0]))
			pcap_dump_close(o.d[p]);
	if (dead)
		pcap_close(dead);
out_x:
	xgw_offline_close(x);
out_cfg:
	for (uint32_t i = 0; i < in.n; i++)
		free((void *)in.f[i].data);
	free(in.f);
	free(in.hdr);
	xgw_config_free(&cfg);
	return rc;
}
