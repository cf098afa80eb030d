/* SPDX-License-Identifier: BSD-3-Clause */
/* The metrics endpoint's HTTP side, on libmicrohttpd.
 *
 * Why a library: HTTP request parsing, limits, slow and half-open clients
 * are libmicrohttpd's well-tested business; this file only routes
 * `GET /metrics` to the renderer.
 *
 * Why our own thread rather than MHD's internal one: the stats hook may
 * read RCU-protected data, so the thread that calls it must be registered
 * with liburcu (ops.thread_init/fini).  MHD runs in external-epoll mode
 * and this thread drives it: one thread, many concurrent connections,
 * each bounded in memory (XGW_METRICS_MAX_REQ) and idle time
 * (XGW_METRICS_TIMEOUT_MS), so a silent client delays no scraper. */
#define XGW_LOG_COMP "metrics"
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/log.h"
#include "ctl/config.h"
#include "ctl/metrics.h"

/* Concurrent scrapers served at once; more wait in the listen backlog. */
#define MAX_CONNS 64

struct xgw_metrics {
	struct MHD_Daemon *d;
	int lfd;
	int stop[2]; /* pipe: its closing stops the thread */
	uint16_t port;
	pthread_t thread;
	struct xgw_metrics_ops ops;
	void *ctx;
};

static enum MHD_Result queue_text(struct MHD_Connection *c, unsigned status, const char *text,
				  const char *allow)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result queue_metrics(struct xgw_metrics *m, struct MHD_Connection *c)
{
	json_t *st = m->ops.stats ? m->ops.stats(m->ctx) : NULL;
	struct MHD_Response *r;
	enum MHD_Result rc;
	size_t len = 0;
	char *body;

	if (!st)
		return queue_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "stats not available\n", NULL);
	body = xgw_metrics_render(st, &len);
	json_decref(st);
	if (!body)
		return queue_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* One request.  Answered on the first call, before any body is read: a
 * request with a body is refused (405) and MHD closes the connection. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req_cls)
{
	struct xgw_metrics *m = cls;

	if (strcmp(url, "/metrics"))
		return queue_text(c, MHD_HTTP_NOT_FOUND, "404 page not found: try /metrics\n",
				  NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return queue_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
				  "GET, HEAD");
	/* HEAD: MHD sends the headers of the same response, no body. */
	return queue_metrics(m, c);
}

/* libmicrohttpd's own messages (bad requests, limits) at debug level:
 * they are about clients, not about xgwd. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	pr_debug("http: %s", msg);
}

static void *metrics_thread(void *arg)
{
	struct xgw_metrics *m = arg;
	const union MHD_DaemonInfo *ei = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);

	if (m->ops.thread_init)
		m->ops.thread_init(m->ctx);
	for (;;) {
		struct pollfd p[2] = {{.fd = ei->epoll_fd, .events = POLLIN},
				      {.fd = m->stop[0], .events = POLLIN}};
		MHD_UNSIGNED_LONG_LONG to;
		int wait = -1;

		if (MHD_get_timeout(m->d, &to) == MHD_YES)
			wait = to > 1000 ? 1000 : (int)to;
		if (poll(p, 2, wait) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		MHD_run(m->d);
	}
	/* Stopped here, on this thread: every connection is closed and the
	 * stats hook is not called again. */
	MHD_stop_daemon(m->d);
	m->d = NULL;
	if (m->ops.thread_fini)
		m->ops.thread_fini(m->ctx);
	return NULL;
}

/* "IPv4:port" or "[IPv6]:port", port 0..65535 (0 = any free port). */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct xgw_addr ip;
	uint16_t port;

	if (xgw_listen_parse(s, &ip, &port))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (ip.family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, ip.b, 16);
		a->sin6_port = htons(port);
		*sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, ip.b, 4);
		a->sin_port = htons(port);
		*sl = sizeof(*a);
	}
	return 0;
}

/* The listener is ours (bind errors keep their errno for the caller);
 * MHD takes it over and closes it when stopped. */
static int open_listener(struct xgw_metrics *m, const struct sockaddr_storage *ss, socklen_t sl)
{
	struct sockaddr_storage bound;
	socklen_t bl = sizeof(bound);
	int one = 1;

	m->lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0)
		return -1;
	setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->lfd, (const struct sockaddr *)ss, sl) || listen(m->lfd, 64) ||
	    getsockname(m->lfd, (struct sockaddr *)&bound, &bl))
		return -1;
	m->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						    : ((struct sockaddr_in *)&bound)->sin_port);
	{
		struct xgw_addr ip;
		char ep[XGW_KEY_STRLEN];

		if (bound.ss_family == AF_INET6)
			xgw_addr_v6(&ip, &((struct sockaddr_in6 *)&bound)->sin6_addr);
		else
			xgw_addr_v4(&ip, ((struct sockaddr_in *)&bound)->sin_addr.s_addr);
		xgw_endpoint_str(&ip, m->port, ep, sizeof(ep));
		pr_info("Prometheus metrics on http://%s/metrics", ep);
	}
	return 0;
}

int xgw_metrics_start(struct xgw_metrics **out, const char *addr, const struct xgw_metrics_ops *ops,
		      void *ctx)
{
	struct sockaddr_storage ss;
	struct xgw_metrics *m;
	socklen_t sl;
	int rc;

	rc = parse_listen(addr ? addr : "", &ss, &sl);
	if (rc) {
		pr_err("listen address \"%s\" is not ip:port or [ipv6]:port", addr ? addr : "");
		return rc;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->lfd = m->stop[0] = m->stop[1] = -1;
	if (ops)
		m->ops = *ops;
	m->ctx = ctx;
	if (open_listener(m, &ss, sl) || pipe2(m->stop, O_CLOEXEC | O_NONBLOCK))
		goto err;
	m->d = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0,
	    NULL, NULL, on_request, m, MHD_OPTION_LISTEN_SOCKET, m->lfd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNS, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)((XGW_METRICS_TIMEOUT_MS + 999) / 1000), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)XGW_METRICS_MAX_REQ, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!m->d) {
		errno = EIO;
		goto err;
	}
	rc = pthread_create(&m->thread, NULL, metrics_thread, m);
	if (rc) {
		MHD_stop_daemon(m->d); /* closes the listener */
		m->lfd = -1;
		errno = rc;
		goto err;
	}
	*out = m;
	return 0;
err:
	rc = -errno;
	pr_err("metrics listener %s: %s", addr, strerror(errno));
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->stop[0] >= 0) {
		close(m->stop[0]);
		close(m->stop[1]);
	}
	free(m);
	return rc;
}

uint16_t xgw_metrics_port(const struct xgw_metrics *m)
{
	return m ? m->port : 0;
}

void xgw_metrics_stop(struct xgw_metrics *m)
{
	if (!m)
		return;
	/* Closing the write end makes the read end readable (EOF) for good. */
	close(m->stop[1]);
	pthread_join(m->thread, NULL);
	close(m->stop[0]);
	free(m);
}
