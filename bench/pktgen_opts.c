/* SPDX-License-Identifier: BSD-3-Clause */
/* Command line of xgw-pktgen; the help text here and bench/README.md say
 * the same things. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/version.h"
#include "bench/pktgen.h"

enum {
	OPT_MODE = 256,
	OPT_CORE,
	OPT_SIZE,
	OPT_FLOWS,
	OPT_SRC,
	OPT_DST,
	OPT_SPORT,
	OPT_DPORT,
	OPT_SRC_MAC,
	OPT_DST_MAC,
	OPT_PROTO,
	OPT_RATE,
	OPT_DURATION,
	OPT_COUNT,
	OPT_JSON,
	OPT_ZC,
	OPT_VERIFY,
	OPT_QUIET,
};

static const struct option long_opts[] = {
    {"iface", required_argument, NULL, 'i'},
    {"queue", required_argument, NULL, 'q'},
    {"mode", required_argument, NULL, OPT_MODE},
    {"zerocopy", required_argument, NULL, OPT_ZC},
    {"core", required_argument, NULL, OPT_CORE},
    {"size", required_argument, NULL, OPT_SIZE},
    {"flows", required_argument, NULL, OPT_FLOWS},
    {"src", required_argument, NULL, OPT_SRC},
    {"dst", required_argument, NULL, OPT_DST},
    {"sport", required_argument, NULL, OPT_SPORT},
    {"dport", required_argument, NULL, OPT_DPORT},
    {"src-mac", required_argument, NULL, OPT_SRC_MAC},
    {"dst-mac", required_argument, NULL, OPT_DST_MAC},
    {"proto", required_argument, NULL, OPT_PROTO},
    {"rate", required_argument, NULL, OPT_RATE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"count", required_argument, NULL, OPT_COUNT},
    {"json", no_argument, NULL, OPT_JSON},
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void pg_usage(FILE *f)
{
	fputs("usage: xgw-pktgen -i IFACE [options]            transmit\n"
	      "       xgw-pktgen sink -i IFACE [options]       receive and check\n"
	      "\n"
	      "common:\n"
	      "  -i, --iface IFACE     interface to send on / receive from (required)\n"
	      "  -q, --queue N         queue (default 0)\n"
	      "  --core N              pin the thread to CPU N\n"
	      "  --zerocopy auto|on|off  AF_XDP bind mode (default auto: zero-copy, else copy)\n"
	      "  --duration S          stop after S seconds (default 5; always bounded)\n"
	      "  --count N             stop after N packets (sink: N stamped packets);\n"
	      "                        still bounded by --duration\n"
	      "  --json                print a JSON summary on stdout\n"
	      "  --quiet               no progress line (it is shown only on a terminal)\n"
	      "  --version             print the version and exit\n"
	      "transmit:\n"
	      "  --mode live|xsk       live: BPF_PROG_RUN live frames (XDP_TX out of IFACE);\n"
	      "                        xsk: AF_XDP TX.  Default: live, AF_XDP if unsupported or refused\n"
	      "  --size N              frame length without FCS, 64..1518 (default 64)\n"
	      "  --flows N             distinct flows: source port varies first from --sport,\n"
	      "                        then the source address from --src (default 1)\n"
	      "  --src IP --dst IP     IPv4 or IPv6 (default 198.18.0.1 -> 198.18.1.1)\n"
	      "  --sport N --dport N   default 1024 -> 9\n"
	      "  --src-mac MAC         default: IFACE's address\n"
	      "  --dst-mac MAC         default: ff:ff:ff:ff:ff:ff\n"
	      "  --proto udp|tcp-syn|tcp-ack   default udp\n"
	      "  --rate PPS            token-bucket limit (default: as fast as possible)\n"
	      "sink:\n"
	      "  --mode count|xsk      count: an XDP program counts, checks sequence and\n"
	      "                        latency in per-CPU maps and drops (default);\n"
	      "                        xsk: frames go to an AF_XDP socket (payload checks)\n"
	      "  --verify              also check IPv4 and UDP/TCP checksums (implies xsk)\n",
	      f);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *end || x > max || s[0] == '-')
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static void defaults(struct pg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->core = -1;
	o->duration = 5.0;
	o->pkt.size = 64;
	o->pkt.flows = 1;
	o->pkt.sport = 1024;
	o->pkt.dport = 9;
	memset(o->pkt.dst_mac, 0xff, 6);
	xgw_addr_parse(&o->pkt.src, "198.18.0.1");
	xgw_addr_parse(&o->pkt.dst, "198.18.1.1");
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		fprintf(stderr, "xgw-pktgen: " __VA_ARGS__);                                       \
		fputc('\n', stderr);                                                               \
		return -EINVAL;                                                                    \
	} while (0)

int pg_opts_parse(struct pg_opts *o, int argc, char **argv)
{
	uint64_t v;
	char *end;
	int c;

	defaults(o);
	if (argc > 1 && strcmp(argv[1], "sink") == 0) {
		o->sink = true;
		argv++;
		argc--;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:q:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (strlen(optarg) >= IF_NAMESIZE)
				BAD("interface name too long: %s", optarg);
			strcpy(o->ifname, optarg);
			break;
		case 'q':
			if (parse_u64(optarg, 63, &v))
				BAD("bad queue: %s", optarg);
			o->queue = (uint32_t)v;
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "live"))
				o->mode = PG_MODE_LIVE;
			else if (!strcmp(optarg, "xsk"))
				o->mode = PG_MODE_XSK;
			else if (!strcmp(optarg, "count"))
				o->mode = PG_MODE_COUNT;
			else
				BAD("--mode is live or xsk (sink: count or xsk), not %s", optarg);
			break;
		case OPT_ZC:
			if (!strcmp(optarg, "auto"))
				o->zerocopy = PG_ZC_AUTO;
			else if (!strcmp(optarg, "on"))
				o->zerocopy = PG_ZC_ON;
			else if (!strcmp(optarg, "off"))
				o->zerocopy = PG_ZC_OFF;
			else
				BAD("--zerocopy is auto, on or off, not %s", optarg);
			break;
		case OPT_CORE:
			if (parse_u64(optarg, 4095, &v))
				BAD("bad core: %s", optarg);
			o->core = (int)v;
			break;
		case OPT_SIZE:
			if (parse_u64(optarg, PG_SIZE_MAX, &v) || v < PG_SIZE_MIN)
				BAD("--size is %d..%d, not %s", PG_SIZE_MIN, PG_SIZE_MAX, optarg);
			o->pkt.size = (uint32_t)v;
			break;
		case OPT_FLOWS:
			if (parse_u64(optarg, UINT32_MAX, &v) || v == 0)
				BAD("--flows is 1..%u, not %s", UINT32_MAX, optarg);
			o->pkt.flows = (uint32_t)v;
			break;
		case OPT_SRC:
			if (xgw_addr_parse(&o->pkt.src, optarg))
				BAD("bad --src address: %s", optarg);
			break;
		case OPT_DST:
			if (xgw_addr_parse(&o->pkt.dst, optarg))
				BAD("bad --dst address: %s", optarg);
			break;
		case OPT_SPORT:
			if (parse_u64(optarg, 65535, &v))
				BAD("bad --sport: %s", optarg);
			o->pkt.sport = (uint16_t)v;
			break;
		case OPT_DPORT:
			if (parse_u64(optarg, 65535, &v))
				BAD("bad --dport: %s", optarg);
			o->pkt.dport = (uint16_t)v;
			break;
		case OPT_SRC_MAC:
			if (parse_mac(optarg, o->pkt.src_mac))
				BAD("bad --src-mac: %s", optarg);
			o->have_src_mac = true;
			break;
		case OPT_DST_MAC:
			if (parse_mac(optarg, o->pkt.dst_mac))
				BAD("bad --dst-mac: %s", optarg);
			o->have_dst_mac = true;
			break;
		case OPT_PROTO:
			if (!strcmp(optarg, "udp"))
				o->pkt.proto = PG_PROTO_UDP;
			else if (!strcmp(optarg, "tcp-syn"))
				o->pkt.proto = PG_PROTO_TCP_SYN;
			else if (!strcmp(optarg, "tcp-ack"))
				o->pkt.proto = PG_PROTO_TCP_ACK;
			else
				BAD("--proto is udp, tcp-syn or tcp-ack, not %s", optarg);
			break;
		case OPT_RATE:
			if (parse_u64(optarg, 1000000000ull, &v))
				BAD("bad --rate: %s", optarg);
			o->rate = v;
			break;
		case OPT_DURATION:
			o->duration = strtod(optarg, &end);
			if (end == optarg || *end || !(o->duration > 0 && o->duration <= 86400))
				BAD("--duration is 0..86400 seconds, not %s", optarg);
			break;
		case OPT_COUNT:
			if (parse_u64(optarg, UINT64_MAX, &v) || v == 0)
				BAD("bad --count: %s", optarg);
			o->count = v;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case 'h':
			pg_usage(stdout);
			exit(0);
		case 'V':
			puts(XGW_VERSION_STRING("xgw-pktgen"));
			exit(0);
		default:
			pg_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		BAD("unexpected argument: %s", argv[optind]);
	if (!o->ifname[0])
		BAD("-i IFACE is required (see --help)");
	o->ifindex = if_nametoindex(o->ifname);
	if (!o->ifindex)
		BAD("no such interface: %s", o->ifname);
	if (o->sink) {
		/* The counting sink never sees payloads: checks need AF_XDP. */
		if (o->mode == PG_MODE_LIVE)
			BAD("sink --mode is count or xsk, not live");
		if (o->mode == PG_MODE_COUNT && o->verify)
			BAD("--verify reads every frame in user space: use sink --mode xsk");
		if (o->mode == PG_MODE_AUTO)
			o->mode = o->verify ? PG_MODE_XSK : PG_MODE_COUNT;
	} else if (o->mode == PG_MODE_COUNT) {
		BAD("--mode count is a sink mode (xgw-pktgen sink --mode count)");
	}
	if (o->pkt.src.family != o->pkt.dst.family)
		BAD("--src and --dst must both be IPv4 or both IPv6");
	return 0;
}
