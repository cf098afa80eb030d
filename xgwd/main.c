/* SPDX-License-Identifier: BSD-3-Clause */
/* xgwd: the gateway daemon.  Reads the config, brings up ports, steering
 * programs and pinned workers, then runs the control side: signals,
 * netlink changes, neighbour resolution and the control socket. */
#define XGW_LOG_COMP "xgwd"
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>
#ifdef XGW_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "common/log.h"
#include "common/version.h"
#include "ctl/config.h"
#include "ctl/metrics.h"
#include "ctl/server.h"
#include "health/checker.h"
#include "pipeline/dataplane.h"
#include "pipeline/kdp.h"
#include "pipeline/announce.h"
#include "pipeline/netlink.h"
#include "pipeline/tap.h"
#include "pipeline/port_watch.h"
#include "pipeline/snapshot.h"
#include "pipeline/svc_stats.h"
#include "steer-bpf/bpf_log.h"
#include "steer-bpf/steer.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Routes follow the kernel's events one by one.  Neighbours and interface
 * addresses (small) are re-read on their events (debounced) and at least
 * this often, for neighbour resolutions the kernel completes quietly. */
#define REFRESH_PERIOD_MS 2000
#define REFRESH_DEBOUNCE_MS 20
/* Ports are checked on every netlink event and at least this often:
 * removing an XDP program announces nothing. */
#define PORT_WATCH_PERIOD_MS 500
/* Route messages applied per round of the main loop: between rounds the
 * control thread may take fwd_lock (a full table arriving holds it for
 * ~10 ms at a time, not for seconds). */
#define ROUTE_EVENTS_PER_ROUND 8192
/* Conntrack GC slices: a full pass about every 10 s (see xgw_dp_ct_gc). */
#define CT_GC_PERIOD_MS 100

struct xgwd {
	struct xgw_dataplane dp;
	struct xgw_config *running; /* owned by the ctl server once started */
	struct xgw_ctl *ctl;
	struct xgw_metrics *metrics; /* NULL unless "metrics.listen" is set */
	/* The last config applied to the data plane, private to xgwd: the
	 * netlink refresh reads its static routes while the ctl thread may be
	 * swapping `running`.  fwd_lock orders the two writers of dp.fwd. */
	pthread_mutex_t fwd_lock;
	struct xgw_config applied;
	/* After the first write through the control socket, `applied` shares
	 * its arrays with the ctl server's running config (ctl_apply): they
	 * live until the next successful write, by which time `applied` was
	 * replaced under fwd_lock.  Not freed here then. */
	bool applied_shared;
	struct xgw_announce *announce; /* NULL unless "announce" is set */
	/* Health checks: the checker thread signals health_efd when a
	 * backend went up or down; the main loop then re-applies `applied`
	 * as the checks have it (serve()). */
	struct xgw_checker *checker;
	int health_efd;
	/* xgwctl drain: the time (ms) by which xgwd exits even with
	 * connections left; 0 = not draining.  Written by the ctl thread. */
	_Atomic uint64_t drain_deadline;
};

/* systemd's Type=notify: readiness once ports, workers and the control
 * socket are up; a no-op outside systemd or without libsystemd. */
static void notify(const char *state)
{
#ifdef XGW_HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xgwd -c CONFIG.json [--log-level err|warn|info|debug] [--check] "
		   "[--force-attach]\n"
		   "  -c, --config FILE   configuration file (JSON, see xgw.json(5))\n"
		   "      --log-level L   err, warn, info (default) or debug\n"
		   "      --check         validate the configuration and exit\n"
		   "      --force-attach  replace XDP programs xgw did not load\n"
		   "      --version       print the version and exit\n"
		   "Signals: SIGINT/SIGTERM stop cleanly (XDP programs detached);\n"
		   "SIGUSR1 prints statistics as JSON on stderr; SIGHUP reloads the\n"
		   "configuration file (as xgwctl config reload).\n");
}

/* libxdp keeps its dispatcher state in bpffs; `ip netns exec` gives a fresh
 * /sys without it, so mount it where missing. */
static void ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return;
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		pr_warn("cannot mount bpffs on /sys/fs/bpf (%s): libxdp falls back to "
			"single-program attach",
			strerror(errno));
	else
		pr_info("mounted bpffs on /sys/fs/bpf");
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Frees what effective() copied of cfg into eff. */
static void effective_free(const struct xgw_config *cfg, struct xgw_config *eff)
{
	if (eff->services == cfg->services)
		return;
	for (unsigned i = 0; i < eff->n_services; i++)
		if (eff->services[i].backends != cfg->services[i].backends)
			free(eff->services[i].backends);
	free(eff->services);
}

/* cfg as the data plane serves it: down backends out of new picks
 * (xgw_checker_adjust).  out shares cfg's arrays except what the checker
 * may change: the services array and the backends of checked services,
 * copied only when there is a checked service (a deep copy of 10,000
 * services on every write was a tenth of a service.add).  Free it with
 * effective_free.  0, or -ENOMEM with err filled. */
static int effective(struct xgwd *d, const struct xgw_config *cfg, struct xgw_config *out,
		     char *err, size_t errlen)
{
	unsigned i, n_checked = 0;

	*out = *cfg;
	if (!d->checker || xgw_checker_none_for(d->checker, cfg))
		return 0;
	for (i = 0; i < cfg->n_services; i++)
		n_checked += cfg->services[i].check.type != XGW_CHECK_NONE;
	if (!n_checked)
		return 0;
	/* Health may have changed any service: no change is named. */
	out->delta = NULL;
	out->services = malloc(cfg->n_services * sizeof(*out->services));
	if (!out->services)
		goto nomem;
	memcpy(out->services, cfg->services, cfg->n_services * sizeof(*out->services));
	for (i = 0; i < cfg->n_services; i++) {
		struct xgw_service_cfg *s = &out->services[i];

		if (s->check.type == XGW_CHECK_NONE || !s->n_backends)
			continue;
		s->backends = malloc(s->n_backends * sizeof(*s->backends));
		if (!s->backends) {
			s->backends = cfg->services[i].backends;
			effective_free(cfg, out);
			goto nomem;
		}
		memcpy(s->backends, cfg->services[i].backends,
		       s->n_backends * sizeof(*s->backends));
	}
	xgw_checker_adjust(d->checker, out, xgw_service_maglev_size);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* Services (snapshot, kernel maps) as cfg has them once the checks took
 * out the down backends, and the VIPs announced accordingly: a service
 * whose backends are all down is withdrawn.  Called with fwd_lock held. */
static int serve(struct xgwd *d, const struct xgw_config *cfg, bool announce, char *err,
		 size_t errlen)
{
	struct xgw_config eff;
	int rc = effective(d, cfg, &eff, err, errlen);

	if (rc)
		return rc;
	/* d->applied: the config the running snapshot was made from (or,
	 * with checks, its effective copy: then nothing is skipped). */
	rc = xgw_dp_apply_snapshot(&d->dp, &eff, &d->applied, err, errlen);
	if (!rc && announce)
		xgw_announce_sync(d->announce, &eff);
	effective_free(cfg, &eff);
	return rc;
}

/* The checker saw a backend go up or down (its thread): wake the main
 * loop, which re-applies. */
static void health_changed(void *ctx)
{
	struct xgwd *d = ctx;
	uint64_t one = 1;

	if (write(d->health_efd, &one, sizeof(one)) < 0)
		pr_warn("cannot signal a health change: %s", strerror(errno));
}

/* on_down "reset": the backend's connections leave conntrack; their next
 * packets are picked up by the tables without it. */
static unsigned reset_backend(void *ctx, const struct xgw_ct_backend_sel *s)
{
	int n = xgw_dp_ct_flush_backend(&((struct xgwd *)ctx)->dp, s);

	return n > 0 ? (unsigned)n : 0;
}

static json_t *ctl_health(void *ctx, const struct xgw_service_cfg *s,
			  const struct xgw_backend_cfg *b)
{
	return xgw_checker_backend_json(((struct xgwd *)ctx)->checker, s, b);
}

static bool same_array(const void *a, unsigned na, const void *b, unsigned nb, size_t size)
{
	return na == nb && (!na || !memcmp(a, b, na * size));
}

static int ctl_apply(void *ctx, const struct xgw_config *cfg, char *err, size_t errlen)
{
	struct xgwd *d = ctx;
	int rc;

	pthread_mutex_lock(&d->fwd_lock);
	/* The checker first: new backends start up, removed ones are no
	 * longer checked, and serve() sees the new set's health. */
	if (d->checker && xgw_checker_sync(d->checker, cfg)) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	/* Services first, so that traffic steered by the new rules finds
	 * them; a snapshot that cannot be built changes nothing. */
	rc = serve(d, cfg, false, err, errlen);
	if (rc)
		goto revert;
	rc = xgw_dp_apply_steer(&d->dp, cfg, &d->applied);
	if (rc) {
		snprintf(err, errlen, "cannot update steering maps: %s", strerror(-rc));
		goto revert;
	}
	/* The forwarding state carries the config's static routes and
	 * neighbours: update it when they changed (a service change costs no
	 * netlink dump). */
	if (!d->dp.fib || !same_array(cfg->routes, cfg->n_routes, d->applied.routes,
				      d->applied.n_routes, sizeof(*cfg->routes))) {
		rc = xgw_dp_fib_static(&d->dp, cfg);
		if (rc) {
			snprintf(err, errlen, "cannot install static routes: %s", strerror(-rc));
			goto revert;
		}
	}
	if (!d->dp.fwd || !same_array(cfg->neighbours, cfg->n_neighbours, d->applied.neighbours,
				      d->applied.n_neighbours, sizeof(*cfg->neighbours))) {
		rc = xgw_dp_refresh_fwd(&d->dp, cfg);
		if (rc) {
			snprintf(err, errlen, "cannot rebuild forwarding state: %s", strerror(-rc));
			goto revert;
		}
	}
	/* cfg's arrays stay as the ctl server's running config, freed only
	 * after the next successful apply (server.h): no deep copy (a tenth
	 * of a service.add at 10,000 services). */
	if (!d->applied_shared)
		xgw_config_free(&d->applied);
	d->applied = *cfg;
	d->applied.delta = NULL; /* the write's, gone with it */
	d->applied_shared = true;
	/* After the data plane serves the new set: announce what it serves
	 * (under fwd_lock: a health change re-announces in the same order). */
	{
		struct xgw_config eff;

		if (!effective(d, cfg, &eff, err, errlen)) {
			xgw_announce_sync(d->announce, &eff);
			effective_free(cfg, &eff);
		}
	}
	pthread_mutex_unlock(&d->fwd_lock);
	return 0;
revert: {
	/* Put everything back as the last applied config has it. */
	char e2[256];
	if (d->checker)
		xgw_checker_sync(d->checker, &d->applied);
	serve(d, &d->applied, false, e2, sizeof(e2));
	xgw_dp_apply_steer(&d->dp, &d->applied, &d->applied);
	if (d->dp.fib)
		xgw_dp_fib_static(&d->dp, &d->applied);
}
out:
	pthread_mutex_unlock(&d->fwd_lock);
	return rc;
}

static uint64_t ct_live(struct xgwd *d)
{
	struct xgw_ct_stats s;

	xgw_ct_get_stats(d->dp.ct, &s);
	return s.live;
}

static json_t *ctl_drain(void *ctx, char *err, size_t errlen)
{
	struct xgwd *d = ctx;
	uint32_t t = d->applied.drain_timeout_s;

	xgw_announce_withdraw(d->announce);
	if (!atomic_load(&d->drain_deadline))
		atomic_store(&d->drain_deadline, now_ms() + (uint64_t)t * 1000 + 1);
	pr_info("draining: VIPs withdrawn; exiting when conntrack is empty or in %u s", t);
	return json_pack("{s:b, s:I, s:I}", "withdrawn", d->announce != NULL, "connections",
			 (json_int_t)ct_live(d), "timeout_s", (json_int_t)t);
}

static json_t *ctl_fib(void *ctx, bool neighbours, unsigned limit)
{
	struct xgwd *d = ctx;
	json_t *j;

	/* dp.fwd is replaced (and the old one freed) only under fwd_lock. */
	pthread_mutex_lock(&d->fwd_lock);
	j = xgw_dp_fib_json(&d->dp, neighbours, limit);
	pthread_mutex_unlock(&d->fwd_lock);
	return j;
}

static json_t *ctl_route_get(void *ctx, const struct xgw_addr *a)
{
	struct xgwd *d = ctx;
	json_t *j;

	pthread_mutex_lock(&d->fwd_lock);
	j = xgw_dp_route_get_json(&d->dp, a);
	pthread_mutex_unlock(&d->fwd_lock);
	return j;
}

static json_t *ctl_stats(void *ctx)
{
	struct xgwd *d = ctx;
	json_t *j = xgw_dp_stats_json(&d->dp);

	/* Every checked backend's state, for stats --json and the metrics. */
	if (j && d->checker) {
		json_t *tun = xgw_checker_tunnel_json(d->checker);

		json_object_set_new(j, "health", xgw_checker_stats_json(d->checker));
		if (tun) /* the checks through tunnels' relay */
			json_object_set_new(j, "health_tunnel", tun);
	}
	return j;
}

static void ctl_svc_counters(void *ctx, const struct xgw_service_cfg *svcs, unsigned n,
			     struct xgw_ctl_svc_ctr *out)
{
	xgw_svc_counters(&((struct xgwd *)ctx)->dp, svcs, n, out);
}

static json_t *ctl_ports(void *ctx)
{
	return xgw_dp_ports_json(&((struct xgwd *)ctx)->dp);
}

static json_t *ctl_ct_list(void *ctx, unsigned limit)
{
	return xgw_dp_ct_json(&((struct xgwd *)ctx)->dp, limit);
}

static int ctl_ct_flush(void *ctx)
{
	int n = xgw_dp_ct_flush(&((struct xgwd *)ctx)->dp);

	pr_info("conntrack flushed: %d entries", n);
	return 0;
}

/* trace.* and capture.* (pipeline/tap.h). */
static json_t *ctl_tap(void *ctx, const char *cmd, json_t *args, char *err, size_t errlen)
{
	struct xgw_dataplane *dp = &((struct xgwd *)ctx)->dp;
	enum xgw_tap_mode mode = strncmp(cmd, "trace.", 6) ? XGW_TAP_CAPTURE : XGW_TAP_TRACE;
	const char *op = strchr(cmd, '.') + 1;
	json_t *max = json_object_get(args, "max");

	if (!strcmp(op, "start"))
		return xgw_tap_start(dp, mode, args, err, errlen)
			   ? NULL
			   : xgw_tap_read(dp, mode, 0, err, errlen);
	if (!strcmp(op, "stop"))
		return xgw_tap_stop(dp, mode, err, errlen);
	if (max && (json_integer_value(max) < 1 || json_integer_value(max) > XGW_TAP_RING)) {
		snprintf(err, errlen, "args.max: expected an integer in [1, %d]", XGW_TAP_RING);
		return NULL;
	}
	return xgw_tap_read(dp, mode, max ? (unsigned)json_integer_value(max) : 256, err, errlen);
}

/* The control thread calls into conntrack (call_rcu) and publishes
 * snapshots: it registers with RCU and stays offline except around those
 * calls, so that it never holds up a grace period while it sleeps. */
static void ctl_thread_init(void *ctx)
{
	rcu_register_thread();
	rcu_thread_offline();
}

static void ctl_thread_fini(void *ctx)
{
	rcu_thread_online();
	rcu_unregister_thread();
}

static const struct xgw_ctl_ops ctl_ops = {
    .apply = ctl_apply,
    .stats = ctl_stats,
    .ports = ctl_ports,
    .ct_list = ctl_ct_list,
    .ct_flush = ctl_ct_flush,
    .fib = ctl_fib,
    .route_get = ctl_route_get,
    .drain = ctl_drain,
    .tap = ctl_tap,
    .health = ctl_health,
    .svc_counters = ctl_svc_counters,
    .thread_init = ctl_thread_init,
    .thread_fini = ctl_thread_fini,
};

/* The metrics thread reads the same stats, snapshot included: an RCU
 * thread too, offline except around those reads. */
static const struct xgw_metrics_ops metrics_ops = {
	.stats = ctl_stats,
	.thread_init = ctl_thread_init,
	.thread_fini = ctl_thread_fini,
};

static int run(struct xgwd *d, int sfd)
{
	struct mnl_socket *nl = xgw_nl_events_open();
	uint64_t last_refresh = now_ms(), dirty_since = 0, last_gc = 0, last_watch = 0;
	int rc = 0;

	if (!nl)
		pr_warn("cannot subscribe to netlink events: refreshing every %d ms only",
			REFRESH_PERIOD_MS);
	for (;;) {
		struct pollfd pfd[3] = {{.fd = sfd, .events = POLLIN},
					{.fd = nl ? xgw_nl_events_fd(nl) : -1, .events = POLLIN},
					{.fd = d->health_efd, .events = POLLIN}};
		struct signalfd_siginfo si;
		uint64_t now;

		if (poll(pfd, 3, 50) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (pfd[0].revents & POLLIN && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1) {
				xgw_dp_print_stats(&d->dp, stderr);
			} else if (si.ssi_signo == SIGHUP) {
				/* A reload (as xgwctl config reload), never a
				 * reason to stop a gateway. */
				pr_info("SIGHUP: reloading the configuration file");
				xgw_ctl_request_reload(d->ctl);
			} else {
				pr_info("signal %u: stopping", si.ssi_signo);
				break;
			}
		}
		if (pfd[1].revents & POLLIN) {
			bool other = false;
			int n;

			pthread_mutex_lock(&d->fwd_lock);
			n = xgw_dp_fib_events(&d->dp, nl, ROUTE_EVENTS_PER_ROUND, &other);
			pthread_mutex_unlock(&d->fwd_lock);
			if (n < 0)
				pr_warn("following route changes: %s", strerror(-n));
			if (other && !dirty_since)
				dirty_since = now_ms();
		}
		if (pfd[2].revents & POLLIN) {
			uint64_t v;
			char err[256];

			/* A backend went up or down: serve the config as the
			 * checks now have it. */
			if (read(d->health_efd, &v, sizeof(v)) < 0)
				v = 0;
			pthread_mutex_lock(&d->fwd_lock);
			if (serve(d, &d->applied, true, err, sizeof(err)))
				pr_err("cannot apply a health change: %s", err);
			else /* the down backends are out of every table now */
				xgw_checker_resets(d->checker, reset_backend, d);
			pthread_mutex_unlock(&d->fwd_lock);
		}
		xgw_dp_service_resolves(&d->dp);
		now = now_ms();
		if (atomic_load(&d->drain_deadline)) {
			uint64_t live = ct_live(d);

			if (!live || now >= atomic_load(&d->drain_deadline)) {
				pr_info("drained: %llu connection(s) left; stopping",
					(unsigned long long)live);
				break;
			}
		}
		if (now - last_gc >= CT_GC_PERIOD_MS) {
			xgw_dp_ct_gc(&d->dp);
			last_gc = now;
		}
		/* Before the refresh: a new MTU is in place when the new
		 * forwarding state invalidates the workers' route caches. */
		if ((dirty_since && now - dirty_since >= REFRESH_DEBOUNCE_MS) ||
		    now - last_watch >= PORT_WATCH_PERIOD_MS) {
			if (xgw_port_watch(&d->dp) && !dirty_since)
				dirty_since = now;
			last_watch = now;
		}
		if ((dirty_since && now - dirty_since >= REFRESH_DEBOUNCE_MS) ||
		    now - last_refresh >= REFRESH_PERIOD_MS) {
			int err;

			pthread_mutex_lock(&d->fwd_lock);
			err = xgw_dp_refresh_fwd(&d->dp, &d->applied);
			pthread_mutex_unlock(&d->fwd_lock);
			if (err)
				pr_warn("refresh of neighbours/addresses failed: %s",
					strerror(-err));
			last_refresh = now;
			dirty_since = 0;
		}
	}
	xgw_nl_events_close(nl);
	return rc;
}

/* Before the ctl thread owns d->running: both configs (applied may still
 * be all zero). */
static void free_configs(struct xgwd *d)
{
	if (!d->applied_shared)
		xgw_config_free(&d->applied);
	xgw_config_free(d->running);
	free(d->running);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"log-level", required_argument, NULL, 'l'},
	    {"check", no_argument, NULL, 'k'},	      {"force-attach", no_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},	      {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct xgwd d;
	const char *path = NULL;
	bool check_only = false;
	char err[512];
	sigset_t sigs;
	int c, rc, sfd;
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};

	memset(&d, 0, sizeof(d));
	d.health_efd = -1;
	pthread_mutex_init(&d.fwd_lock, NULL);
	xgw_bpf_log_init();
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'l':
			rc = xgw_log_level_parse(optarg);
			if (rc < 0) {
				fprintf(stderr, "xgwd: --log-level: unknown level \"%s\"\n", optarg);
				return 2;
			}
			xgw_log_level = (enum xgw_log_level)rc;
			break;
		case 'k':
			check_only = true;
			break;
		case 'F':
			xgw_steer_set_force(true);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts(XGW_VERSION_STRING("xgwd"));
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}

	d.running = calloc(1, sizeof(*d.running));
	if (!d.running)
		return 1;
	rc = xgw_config_load_file(d.running, path, err, sizeof(err));
	if (!rc)
		rc = xgw_config_validate(d.running, (int)sysconf(_SC_NPROCESSORS_CONF), err,
					 sizeof(err));
	if (!rc) /* what the kernel datapath cannot serve is refused up front */
		rc = xgw_kdp_check(d.running, err, sizeof(err));
	if (rc || check_only) {
		if (rc)
			fprintf(stderr, "xgwd: %s: %s\n", path, err);
		else
			printf("%s: ok\n", path);
		free_configs(&d);
		return rc ? 1 : 0;
	}
	if (xgw_config_copy(&d.applied, d.running)) {
		pr_err("out of memory");
		free_configs(&d);
		return 1;
	}

	/* Signals go to the control loop only, never to workers. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		/* With the signals blocked and nobody reading them, SIGTERM
		 * could never stop xgwd: refuse to start instead. */
		fprintf(stderr, "xgwd: signalfd: %s\n", strerror(errno));
		free_configs(&d);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	setrlimit(RLIMIT_MEMLOCK, &rl); /* pre-5.11 kernels charge BPF maps there */
	/* This thread publishes state and runs conntrack GC (call_rcu): it is
	 * an RCU thread, offline except inside those calls. */
	rcu_register_thread();
	rcu_thread_offline();
	ensure_bpffs();

	rc = xgw_dp_open(&d.dp, d.running, err, sizeof(err));
	if (rc) {
		pr_err("%s", err);
		free_configs(&d);
		return 1;
	}
	xgw_port_watch_init(&d.dp);
	/* Metrics listen where the config said at start: read it now, before
	 * the ctl thread exists and may replace the configs. */
	char listen_at[sizeof(d.running->metrics_listen)];
	memcpy(listen_at, d.running->metrics_listen, sizeof(listen_at));
	rc = xgw_dp_start(&d.dp);
	/* Announced only once the data plane serves, and before the control
	 * socket can change the set. */
	if (!rc && d.applied.announce_table) {
		rc = xgw_announce_open(&d.announce, d.applied.announce_table);
		if (rc)
			pr_err("announce: routing table %u: %s", d.applied.announce_table,
			       strerror(-rc));
		else
			xgw_announce_sync(d.announce, &d.applied);
	}
	/* Health checks, before the control socket can change the set: the
	 * backends start up (the first snapshot has them all), the checker
	 * takes them out as they fail. */
	if (!rc) {
		d.health_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		rc = d.health_efd < 0 ? -errno : xgw_checker_start(&d.checker, health_changed, &d);
		if (!rc)
			rc = xgw_checker_sync(d.checker, &d.applied);
		if (rc)
			pr_err("health checker: %s", strerror(-rc));
	}
	if (!rc) {
		rc = xgw_ctl_start(&d.ctl, &d.running->ctl, d.running, &ctl_ops, &d);
		if (rc)
			pr_err("control socket %s: %s", d.running->ctl.socket, strerror(-rc));
		else
			xgw_ctl_set_config_path(d.ctl, path);
	}
	if (!rc && listen_at[0])
		rc = xgw_metrics_start(&d.metrics, listen_at, &metrics_ops, &d);
	if (!rc) {
		pr_info("running: %u port(s), %u worker(s)", d.dp.n_ports, d.dp.n_workers);
		notify("READY=1\nSTATUS=serving");
		rc = run(&d, sfd);
		notify("STOPPING=1");
	}
	/* Withdrawn first, while the workers still serve what is in flight. */
	xgw_announce_withdraw(d.announce);
	xgw_metrics_stop(d.metrics); /* it reads the data plane's counters */
	if (d.ctl)
		xgw_ctl_stop(d.ctl);
	xgw_checker_stop(d.checker); /* after the ctl thread, which syncs it */
	if (d.health_efd >= 0)
		close(d.health_efd);
	xgw_announce_close(d.announce); /* after the ctl thread, its other user */
	atomic_store(&d.dp.stop, true);
	for (unsigned i = 0; i < d.dp.n_workers; i++)
		xgw_worker_join(d.dp.workers[i]);
	xgw_dp_print_stats(&d.dp, stderr);
	xgw_dp_close(&d.dp);
	if (!d.applied_shared)
		xgw_config_free(&d.applied); /* else xgw_ctl_stop freed it (running) */
	if (!d.ctl)
		xgw_config_free(d.running); /* else xgw_ctl_stop freed its contents */
	free(d.running);
	rcu_thread_online();
	rcu_unregister_thread();
	pr_info("stopped");
	return rc ? 1 : 0;
}
