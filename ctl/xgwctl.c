/* SPDX-License-Identifier: BSD-3-Clause */
/* xgwctl: the operator's CLI over the control socket.  Exit status 0 on
 * success; 1 with the server's error on stderr when a request is refused or
 * the daemon cannot be reached; 2 for a bad command line. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/version.h"
#include "ctl/server.h"
#include "ctl/xgwctl.h"

/* A large config or conntrack dump can take the daemon a while. */
#define REPLY_TIMEOUT_S 60
/* Conntrack dumps can be big; anything beyond this is a broken server. */
#define MAX_REPLY (256u << 20)

struct conn {
	int fd;
	char *buf; /* bytes read past the last reply line */
	size_t len, cap;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};

	memset(c, 0, sizeof(*c));
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xgwctl: socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		if (e == EACCES || e == EPERM)
			fprintf(stderr,
				"xgwctl: cannot connect to %s: %s (run as root or as a member "
				"of the socket's group)\n",
				path, strerror(e));
		else
			fprintf(stderr,
				"xgwctl: cannot connect to %s: %s (is xgwd running? tried %s)\n",
				path, strerror(e), path);
		close(c->fd);
		return -e;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->buf);
}

/* Send one request and read its reply line; NULL after printing why. */
static json_t *conn_call(struct conn *c, json_t *req)
{
	char *line = json_dumps(req, JSON_COMPACT);
	size_t off = 0, len, seen = 0;
	json_error_t jerr;
	json_t *reply;
	char *nl;

	if (!line)
		return NULL;
	len = strlen(line);
	line[len] = '\n'; /* replaces the NUL; the length is kept apart */
	while (off < len + 1) {
		ssize_t n = send(c->fd, line + off, len + 1 - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR && !interrupted)
				continue;
			fprintf(stderr, "xgwctl: send: %s\n", strerror(errno));
			free(line);
			return NULL;
		}
		off += (size_t)n;
	}
	free(line);
	/* Only what arrived since the last look is searched for the newline:
	 * a 9.6 MB reply comes in ~150 pieces. */
	while (!(nl = c->len > seen ? memchr(c->buf + seen, '\n', c->len - seen) : NULL)) {
		ssize_t n;

		seen = c->len;

		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *p;

			if (cap > MAX_REPLY) {
				fprintf(stderr, "xgwctl: reply larger than %u bytes\n", MAX_REPLY);
				return NULL;
			}
			p = realloc(c->buf, cap);
			if (!p)
				return NULL;
			c->buf = p;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n <= 0) {
			if (!interrupted)
				fprintf(stderr, "xgwctl: %s\n",
					n == 0		  ? "xgwd closed the connection"
					: errno == EAGAIN ? "no reply from xgwd (timed out)"
							  : strerror(errno));
			return NULL;
		}
		c->len += (size_t)n;
	}
	reply = json_loadb(c->buf, (size_t)(nl - c->buf), 0, &jerr);
	c->len -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->len);
	if (!reply)
		fprintf(stderr, "xgwctl: bad reply from xgwd: %s\n", jerr.text);
	return reply;
}

/* The result of an ok reply (borrowed from reply), or NULL after printing
 * the server's error. */
static json_t *reply_result(json_t *reply)
{
	json_t *ok = json_object_get(reply, "ok");

	if (json_is_true(ok))
		return json_object_get(reply, "result");
	fprintf(stderr, "xgwctl: %s\n",
		json_string_value(json_object_get(reply, "error"))
		    ? json_string_value(json_object_get(reply, "error"))
		    : "malformed reply from xgwd");
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Redraw per-port, per-queue and per-worker rates once a second, from the
 * difference of successive counter reads, until Ctrl-C. */
static int watch_stats(struct conn *c, struct xgwctl_inv *inv)
{
	struct sigaction sa = {.sa_handler = on_sigint};
	json_t *prev = NULL;
	double t_prev = 0;
	int ret = 0;

	/* No SA_RESTART: Ctrl-C must cut the sleep and a blocked recv short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!interrupted) {
		json_t *reply = conn_call(c, inv->req);
		double t = now_s();
		json_t *cur;
		struct timespec ts = {.tv_sec = 1};

		if (!reply) {
			ret = interrupted ? 0 : 1;
			break;
		}
		cur = reply_result(reply);
		if (!cur) {
			json_decref(reply);
			ret = 1;
			break;
		}
		json_incref(cur);
		json_decref(reply);
		if (inv->json) {
			xgwctl_fmt_json(stdout, cur);
		} else {
			/* Home and clear, like watch(1). */
			printf("\033[H\033[2J");
			printf("xgw rates over %.1f s (Ctrl-C to quit)\n\n",
			       prev ? t - t_prev : 0.0);
			xgwctl_fmt_rates(stdout, prev, cur, prev ? t - t_prev : 0);
		}
		fflush(stdout);
		json_decref(prev);
		prev = cur;
		t_prev = t;
		while (nanosleep(&ts, &ts) && !interrupted)
			;
	}
	json_decref(prev);
	return ret;
}

/* xgwctl workers: two stats reads inv->interval apart, the load between. */
static int show_load(struct conn *c, struct xgwctl_inv *inv)
{
	json_t *r[2] = {NULL, NULL}, *load;
	double t[2];

	for (int k = 0; k < 2; k++) {
		json_t *reply = conn_call(c, inv->req), *res;

		t[k] = now_s();
		res = reply ? reply_result(reply) : NULL;
		if (!res) {
			json_decref(reply);
			json_decref(r[0]);
			return 1;
		}
		r[k] = json_incref(res);
		json_decref(reply);
		if (!k) {
			struct timespec ts = {
			    .tv_sec = (time_t)inv->interval,
			    .tv_nsec =
				(long)((inv->interval - (double)(time_t)inv->interval) * 1e9)};

			while (nanosleep(&ts, &ts))
				;
		}
	}
	load = xgwctl_load(r[0], r[1], t[1] - t[0]);
	if (inv->json)
		xgwctl_fmt_json(stdout, load);
	else
		xgwctl_fmt_load(stdout, load);
	json_decref(load);
	json_decref(r[0]);
	json_decref(r[1]);
	return 0;
}

/* One request by name, its result printed on error: the reply (new
 * reference) when ok, else NULL. */
static json_t *call_simple(struct conn *c, const char *cmd, json_t **result)
{
	json_t *req = json_pack("{s:s}", "cmd", cmd), *reply = conn_call(c, req);

	json_decref(req);
	*result = reply ? reply_result(reply) : NULL;
	if (!*result) {
		json_decref(reply);
		return NULL;
	}
	return reply;
}

/* A read's records: printed (trace) or written to the pcap file. */
static int tap_records(json_t *res, bool trace, bool json, struct xgwctl_pcap *pc, unsigned *n)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(res, "records"), i, r)
	{
		++*n;
		if (pc) {
			if (xgwctl_pcap_write(pc, r)) {
				fprintf(stderr, "xgwctl: capture: malformed record from xgwd\n");
				return -1;
			}
		} else if (json) {
			json_dumpf(r, stdout, JSON_COMPACT);
			fputc('\n', stdout);
		} else if (trace) {
			const char *dp = json_string_value(json_object_get(r, "datapath"));

			if (dp && !strcmp(dp, "kernel")) /* the XDP program's record */
				printf("Packet %u (kernel datapath): %s\n", *n,
				       json_string_value(json_object_get(r, "text")));
			else
				printf("Packet %u (worker %lld): %s\n", *n,
				       (long long)json_integer_value(json_object_get(r, "worker")),
				       json_string_value(json_object_get(r, "text")));
		}
	}
	fflush(stdout);
	return 0;
}

/* trace / capture, as vppctl trace and dpdk-dumpcap: start a session, read
 * what it took every 100 ms until it is done (its count, or its timeout)
 * or Ctrl-C, then stop it, so that no session is left running. */
static int run_tap(struct conn *c, struct xgwctl_inv *inv)
{
	struct sigaction sa = {.sa_handler = on_sigint};
	bool trace = !strcmp(json_string_value(json_object_get(inv->req, "cmd")), "trace.start");
	const char *rd = trace ? "trace.read" : "capture.read";
	const char *st = trace ? "trace.stop" : "capture.stop";
	struct xgwctl_pcap *pc = NULL;
	json_t *reply, *res;
	unsigned n = 0;
	int ret = 0;
	char err[512];

	if (!trace) {
		pc = xgwctl_pcap_open(inv->write, err, sizeof(err));
		if (!pc) {
			fprintf(stderr, "xgwctl: capture: %s\n", err);
			return 1;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	reply = conn_call(c, inv->req);
	res = reply ? reply_result(reply) : NULL;
	json_decref(reply);
	if (!res) {
		xgwctl_pcap_close(pc);
		if (!trace)
			unlink(inv->write);
		return 1;
	}
	while (!interrupted) {
		struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
		bool done;

		reply = call_simple(c, rd, &res);
		if (!reply) {
			ret = 1;
			break;
		}
		ret = tap_records(res, trace, inv->json, pc, &n);
		done = json_is_true(json_object_get(res, "done"));
		json_decref(reply);
		if (ret || done)
			break;
		while (nanosleep(&ts, &ts) && !interrupted)
			;
	}
	/* Also after Ctrl-C: the session must not stay armed. */
	interrupted = 0;
	reply = call_simple(c, st, &res);
	if (reply) {
		if (!ret)
			ret = tap_records(res, trace, inv->json, pc, &n);
		if (json_integer_value(json_object_get(res, "overrun")))
			fprintf(stderr, "xgwctl: %lld packets not taken: xgwd's ring was full\n",
				(long long)json_integer_value(json_object_get(res, "overrun")));
		json_decref(reply);
	} else {
		ret = 1;
	}
	if (xgwctl_pcap_close(pc)) {
		fprintf(stderr, "xgwctl: %s: %s\n", inv->write, strerror(EIO));
		ret = 1;
	}
	fprintf(stderr, "%u packet%s %s\n", n, n == 1 ? "" : "s", trace ? "traced" : "captured");
	return ret < 0 ? 1 : ret;
}

/* -f FILE: the file's requests in atomic batches; stops at the first
 * refused batch, naming its first and last line (the server names the
 * item).  Exit 0 when every batch was applied. */
static int run_file(struct conn *c, const struct xgwctl_inv *inv)
{
	unsigned per = inv->batch ? inv->batch : 1000;
	json_t *reqs, *lines;
	char err[512];
	FILE *f = strcmp(inv->file, "-") ? fopen(inv->file, "r") : stdin;
	size_t done = 0, n;
	int ret;

	if (!f) {
		fprintf(stderr, "xgwctl: %s: %s\n", inv->file, strerror(errno));
		return 1;
	}
	ret = xgwctl_file_requests(f, inv->file, &reqs, &lines, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	if (ret) {
		fprintf(stderr, "xgwctl: %s (nothing sent)\n", err);
		return 1;
	}
	n = json_array_size(reqs);
	while (done < n) {
		size_t k = n - done < per ? n - done : per;
		json_t *items = json_array(), *req, *reply;
		bool ok;

		for (size_t i = 0; i < k; i++)
			json_array_append(items, json_array_get(reqs, done + i));
		req = json_pack("{s:s, s:o}", "cmd", "batch", "args", items);
		reply = conn_call(c, req);
		json_decref(req);
		ok = reply && reply_result(reply);
		json_decref(reply);
		if (!ok) {
			fprintf(stderr,
				"xgwctl: %s: batch of lines %lld-%lld not applied; %zu of %zu "
				"requests applied before it\n",
				inv->file, json_integer_value(json_array_get(lines, done)),
				json_integer_value(json_array_get(lines, done + k - 1)), done, n);
			ret = 1;
			break;
		}
		done += k;
	}
	if (!ret)
		printf("%zu requests applied in %zu batch(es)\n", n, (n + per - 1) / per);
	json_decref(reqs);
	json_decref(lines);
	return ret;
}

int main(int argc, char **argv)
{
	struct xgwctl_inv inv;
	char err[512];
	struct conn c;
	json_t *reply, *result;
	int ret;

	if (xgwctl_parse(argc, argv, &inv, err, sizeof(err))) {
		fprintf(stderr, "xgwctl: %s\n", err);
		xgwctl_inv_free(&inv);
		return 2;
	}
	if (inv.version || inv.usage) {
		if (inv.version)
			puts(XGW_VERSION_STRING("xgwctl"));
		else
			xgwctl_usage(stdout);
		xgwctl_inv_free(&inv);
		return 0;
	}
	if (conn_open(&c, inv.socket)) {
		xgwctl_inv_free(&inv);
		return 1;
	}
	if (inv.file) {
		ret = run_file(&c, &inv);
		conn_close(&c);
		xgwctl_inv_free(&inv);
		return ret;
	}
	if (inv.tap) {
		ret = run_tap(&c, &inv);
		conn_close(&c);
		xgwctl_inv_free(&inv);
		return ret;
	}
	if (inv.load) {
		ret = show_load(&c, &inv);
		conn_close(&c);
		xgwctl_inv_free(&inv);
		return ret;
	}
	if (inv.watch) {
		ret = watch_stats(&c, &inv);
		conn_close(&c);
		xgwctl_inv_free(&inv);
		return ret;
	}
	ret = 1;
	reply = conn_call(&c, inv.req);
	if (reply) {
		result = reply_result(reply);
		if (result) {
			if (inv.json)
				xgwctl_fmt_json(stdout, result);
			else
				xgwctl_print(stdout, inv.cmd, result);
			ret = 0;
		}
	}
	json_decref(reply);
	conn_close(&c);
	xgwctl_inv_free(&inv);
	return ret;
}
