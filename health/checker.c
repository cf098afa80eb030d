/* SPDX-License-Identifier: BSD-3-Clause */
/* The health checker's thread, targets and probes (checker.h). */
#define XGW_LOG_COMP "health"
#include "health/checker.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "health/tun_path.h"
#include "steer-bpf/steer_maps.h"

/* Bytes of an HTTP reply read for its status line. */
#define HTTP_BUF 256

enum phase { IDLE, CONNECTING, READING };

struct target {
	/* identity: the service and the backend */
	struct xgw_addr vip, ip;
	uint16_t vport, port;
	uint8_t proto;
	struct xgw_check_cfg check;
	struct xgw_hct_ep tep; /* behind a tunnel (remote set): checked through it (tun_path.h) */
	struct xgw_hct *hct; /* the relay its probe in flight went by, or NULL */
	uint16_t sport;	     /* that probe's source port */
	struct xgw_hc_state st;
	bool reset_due; /* down under on_down "reset": xgw_checker_resets ends its connections */
	/* the probe in flight */
	enum phase phase;
	int fd;
	uint64_t serial; /* epoll's cookie: a freed target's late event finds nothing */
	uint64_t started_ms, deadline_ms, next_ms;
	uint64_t started_us;
	size_t got;
	char buf[HTTP_BUF];
};

struct xgw_checker {
	pthread_t thread;
	pthread_mutex_t lock; /* targets: the checker thread, and ctl/main readers */
	int ep, tfd, efd;
	bool stop;
	struct target *t;
	unsigned n;
	uint64_t serial;
	uint16_t next_port; /* source port cursor in the check range */
	bool hct_on;	    /* some checked backend is behind a tunnel */
	struct xgw_hct hct; /* the way through tunnels */
	xgw_checker_changed_fn changed;
	void *ctx;
	/* The config of the last sync that succeeded (its services array,
	 * compared by address) and how many backends it checks: written and
	 * read by xgwd's writers, under their own lock. */
	const struct xgw_service_cfg *synced;
	unsigned synced_n_services, synced_targets;
};

#define EV_TIMER 1
#define EV_WAKE	 2
#define EV_TUN	 3  /* the TUN device of checks through tunnels */
#define EV_UDP	 4  /* + 0: its VXLAN socket, + 1: its Geneve one */
#define EV_FIRST 16 /* probe serials start here */

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t mono_ms(void)
{
	return mono_us() / 1000;
}

static socklen_t sockaddr_of(struct sockaddr_storage *ss, const struct xgw_addr *a, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->b, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a->b, 16);
	return sizeof(*s6);
}

/* A source port of the check range, on src: the wildcard address (the
 * kernel picks the gateway's own address towards the backend), or
 * tunnel.local_ip for a check through a tunnel.  Ports in use (a probe in
 * flight, another program) are skipped.  The port is set in *port. */
static int bind_check_port(struct xgw_checker *ck, int fd, const struct xgw_addr *src,
			   uint16_t *port)
{
	unsigned range = XGW_CHECK_PORT_MAX - XGW_CHECK_PORT_MIN + 1;
	struct sockaddr_storage ss;

	for (unsigned i = 0; i < range; i++) {
		uint16_t p = (uint16_t)(XGW_CHECK_PORT_MIN + (ck->next_port++ % range));
		socklen_t sl = sockaddr_of(&ss, src, p);

		if (!bind(fd, (struct sockaddr *)&ss, sl)) {
			*port = p;
			return 0;
		}
		if (errno != EADDRINUSE)
			return -errno;
	}
	return -EADDRINUSE;
}

static void probe_close(struct target *t)
{
	if (t->fd < 0)
		return;
	if (t->hct) /* its answers are no longer taken in */
		xgw_hct_done(t->hct, t->sport);
	t->hct = NULL;
	if (t->check.type != XGW_CHECK_UDP) {
		/* An abortive close: no TIME_WAIT holding the check port, and
		 * the backend is not left with a half-closed connection. */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(t->fd); /* also leaves the epoll set */
	t->fd = -1;
}

/* The probe is over: record it; true if the backend went up or down. */
static bool finish(struct target *t, enum xgw_hc_result r, int err, int status)
{
	char ep[XGW_KEY_STRLEN], sk[XGW_KEY_STRLEN];
	uint64_t now = mono_ms();
	bool flip;

	probe_close(t);
	t->phase = IDLE;
	t->st.last_errno = err;
	t->st.last_status = status;
	t->st.last_us = (uint32_t)(mono_us() - t->started_us);
	flip = xgw_hc_record(&t->st, r, t->check.rise, t->check.fall, now);
	if (flip) {
		t->reset_due = !t->st.up && t->check.on_down == XGW_ON_DOWN_RESET;
		pr_info("backend %s of %s is %s (%s%s%s)",
			xgw_endpoint_str(&t->ip, t->port, ep, sizeof(ep)),
			xgw_service_key_str(&t->vip, t->vport, t->proto, sk, sizeof(sk)),
			t->st.up ? "up" : "down", xgw_hc_result_name(r), err ? ": " : "",
			err ? strerror(err) : "");
	}
	return flip;
}

static bool start(struct xgw_checker *ck, struct target *t, uint64_t now)
{
	bool udp = t->check.type == XGW_CHECK_UDP;
	struct sockaddr_storage ss;
	struct epoll_event ev = {0};
	struct xgw_addr src = {.family = t->ip.family};
	uint16_t port = 0, dport = t->check.port ? t->check.port : t->port;
	bool tun = t->tep.remote;
	socklen_t sl;
	int rc;

	t->started_ms = now;
	t->started_us = mono_us();
	t->deadline_ms = now + t->check.timeout_ms;
	/* Fixed rate: the next check is due an interval after this one
	 * started, however long this one takes. */
	t->next_ms = now + t->check.interval_ms;
	t->got = 0;
	t->serial = ck->serial++;
	t->fd = socket(t->ip.family,
		       (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return finish(t, XGW_HC_ERROR, errno, 0);
	if (tun) {
		rc = xgw_hct_bind_device(&ck->hct, t->fd, t->tep.type);
		if (rc)
			return finish(t, XGW_HC_ERROR, -rc, 0);
		xgw_addr_v4(&src, ck->hct.local);
	}
	rc = bind_check_port(ck, t->fd, &src, &port);
	if (rc)
		return finish(t, XGW_HC_ERROR, -rc, 0);
	if (tun) {
		uint32_t be;

		memcpy(&be, t->ip.b, 4);
		xgw_hct_use(&ck->hct, port, &t->tep, be, dport);
		t->hct = &ck->hct;
		t->sport = port;
	}
	sl = sockaddr_of(&ss, &t->ip, dport);
	if (connect(t->fd, (struct sockaddr *)&ss, sl) && errno != EINPROGRESS)
		return finish(t, errno == ECONNREFUSED ? XGW_HC_REFUSED : XGW_HC_ERROR, errno, 0);
	if (udp) {
		if (send(t->fd, t->check.send, strlen(t->check.send), 0) < 0)
			return finish(t, errno == ECONNREFUSED ? XGW_HC_REFUSED : XGW_HC_ERROR,
				      errno, 0);
		t->phase = READING;
		ev.events = EPOLLIN;
	} else {
		t->phase = CONNECTING;
		ev.events = EPOLLOUT;
	}
	ev.data.u64 = t->serial;
	if (epoll_ctl(ck->ep, EPOLL_CTL_ADD, t->fd, &ev))
		return finish(t, XGW_HC_ERROR, errno, 0);
	return false;
}

static bool http_request(struct xgw_checker *ck, struct target *t)
{
	char req[XGW_CHECK_PATH_MAX + 160], host[XGW_ADDR_STRLEN];
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = t->serial};
	int n;

	/* HTTP/1.0 and Connection: close: the server closes after its reply. */
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: xgw-check\r\n"
		     "Connection: close\r\n\r\n",
		     t->check.path, xgw_addr_str(&t->ip, host, sizeof(host)));
	/* A fresh connection's send buffer takes a short request whole. */
	if (send(t->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		return finish(t, XGW_HC_ERROR, errno ? errno : EMSGSIZE, 0);
	t->phase = READING;
	if (epoll_ctl(ck->ep, EPOLL_CTL_MOD, t->fd, &ev))
		return finish(t, XGW_HC_ERROR, errno, 0);
	return false;
}

/* "HTTP/1.x NNN ...": the status, or 0 if the line is not that. */
static int http_status(const char *line)
{
	int st = 0;

	if (strncmp(line, "HTTP/1.", 7) || !line[7] || line[8] != ' ')
		return 0;
	for (int i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return 0;
		st = st * 10 + (line[i] - '0');
	}
	return line[12] == ' ' || line[12] == '\r' ? st : 0;
}

static bool http_read(struct target *t)
{
	ssize_t n = recv(t->fd, t->buf + t->got, sizeof(t->buf) - 1 - t->got, 0);
	int st;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n < 0)
		return finish(t, XGW_HC_ERROR, errno, 0);
	t->got += (size_t)n;
	t->buf[t->got] = 0;
	if (!strstr(t->buf, "\r\n") && n > 0 && t->got < sizeof(t->buf) - 1)
		return false; /* the status line is not complete yet */
	st = http_status(t->buf);
	if (!st)
		return finish(t, XGW_HC_BAD_REPLY, 0, 0);
	return finish(t, st == t->check.status ? XGW_HC_OK : XGW_HC_BAD_STATUS, 0, st);
}

static bool udp_read(struct target *t)
{
	char buf[XGW_CHECK_PAYLOAD_MAX + 1];
	ssize_t n = recv(t->fd, buf, sizeof(buf), 0);
	size_t want = strlen(t->check.expect);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n < 0) /* an ICMP port unreachable that reached this socket */
		return finish(t, errno == ECONNREFUSED ? XGW_HC_REFUSED : XGW_HC_ERROR, errno, 0);
	if ((size_t)n < want || memcmp(buf, t->check.expect, want))
		return finish(t, XGW_HC_BAD_REPLY, 0, 0);
	return finish(t, XGW_HC_OK, 0, 0);
}

static bool on_event(struct xgw_checker *ck, struct target *t, uint32_t events)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (t->phase == CONNECTING) {
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &el))
			err = errno;
		if (err)
			return finish(t, err == ECONNREFUSED ? XGW_HC_REFUSED : XGW_HC_ERROR, err,
				      0);
		if (t->check.type == XGW_CHECK_TCP)
			return finish(t, XGW_HC_OK, 0, 0);
		return http_request(ck, t);
	}
	if (t->phase == READING)
		return t->check.type == XGW_CHECK_UDP ? udp_read(t) : http_read(t);
	return false;
}

/* Start what is due, time out what is late, and arm the timer for the
 * next of either.  Called with the lock held; true if a backend flipped. */
static bool tick(struct xgw_checker *ck)
{
	uint64_t now = mono_ms(), next = UINT64_MAX;
	struct itimerspec its = {0}; /* all zero: disarmed (no target) */
	bool flip = false;

	/* The way through tunnels, failed or not yet open: tried again. */
	if (ck->hct_on && xgw_hct_failed(&ck->hct)) {
		xgw_hct_retry(&ck->hct, now);
		if (xgw_hct_failed(&ck->hct))
			next = ck->hct.retry_ms;
	}
	for (unsigned i = 0; i < ck->n; i++) {
		struct target *t = &ck->t[i];
		uint64_t due;

		if (t->phase != IDLE && now >= t->deadline_ms)
			flip |= finish(t, XGW_HC_TIMEOUT, 0, 0);
		if (t->phase == IDLE && now >= t->next_ms)
			flip |= start(ck, t, now);
		due = t->phase != IDLE ? t->deadline_ms : t->next_ms;
		if (due < next)
			next = due;
	}
	if (next != UINT64_MAX) {
		/* In the past (a probe that failed at once): fires at once. */
		its.it_value.tv_sec = (time_t)(next / 1000);
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000 + 1;
	}
	timerfd_settime(ck->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	return flip;
}

static struct target *by_serial(struct xgw_checker *ck, uint64_t serial)
{
	for (unsigned i = 0; i < ck->n; i++)
		if (ck->t[i].phase != IDLE && ck->t[i].serial == serial)
			return &ck->t[i];
	return NULL;
}

static void *checker_thread(void *arg)
{
	struct xgw_checker *ck = arg;
	struct epoll_event ev[64];

	for (;;) {
		int n = epoll_wait(ck->ep, ev, 64, -1);
		bool flip = false;
		uint64_t v;

		if (n < 0 && errno != EINTR) {
			pr_err("epoll_wait: %s: health checks stop", strerror(errno));
			break;
		}
		pthread_mutex_lock(&ck->lock);
		if (ck->stop) {
			pthread_mutex_unlock(&ck->lock);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct target *t;

			if (ev[i].data.u64 == EV_TIMER) {
				if (read(ck->tfd, &v, sizeof(v)) < 0)
					v = 0;
			} else if (ev[i].data.u64 == EV_WAKE) {
				if (read(ck->efd, &v, sizeof(v)) < 0)
					v = 0;
			} else if (ev[i].data.u64 == EV_TUN) {
				/* Deleted or failed: closed, opened again later. */
				int e = ev[i].events & (EPOLLERR | EPOLLHUP)
					    ? -ENODEV
					    : xgw_hct_from_device(&ck->hct);
				if (e)
					xgw_hct_fail(&ck->hct, -e, mono_ms());
			} else if (ev[i].data.u64 == EV_UDP || ev[i].data.u64 == EV_UDP + 1) {
				xgw_hct_from_tunnel(&ck->hct, (unsigned)(ev[i].data.u64 - EV_UDP));
			} else if ((t = by_serial(ck, ev[i].data.u64))) {
				flip |= on_event(ck, t, ev[i].events);
			}
		}
		flip |= tick(ck);
		pthread_mutex_unlock(&ck->lock);
		if (flip && ck->changed)
			ck->changed(ck->ctx);
	}
	return NULL;
}

static void wake(struct xgw_checker *ck)
{
	uint64_t one = 1;

	if (write(ck->efd, &one, sizeof(one)) < 0)
		pr_warn("cannot wake the checker: %s", strerror(errno));
}

int xgw_checker_start(struct xgw_checker **out, xgw_checker_changed_fn changed, void *ctx)
{
	struct xgw_checker *ck = calloc(1, sizeof(*ck));
	struct epoll_event ev = {.events = EPOLLIN};
	int rc;

	if (!ck)
		return -ENOMEM;
	ck->changed = changed;
	ck->ctx = ctx;
	ck->serial = EV_FIRST;
	xgw_hct_init(&ck->hct);
	pthread_mutex_init(&ck->lock, NULL);
	ck->ep = epoll_create1(EPOLL_CLOEXEC);
	ck->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ck->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ck->ep < 0 || ck->tfd < 0 || ck->efd < 0)
		goto fail;
	ev.data.u64 = EV_TIMER;
	if (epoll_ctl(ck->ep, EPOLL_CTL_ADD, ck->tfd, &ev))
		goto fail;
	ev.data.u64 = EV_WAKE;
	if (epoll_ctl(ck->ep, EPOLL_CTL_ADD, ck->efd, &ev))
		goto fail;
	rc = pthread_create(&ck->thread, NULL, checker_thread, ck);
	if (rc) {
		errno = rc;
		goto fail;
	}
	*out = ck;
	return 0;
fail:
	rc = -errno;
	if (ck->ep >= 0)
		close(ck->ep);
	if (ck->tfd >= 0)
		close(ck->tfd);
	if (ck->efd >= 0)
		close(ck->efd);
	pthread_mutex_destroy(&ck->lock);
	free(ck);
	return rc;
}

void xgw_checker_stop(struct xgw_checker *ck)
{
	if (!ck)
		return;
	pthread_mutex_lock(&ck->lock);
	ck->stop = true;
	wake(ck);
	pthread_mutex_unlock(&ck->lock);
	pthread_join(ck->thread, NULL);
	for (unsigned i = 0; i < ck->n; i++)
		probe_close(&ck->t[i]);
	xgw_hct_fini(&ck->hct);
	free(ck->t);
	close(ck->ep);
	close(ck->tfd);
	close(ck->efd);
	pthread_mutex_destroy(&ck->lock);
	free(ck);
}

static bool same_backend(const struct target *t, const struct xgw_service_cfg *s,
			 const struct xgw_backend_cfg *b)
{
	/* A backend's tunnel may change with a del and an add: the target is
	 * then another one (its probes take another way). */
	struct xgw_hct_ep e;

	xgw_hct_ep_of(&e, b); /* all zero without a tunnel */
	if (memcmp(&e, &t->tep, sizeof(e)))
		return false;
	return t->vport == s->port && t->proto == s->proto && t->port == b->port &&
	       xgw_addr_eq(&t->vip, &s->vip) && xgw_addr_eq(&t->ip, &b->ip);
}

static struct target *find(struct xgw_checker *ck, const struct xgw_service_cfg *s,
			   const struct xgw_backend_cfg *b)
{
	for (unsigned i = 0; i < ck->n; i++)
		if (same_backend(&ck->t[i], s, b))
			return &ck->t[i];
	return NULL;
}

/* Whether cfg, made from the config last synced with its changes named
 * (cfg->delta), still has no target: none before, and none among the
 * services it names. */
static bool still_none(const struct xgw_checker *ck, const struct xgw_config *cfg)
{
	const struct xgw_svc_delta *dl = cfg->delta;

	if (!dl || !ck->synced || ck->synced != dl->prev_services || ck->synced_targets ||
	    ck->synced_n_services != dl->n_prev || dl->n_prev > cfg->n_services)
		return false;
	for (unsigned k = 0; k < dl->n_idx + (cfg->n_services - dl->n_prev); k++) {
		unsigned i = k < dl->n_idx ? dl->idx[k] : dl->n_prev + (k - dl->n_idx);

		if (i >= cfg->n_services)
			return false;
		if (cfg->services[i].check.type != XGW_CHECK_NONE && cfg->services[i].n_backends)
			return false;
	}
	return true;
}

int xgw_checker_sync(struct xgw_checker *ck, const struct xgw_config *cfg)
{
	unsigned n = 0, k = 0;
	struct target *nt;
	uint64_t now = mono_ms();
	bool tun = false;
	unsigned types = 0;
	uint32_t remote = 0;

	if (still_none(ck, cfg)) {
		ck->synced = cfg->services;
		ck->synced_n_services = cfg->n_services;
		return 0;
	}

	for (unsigned i = 0; i < cfg->n_services; i++)
		if (cfg->services[i].check.type != XGW_CHECK_NONE)
			n += cfg->services[i].n_backends;
	nt = calloc(n ? n : 1, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	pthread_mutex_lock(&ck->lock);
	for (unsigned i = 0; i < cfg->n_services; i++) {
		const struct xgw_service_cfg *s = &cfg->services[i];

		if (s->check.type == XGW_CHECK_NONE)
			continue;
		for (unsigned j = 0; j < s->n_backends; j++) {
			const struct xgw_backend_cfg *b = &s->backends[j];
			struct target *old = find(ck, s, b), *t = &nt[k++];

			if (old && !memcmp(&old->check, &s->check, sizeof(s->check))) {
				*t = *old; /* state and probe in flight move over */
				old->fd = -1;
				continue;
			}
			t->vip = s->vip;
			t->vport = s->port;
			t->proto = s->proto;
			t->ip = b->ip;
			t->port = b->port;
			t->check = s->check;
			xgw_hct_ep_of(&t->tep, b);
			t->fd = -1;
			/* A changed check keeps the backend's state; a new
			 * backend starts up and is checked now. */
			if (old) {
				t->st = old->st;
				t->reset_due =
				    old->reset_due && s->check.on_down == XGW_ON_DOWN_RESET;
			} else
				xgw_hc_init(&t->st);
			t->st.ok_run = t->st.fail_run = 0;
			t->next_ms = now;
		}
	}
	for (unsigned i = 0; i < ck->n; i++)
		probe_close(&ck->t[i]); /* targets gone or restarted */
	free(ck->t);
	ck->t = nt;
	ck->n = k;
	for (unsigned i = 0; i < k; i++) {
		if (!nt[i].tep.remote)
			continue;
		if (!tun)
			remote = nt[i].tep.remote;
		tun = true;
		types |= 1u << (nt[i].tep.type == XGW_TUN_GENEVE);
	}
	/* The way through tunnels exists while some check needs it. */
	if (tun)
		xgw_hct_open(&ck->hct, &cfg->tunnel, types, remote, ck->ep, EV_TUN, EV_UDP);
	else if (ck->hct_on)
		xgw_hct_close(&ck->hct);
	ck->hct_on = tun;
	wake(ck); /* new targets are due now: the thread re-arms its timer */
	pthread_mutex_unlock(&ck->lock);
	ck->synced = cfg->services;
	ck->synced_n_services = cfg->n_services;
	ck->synced_targets = k;
	return 0;
}

bool xgw_checker_none_for(const struct xgw_checker *ck, const struct xgw_config *cfg)
{
	return ck->synced && ck->synced == cfg->services &&
	       ck->synced_n_services == cfg->n_services && !ck->synced_targets;
}

unsigned xgw_checker_adjust(struct xgw_checker *ck, struct xgw_config *cfg,
			    uint32_t (*maglev_size)(const struct xgw_service_cfg *s, uint32_t cap))
{
	unsigned down = 0;

	if (!ck)
		return 0;
	pthread_mutex_lock(&ck->lock);
	for (unsigned i = 0; i < cfg->n_services; i++) {
		struct xgw_service_cfg *s = &cfg->services[i];

		if (s->check.type == XGW_CHECK_NONE)
			continue;
		if (s->algo == XGW_ALGO_MAGLEV && !s->maglev_size)
			s->maglev_size = maglev_size(s, cfg->maglev_size);
		for (unsigned j = 0; j < s->n_backends; j++) {
			struct target *t = find(ck, s, &s->backends[j]);

			if (t && !t->st.up) {
				s->backends[j].weight = 0;
				down++;
			}
		}
	}
	pthread_mutex_unlock(&ck->lock);
	return down;
}

static bool same_sel(const struct target *t, const struct xgw_ct_backend_sel *s)
{
	return t->vport == s->vport && t->proto == s->proto && t->port == s->port &&
	       xgw_addr_eq(&t->vip, &s->vip) && xgw_addr_eq(&t->ip, &s->ip);
}

unsigned xgw_checker_resets(struct xgw_checker *ck, xgw_checker_reset_fn fn, void *ctx)
{
	struct xgw_ct_backend_sel *due = NULL;
	unsigned n = 0, total = 0;

	if (!ck)
		return 0;
	pthread_mutex_lock(&ck->lock);
	for (unsigned i = 0; i < ck->n; i++)
		n += ck->t[i].reset_due;
	if (n)
		due = calloc(n, sizeof(*due));
	n = 0;
	for (unsigned i = 0; due && i < ck->n; i++) {
		struct target *t = &ck->t[i];

		if (!t->reset_due)
			continue;
		t->reset_due = false;
		due[n++] = (struct xgw_ct_backend_sel){.vip = t->vip,
						       .ip = t->ip,
						       .vport = t->vport,
						       .port = t->port,
						       .proto = t->proto};
	}
	pthread_mutex_unlock(&ck->lock);
	for (unsigned i = 0; i < n; i++) {
		char ep[XGW_KEY_STRLEN], sk[XGW_KEY_STRLEN];
		unsigned removed = fn(ctx, &due[i]);

		pr_info(
		    "backend %s of %s down: %u established connection(s) removed "
		    "(on_down reset)",
		    xgw_endpoint_str(&due[i].ip, due[i].port, ep, sizeof(ep)),
		    xgw_service_key_str(&due[i].vip, due[i].vport, due[i].proto, sk, sizeof(sk)),
		    removed);
		total += removed;
		/* The target may have gone with a config change meanwhile. */
		pthread_mutex_lock(&ck->lock);
		for (unsigned j = 0; j < ck->n; j++)
			if (same_sel(&ck->t[j], &due[i]))
				ck->t[j].st.resets += removed;
		pthread_mutex_unlock(&ck->lock);
	}
	free(due);
	return total;
}

json_t *xgw_checker_backend_json(struct xgw_checker *ck, const struct xgw_service_cfg *s,
				 const struct xgw_backend_cfg *b)
{
	struct target *t;
	json_t *j = NULL;

	if (!ck)
		return NULL;
	pthread_mutex_lock(&ck->lock);
	t = find(ck, s, b);
	if (t)
		j = xgw_hc_json(&t->st, mono_ms());
	pthread_mutex_unlock(&ck->lock);
	return j;
}

json_t *xgw_checker_tunnel_json(struct xgw_checker *ck)
{
	json_t *j = NULL;

	if (!ck)
		return NULL;
	pthread_mutex_lock(&ck->lock);
	if (ck->hct_on)
		j = xgw_hct_json(&ck->hct);
	pthread_mutex_unlock(&ck->lock);
	return j;
}

json_t *xgw_checker_stats_json(struct xgw_checker *ck)
{
	json_t *a = json_array();

	if (!ck || !a)
		return a;
	pthread_mutex_lock(&ck->lock);
	for (unsigned i = 0; i < ck->n; i++) {
		const struct target *t = &ck->t[i];
		char sk[XGW_KEY_STRLEN], ep[XGW_KEY_STRLEN];

		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:b, s:f}", "service",
				 xgw_service_key_str(&t->vip, t->vport, t->proto, sk, sizeof(sk)),
				 "backend", xgw_endpoint_str(&t->ip, t->port, ep, sizeof(ep)), "up",
				 t->st.up, "checks", (json_int_t)t->st.checks, "failures",
				 (json_int_t)t->st.failures, "transitions",
				 (json_int_t)t->st.transitions, "resets", (json_int_t)t->st.resets,
				 "last_ok", t->st.last_at_ms && t->st.last == XGW_HC_OK, "last_ms",
				 t->st.last_us / 1000.0));
	}
	pthread_mutex_unlock(&ck->lock);
	return a;
}
