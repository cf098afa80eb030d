/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket for real, in a private temporary directory (no root):
 * many clients at once next to an idle one, one that hangs up mid-line and
 * one that sends an oversized line; a stale socket is replaced, a live one
 * is not stolen, anything else at the path is left alone; thousands of idle,
 * half-open and half-a-line clients do not lock the operator out, and
 * deadlines close idle and slowloris clients. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/config.h"
#include "ctl/server.h"

#define N_CLIENTS  20
#define REQS_PER   5
#define TIMEOUT_MS 10000

static const char base_json[] =
    "{\"ports\":[{\"name\":\"client\",\"iface\":\"xgw-c\",\"queues\":[{\"queue\":0,\"core\":0}]}],"
    " \"services\":[{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\"}]}";

static int applies; /* written by the control thread, read after replies */

static int count_apply(void *ctx, const struct xgw_config *cfg, char *err, size_t errlen)
{
	__atomic_fetch_add(&applies, 1, __ATOMIC_RELAXED);
	return 0;
}

static const struct xgw_ctl_ops ops = {.apply = count_apply};

struct env {
	char dir[48];
	char path[96];
	struct xgw_ctl_cfg cfg;
	struct xgw_config running;
	struct xgw_ctl *ctl;
};

static void load_base(struct xgw_config *c)
{
	json_t *doc = json_loads(base_json, 0, NULL);
	char err[256];

	assert_non_null(doc);
	if (xgw_config_load_json(c, doc, err, sizeof(err)))
		fail_msg("base config: %s", err);
	json_decref(doc);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	snprintf(e->dir, sizeof(e->dir), "/tmp/xgw-ctl-test-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	/* Two levels that do not exist yet: the server makes them. */
	snprintf(e->path, sizeof(e->path), "%s/run/xgw/xgw.sock", e->dir);
	snprintf(e->cfg.socket, sizeof(e->cfg.socket), "%s", e->path);
	e->cfg.mode = 0600;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char p[160];

	xgw_ctl_stop(e->ctl);
	unlink(e->path);
	snprintf(p, sizeof(p), "%s/run/xgw", e->dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/run", e->dir);
	rmdir(p);
	rmdir(e->dir);
	free(e);
	return 0;
}

/* ---- client helpers ----------------------------------------------------- */

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

/* Bytes sent before an error. */
static size_t send_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	return off;
}

struct reader {
	int fd;
	char buf[65536];
	size_t len;
};

/* One reply line as JSON, or NULL on EOF, error or timeout. */
static json_t *read_reply(struct reader *r)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		struct pollfd p = {.fd = r->fd, .events = POLLIN};
		ssize_t n;

		if (nl) {
			json_t *j = json_loadb(r->buf, (size_t)(nl - r->buf), 0, NULL);

			r->len -= (size_t)(nl + 1 - r->buf);
			memmove(r->buf, nl + 1, r->len);
			return j;
		}
		if (r->len == sizeof(r->buf) || poll(&p, 1, TIMEOUT_MS) != 1)
			return NULL;
		n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
		if (n <= 0)
			return NULL;
		r->len += (size_t)n;
	}
}

static json_t *request(const char *path, const char *line)
{
	struct reader r = {.fd = connect_to(path)};
	json_t *reply;

	assert_true(r.fd >= 0);
	send_all(r.fd, line, strlen(line));
	reply = read_reply(&r);
	close(r.fd);
	return reply;
}

static void start(struct env *e)
{
	load_base(&e->running);
	assert_int_equal(xgw_ctl_start(&e->ctl, &e->cfg, &e->running, &ops, NULL), 0);
}

/* ---- many clients ------------------------------------------------------- */

struct worker {
	const char *path;
	int idx;
	int ok;
	pthread_t t;
};

static void *client_thread(void *arg)
{
	struct worker *w = arg;
	struct reader *r = calloc(1, sizeof(*r));
	char line[256];

	r->fd = connect_to(w->path);
	if (r->fd < 0)
		goto out;
	for (int i = 0; i < REQS_PER; i++) {
		json_t *reply;

		/* A write per request, and a read only after its reply: each
		 * client really is in the middle of a conversation. */
		if (i == 2)
			snprintf(line, sizeof(line),
				 "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"deny\","
				 "\"src\":\"198.18.%d.0/24\"}}\n",
				 w->idx);
		else
			snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}\n",
				 i % 2 ? "service.list" : "help");
		if (send_all(r->fd, line, strlen(line)) != strlen(line))
			break;
		reply = read_reply(r);
		if (json_is_true(json_object_get(reply, "ok")))
			w->ok++;
		json_decref(reply);
	}
	close(r->fd);
out:
	free(r);
	return NULL;
}

static void test_many_clients(void **state)
{
	struct env *e = *state;
	struct worker w[N_CLIENTS];
	struct reader pipelined = {0};
	int idle, midline, partial;
	struct stat st;
	json_t *reply;

	applies = 0;
	start(e);
	assert_int_equal(stat(e->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Holds a connection and never says a word. */
	idle = connect_to(e->path);
	assert_true(idle >= 0);
	/* Sends half a request and stays, holding a partial line. */
	partial = connect_to(e->path);
	assert_true(partial >= 0);
	send_all(partial, "{\"cmd\":\"he", 10);
	/* Sends half a request and hangs up. */
	midline = connect_to(e->path);
	assert_true(midline >= 0);
	send_all(midline, "{\"cmd\":\"service.li", 18);
	close(midline);

	for (int i = 0; i < N_CLIENTS; i++) {
		w[i] = (struct worker){.path = e->path, .idx = i};
		assert_int_equal(pthread_create(&w[i].t, NULL, client_thread, &w[i]), 0);
	}
	for (int i = 0; i < N_CLIENTS; i++) {
		pthread_join(w[i].t, NULL);
		assert_int_equal(w[i].ok, REQS_PER);
	}
	/* Each write went through apply exactly once. */
	assert_int_equal(__atomic_load_n(&applies, __ATOMIC_RELAXED), N_CLIENTS);

	/* Three requests in one write, blank lines between: three replies,
	 * in order. */
	pipelined.fd = connect_to(e->path);
	assert_true(pipelined.fd >= 0);
	{
		static const char three[] =
		    "{\"cmd\":\"policy.list\"}\n\n  \r\n{\"cmd\":\"nope\"}\r\n"
		    "{\"cmd\":\"config.get\"}\n";

		send_all(pipelined.fd, three, sizeof(three) - 1);
	}
	reply = read_reply(&pipelined);
	assert_int_equal(json_array_size(json_object_get(reply, "result")), N_CLIENTS);
	json_decref(reply);
	reply = read_reply(&pipelined);
	assert_false(json_is_true(json_object_get(reply, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(reply, "error")), "nope"));
	json_decref(reply);
	reply = read_reply(&pipelined);
	assert_true(json_is_object(json_object_get(reply, "result")));
	json_decref(reply);
	close(pipelined.fd);

	/* The partial client finishes its line late and is answered. */
	send_all(partial, "lp\"}\n", 5);
	{
		struct reader r = {.fd = partial};

		reply = read_reply(&r);
		assert_true(json_is_true(json_object_get(reply, "ok")));
		json_decref(reply);
	}
	close(partial);
	close(idle);
}

/* A line over the limit is refused after at most ~1 MiB was read: the
 * sender cannot push all of a 4 MiB line, and gets an error reply. */
static void test_oversized_line(void **state)
{
	struct env *e = *state;
	const size_t big = 4u << 20;
	char *junk = malloc(big);
	struct reader r = {0};
	size_t sent;
	json_t *reply;

	start(e);
	memset(junk, ' ', big);
	memcpy(junk, "{\"cmd\":\"help\",\"x\":\"", 19);
	r.fd = connect_to(e->path);
	assert_true(r.fd >= 0);
	sent = send_all(r.fd, junk, big);
	assert_true(sent > XGW_CTL_MAX_LINE);
	assert_true(sent < big);
	reply = read_reply(&r);
	assert_non_null(reply);
	assert_false(json_is_true(json_object_get(reply, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(reply, "error")),
			       "line longer than 1048576 bytes"));
	json_decref(reply);
	close(r.fd);
	free(junk);

	/* The server goes on. */
	reply = request(e->path, "{\"cmd\":\"help\"}\n");
	assert_true(json_is_true(json_object_get(reply, "ok")));
	json_decref(reply);

	/* A line right at the limit is still a request, and the same client
	 * is served again afterwards. */
	junk = malloc(XGW_CTL_MAX_LINE + 1);
	memset(junk, ' ', XGW_CTL_MAX_LINE);
	memcpy(junk + XGW_CTL_MAX_LINE - 14, "{\"cmd\":\"help\"}", 14);
	junk[XGW_CTL_MAX_LINE] = '\n';
	r = (struct reader){.fd = connect_to(e->path)};
	assert_int_equal(send_all(r.fd, junk, XGW_CTL_MAX_LINE + 1), XGW_CTL_MAX_LINE + 1);
	send_all(r.fd, "{\"cmd\":\"ports\"}\n", 16);
	reply = read_reply(&r);
	assert_true(json_is_true(json_object_get(reply, "ok")));
	json_decref(reply);
	reply = read_reply(&r);
	assert_non_null(
	    strstr(json_string_value(json_object_get(reply, "error")), "ports: not available"));
	json_decref(reply);
	close(r.fd);
	free(junk);
}

/* ---- socket file lifecycle ---------------------------------------------- */

static void test_live_socket_not_stolen(void **state)
{
	struct env *e = *state;
	struct xgw_config other;
	struct xgw_ctl *second = NULL;
	json_t *reply;

	start(e);
	load_base(&other);
	assert_int_equal(xgw_ctl_start(&second, &e->cfg, &other, &ops, NULL), -EADDRINUSE);
	assert_null(second);
	xgw_config_free(&other);
	reply = request(e->path, "{\"cmd\":\"help\"}\n");
	assert_true(json_is_true(json_object_get(reply, "ok")));
	json_decref(reply);

	/* Stop removes the socket it made. */
	xgw_ctl_stop(e->ctl);
	e->ctl = NULL;
	assert_int_equal(access(e->path, F_OK), -1);
}

static void test_stale_socket_replaced(void **state)
{
	struct env *e = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[160];
	json_t *reply;
	int fd;

	/* What a crashed daemon leaves: a socket file nobody listens on. */
	snprintf(dir, sizeof(dir), "%s/run", e->dir);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/run/xgw", e->dir);
	mkdir(dir, 0755);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", e->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(connect_to(e->path), -ECONNREFUSED);

	start(e);
	reply = request(e->path, "{\"cmd\":\"service.list\"}\n");
	assert_true(json_is_true(json_object_get(reply, "ok")));
	assert_int_equal(json_array_size(json_object_get(reply, "result")), 1);
	json_decref(reply);
}

static void test_not_a_socket_left_alone(void **state)
{
	struct env *e = *state;
	struct xgw_config c;
	struct xgw_ctl *ctl = NULL;
	char dir[160];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/run", e->dir);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/run/xgw", e->dir);
	mkdir(dir, 0755);
	f = fopen(e->path, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	load_base(&c);
	assert_int_equal(xgw_ctl_start(&ctl, &e->cfg, &c, &ops, NULL), -EEXIST);
	assert_null(ctl);
	xgw_config_free(&c);
	f = fopen(e->path, "r");
	assert_non_null(f);
	fclose(f);
}

/* ---- clients that could lock the operator out --------------------------- */

static bool ok_reply(json_t *j)
{
	bool ok = json_is_true(json_object_get(j, "ok"));

	json_decref(j);
	return ok;
}

/* Ten times the table of idle clients, some with half a line sent and some
 * half-closed: an operator still gets an answer, the clients that made
 * room were told why, and the running config is untouched. */
static void test_idle_clients_evicted(void **state)
{
	struct env *e = *state;
	enum { N = XGW_CTL_MAX_CLIENTS * 10 };
	struct rlimit rl = {N + 1024, N + 1024};
	int *fds = calloc(N, sizeof(int)), closed = 0, told = 0;
	char buf[512];

	assert_non_null(fds);
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		free(fds);
		skip(); /* cannot hold the connections open here (valgrind) */
	}
	start(e);
	for (int i = 0; i < N; i++) {
		fds[i] = connect_to(e->path);
		assert_true(fds[i] >= 0);
		if (i % 3 == 1)
			send_all(fds[i], "{\"cmd\":\"serv", 12); /* half a line */
		else if (i % 3 == 2)
			shutdown(fds[i], SHUT_WR); /* half-open */
	}
	assert_true(ok_reply(request(e->path, "{\"cmd\":\"service.list\"}\n")));
	assert_true(ok_reply(request(e->path, "{\"cmd\":\"policy.add\",\"args\":{\"action\":"
					      "\"deny\",\"src\":\"198.18.9.0/24\"}}\n")));
	/* The oldest clients were closed, each with a reason. */
	for (int i = 0; i < XGW_CTL_MAX_CLIENTS; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 0) != 1)
			continue;
		n = recv(fds[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			told += strstr(buf, "control socket is full") != NULL;
		}
		closed++;
	}
	for (int i = 0; i < N; i++)
		close(fds[i]);
	free(fds);
	assert_int_equal(closed, XGW_CTL_MAX_CLIENTS);
	assert_true(told > XGW_CTL_MAX_CLIENTS / 2);
	/* One write went through (the base config has no policy). */
	json_t *cfg = request(e->path, "{\"cmd\":\"policy.list\"}\n");
	assert_int_equal(json_array_size(json_object_get(cfg, "result")), 1);
	json_decref(cfg);
}

/* Deadlines: an idle client and one that never finishes its line are
 * closed with a reason; a request sent byte by byte, slower than the
 * poll loop but within the line deadline, is served. */
static void test_client_deadlines(void **state)
{
	struct env *e = *state;
	struct reader *idle = calloc(1, sizeof(*idle)), *slow = calloc(1, sizeof(*slow));
	struct reader *drip = calloc(1, sizeof(*drip));
	const char *line = "{\"cmd\":\"service.list\"}\n";
	json_t *j;

	start(e);
	xgw_ctl_set_timeouts(e->ctl, 300, 1500);
	idle->fd = connect_to(e->path);
	slow->fd = connect_to(e->path);
	drip->fd = connect_to(e->path);
	assert_true(idle->fd >= 0 && slow->fd >= 0 && drip->fd >= 0);
	/* 2.4 s: the request drips in over the first second; the slowloris
	 * client keeps its line going past the idle timeout all along, so
	 * only the line deadline (1.5 s) ends it. */
	for (size_t i = 0; i < 60; i++) {
		if (i < strlen(line))
			send_all(drip->fd, line + i, 1);
		if (i % 4 == 0)
			send_all(slow->fd, "{", 1);
		usleep(40 * 1000);
	}
	j = read_reply(drip);
	assert_true(ok_reply(j));
	j = read_reply(idle);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "closed: idle");
	json_decref(j);
	assert_null(read_reply(idle)); /* and closed */
	j = read_reply(slow);
	assert_non_null(j);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "not finished"));
	json_decref(j);
	assert_null(read_reply(slow));
	close(idle->fd);
	close(slow->fd);
	close(drip->fd);
	free(idle);
	free(slow);
	free(drip);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_socket_not_stolen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_socket_left_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_clients_evicted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_deadlines, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
