/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket server: one thread, poll() over the listening socket,
 * a wakeup pipe and every client.  All sockets are non-blocking and each
 * client has its own input buffer, so a client that sends half a line, or
 * nothing, or stops reading its replies only ever stalls itself.  Requests
 * of one client are answered in order, one at a time: the next line is not
 * handled until the previous reply has left, which bounds the output
 * buffered per client to one reply.
 *
 * No client can lock the operator out: one with nothing in progress is
 * closed after an idle timeout, a line must be finished within a deadline
 * (slowloris), a reply must be taken within the idle timeout, the input
 * held for all clients together has a budget, and when the table is full a
 * new client evicts the one quiet the longest. */
#include "ctl/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define XGW_LOG_COMP "ctl"
#include "common/log.h"

#define READ_CHUNK 65536

struct client {
	int fd;
	char *in;      /* bytes received, not yet handled */
	size_t in_len; /* valid bytes in `in` */
	size_t in_cap;
	size_t scanned; /* prefix of `in` known to hold no newline */
	char *out;	/* reply being sent */
	size_t out_len, out_off;
	bool eof;     /* peer half-closed: finish what is buffered, then close */
	bool closing; /* close once `out` is flushed */
	uint64_t last_ms;	/* last byte received or sent */
	uint64_t line_start_ms; /* first byte of the unfinished line, 0 = none */
};

struct xgw_ctl_srv {
	int lfd;
	int wake[2]; /* pipe: xgw_ctl_stop writes one byte */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* of the socket we bound, so stop only unlinks our own */
	ino_t ino;
	pthread_t thread;
	struct client *clients[XGW_CTL_MAX_CLIENTS];
	unsigned n_clients;
	size_t buffered; /* sum of the clients' input buffer capacities */
	_Atomic unsigned idle_ms, line_ms;
	uint64_t evicted, timed_out, last_evict_log_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- socket setup ----------------------------------------------------- */

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(tmp))
		return len ? -ENAMETOOLONG : 0;
	memcpy(tmp, dir, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* If something is at path: refuse when a live daemon answers on it, remove
 * it when it is the socket of a dead one. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(sa->sun_path, &st)) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		pr_err("cannot stat %s: %s", sa->sun_path, strerror(errno));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("%s exists and is not a socket; not replacing it", sa->sun_path);
		return -EEXIST;
	}
	/* Non-blocking, so that a live daemon with a full backlog answers
	 * EAGAIN rather than stalling our start. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (ret == 0 || errno == EAGAIN) {
		close(fd);
		pr_err("%s: another xgwd is running (it answered on the socket)", sa->sun_path);
		return -EADDRINUSE;
	}
	ret = errno;
	close(fd);
	/* ECONNREFUSED: nobody listens, the socket file outlived its daemon. */
	if (ret != ECONNREFUSED) {
		pr_err("%s: cannot probe existing socket: %s", sa->sun_path, strerror(ret));
		return -ret;
	}
	pr_info("%s: removing stale socket", sa->sun_path);
	if (unlink(sa->sun_path) && errno != ENOENT)
		return -errno;
	return 0;
}

static int open_listener(struct xgw_ctl_srv *srv, const struct xgw_ctl_cfg *cfg)
{
	const char *path = cfg->socket[0] ? cfg->socket : XGW_CTL_DEFAULT_SOCKET;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)];
	char *slash;
	struct stat st;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_err("control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		ret = mkdir_p(dir);
		if (ret) {
			pr_err("cannot create %s: %s", dir, strerror(-ret));
			return ret;
		}
	}
	ret = clear_stale(&sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		pr_err("cannot bind %s: %s", sa.sun_path, strerror(errno));
		goto fail;
	}
	/* bind() created the file with the umask's mode and xgwd's group;
	 * set both before listen(), so no client can connect under the wrong
	 * ones. */
	if (cfg->group[0] && chown(sa.sun_path, (uid_t)-1, (gid_t)cfg->gid)) {
		ret = -errno;
		pr_err("cannot give %s to group %s: %s", sa.sun_path, cfg->group, strerror(errno));
		unlink(sa.sun_path);
		goto fail;
	}
	if (chmod(sa.sun_path, cfg->mode ? cfg->mode : 0660) || stat(sa.sun_path, &st)) {
		ret = -errno;
		pr_err("cannot chmod %s: %s", sa.sun_path, strerror(errno));
		unlink(sa.sun_path);
		goto fail;
	}
	if (listen(fd, 64)) {
		ret = -errno;
		unlink(sa.sun_path);
		goto fail;
	}
	srv->lfd = fd;
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	strcpy(srv->path, sa.sun_path);
	return 0;
fail:
	close(fd);
	return ret;
}

/* ---- clients ---------------------------------------------------------- */

static void client_free(struct client *cl)
{
	close(cl->fd);
	free(cl->in);
	free(cl->out);
	free(cl);
}

static void client_drop(struct xgw_ctl_srv *srv, unsigned i)
{
	srv->buffered -= srv->clients[i]->in_cap;
	client_free(srv->clients[i]);
	srv->clients[i] = srv->clients[--srv->n_clients];
}

/* Send what we can of the pending reply; false when the client is gone. */
static bool client_flush(struct client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		cl->out_off += (size_t)n;
		cl->last_ms = now_ms();
	}
	free(cl->out);
	cl->out = NULL;
	cl->out_len = cl->out_off = 0;
	return true;
}

/* Queue a reply line (newline included; taken over), or close the
 * connection when there is none (out of memory). */
static void client_reply_line(struct client *cl, char *s, size_t len)
{
	static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}\n";

	if (!s && (s = strdup(oom)))
		len = sizeof(oom) - 1;
	if (!s) {
		cl->closing = true;
		return;
	}
	cl->out = s;
	cl->out_len = len;
	cl->out_off = 0;
}

static void client_reply(struct client *cl, json_t *reply)
{
	char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL, *p = NULL;
	size_t len = s ? strlen(s) : 0;

	json_decref(reply);
	/* Room for the newline: json_dumps leaves none. */
	if (s && (p = realloc(s, len + 2))) {
		p[len] = '\n';
		p[len + 1] = '\0';
	} else {
		free(s);
	}
	client_reply_line(cl, p, len + 1);
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* The one answer to a line over the limit; the connection then closes, as
 * the rest of that line cannot be told apart from a next request. */
static void refuse_long(struct client *cl)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "request: line longer than %u bytes; closing", XGW_CTL_MAX_LINE);
	client_reply(cl, xgw_ctl_reply_err(msg));
	cl->closing = true;
}

/* A long-lived client that once sent a big request should not keep a
 * megabyte buffer for its small ones. */
static void client_shrink(struct xgw_ctl_srv *srv, struct client *cl)
{
	char *p;

	if (cl->in_cap <= 65536 || cl->in_len > 4096)
		return;
	p = realloc(cl->in, 4096);
	if (p) {
		srv->buffered -= cl->in_cap - 4096;
		cl->in = p;
		cl->in_cap = 4096;
	}
}

/* Handle buffered lines until one produced a reply that could not be sent
 * at once.  Returns false when the client is gone. */
static bool client_work(struct xgw_ctl *c, struct client *cl)
{
	while (!cl->out && !cl->closing) {
		char *nl = NULL;
		size_t len;

		if (cl->in_len > cl->scanned)
			nl = memchr(cl->in + cl->scanned, '\n', cl->in_len - cl->scanned);

		if (!nl) {
			cl->scanned = cl->in_len;
			if (cl->in_len > XGW_CTL_MAX_LINE) {
				refuse_long(cl);
			} else if (cl->eof) {
				/* Disconnected mid-line: nobody to answer. */
				return false;
			}
			break;
		}
		len = (size_t)(nl - cl->in);
		if (len > XGW_CTL_MAX_LINE) {
			refuse_long(cl);
			break;
		}
		if (!blank(cl->in, len)) {
			size_t n = 0;
			char *r = xgw_ctl_handle_line(c, cl->in, len, &n);

			client_reply_line(cl, r, n);
		}
		memmove(cl->in, nl + 1, cl->in_len - len - 1);
		cl->in_len -= len + 1;
		cl->scanned = 0;
		/* What is left is the start of the next line, if anything. */
		cl->line_start_ms = cl->in_len ? now_ms() : 0;
		if (c->srv)
			client_shrink(c->srv, cl);
		if (cl->out && !client_flush(cl))
			return false;
	}
	if (cl->out && !client_flush(cl))
		return false;
	return !(cl->closing && !cl->out);
}

/* Read what is there, at most up to one byte past the line limit: a longer
 * line is refused before it is ever held whole, and no read takes the
 * input held for all clients over XGW_CTL_MAX_BUFFERED. */
static bool client_read(struct xgw_ctl_srv *srv, struct client *cl)
{
	for (;;) {
		size_t want = XGW_CTL_MAX_LINE + 2 - cl->in_len;
		ssize_t n;

		if (want == 0)
			return true;
		if (want > READ_CHUNK)
			want = READ_CHUNK;
		if (cl->in_cap - cl->in_len < want) {
			size_t cap = cl->in_cap ? cl->in_cap : 4096;
			char *p;

			while (cap - cl->in_len < want)
				cap *= 2;
			if (srv->buffered - cl->in_cap + cap > XGW_CTL_MAX_BUFFERED) {
				/* This client holds the most of it or is new: it
				 * is the one that waits, not the server. */
				client_reply(
				    cl, xgw_ctl_reply_err("request: control socket input budget "
							  "exhausted; closing"));
				cl->closing = true;
				return true;
			}
			p = realloc(cl->in, cap);
			if (!p)
				return false;
			srv->buffered += cap - cl->in_cap;
			cl->in = p;
			cl->in_cap = cap;
		}
		n = recv(cl->fd, cl->in + cl->in_len, want, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		if (n == 0) {
			cl->eof = true;
			return true;
		}
		cl->last_ms = now_ms();
		if (!cl->line_start_ms)
			cl->line_start_ms = cl->last_ms;
		cl->in_len += (size_t)n;
		/* Hand complete lines over before reading more. */
		if (memchr(cl->in + cl->in_len - n, '\n', (size_t)n))
			return true;
	}
}

/* Tell a client why it is closed; best effort (it may not be reading). */
static void say_bye(int fd, const char *why)
{
	char msg[160];
	int len = snprintf(msg, sizeof(msg), "{\"ok\":false,\"error\":\"%s\"}\n", why);

	if (send(fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		pr_debug("closing reply: %s", strerror(errno));
}

/* The client to make room with: the one quiet the longest (no byte in or
 * out), whether idle, stuck mid-line or not reading its reply.  A client
 * that is talking has just been heard from. */
static unsigned pick_victim(const struct xgw_ctl_srv *srv)
{
	unsigned best = 0;

	for (unsigned i = 1; i < srv->n_clients; i++)
		if (srv->clients[i]->last_ms < srv->clients[best]->last_ms)
			best = i;
	return best;
}

/* At most XGW_CTL_ACCEPT_BURST per poll round: a flood of connections
 * cannot evict a client that connected earlier in the same round before
 * its request is read. */
static void accept_clients(struct xgw_ctl_srv *srv)
{
	for (unsigned k = 0; k < XGW_CTL_ACCEPT_BURST; k++) {
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *cl;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				pr_warn("accept: %s", strerror(errno));
			return;
		}
		cl = calloc(1, sizeof(*cl));
		if (!cl) {
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->last_ms = now_ms();
		if (srv->n_clients == XGW_CTL_MAX_CLIENTS) {
			unsigned v = pick_victim(srv);

			say_bye(srv->clients[v]->fd, "closed: the control socket is full and this "
						     "client was quiet the longest");
			client_drop(srv, v);
			srv->evicted++;
			if (cl->last_ms - srv->last_evict_log_ms >= 10000) {
				srv->last_evict_log_ms = cl->last_ms;
				pr_warn(
				    "control socket full (%u clients): evicting the longest quiet "
				    "(%llu so far)",
				    XGW_CTL_MAX_CLIENTS, (unsigned long long)srv->evicted);
			}
		}
		srv->clients[srv->n_clients++] = cl;
	}
}

/* Close clients past their deadlines; returns the poll timeout (ms) until
 * the next one can expire, -1 when there are no clients. */
static int expire_clients(struct xgw_ctl_srv *srv)
{
	uint64_t now = now_ms();
	unsigned idle = atomic_load_explicit(&srv->idle_ms, memory_order_relaxed);
	unsigned line = atomic_load_explicit(&srv->line_ms, memory_order_relaxed);
	int next = -1;

	for (unsigned i = srv->n_clients; i-- > 0;) {
		struct client *cl = srv->clients[i];
		uint64_t due = cl->last_ms + idle;
		const char *why = "closed: idle";

		if (cl->line_start_ms && cl->line_start_ms + line < due) {
			due = cl->line_start_ms + line;
			why = "request: line not finished in time; closing";
		}
		if (now >= due) {
			say_bye(cl->fd, why);
			client_drop(srv, i);
			srv->timed_out++;
			continue;
		}
		if (next < 0 || due - now < (uint64_t)next)
			next = (int)(due - now);
	}
	return next;
}

static void reload(struct xgw_ctl *c)
{
	static const char req[] = "{\"cmd\":\"config.reload\"}";
	json_t *r = xgw_ctl_handle(c, req, sizeof(req) - 1);
	char *s = json_dumps(json_object_get(r, "result"), JSON_COMPACT);

	if (json_is_true(json_object_get(r, "ok")))
		pr_info("config reloaded: %s", s ? s : "");
	else
		pr_err("%s", json_string_value(json_object_get(r, "error")));
	free(s);
	json_decref(r);
}

/* The wake pipe carries 'x' (stop), 'r' (reload) or 't' (new timeouts:
 * loop again). */
static bool woken_to_stop(struct xgw_ctl *c)
{
	char buf[16];
	ssize_t n;
	bool again = false;

	while ((n = read(c->srv->wake[0], buf, sizeof(buf))) > 0) {
		if (memchr(buf, 'x', (size_t)n))
			return true;
		again |= memchr(buf, 'r', (size_t)n) != NULL;
	}
	if (again)
		reload(c);
	return false;
}

static void *ctl_thread(void *arg)
{
	struct xgw_ctl *c = arg;
	struct xgw_ctl_srv *srv = c->srv;
	struct pollfd pfd[XGW_CTL_MAX_CLIENTS + 2];

	if (c->ops.thread_init)
		c->ops.thread_init(c->ctx);
	for (;;) {
		int timeout = expire_clients(srv);
		unsigned n = srv->n_clients;

		pfd[0] = (struct pollfd){.fd = srv->wake[0], .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = srv->lfd, .events = POLLIN};
		for (unsigned i = 0; i < n; i++) {
			struct client *cl = srv->clients[i];

			/* Stop reading while a reply is pending: backpressure. */
			pfd[i + 2] = (struct pollfd){
			    .fd = cl->fd,
			    .events = cl->out ? POLLOUT : POLLIN,
			};
		}
		if (poll(pfd, n + 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents && woken_to_stop(c))
			break;
		/* Walk backwards: client_drop moves the last client into i. */
		for (unsigned i = n; i-- > 0;) {
			struct client *cl = srv->clients[i];
			short re = pfd[i + 2].revents;
			bool alive = true;

			if (!re)
				continue;
			if (cl->out) {
				alive = client_flush(cl);
			} else if (re & (POLLIN | POLLHUP | POLLERR)) {
				alive = client_read(srv, cl);
			}
			if (alive)
				alive = client_work(c, cl);
			if (!alive)
				client_drop(srv, i);
		}
		if (pfd[1].revents)
			accept_clients(srv);
	}
	if (c->ops.thread_fini)
		c->ops.thread_fini(c->ctx);
	return NULL;
}

/* ---- public ----------------------------------------------------------- */

int xgw_ctl_start(struct xgw_ctl **out, const struct xgw_ctl_cfg *cfg, struct xgw_config *running,
		  const struct xgw_ctl_ops *ops, void *ctx)
{
	struct xgw_ctl *c;
	struct xgw_ctl_srv *srv;
	int ret;

	c = xgw_ctl_new_detached(running, ops, ctx);
	srv = calloc(1, sizeof(*srv));
	if (!c || !srv) {
		free(c);
		free(srv);
		return -ENOMEM;
	}
	srv->lfd = -1;
	srv->idle_ms = XGW_CTL_IDLE_TIMEOUT_MS;
	srv->line_ms = XGW_CTL_LINE_TIMEOUT_MS;
	if (pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK)) {
		ret = -errno;
		goto fail_free;
	}
	ret = open_listener(srv, cfg);
	if (ret)
		goto fail_pipe;
	c->srv = srv;
	ret = -pthread_create(&srv->thread, NULL, ctl_thread, c);
	if (ret) {
		pr_err("cannot start the control thread: %s", strerror(-ret));
		goto fail_sock;
	}
	pr_info("control socket on %s", srv->path);
	*out = c;
	return 0;
fail_sock:
	close(srv->lfd);
	unlink(srv->path);
fail_pipe:
	close(srv->wake[0]);
	close(srv->wake[1]);
fail_free:
	free(srv);
	free(c);
	return ret;
}

void xgw_ctl_set_config_path(struct xgw_ctl *c, const char *path)
{
	/* Absolute: a reload reads the file xgwd started with, whatever the
	 * working directory is by then. */
	char *abs = path ? realpath(path, NULL) : NULL;

	if (c && path)
		snprintf(c->config_path, sizeof(c->config_path), "%s", abs ? abs : path);
	free(abs);
}

void xgw_ctl_request_reload(struct xgw_ctl *c)
{
	ssize_t n;

	if (!c || !c->srv)
		return;
	do
		n = write(c->srv->wake[1], "r", 1);
	while (n < 0 && errno == EINTR);
}

void xgw_ctl_set_timeouts(struct xgw_ctl *c, unsigned idle_ms, unsigned line_ms)
{
	if (!c || !c->srv)
		return;
	atomic_store_explicit(&c->srv->idle_ms, idle_ms, memory_order_relaxed);
	atomic_store_explicit(&c->srv->line_ms, line_ms, memory_order_relaxed);
	/* Wake the thread so that the new deadlines apply now. */
	while (write(c->srv->wake[1], "t", 1) < 0 && errno == EINTR)
		;
}

void xgw_ctl_stop(struct xgw_ctl *c)
{
	struct xgw_ctl_srv *srv;

	if (!c)
		return;
	srv = c->srv;
	if (srv) {
		struct stat st;

		while (write(srv->wake[1], "x", 1) < 0 && errno == EINTR)
			;
		pthread_join(srv->thread, NULL);
		for (unsigned i = 0; i < srv->n_clients; i++)
			client_free(srv->clients[i]);
		close(srv->lfd);
		close(srv->wake[0]);
		close(srv->wake[1]);
		/* A successor may already have replaced a socket it found dead. */
		if (!stat(srv->path, &st) && st.st_dev == srv->dev && st.st_ino == srv->ino)
			unlink(srv->path);
		free(srv);
	}
	/* Its arrays are this server's (proto.c's own_running). */
	for (unsigned i = 0; c->owned && i < c->running->n_services; i++)
		c->running->services[i].backends_shared = false;
	xgw_config_free(c->running);
	memset(c->running, 0, sizeof(*c->running));
	free(c->raw);
	free(c->released);
	free(c->touched);
	free(c->kidx);
	free(c->spare);
	free(c);
}
