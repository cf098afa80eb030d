/* SPDX-License-Identifier: BSD-3-Clause */
/* The DPDK backend (port_dpdk.h) on rte_ethdev.
 *
 * Frames are copied between the PMD's mbufs and the worker's frame area
 * on receive and on transmit.  That keeps one frame type in the pipeline
 * (struct xgw_pkt over struct xgw_umem): the stages, the drop path and
 * forwarding between an AF_XDP port and a DPDK port of the same worker
 * need no second case, and the AF_XDP fast path pays nothing for DPDK.
 * The price is one copy of each frame each way (bench/README.md has the
 * measurement); handing mbufs through the pipeline is what would remove
 * it. */
#define XGW_LOG_COMP "dpdk"
#include "port/port_dpdk.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "common/log.h"
#include "common/stat.h"
#include "xsk/umem.h"

#define RD(x)	   XGW_STAT_READ(x)
#define RX_DESC	   1024
#define TX_DESC	   1024
#define POOL_CACHE 256
/* Headroom left in front of a received frame, as AF_XDP gives
 * (XDP_PACKET_HEADROOM): room for tunnel encapsulation. */
#define FRAME_HEADROOM 256
#define MAX_NODES      8

struct xgw_dpdk_port {
	uint16_t id; /* ethdev port id */
	uint16_t n_queues;
	bool probed; /* we probed the device: detach it on close */
	bool started;
	char name[RTE_ETH_NAME_MAX_LEN];
	struct rte_mempool *pool;
};

struct dpdk_q {
	struct xgw_portq q; /* first: the worker's handle */
	uint16_t dev;
	uint16_t qid;
	struct xgw_umem *u;
	struct rte_mempool *pool;
	struct {
		uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
		uint64_t rx_no_frame;  /* received, but no free frame to copy into */
		uint64_t rx_too_big;   /* longer than a frame */
		uint64_t tx_no_mbuf;   /* not sent: mbuf pool empty */
		uint64_t tx_ring_full; /* not sent: the PMD's TX queue was full */
	} st;
};

static struct {
	pthread_mutex_t lock;
	bool done;
	struct xgw_dpdk_cfg args; /* what the EAL was started with */
	struct rte_mempool *pools[MAX_NODES];
	uint32_t pool_mbufs;
} eal = {.lock = PTHREAD_MUTEX_INITIALIZER};

bool xgw_dpdk_available(void)
{
	return true;
}

static bool has_arg(const struct xgw_dpdk_cfg *c, const char *const *names)
{
	for (unsigned i = 0; i < c->n_eal_args; i++)
		for (const char *const *n = names; *n; n++)
			if (!strncmp(c->eal_args[i], *n, strlen(*n)))
				return true;
	return false;
}

static int eal_start(const struct xgw_dpdk_cfg *c, char *err, size_t errlen)
{
	static const char *const shared[] = {"--file-prefix", "--in-memory", "--proc-type",
					     "--no-shconf", NULL};
	static const char *const nohuge[] = {"--no-huge", NULL};
	static const char *const cores[] = {"-l", "-c", "--lcores", NULL};
	char *argv[XGW_DPDK_MAX_ARGS + 8];
	char lcore[32];
	cpu_set_t saved;
	int argc = 0, rc, cpu = 0;

	argv[argc++] = (char *)"xgwd";
	/* No files under /var/run/dpdk unless asked: two xgwd (or an xgwd
	 * and a dpdk-testpmd) on one machine must not collide.  --no-huge
	 * implies legacy memory, which --in-memory refuses. */
	if (!has_arg(c, shared))
		argv[argc++] = (char *)(has_arg(c, nohuge) ? "--no-shconf" : "--in-memory");
	/* The EAL's main lcore is this (control) thread; without -l it would
	 * take every CPU as an lcore and start a thread on each.  Workers
	 * are xgwd's own threads, registered per worker. */
	CPU_ZERO(&saved);
	sched_getaffinity(0, sizeof(saved), &saved);
	if (!has_arg(c, cores)) {
		while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &saved))
			cpu++;
		snprintf(lcore, sizeof(lcore), "--lcores=0@%d", cpu);
		argv[argc++] = lcore;
	}
	for (unsigned i = 0; i < c->n_eal_args; i++)
		argv[argc++] = (char *)c->eal_args[i];
	argv[argc] = NULL;
	/* rte_eal_init pins the calling thread to the main lcore's CPUs;
	 * give xgwd's control thread its own affinity back below. */
	rc = rte_eal_init(argc, argv);
	sched_setaffinity(0, sizeof(saved), &saved);
	if (rc < 0) {
		snprintf(err, errlen, "dpdk: EAL initialisation failed (eal_args): %s",
			 rte_strerror(rte_errno));
		return -(rte_errno ? rte_errno : EINVAL);
	}
	pr_info("EAL up (%d arguments), %u ethdev port(s) present", argc - 1,
		rte_eth_dev_count_avail());
	return 0;
}

int xgw_dpdk_init(const struct xgw_dpdk_cfg *c, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&eal.lock);
	if (!eal.done) {
		rc = eal_start(c, err, errlen);
		if (!rc) {
			eal.done = true;
			eal.args = *c;
		}
	} else if (eal.args.n_eal_args != c->n_eal_args ||
		   memcmp(eal.args.eal_args, c->eal_args, sizeof(c->eal_args[0]) * c->n_eal_args)) {
		/* The EAL cannot be started twice in a process. */
		snprintf(err, errlen, "dpdk: eal_args cannot change while xgwd runs (restart it)");
		rc = -EBUSY;
	}
	pthread_mutex_unlock(&eal.lock);
	return rc;
}

/* One mbuf pool per NUMA node, shared by the ports on that node. */
static struct rte_mempool *pool_for(int socket, uint32_t mbufs)
{
	unsigned node = socket < 0 ? 0 : (unsigned)socket;
	char name[RTE_MEMPOOL_NAMESIZE];

	if (node >= MAX_NODES)
		node = 0;
	if (eal.pools[node])
		return eal.pools[node];
	snprintf(name, sizeof(name), "xgw_mbuf_%u", node);
	eal.pools[node] =
	    rte_pktmbuf_pool_create(name, mbufs, POOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				    socket < 0 ? SOCKET_ID_ANY : socket);
	if (eal.pools[node])
		pr_info("mbuf pool %s: %u mbufs on node %d", name, mbufs, socket);
	return eal.pools[node];
}

/* "net_pcap0,rx_pcap=x" -> "net_pcap0"; "0000:01:00.0" stays. */
static void dev_name(char *out, size_t len, const char *device)
{
	snprintf(out, len, "%.*s", (int)strcspn(device, ","), device);
}

static int find_or_probe(struct xgw_dpdk_port *p, const char *port, const char *device, char *err,
			 size_t errlen)
{
	int rc;

	dev_name(p->name, sizeof(p->name), device);
	if (!rte_eth_dev_get_port_by_name(p->name, &p->id))
		return 0; /* given with --vdev or -a in eal_args */
	rc = rte_dev_probe(device);
	if (rc) {
		snprintf(err, errlen, "port %s: dpdk device \"%s\": cannot probe: %s", port, device,
			 strerror(-rc));
		return rc;
	}
	p->probed = true;
	if (rte_eth_dev_get_port_by_name(p->name, &p->id)) {
		snprintf(err, errlen, "port %s: dpdk device \"%s\" probed but no ethdev \"%s\"",
			 port, device, p->name);
		return -ENODEV;
	}
	return 0;
}

static int configure(struct xgw_dpdk_port *p, const char *port, int socket, char *err,
		     size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nrx = RX_DESC, ntx = TX_DESC;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(p->id, &info);
	if (rc)
		goto fail;
	if (p->n_queues > info.max_rx_queues || p->n_queues > info.max_tx_queues) {
		snprintf(err, errlen, "port %s: %u queues, the device has at most %u RX and %u TX",
			 port, p->n_queues, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	/* Spread flows over the queues as the NIC's RSS does for AF_XDP. */
	if (p->n_queues > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
		    (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
		    info.flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(p->id, p->n_queues, p->n_queues, &conf);
	if (!rc)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &nrx, &ntx);
	for (uint16_t q = 0; !rc && q < p->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(p->id, q, nrx, (unsigned)socket, NULL, p->pool);
		if (!rc)
			rc = rte_eth_tx_queue_setup(p->id, q, ntx, (unsigned)socket, NULL);
	}
	if (!rc)
		return 0;
fail:
	snprintf(err, errlen, "port %s: dpdk device %s: cannot configure %u queue(s): %s", port,
		 p->name, p->n_queues, strerror(-rc));
	return rc;
}

int xgw_dpdk_port_open(struct xgw_dpdk_port **out, const char *name, const char *device,
		       uint16_t n_queues, uint32_t mbufs, uint8_t mac[6], uint32_t *mtu,
		       int *numa_node, char *err, size_t errlen)
{
	struct xgw_dpdk_port *p = calloc(1, sizeof(*p));
	struct rte_ether_addr ea;
	struct rte_eth_dev_info info;
	uint16_t m = 0;
	int rc, socket;

	if (!p)
		return -ENOMEM;
	p->n_queues = n_queues;
	rc = find_or_probe(p, name, device, err, errlen);
	if (rc)
		goto fail;
	socket = rte_eth_dev_socket_id(p->id);
	p->pool = pool_for(socket, mbufs);
	if (!p->pool) {
		rc = -(rte_errno ? rte_errno : ENOMEM);
		snprintf(err, errlen,
			 "port %s: cannot create a pool of %u mbufs on node %d: %s (give the "
			 "EAL more memory: \"eal_args\": [\"-m\", \"1024\"], or fewer "
			 "\"dpdk\".\"mbufs\")",
			 name, mbufs, socket, rte_strerror(-rc));
		goto fail;
	}
	rc = configure(p, name, socket < 0 ? 0 : socket, err, errlen);
	if (rc)
		goto fail;
	if (!rte_eth_macaddr_get(p->id, &ea))
		memcpy(mac, ea.addr_bytes, 6);
	*mtu = !rte_eth_dev_get_mtu(p->id, &m) && m ? m : 1500;
	*numa_node = socket;
	*out = p;
	pr_info("port %s: dpdk %s (ethdev %u, driver %s), %u queue pair(s), node %d", name, p->name,
		p->id, rte_eth_dev_info_get(p->id, &info) ? "?" : info.driver_name, n_queues,
		socket);
	return 0;
fail:
	xgw_dpdk_port_close(p);
	return rc;
}

int xgw_dpdk_port_start(struct xgw_dpdk_port *p, char *err, size_t errlen)
{
	int rc = rte_eth_dev_start(p->id);

	if (rc) {
		snprintf(err, errlen, "dpdk device %s: cannot start: %s", p->name, strerror(-rc));
		return rc;
	}
	p->started = true;
	/* The gateway forwards for other hosts: their MACs are not ours. */
	rte_eth_promiscuous_enable(p->id);
	return 0;
}

void xgw_dpdk_port_close(struct xgw_dpdk_port *p)
{
	if (!p)
		return;
	if (p->started)
		rte_eth_dev_stop(p->id);
	if (p->probed) {
		struct rte_eth_dev_info info;

		rte_eth_dev_close(p->id);
		if (!rte_eth_dev_info_get(p->id, &info) && info.device)
			rte_dev_remove(info.device);
	}
	free(p);
}

/* ---- the queue: hot path ---------------------------------------------- */

static uint32_t rx_burst(struct xgw_portq *pq, struct xgw_pkt *pkts, uint32_t n)
{
	struct dpdk_q *q = (struct dpdk_q *)pq;
	struct rte_mbuf *m[XGW_BURST_MAX];
	uint64_t addrs[XGW_BURST_MAX], bytes = 0;
	uint32_t room = q->u->frame_size - FRAME_HEADROOM, got, have, k = 0;

	got =
	    rte_eth_rx_burst(q->dev, q->qid, m, (uint16_t)(n > XGW_BURST_MAX ? XGW_BURST_MAX : n));
	if (!got)
		return 0;
	have = xgw_umem_alloc_bulk(q->u, addrs, got);
	for (uint32_t i = 0; i < got; i++) {
		uint32_t len = rte_pktmbuf_pkt_len(m[i]);
		struct xgw_pkt *p = &pkts[k];

		if (k == have) {
			XGW_STAT_ADD(q->st.rx_no_frame, got - i);
			break;
		}
		if (len > room) {
			XGW_STAT_ADD(q->st.rx_too_big, 1);
			continue;
		}
		p->addr = addrs[k] + FRAME_HEADROOM;
		p->data = xgw_umem_ptr(q->u, p->addr);
		/* Chained mbufs (jumbo frames) are gathered by the read. */
		if (m[i]->nb_segs == 1)
			memcpy(p->data, rte_pktmbuf_mtod(m[i], void *), len);
		else
			rte_pktmbuf_read(m[i], 0, len, p->data);
		p->len = len;
		p->headroom = FRAME_HEADROOM;
		p->port = q->q.port_id;
		p->queue = q->q.queue;
		bytes += len;
		k++;
	}
	for (uint32_t i = k; i < have; i++)
		xgw_umem_free(q->u, addrs[i]);
	rte_pktmbuf_free_bulk(m, got);
	XGW_STAT_ADD(q->st.rx_packets, k);
	XGW_STAT_ADD(q->st.rx_bytes, bytes);
	return k;
}

static uint32_t tx_burst(struct xgw_portq *pq, struct xgw_pkt *pkts, uint32_t n)
{
	struct dpdk_q *q = (struct dpdk_q *)pq;
	struct rte_mbuf *m[XGW_BURST_MAX];
	uint64_t bytes = 0;
	uint32_t sent;

	if (n > XGW_BURST_MAX)
		n = XGW_BURST_MAX;
	if (rte_pktmbuf_alloc_bulk(q->pool, m, n)) {
		XGW_STAT_ADD(q->st.tx_no_mbuf, n);
		return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		/* A frame never outgrows an mbuf: frames are at most 4096
		 * bytes less headroom, the default mbuf holds 2048 ... */
		char *d = rte_pktmbuf_append(m[i], (uint16_t)pkts[i].len);

		if (!d) { /* ... so this is a frame longer than the mbuf */
			rte_pktmbuf_free_bulk(m, n);
			XGW_STAT_ADD(q->st.tx_no_mbuf, n);
			return 0;
		}
		memcpy(d, pkts[i].data, pkts[i].len);
	}
	sent = rte_eth_tx_burst(q->dev, q->qid, m, (uint16_t)n);
	if (sent < n) {
		rte_pktmbuf_free_bulk(m + sent, n - sent);
		XGW_STAT_ADD(q->st.tx_ring_full, n - sent);
	}
	for (uint32_t i = 0; i < sent; i++) {
		bytes += pkts[i].len;
		xgw_umem_free(q->u, pkts[i].addr);
	}
	XGW_STAT_ADD(q->st.tx_packets, sent);
	XGW_STAT_ADD(q->st.tx_bytes, bytes);
	return sent;
}

/* ---- the queue: control side ------------------------------------------ */

static int wait_fd(const struct xgw_portq *q)
{
	return -1; /* poll mode: no interrupt to sleep on */
}

static bool must_poll(const struct xgw_portq *q)
{
	return false;
}

static void set_int(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static void queue_json(const struct xgw_portq *pq, json_t *o, bool stats)
{
	const struct dpdk_q *q = (const struct dpdk_q *)pq;

	if (!stats) {
		json_object_set_new(o, "mode", json_string("dpdk"));
		return;
	}
	set_int(o, "rx_packets", RD(q->st.rx_packets));
	set_int(o, "rx_bytes", RD(q->st.rx_bytes));
	set_int(o, "tx_packets", RD(q->st.tx_packets));
	set_int(o, "tx_bytes", RD(q->st.tx_bytes));
	set_int(o, "tx_ring_full", RD(q->st.tx_ring_full) + RD(q->st.tx_no_mbuf));
	set_int(o, "rx_no_frame", RD(q->st.rx_no_frame));
	set_int(o, "rx_too_big", RD(q->st.rx_too_big));
}

static void counters(const struct xgw_portq *pq, struct xgw_portq_counters *c)
{
	const struct dpdk_q *q = (const struct dpdk_q *)pq;

	*c = (struct xgw_portq_counters){
	    .rx_packets = RD(q->st.rx_packets),
	    .tx_packets = RD(q->st.tx_packets),
	    .starved = RD(q->st.rx_no_frame),
	};
}

static void close_q(struct xgw_portq *q)
{
	free(q);
}

static const struct xgw_port_ops dpdk_ops = {
    .driver = "dpdk",
    .rx_burst = rx_burst,
    .tx_burst = tx_burst,
    .wait_fd = wait_fd,
    .must_poll = must_poll,
    .queue_json = queue_json,
    .counters = counters,
    .close = close_q,
};

int xgw_dpdk_queue_open(struct xgw_portq **out, struct xgw_dpdk_port *p, struct xgw_umem *u,
			uint16_t queue, uint16_t port_id)
{
	struct dpdk_q *q;

	if (queue >= p->n_queues)
		return -EINVAL;
	if (posix_memalign((void **)&q, 64, sizeof(*q)))
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->q.ops = &dpdk_ops;
	q->q.port_id = port_id;
	q->q.queue = queue;
	q->dev = p->id;
	q->qid = queue;
	q->u = u;
	q->pool = p->pool;
	*out = &q->q;
	return 0;
}

json_t *xgw_dpdk_port_json(struct xgw_dpdk_port *p)
{
	struct rte_eth_stats s;
	json_t *o = json_object(), *xo = json_object();
	int n;

	json_object_set_new(o, "device", json_string(p->name));
	json_object_set_new(o, "ethdev", json_integer(p->id));
	if (!rte_eth_stats_get(p->id, &s)) {
		set_int(o, "ipackets", s.ipackets);
		set_int(o, "opackets", s.opackets);
		set_int(o, "ibytes", s.ibytes);
		set_int(o, "obytes", s.obytes);
		set_int(o, "imissed", s.imissed);
		set_int(o, "ierrors", s.ierrors);
		set_int(o, "oerrors", s.oerrors);
		set_int(o, "rx_nombuf", s.rx_nombuf);
	}
	n = rte_eth_xstats_get(p->id, NULL, 0);
	if (n > 0) {
		struct rte_eth_xstat *xs = calloc((size_t)n, sizeof(*xs));
		struct rte_eth_xstat_name *names = calloc((size_t)n, sizeof(*names));

		if (xs && names && rte_eth_xstats_get(p->id, xs, (unsigned)n) == n &&
		    rte_eth_xstats_get_names(p->id, names, (unsigned)n) == n)
			for (int i = 0; i < n; i++)
				if (xs[i].value && xs[i].id < (uint64_t)n)
					set_int(xo, names[xs[i].id].name, xs[i].value);
		free(xs);
		free(names);
	}
	json_object_set_new(o, "xstats", xo);
	return o;
}

int xgw_dpdk_thread_register(void)
{
	if (rte_lcore_id() == LCORE_ID_ANY && rte_thread_register())
		return -1;
	/* The lcore takes the thread's CPU affinity (the queue's core). */
	pr_info("thread on CPU %d is DPDK lcore %u", sched_getcpu(), rte_lcore_id());
	return 0;
}

void xgw_dpdk_thread_unregister(void)
{
	rte_thread_unregister();
}
