/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gRPC transport through a real unix socket in a temp dir: grpc_server__run() on its own
 * thread, the real client, and a raw nghttp2 client for what the real one never sends
 * (compressed flag, broken framing, HTTP errors, half requests, extra streams).
 */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "grpc_client.h"
#include "grpc_server.h"
#include "grpc_status.h"
#include "macro.h"
#include "tests.h"

#define MIB (1u << 20)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- handlers ------------------------------------------------------------------------------- */

static int n_held;		/* Hold calls received */
static int n_slow_started;	/* Slow calls received */
static int n_slow_replied;	/* Slow replies handed to grpc_call__reply */
static int n_slow_cancelled;	/* ... of which the call was cancelled by then */
static int n_post_shutdown;	/* worker posts refused with -ESHUTDOWN */

#define ATOMIC_GET(v) __atomic_load_n(&(v), __ATOMIC_SEQ_CST)
#define ATOMIC_INC(v) __atomic_add_fetch(&(v), 1, __ATOMIC_SEQ_CST)

static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t workers[256];
static size_t n_workers;

static void join_workers(void)
{
	for (;;) {
		pthread_t t;

		pthread_mutex_lock(&workers_lock);
		if (n_workers == 0) {
			pthread_mutex_unlock(&workers_lock);
			return;
		}
		t = workers[--n_workers];
		pthread_mutex_unlock(&workers_lock);
		pthread_join(t, NULL);
	}
}

static void handle_echo(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	grpc_call__reply(call, GRPC_STATUS_OK, NULL, msg, len);
}

/* "<code>:<message>" -> that status and message. */
static void handle_fail(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	char *buf = strndup((const char *)msg, len);
	char *colon = buf ? strchr(buf, ':') : NULL;

	if (!colon) {
		grpc_call__reply(call, GRPC_STATUS_INTERNAL, "test: bad Fail request", NULL, 0);
		free(buf);
		return;
	}
	*colon = '\0';
	grpc_call__reply(call, atoi(buf), colon + 1, NULL, 0);
	free(buf);
}

static void handle_peer(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	const struct grpc_peer *p = grpc_call__peer(call);
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%d %u %u", (int)p->pid, (unsigned)p->uid,
			 (unsigned)p->gid);

	grpc_call__reply(call, GRPC_STATUS_OK, NULL, (const uint8_t *)buf, (size_t)n);
}

/* Replies with as many bytes as the decimal request says. */
static void handle_big(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	char buf[32];
	size_t n;
	uint8_t *out;

	snprintf(buf, sizeof(buf), "%.*s", (int)len, (const char *)msg);
	n = strtoul(buf, NULL, 10);
	out = calloc(1, n + 1);
	grpc_call__reply(call, GRPC_STATUS_OK, NULL, out, n);
	free(out);
}

/* Keeps the call and never replies: only a deadline, the client or stop end it. */
static void handle_hold(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	ATOMIC_INC(n_held);
}

struct slow {
	struct grpc_server *server;
	struct grpc_call *call;
	unsigned delay_ms;
	uint8_t *data;
	size_t len;
};

/* Runs on the loop thread, posted by the worker. */
static void slow_reply(void *arg)
{
	struct slow *sl = arg;

	if (grpc_call__cancelled(sl->call))
		ATOMIC_INC(n_slow_cancelled);
	grpc_call__reply(sl->call, GRPC_STATUS_OK, NULL, sl->data, sl->len);
	ATOMIC_INC(n_slow_replied);
	free(sl->data);
	free(sl);
}

static void *slow_worker(void *arg)
{
	struct slow *sl = arg;

	sleep_ms(sl->delay_ms);
	if (grpc_server__post(sl->server, slow_reply, sl) < 0) {
		/* The server stopped: the call is the server's to free, the closure ours. */
		ATOMIC_INC(n_post_shutdown);
		free(sl->data);
		free(sl);
	}
	return NULL;
}

/* Request: decimal delay in ms, then optional ":payload"; replies the whole request from a
 * worker thread through grpc_server__post(). */
static void handle_slow(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct slow *sl = calloc(1, sizeof(*sl));
	char buf[32];

	snprintf(buf, sizeof(buf), "%.*s", (int)MIN(len, (size_t)31), (const char *)msg);
	sl->server = grpc_call__server(call);
	sl->call = call;
	sl->delay_ms = (unsigned)strtoul(buf, NULL, 10);
	sl->data = malloc(len + 1);
	memcpy(sl->data, msg, len);
	sl->len = len;
	ATOMIC_INC(n_slow_started);

	pthread_mutex_lock(&workers_lock);
	if (n_workers >= ELEMENTSOF(workers) ||
	    pthread_create(&workers[n_workers], NULL, slow_worker, sl) != 0) {
		pthread_mutex_unlock(&workers_lock);
		grpc_call__reply(call, GRPC_STATUS_INTERNAL, "test: no worker", NULL, 0);
		free(sl->data);
		free(sl);
		return;
	}
	n_workers++;
	pthread_mutex_unlock(&workers_lock);
}

static const struct grpc_method methods[] = {
	{ "/test.Echo/Echo", handle_echo, NULL }, { "/test.Echo/Fail", handle_fail, NULL },
	{ "/test.Echo/Peer", handle_peer, NULL }, { "/test.Echo/Big", handle_big, NULL },
	{ "/test.Echo/Hold", handle_hold, NULL }, { "/test.Echo/Slow", handle_slow, NULL },
};

/* ---- fixture -------------------------------------------------------------------------------- */

struct fixture {
	char dir[64];
	char sock[128];
	struct grpc_server *server;
	pthread_t thread;
	bool running;
	int run_ret;
};

/* A failing ASSERT longjmps out of a test: the next setup (or exit) tears down what it left. */
static struct fixture *current;

static void *server_thread(void *arg)
{
	struct fixture *f = arg;

	f->run_ret = grpc_server__run(f->server);
	return NULL;
}

static void fixture_stop(struct fixture *f)
{
	if (f->running) {
		grpc_server__stop(f->server);
		pthread_join(f->thread, NULL);
		f->running = false;
	}
}

static void fixture_teardown(struct fixture *f)
{
	if (!f)
		return;
	/* Workers first: they post to a live loop, then the loop stops. */
	join_workers();
	fixture_stop(f);
	join_workers();
	grpc_server__free(f->server);
	unlink(f->sock);
	rmdir(f->dir);
	free(f);
	if (current == f)
		current = NULL;
}

static void teardown_current_at_exit(void)
{
	fixture_teardown(current);
}

static struct fixture *fixture_setup(const struct grpc_server_config *config)
{
	static bool atexit_done;
	struct fixture *f;
	int fd;

	if (!atexit_done) {
		atexit(teardown_current_at_exit);
		atexit_done = true;
	}
	fixture_teardown(current);
	n_held = n_slow_started = n_slow_replied = n_slow_cancelled = n_post_shutdown = 0;

	f = calloc(1, sizeof(*f));
	ASSERT_TRUE(f);
	current = f;
	strcpy(f->dir, "/tmp/bpfd-grpc-test.XXXXXX");
	ASSERT_TRUE(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/grpc.sock", f->dir);
	ASSERT_OK(grpc_listen_unix(f->sock, &fd));
	ASSERT_OK(grpc_server__new(fd, config, methods, ELEMENTSOF(methods), &f->server));
	ASSERT_INT_EQ(pthread_create(&f->thread, NULL, server_thread, f), 0);
	f->running = true;
	return f;
}

static struct grpc_client *connect_client(struct fixture *f)
{
	struct grpc_client *c = NULL;

	ASSERT_OK(grpc_client__connect(f->sock, &c));
	return c;
}

/* One call; returns the status (asserting the transport worked) and keeps the result. */
static int call(struct grpc_client *c, const char *path, const void *req, size_t len,
		unsigned timeout_ms, struct grpc_result *res)
{
	*res = (struct grpc_result){};
	ASSERT_OK(grpc_client__call(c, path, req, len, timeout_ms, res));
	return res->status;
}

static void assert_echo_works(struct fixture *f)
{
	struct grpc_client *c = connect_client(f);
	struct grpc_result res;

	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", "still here", 10, 0, &res), GRPC_STATUS_OK);
	ASSERT_INT_EQ(res.body_len, 10);
	ASSERT_TRUE(memcmp(res.body, "still here", 10) == 0);
	grpc_result__clear(&res);
	grpc_client__free(c);
}

#define WAIT_FOR(cond, ms)                                                                         \
	do {                                                                                       \
		uint64_t _end = now_ms() + (ms);                                                   \
		while (!(cond) && now_ms() < _end)                                                 \
			sleep_ms(5);                                                               \
		if (!(cond))                                                                       \
			TEST_FAIL("timed out waiting for %s", #cond);                              \
	} while (0)

/* ---- a raw HTTP/2 client -------------------------------------------------------------------- */

#define RAW_STREAMS 8

struct raw_stream {
	int32_t id;
	int http_status;
	int grpc_status; /* -1: none */
	char grpc_message[512];
	bool closed;
	uint32_t error_code;
	const uint8_t *body;
	size_t body_len, off;
	bool end_stream; /* false: send body, then stall */
};

struct raw {
	int fd;
	nghttp2_session *session;
	struct raw_stream streams[RAW_STREAMS];
	size_t n_streams;
	bool eof;
};

static struct raw_stream *raw_stream_of(struct raw *r, int32_t id)
{
	for (size_t i = 0; i < r->n_streams; i++)
		if (r->streams[i].id == id)
			return &r->streams[i];
	return NULL;
}

static ssize_t raw_send_cb(nghttp2_session *session, const uint8_t *data, size_t len, int flags,
			   void *user_data)
{
	struct raw *r = user_data;
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(r->fd, data + off, len - off, MSG_NOSIGNAL);

		if (n < 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		off += (size_t)n;
	}
	return (ssize_t)len;
}

static int raw_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
			 size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
			 void *user_data)
{
	struct raw_stream *st = raw_stream_of(user_data, frame->hd.stream_id);

	if (!st)
		return 0;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		st->http_status = atoi((const char *)value);
	else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		st->grpc_status = atoi((const char *)value);
	else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
		snprintf(st->grpc_message, sizeof(st->grpc_message), "%.*s", (int)valuelen,
			 (const char *)value);
	return 0;
}

static int raw_on_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *user_data)
{
	struct raw_stream *st = raw_stream_of(user_data, id);

	if (st) {
		st->closed = true;
		st->error_code = error_code;
	}
	return 0;
}

static ssize_t raw_read_cb(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
			   uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	struct raw_stream *st = source->ptr;
	size_t n = MIN(length, st->body_len - st->off);

	if (n == 0 && !st->end_stream)
		return NGHTTP2_ERR_DEFERRED;
	memcpy(buf, st->body + st->off, n);
	st->off += n;
	if (st->off == st->body_len && st->end_stream)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int raw_connect_fd(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(fd >= 0);
	strcpy(sa.sun_path, path);
	ASSERT_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	/* Every blocking read in these tests gives up after 5 s rather than hanging. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static struct raw *raw_open(const char *path)
{
	nghttp2_session_callbacks *cb;
	struct raw *r = calloc(1, sizeof(*r));

	ASSERT_TRUE(r);
	r->fd = raw_connect_fd(path);
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, raw_send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, raw_on_header);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, raw_on_close);
	ASSERT_INT_EQ(nghttp2_session_client_new(&r->session, cb, r), 0);
	nghttp2_session_callbacks_del(cb);
	ASSERT_INT_EQ(nghttp2_submit_settings(r->session, NGHTTP2_FLAG_NONE, NULL, 0), 0);
	return r;
}

static void raw_free(struct raw *r)
{
	if (!r)
		return;
	nghttp2_session_del(r->session);
	close(r->fd);
	free(r);
}

/* Submits a request; body NULL and end_stream: END_STREAM on the HEADERS. */
static struct raw_stream *raw_request(struct raw *r, const char *method, const char *path,
				      const char *content_type, const void *body, size_t len,
				      bool end_stream)
{
	nghttp2_nv hdrs[] = {
		{ (uint8_t *)":method", (uint8_t *)method, 7, strlen(method), 0 },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 },
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0 },
		{ (uint8_t *)":authority", (uint8_t *)"localhost", 10, 9, 0 },
		{ (uint8_t *)"content-type", (uint8_t *)content_type, 12, strlen(content_type), 0 },
		{ (uint8_t *)"te", (uint8_t *)"trailers", 2, 8, 0 },
	};
	struct raw_stream *st;
	nghttp2_data_provider prd;

	ASSERT_TRUE(r->n_streams < RAW_STREAMS);
	st = &r->streams[r->n_streams++];
	*st = (struct raw_stream){ .grpc_status = -1, .body = body, .body_len = len,
				   .end_stream = end_stream };
	prd = (nghttp2_data_provider){ .source.ptr = st, .read_callback = raw_read_cb };
	st->id = nghttp2_submit_request(r->session, NULL, hdrs, ELEMENTSOF(hdrs),
					body || !end_stream ? &prd : NULL, NULL);
	ASSERT_TRUE(st->id > 0);
	return st;
}

static void raw_flush(struct raw *r)
{
	ASSERT_INT_EQ(nghttp2_session_send(r->session), 0);
}

/* Reads until st closed (or the connection ended when st is NULL); 5 s at most. */
static void raw_wait(struct raw *r, struct raw_stream *st)
{
	uint8_t buf[16384];
	uint64_t end = now_ms() + 5000;

	while (!(st && st->closed) && !r->eof && now_ms() < end) {
		ssize_t n;

		raw_flush(r);
		n = recv(r->fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			r->eof = true;
			break;
		}
		if (nghttp2_session_mem_recv(r->session, buf, (size_t)n) < 0)
			r->eof = true;
	}
	if (st && !st->closed)
		TEST_FAIL("stream %d not closed (eof %d)", st->id, r->eof);
}

/* The server closes the socket within 5 s (reads and discards whatever it sends first). */
static void assert_closed_by_server(int fd)
{
	uint8_t buf[4096];
	uint64_t end = now_ms() + 5000;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return;
		if (n < 0 || now_ms() >= end)
			TEST_FAIL("connection not closed by the server: %s",
				  n < 0 ? strerror(errno) : "data keeps coming");
	}
}

static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* ---- tests ---------------------------------------------------------------------------------- */

TEST(echo_roundtrip)
{
	struct fixture *f = fixture_setup(NULL);
	struct grpc_client *c = connect_client(f);
	struct grpc_result res;
	uint8_t *big;
	size_t big_len = 3 * MIB + 12345;

	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", "hello", 5, 0, &res), GRPC_STATUS_OK);
	ASSERT_INT_EQ(res.body_len, 5);
	ASSERT_TRUE(memcmp(res.body, "hello", 5) == 0);
	ASSERT_TRUE(res.message == NULL);
	grpc_result__clear(&res);

	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", NULL, 0, 0, &res), GRPC_STATUS_OK);
	ASSERT_INT_EQ(res.body_len, 0);
	grpc_result__clear(&res);

	big = malloc(big_len);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 13));
	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", big, big_len, 0, &res), GRPC_STATUS_OK);
	ASSERT_INT_EQ(res.body_len, big_len);
	ASSERT_TRUE(memcmp(res.body, big, big_len) == 0);
	grpc_result__clear(&res);
	free(big);

	grpc_client__free(c);
	fixture_teardown(f);
}

TEST(message_at_limit_passes_over_limit_refused)
{
	struct fixture *f = fixture_setup(NULL);
	struct grpc_client *c = connect_client(f);
	struct grpc_result res;
	uint8_t *big = calloc(1, 4 * MIB + 1);

	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", big, 4 * MIB, 0, &res), GRPC_STATUS_OK);
	ASSERT_INT_EQ(res.body_len, 4 * MIB);
	grpc_result__clear(&res);

	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", big, 4 * MIB + 1, 0, &res),
		      GRPC_STATUS_RESOURCE_EXHAUSTED);
	ASSERT_STR_CONTAINS(res.message, "4194305");
	ASSERT_STR_CONTAINS(res.message, "4194304");
	grpc_result__clear(&res);
	free(big);

	/* The same connection keeps working after the early answer and RST_STREAM. */
	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", "x", 1, 0, &res), GRPC_STATUS_OK);
	grpc_result__clear(&res);
	grpc_client__free(c);
	assert_echo_works(f);
	fixture_teardown(f);
}

TEST(unknown_method_unimplemented)
{
	struct fixture *f = fixture_setup(NULL);
	struct grpc_client *c = connect_client(f);
	struct grpc_result res;

	ASSERT_INT_EQ(call(c, "/test.Echo/Nope", "x", 1, 0, &res), GRPC_STATUS_UNIMPLEMENTED);
	ASSERT_STR_EQ(res.message, "unknown method /test.Echo/Nope");
	grpc_result__clear(&res);
	grpc_client__free(c);
	fixture_teardown(f);
}

TEST(compressed_flag_unimplemented)
{
	struct fixture *f = fixture_setup(NULL);
	struct raw *r = raw_open(f->sock);
	static const uint8_t body[] = { 1, 0, 0, 0, 3, 'a', 'b', 'c' };
	struct raw_stream *st;

	st = raw_request(r, "POST", "/test.Echo/Echo", "application/grpc", body, sizeof(body),
			 true);
	raw_wait(r, st);
	ASSERT_INT_EQ(st->http_status, 200);
	ASSERT_INT_EQ(st->grpc_status, GRPC_STATUS_UNIMPLEMENTED);
	ASSERT_STR_CONTAINS(st->grpc_message, "compressed");
	raw_free(r);
	fixture_teardown(f);
}

TEST(grpc_message_roundtrip)
{
	struct fixture *f = fixture_setup(NULL);
	struct grpc_client *c = connect_client(f);
	static const char req[] = "5:n\xc3\xa9 100% done\nline2\x01 \xe2\x9c\x93 %41";
	struct grpc_result res;
	struct raw *r;
	struct raw_stream *st;

	ASSERT_INT_EQ(call(c, "/test.Echo/Fail", req, strlen(req), 0, &res),
		      GRPC_STATUS_NOT_FOUND);
	ASSERT_STR_EQ(res.message, req + 2);
	ASSERT_TRUE(res.body == NULL);
	grpc_result__clear(&res);
	grpc_client__free(c);

	/* On the wire it is percent-encoded. */
	r = raw_open(f->sock);
	{
		static const uint8_t framed[] = "\0\0\0\0\x09" "5:n\xc3\xa9 %\n\x01";

		st = raw_request(r, "POST", "/test.Echo/Fail", "application/grpc", framed,
				 sizeof(framed) - 1, true);
	}
	raw_wait(r, st);
	ASSERT_INT_EQ(st->grpc_status, GRPC_STATUS_NOT_FOUND);
	ASSERT_STR_EQ(st->grpc_message, "n%C3%A9 %25%0A%01");
	raw_free(r);
	fixture_teardown(f);
}

TEST(long_grpc_message_is_cut)
{
	struct fixture *f = fixture_setup(NULL);
	struct grpc_client *c = connect_client(f);
	struct grpc_result res;
	size_t n = 20000;
	char *req = malloc(n + 3);

	/* "9:" then 20000 bytes of "é" (2 bytes each, 6 encoded). */
	memcpy(req, "9:", 2);
	for (size_t i = 0; i < n; i += 2)
		memcpy(req + 2 + i, "\xc3\xa9", 2);
	req[n + 2] = '\0';
	ASSERT_INT_EQ(call(c, "/test.Echo/Fail", req, n + 2, 0, &res),
		      GRPC_STATUS_FAILED_PRECONDITION);
	ASSERT_TRUE(res.message && strlen(res.message) == 2 * (6144 / 6));
	ASSERT_TRUE(memcmp(res.message, req + 2, strlen(res.message)) == 0);
	grpc_result__clear(&res);
	free(req);
	grpc_client__free(c);
	fixture_teardown(f);
}

TEST(deadline_exceeded_and_late_reply_dropped)
{
	struct fixture *f = fixture_setup(NULL);
	struct grpc_client *c = connect_client(f);
	struct grpc_result res;
	uint64_t start = now_ms();

	ASSERT_INT_EQ(call(c, "/test.Echo/Slow", "700", 3, 100, &res),
		      GRPC_STATUS_DEADLINE_EXCEEDED);
	ASSERT_TRUE(now_ms() - start < 600);
	grpc_result__clear(&res);

	/* A handler that holds the call and never answers gets the same. */
	ASSERT_INT_EQ(call(c, "/test.Echo/Hold", "x", 1, 50, &res),
		      GRPC_STATUS_DEADLINE_EXCEEDED);
	grpc_result__clear(&res);

	/* The worker replies later: the reply is dropped, the call freed, nothing breaks. */
	WAIT_FOR(ATOMIC_GET(n_slow_replied) == 1, 3000);
	ASSERT_INT_EQ(ATOMIC_GET(n_slow_cancelled), 1);
	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", "ok", 2, 1000, &res), GRPC_STATUS_OK);
	grpc_result__clear(&res);
	grpc_client__free(c);
	fixture_teardown(f);
}

TEST(async_reply_through_post)
{
	struct fixture *f = fixture_setup(NULL);
	struct grpc_client *c = connect_client(f);
	struct grpc_result res;

	ASSERT_INT_EQ(call(c, "/test.Echo/Slow", "30:payload", 10, 5000, &res), GRPC_STATUS_OK);
	ASSERT_INT_EQ(res.body_len, 10);
	ASSERT_TRUE(memcmp(res.body, "30:payload", 10) == 0);
	grpc_result__clear(&res);
	ASSERT_INT_EQ(ATOMIC_GET(n_slow_cancelled), 0);
	grpc_client__free(c);
	fixture_teardown(f);
}

TEST(client_vanishes_while_handler_holds_call)
{
	struct fixture *f = fixture_setup(NULL);
	static const uint8_t framed[] = "\0\0\0\0\x03" "200";
	struct raw *r = raw_open(f->sock);

	raw_request(r, "POST", "/test.Echo/Slow", "application/grpc", framed, sizeof(framed) - 1,
		    true);
	raw_flush(r);
	WAIT_FOR(ATOMIC_GET(n_slow_started) == 1, 3000);
	raw_free(r);

	/* The reply comes after the connection is gone: dropped, call freed (ASan watches). */
	WAIT_FOR(ATOMIC_GET(n_slow_replied) == 1, 3000);
	ASSERT_INT_EQ(ATOMIC_GET(n_slow_cancelled), 1);
	assert_echo_works(f);
	fixture_teardown(f);
}

TEST(half_message_then_close)
{
	struct fixture *f = fixture_setup(NULL);
	static const uint8_t partial[] = { 0, 0, 0, 0, 100, 'a', 'b', 'c', 'd', 'e' };

	for (int i = 0; i < 3; i++) {
		struct raw *r = raw_open(f->sock);

		raw_request(r, "POST", "/test.Echo/Echo", "application/grpc", partial,
			    i == 0 ? 3 : sizeof(partial), false);
		raw_flush(r);
		raw_free(r);
	}
	assert_echo_works(f);
	fixture_teardown(f);
}

TEST(garbage_instead_of_preface)
{
	struct fixture *f = fixture_setup(NULL);
	static const char http1[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
	int fd = raw_connect_fd(f->sock);

	ASSERT_INT_EQ(send(fd, http1, strlen(http1), MSG_NOSIGNAL), (long long)strlen(http1));
	assert_closed_by_server(fd);
	close(fd);
	assert_echo_works(f);
	fixture_teardown(f);
}

TEST(malformed_frames_never_wedge)
{
	struct fixture *f = fixture_setup(NULL);
	/* Empty SETTINGS, then DATA on stream 0: a connection error (RFC 9113 6.1). */
	static const uint8_t bad[] = { 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 'a',
				       'b', 'c', 'd' };
	int fd = raw_connect_fd(f->sock);

	send(fd, preface, sizeof(preface) - 1, MSG_NOSIGNAL);
	send(fd, bad, sizeof(bad), MSG_NOSIGNAL);
	assert_closed_by_server(fd);
	close(fd);

	/* Random bytes after a valid preface: whatever they parse as, the loop survives. */
	srand(4242);
	for (int round = 0; round < 40; round++) {
		uint8_t junk[512];
		size_t n = 9 + (size_t)(rand() % (int)(sizeof(junk) - 9));

		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)rand();
		if (round % 2)
			memcpy(junk, (const uint8_t[]){ 0, 0, 0, 4, 0, 0, 0, 0, 0 }, 9);
		fd = raw_connect_fd(f->sock);
		send(fd, preface, sizeof(preface) - 1, MSG_NOSIGNAL);
		send(fd, junk, n, MSG_NOSIGNAL);
		close(fd);
	}
	assert_echo_works(f);
	fixture_teardown(f);
}

TEST(http_errors)
{
	struct fixture *f = fixture_setup(NULL);
	static const uint8_t framed[] = "\0\0\0\0\x01x";
	struct raw *r = raw_open(f->sock);
	struct raw_stream *get, *ct;

	get = raw_request(r, "GET", "/test.Echo/Echo", "application/grpc", NULL, 0, true);
	ct = raw_request(r, "POST", "/test.Echo/Echo", "text/plain", framed, sizeof(framed) - 1,
			 true);
	raw_wait(r, get);
	raw_wait(r, ct);
	ASSERT_INT_EQ(get->http_status, 405);
	ASSERT_INT_EQ(get->grpc_status, -1);
	ASSERT_INT_EQ(ct->http_status, 415);
	ASSERT_INT_EQ(ct->grpc_status, -1);
	raw_free(r);

	/* application/grpc+proto is gRPC too. */
	r = raw_open(f->sock);
	ct = raw_request(r, "POST", "/test.Echo/Echo", "application/grpc+proto", framed,
			 sizeof(framed) - 1, true);
	raw_wait(r, ct);
	ASSERT_INT_EQ(ct->grpc_status, GRPC_STATUS_OK);
	raw_free(r);
	fixture_teardown(f);
}

TEST(unary_framing_errors)
{
	struct fixture *f = fixture_setup(NULL);
	static const uint8_t two[] = { 0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, 'b' };
	static const uint8_t truncated[] = { 0, 0, 0, 0, 10, 'a', 'b', 'c' };
	static const uint8_t short_prefix[] = { 0, 0, 0 };
	struct raw *r = raw_open(f->sock);
	struct raw_stream *s_two, *s_none, *s_trunc, *s_short;

	s_two = raw_request(r, "POST", "/test.Echo/Echo", "application/grpc", two, sizeof(two),
			    true);
	s_none = raw_request(r, "POST", "/test.Echo/Echo", "application/grpc", NULL, 0, true);
	s_trunc = raw_request(r, "POST", "/test.Echo/Echo", "application/grpc", truncated,
			      sizeof(truncated), true);
	s_short = raw_request(r, "POST", "/test.Echo/Echo", "application/grpc", short_prefix,
			      sizeof(short_prefix), true);
	raw_wait(r, s_two);
	raw_wait(r, s_none);
	raw_wait(r, s_trunc);
	raw_wait(r, s_short);
	ASSERT_INT_EQ(s_two->grpc_status, GRPC_STATUS_INVALID_ARGUMENT);
	ASSERT_STR_CONTAINS(s_two->grpc_message, "more than one");
	ASSERT_INT_EQ(s_none->grpc_status, GRPC_STATUS_INVALID_ARGUMENT);
	ASSERT_STR_CONTAINS(s_none->grpc_message, "no message");
	ASSERT_INT_EQ(s_trunc->grpc_status, GRPC_STATUS_INVALID_ARGUMENT);
	ASSERT_STR_CONTAINS(s_trunc->grpc_message, "truncated");
	ASSERT_INT_EQ(s_short->grpc_status, GRPC_STATUS_INVALID_ARGUMENT);
	raw_free(r);
	fixture_teardown(f);
}

TEST(max_connections_respected)
{
	struct grpc_server_config cfg = { .max_connections = 2 };
	struct fixture *f = fixture_setup(&cfg);
	struct grpc_client *a = connect_client(f), *b = connect_client(f), *c, *d;
	struct grpc_result res;
	int r = 0;

	ASSERT_INT_EQ(call(a, "/test.Echo/Echo", "a", 1, 0, &res), GRPC_STATUS_OK);
	grpc_result__clear(&res);
	ASSERT_INT_EQ(call(b, "/test.Echo/Echo", "b", 1, 0, &res), GRPC_STATUS_OK);
	grpc_result__clear(&res);

	/* The third is accepted and closed at once. */
	c = connect_client(f);
	res = (struct grpc_result){};
	ASSERT_ERR(grpc_client__call(c, "/test.Echo/Echo", (const uint8_t *)"c", 1, 2000, &res),
		   -ECONNRESET);
	grpc_client__free(c);

	/* A slot freed is a slot available. */
	grpc_client__free(a);
	for (int i = 0; i < 50; i++) {
		d = connect_client(f);
		r = grpc_client__call(d, "/test.Echo/Echo", (const uint8_t *)"d", 1, 2000, &res);
		grpc_client__free(d);
		if (r == 0)
			break;
		sleep_ms(20);
	}
	ASSERT_OK(r);
	ASSERT_INT_EQ(res.status, GRPC_STATUS_OK);
	grpc_result__clear(&res);
	grpc_client__free(b);
	fixture_teardown(f);
}

TEST(max_streams_refused)
{
	struct grpc_server_config cfg = { .max_streams = 2 };
	struct fixture *f = fixture_setup(&cfg);
	static const uint8_t framed[] = "\0\0\0\0\x01x";
	struct raw *r = raw_open(f->sock);
	struct raw_stream *st[3];

	for (int i = 0; i < 3; i++)
		st[i] = raw_request(r, "POST", "/test.Echo/Hold", "application/grpc", framed,
				    sizeof(framed) - 1, true);
	raw_wait(r, st[2]);
	ASSERT_INT_EQ(st[2]->error_code, NGHTTP2_REFUSED_STREAM);
	ASSERT_TRUE(!st[0]->closed && !st[1]->closed);
	WAIT_FOR(ATOMIC_GET(n_held) == 2, 3000);
	raw_free(r);
	fixture_teardown(f);
}

TEST(idle_and_preface_timeout)
{
	struct grpc_server_config cfg = { .idle_timeout_ms = 200 };
	struct fixture *f = fixture_setup(&cfg);
	struct grpc_client *c;
	struct grpc_result res;
	uint64_t start = now_ms();
	int fd;

	/* Nothing at all. */
	fd = raw_connect_fd(f->sock);
	assert_closed_by_server(fd);
	close(fd);
	/* Half a preface. */
	fd = raw_connect_fd(f->sock);
	send(fd, preface, 10, MSG_NOSIGNAL);
	assert_closed_by_server(fd);
	close(fd);
	/* A complete preface, then silence: GOAWAY and close. */
	fd = raw_connect_fd(f->sock);
	send(fd, preface, sizeof(preface) - 1, MSG_NOSIGNAL);
	send(fd, (const uint8_t[]){ 0, 0, 0, 4, 0, 0, 0, 0, 0 }, 9, MSG_NOSIGNAL);
	assert_closed_by_server(fd);
	close(fd);
	ASSERT_TRUE(now_ms() - start < 3000);

	/* A held call is not idleness... */
	c = connect_client(f);
	ASSERT_INT_EQ(call(c, "/test.Echo/Slow", "500", 3, 0, &res), GRPC_STATUS_OK);
	grpc_result__clear(&res);
	/* ... and a client whose connection timed out between calls reconnects. */
	sleep_ms(400);
	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", "again", 5, 0, &res), GRPC_STATUS_OK);
	grpc_result__clear(&res);
	grpc_client__free(c);
	fixture_teardown(f);
}

TEST(response_over_limit)
{
	struct grpc_server_config cfg = { .max_message = 1024 };
	struct fixture *f = fixture_setup(&cfg);
	struct grpc_client *c = connect_client(f);
	struct grpc_result res;
	uint8_t buf[1025] = {};

	ASSERT_INT_EQ(call(c, "/test.Echo/Big", "1024", 4, 0, &res), GRPC_STATUS_OK);
	ASSERT_INT_EQ(res.body_len, 1024);
	grpc_result__clear(&res);
	ASSERT_INT_EQ(call(c, "/test.Echo/Big", "1025", 4, 0, &res),
		      GRPC_STATUS_RESOURCE_EXHAUSTED);
	ASSERT_STR_CONTAINS(res.message, "response message of 1025 bytes");
	grpc_result__clear(&res);
	ASSERT_INT_EQ(call(c, "/test.Echo/Echo", buf, sizeof(buf), 0, &res),
		      GRPC_STATUS_RESOURCE_EXHAUSTED);
	ASSERT_STR_CONTAINS(res.message, "request message of 1025 bytes");
	grpc_result__clear(&res);
	grpc_client__free(c);
	fixture_teardown(f);
}

TEST(sequential_calls_on_one_client)
{
	struct fixture *f = fixture_setup(NULL);
	struct grpc_client *c = connect_client(f);

	for (int i = 0; i < 32; i++) {
		struct grpc_result res;
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "call %d", i);
		const char *path = i % 4 == 3 ? "/test.Echo/Fail" : "/test.Echo/Echo";

		if (i % 4 == 3) {
			n = snprintf(buf, sizeof(buf), "3:bad %d", i);
			ASSERT_INT_EQ(call(c, path, buf, (size_t)n, 1000, &res),
				      GRPC_STATUS_INVALID_ARGUMENT);
			ASSERT_STR_EQ(res.message, buf + 2);
		} else {
			ASSERT_INT_EQ(call(c, path, buf, (size_t)n, 0, &res), GRPC_STATUS_OK);
			ASSERT_INT_EQ(res.body_len, n);
			ASSERT_TRUE(memcmp(res.body, buf, (size_t)n) == 0);
		}
		grpc_result__clear(&res);
	}
	grpc_client__free(c);
	fixture_teardown(f);
}

TEST(peer_credentials)
{
	struct fixture *f = fixture_setup(NULL);
	struct grpc_client *c = connect_client(f);
	struct grpc_result res;
	char expect[64], got[64];

	ASSERT_INT_EQ(call(c, "/test.Echo/Peer", NULL, 0, 0, &res), GRPC_STATUS_OK);
	snprintf(expect, sizeof(expect), "%d %u %u", (int)getpid(), (unsigned)getuid(),
		 (unsigned)getgid());
	snprintf(got, sizeof(got), "%.*s", (int)res.body_len, (const char *)res.body);
	ASSERT_STR_EQ(got, expect);
	grpc_result__clear(&res);
	grpc_client__free(c);
	fixture_teardown(f);
}

struct bg_call {
	const char *sock, *path, *req;
	int ret;
	struct grpc_result res;
};

static void *bg_call_thread(void *arg)
{
	struct bg_call *bg = arg;
	struct grpc_client *c;

	bg->ret = grpc_client__connect(bg->sock, &c);
	if (bg->ret < 0)
		return NULL;
	bg->ret = grpc_client__call(c, bg->path, (const uint8_t *)bg->req, strlen(bg->req), 0,
				    &bg->res);
	grpc_client__free(c);
	return NULL;
}

static void noop(void *arg)
{
}

TEST(stop_answers_pending_unavailable)
{
	struct fixture *f = fixture_setup(NULL);
	struct bg_call hold = { f->sock, "/test.Echo/Hold", "x" };
	struct bg_call slow = { f->sock, "/test.Echo/Slow", "800" };
	pthread_t th, ts;

	ASSERT_INT_EQ(pthread_create(&th, NULL, bg_call_thread, &hold), 0);
	ASSERT_INT_EQ(pthread_create(&ts, NULL, bg_call_thread, &slow), 0);
	WAIT_FOR(ATOMIC_GET(n_held) == 1 && ATOMIC_GET(n_slow_started) == 1, 3000);

	fixture_stop(f); /* grpc_server__stop() + join: run() returned */
	ASSERT_INT_EQ(f->run_ret, 0);
	pthread_join(th, NULL);
	pthread_join(ts, NULL);
	ASSERT_OK(hold.ret);
	ASSERT_INT_EQ(hold.res.status, GRPC_STATUS_UNAVAILABLE);
	ASSERT_OK(slow.ret);
	ASSERT_INT_EQ(slow.res.status, GRPC_STATUS_UNAVAILABLE);
	grpc_result__clear(&hold.res);
	grpc_result__clear(&slow.res);

	ASSERT_ERR(grpc_server__post(f->server, noop, NULL), -ESHUTDOWN);
	ASSERT_ERR(grpc_server__run(f->server), -ESHUTDOWN);
	join_workers();
	ASSERT_INT_EQ(ATOMIC_GET(n_post_shutdown), 1);
	/* The held call and the slow one are freed by grpc_server__free() (ASan watches). */
	fixture_teardown(f);
}

TEST(stop_from_signal_context_before_run)
{
	struct grpc_server *s;
	char dir[] = "/tmp/bpfd-grpc-test.XXXXXX", sock[64];
	int fd;

	ASSERT_TRUE(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/s", dir);
	ASSERT_OK(grpc_listen_unix(sock, &fd));
	ASSERT_OK(grpc_server__new(fd, NULL, methods, ELEMENTSOF(methods), &s));
	grpc_server__stop(s); /* before run: run() returns at once */
	ASSERT_OK(grpc_server__run(s));
	grpc_server__free(s);
	unlink(sock);
	rmdir(dir);
}

static int post_order[100];
static int n_post_order;

static void record(void *arg)
{
	post_order[n_post_order++] = (int)(intptr_t)arg;
}

static void *post_thread(void *arg)
{
	struct grpc_server *s = arg;

	for (intptr_t i = 0; i < 100; i++)
		if (grpc_server__post(s, record, (void *)i) < 0)
			return (void *)1;
	return NULL;
}

TEST(post_runs_in_order_on_loop)
{
	struct fixture *f = fixture_setup(NULL);
	pthread_t t;
	void *ret;

	n_post_order = 0;
	ASSERT_INT_EQ(pthread_create(&t, NULL, post_thread, f->server), 0);
	pthread_join(t, &ret);
	ASSERT_TRUE(ret == NULL);
	/* Stop runs whatever is still queued before run() returns. */
	fixture_stop(f);
	ASSERT_INT_EQ(n_post_order, 100);
	for (int i = 0; i < 100; i++)
		ASSERT_INT_EQ(post_order[i], i);
	fixture_teardown(f);
}

struct worker_arg {
	const char *sock;
	int failures;
};

static void *concurrent_thread(void *arg)
{
	struct worker_arg *w = arg;
	struct grpc_client *c;

	if (grpc_client__connect(w->sock, &c) < 0) {
		w->failures++;
		return NULL;
	}
	for (int i = 0; i < 16; i++) {
		struct grpc_result res = {};
		const char *path = i % 3 ? "/test.Echo/Echo" : "/test.Echo/Slow";
		const char *req = "5:concurrent";

		if (grpc_client__call(c, path, (const uint8_t *)req, strlen(req), 5000, &res) < 0 ||
		    res.status != GRPC_STATUS_OK || res.body_len != strlen(req) ||
		    memcmp(res.body, req, res.body_len) != 0)
			w->failures++;
		grpc_result__clear(&res);
	}
	grpc_client__free(c);
	return NULL;
}

TEST(concurrent_clients)
{
	struct fixture *f = fixture_setup(NULL);
	struct worker_arg w[8];
	pthread_t t[8];

	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker_arg){ f->sock, 0 };
		ASSERT_INT_EQ(pthread_create(&t[i], NULL, concurrent_thread, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 8; i++)
		ASSERT_INT_EQ(w[i].failures, 0);
	fixture_teardown(f);
}

TEST(client_errors)
{
	struct grpc_client *c = NULL;

	ASSERT_ERR(grpc_client__connect("/nonexistent/bpfd-test.sock", &c), -ENOENT);
	ASSERT_TRUE(c == NULL);
	ASSERT_ERR(grpc_listen_unix("/tmp/"
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				    &(int){ 0 }),
		   -ENAMETOOLONG);
}

/* Nobody ever accepts on this socket: the client gives up after timeout + grace, and a
 * deadline that is already over when the request arrives is answered at once. */
TEST(client_timeout_and_expired_deadline)
{
	struct fixture *f = fixture_setup(NULL);
	char path[160];
	struct grpc_client *c = NULL;
	struct grpc_result res = {};
	uint64_t start;
	int fd;

	snprintf(path, sizeof(path), "%s/mute.sock", f->dir);
	ASSERT_OK(grpc_listen_unix(path, &fd));
	ASSERT_OK(grpc_client__connect(path, &c));
	start = now_ms();
	ASSERT_ERR(grpc_client__call(c, "/test.Echo/Echo", (const uint8_t *)"x", 1, 100, &res),
		   -ETIMEDOUT);
	ASSERT_TRUE(now_ms() - start >= 1000 && now_ms() - start < 3000);
	ASSERT_TRUE(res.message == NULL && res.body == NULL); /* untouched on failure */
	grpc_client__free(c);
	close(fd);
	unlink(path);

	/* grpc-timeout 1 ms and a slow first byte: the server must not run the handler. */
	{
		struct raw *r = raw_open(f->sock);
		static const uint8_t framed[] = "\0\0\0\0\x03" "100";
		nghttp2_nv hdrs[] = {
			{ (uint8_t *)":method", (uint8_t *)"POST", 7, 4, 0 },
			{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 },
			{ (uint8_t *)":path", (uint8_t *)"/test.Echo/Slow", 5, 15, 0 },
			{ (uint8_t *)":authority", (uint8_t *)"localhost", 10, 9, 0 },
			{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16, 0 },
			{ (uint8_t *)"grpc-timeout", (uint8_t *)"1m", 12, 2, 0 },
		};
		struct raw_stream *st = &r->streams[r->n_streams++];
		nghttp2_data_provider prd = { .source.ptr = st, .read_callback = raw_read_cb };

		*st = (struct raw_stream){ .grpc_status = -1, .body = framed, .body_len = 8,
					   .end_stream = false };
		st->id = nghttp2_submit_request(r->session, NULL, hdrs, ELEMENTSOF(hdrs), &prd,
						NULL);
		raw_flush(r);
		sleep_ms(50);
		st->end_stream = true;
		nghttp2_session_resume_data(r->session, st->id);
		raw_wait(r, st);
		ASSERT_INT_EQ(st->grpc_status, GRPC_STATUS_DEADLINE_EXCEEDED);
		ASSERT_INT_EQ(ATOMIC_GET(n_slow_started), 0);
		raw_free(r);
	}
	fixture_teardown(f);
}

TEST(server_rejects_non_listening_fd)
{
	struct grpc_server *s = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_ERR(grpc_server__new(fd, NULL, methods, ELEMENTSOF(methods), &s), -EINVAL);
	ASSERT_TRUE(s == NULL);
	close(fd); /* still ours on failure */
}
