/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unary gRPC over HTTP/2 on one poll(2) loop. nghttp2 does the HTTP/2 protocol (framing, HPACK,
 * flow control, stream states, SETTINGS enforcement); this file does sockets, gRPC framing,
 * limits, deadlines and the lifetime of calls handed to handlers.
 *
 * Ownership in one picture:
 *   struct conn  (one per accepted socket; owns the nghttp2 session)
 *     └─ stream user data → struct grpc_call  (refcounted: one ref while attached to a stream,
 *                                             one while a handler holds it)
 *   server->calls lists every live call, attached or not, for deadlines, stop and free.
 * A connection is only ever freed in the sweep at the end of a loop iteration, never inside a
 * callback, so nothing below has to worry about its conn vanishing under it.
 */
#include "grpc_server.h"

#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "grpc_status.h"
#include "h2_util.h"
#include "log.h"
#include "macro.h"

#define DEFAULT_MAX_MESSAGE (4u << 20)
#define DEFAULT_MAX_CONNECTIONS 64u
#define DEFAULT_MAX_STREAMS 16u
#define DEFAULT_IDLE_TIMEOUT_MS 30000u

#define GRPC_PREFIX_LEN 5
/* Request header block limit (names + values + 32 per field, as SETTINGS_MAX_HEADER_LIST_SIZE
 * counts). bpfman's clients send a handful of short headers. */
#define MAX_HEADER_LIST 16384u
/* grpc's default metadata limit is 8 KiB; stay below it with room for the other headers. */
#define MAX_GRPC_MESSAGE 6144u
#define READ_BUF 65536
#define WRITE_HIGH 65536
#define STOP_FLUSH_MS 1000
#define ACCEPT_BATCH 16
#define ACCEPT_PAUSE_MS 100
/* Rapid reset (CVE-2023-44487): upstream nghttp2 limits stream resets from 1.57 and Debian
 * backported that to 1.52.0-1+deb12u1; this cheap guard covers an unpatched 1.52 too. */
#define RST_WINDOW_MS 10000
#define RST_MAX 1000

struct post_item {
	void (*fn)(void *arg);
	void *arg;
	struct post_item *next;
};

struct conn {
	struct grpc_server *server;
	struct conn *prev, *next;
	int fd;
	nghttp2_session *session;
	struct grpc_peer peer;
	uint64_t accepted_ms;
	uint64_t last_activity_ms;
	bool got_preface;
	bool dead;
	unsigned n_calls; /* attached */
	uint8_t *wbuf;
	size_t wlen, woff, wcap;
	uint64_t rst_window_ms;
	unsigned n_rst;
};

struct grpc_call {
	struct grpc_server *server;
	struct grpc_call *prev, *next; /* server->calls */
	unsigned n_ref;
	struct conn *conn; /* NULL once detached */
	int32_t stream_id;
	struct grpc_peer peer;
	char *path;
	const struct grpc_method *method;

	/* request headers */
	size_t header_bytes;
	bool method_post, content_type_ok, timeout_bad;
	char encoding[32];
	uint64_t deadline_ms; /* 0: none */

	/* request body */
	uint8_t prefix[GRPC_PREFIX_LEN];
	size_t prefix_len;
	uint32_t msg_len;
	uint8_t *body;
	size_t body_len, body_cap;
	bool req_done; /* END_STREAM received */

	bool with_handler;
	bool answered;
	bool cancelled;

	/* response */
	uint8_t *resp;
	size_t resp_len, resp_off;
};

struct grpc_server {
	int listen_fd;
	int event_fd;
	struct grpc_method *methods;
	size_t n_methods;
	size_t max_message;
	unsigned max_connections, max_streams, idle_timeout_ms;
	unsigned max_held;

	nghttp2_session_callbacks *callbacks;
	nghttp2_option *option;

	pthread_mutex_t lock;
	struct post_item *post_head, *post_tail; /* under lock */
	bool stopped;				  /* under lock */
	int stop_requested;			  /* atomic: set by grpc_server__stop() */

	bool ran;
	bool stopping;
	struct conn *conns;
	unsigned n_conns;
	struct grpc_call *calls;
	unsigned n_held;
	uint64_t accept_paused_until_ms;
	uint64_t last_reject_log_ms;
	unsigned rejects_suppressed;
	uint8_t *rbuf;
};

/* ---- calls ---------------------------------------------------------------------------------- */

static void call_free(struct grpc_call *call)
{
	struct grpc_server *s = call->server;

	if (call->prev)
		call->prev->next = call->next;
	else
		s->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	free(call->path);
	free(call->body);
	free(call->resp);
	free(call);
}

static void call_unref(struct grpc_call *call)
{
	if (--call->n_ref == 0)
		call_free(call);
}

/* Drops the stream's reference: the stream closed or its connection is going away. */
static void call_detach(struct grpc_call *call)
{
	struct conn *c = call->conn;

	if (!c)
		return;
	if (!call->answered)
		call->cancelled = true;
	nghttp2_session_set_stream_user_data(c->session, call->stream_id, NULL);
	c->n_calls--;
	call->conn = NULL;
	call->stream_id = 0;
	call_unref(call);
}

static ssize_t resp_read_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
			    size_t length, uint32_t *data_flags, nghttp2_data_source *source,
			    void *user_data)
{
	struct grpc_call *call = source->ptr;
	size_t n = MIN(length, call->resp_len - call->resp_off);
	nghttp2_nv trailers[] = { NV("grpc-status", "0") };

	memcpy(buf, call->resp + call->resp_off, n);
	call->resp_off += n;
	if (call->resp_off == call->resp_len) {
		/* Status travels in trailers, so the DATA must not end the stream. */
		*data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(session, stream_id, trailers, ELEMENTSOF(trailers)) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

static void call_mark_answered(struct grpc_call *call)
{
	call->answered = true;
	call->conn->last_activity_ms = now_ms();
}

static void call_submit_ok(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	nghttp2_nv hdrs[] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	nghttp2_data_provider prd = { .source.ptr = call, .read_callback = resp_read_cb };
	int r;

	call->resp = malloc(GRPC_PREFIX_LEN + len);
	if (!call->resp) {
		nghttp2_submit_rst_stream(call->conn->session, NGHTTP2_FLAG_NONE, call->stream_id,
					  NGHTTP2_INTERNAL_ERROR);
		call->answered = call->cancelled = true;
		return;
	}
	call->resp[0] = 0;
	call->resp[1] = (uint8_t)(len >> 24);
	call->resp[2] = (uint8_t)(len >> 16);
	call->resp[3] = (uint8_t)(len >> 8);
	call->resp[4] = (uint8_t)len;
	if (len)
		memcpy(call->resp + GRPC_PREFIX_LEN, msg, len);
	call->resp_len = GRPC_PREFIX_LEN + len;
	call->resp_off = 0;

	r = nghttp2_submit_response(call->conn->session, call->stream_id, hdrs, ELEMENTSOF(hdrs),
				    &prd);
	if (r != 0)
		log_debug("grpc: cannot submit response on stream %d: %s", call->stream_id,
			  nghttp2_strerror(r));
	call_mark_answered(call);
}

/* A trailers-only response: one HEADERS frame with the status, ending the stream. */
static void call_submit_status(struct grpc_call *call, int status, const char *message)
{
	_cleanup_free_ char *encoded = NULL;
	char code[16];
	nghttp2_nv hdrs[4] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	size_t n = 2;
	int r;

	snprintf(code, sizeof(code), "%d", status);
	hdrs[n++] = (nghttp2_nv)NV("grpc-status", code);
	if (message && *message && grpc_percent_encode(message, MAX_GRPC_MESSAGE, &encoded) >= 0)
		hdrs[n++] = (nghttp2_nv)NV("grpc-message", encoded);

	r = nghttp2_submit_response(call->conn->session, call->stream_id, hdrs, n, NULL);
	if (r != 0)
		log_debug("grpc: cannot submit status on stream %d: %s", call->stream_id,
			  nghttp2_strerror(r));
	call_mark_answered(call);
}

static void call_submit_http(struct grpc_call *call, const char *http_status)
{
	nghttp2_nv hdrs[] = { NV(":status", http_status) };
	int r;

	r = nghttp2_submit_response(call->conn->session, call->stream_id, hdrs, ELEMENTSOF(hdrs),
				    NULL);
	if (r != 0)
		log_debug("grpc: cannot submit HTTP %s on stream %d: %s", http_status,
			  call->stream_id, nghttp2_strerror(r));
	call_mark_answered(call);
}

/* The server's own error answers (limits, framing, deadline, shutdown). */
_printf_(3, 4) static void call_fail(struct grpc_call *call, int status, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!call->conn || call->answered)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_debug("grpc: %s from pid %d: %s: %s", call->path ?: "?", (int)call->peer.pid,
		  grpc_status_to_string(status), buf);
	call_submit_status(call, status, buf);
}

static const struct grpc_method *server_find_method(struct grpc_server *s, const char *path)
{
	for (size_t i = 0; i < s->n_methods; i++)
		if (streq(s->methods[i].path, path))
			return &s->methods[i];
	return NULL;
}

/* grpc-timeout: 1..8 digits and a unit (Hours, Minutes, Seconds, milli, micro, nano). */
static int parse_grpc_timeout(const uint8_t *v, size_t len, uint64_t *ret_ms)
{
	uint64_t n = 0;

	if (len < 2 || len > 9)
		return -EINVAL;
	for (size_t i = 0; i + 1 < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		n = n * 10 + (v[i] - '0');
	}
	switch (v[len - 1]) {
	case 'H':
		n *= 3600000;
		break;
	case 'M':
		n *= 60000;
		break;
	case 'S':
		n *= 1000;
		break;
	case 'm':
		break;
	case 'u':
		n = (n + 999) / 1000;
		break;
	case 'n':
		n = (n + 999999) / 1000000;
		break;
	default:
		return -EINVAL;
	}
	*ret_ms = n;
	return 0;
}

static bool content_type_is_grpc(const uint8_t *v, size_t len)
{
	static const char ct[] = "application/grpc";
	size_t n = sizeof(ct) - 1;

	if (len < n || strncasecmp((const char *)v, ct, n) != 0)
		return false;
	return len == n || v[n] == '+' || v[n] == ';';
}

/* All request headers are in: reject what cannot be served before reading any body. */
static void call_headers_done(struct grpc_call *call)
{
	struct grpc_server *s = call->server;

	if (!call->method_post) {
		log_debug("grpc: %s from pid %d: method not POST", call->path ?: "?",
			  (int)call->peer.pid);
		call_submit_http(call, "405");
		return;
	}
	if (!call->content_type_ok) {
		log_debug("grpc: %s from pid %d: content-type not application/grpc",
			  call->path ?: "?", (int)call->peer.pid);
		call_submit_http(call, "415");
		return;
	}
	if (s->stopping) {
		call_fail(call, GRPC_STATUS_UNAVAILABLE, "server is shutting down");
		return;
	}
	call->method = call->path ? server_find_method(s, call->path) : NULL;
	if (!call->method) {
		call_fail(call, GRPC_STATUS_UNIMPLEMENTED, "unknown method %s", call->path ?: "");
		return;
	}
	if (call->timeout_bad)
		call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "malformed grpc-timeout header");
}

/* END_STREAM from the client: the request is complete, hand it to its handler. */
static void call_request_done(struct grpc_call *call)
{
	struct grpc_server *s = call->server;
	static const uint8_t empty[1];

	call->req_done = true;
	if (call->answered)
		return;
	if (call->prefix_len == 0) {
		call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "unary request carries no message");
		return;
	}
	if (call->prefix_len < GRPC_PREFIX_LEN) {
		call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
			  "request message truncated in its 5-byte prefix");
		return;
	}
	if (call->body_len < call->msg_len) {
		call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
			  "request message truncated: %zu of %u bytes received", call->body_len,
			  call->msg_len);
		return;
	}
	if (s->stopping) {
		call_fail(call, GRPC_STATUS_UNAVAILABLE, "server is shutting down");
		return;
	}
	if (call->deadline_ms && now_ms() >= call->deadline_ms) {
		call_fail(call, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
		call->cancelled = true;
		return;
	}
	if (s->n_held >= s->max_held) {
		call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
			  "too many calls in progress (limit %u)", s->max_held);
		return;
	}

	call->with_handler = true;
	s->n_held++;
	/* One reference for the handler, one held here in case the handler replies at once and
	 * something in the reply path ever dropped the stream's reference. */
	call->n_ref += 2;
	call->method->handler(call, call->body ?: empty, call->msg_len, call->method->userdata);
	free(call->body);
	call->body = NULL;
	call->body_cap = call->body_len = 0;
	call_unref(call);
}

static int call_recv_data(struct grpc_call *call, const uint8_t *data, size_t len)
{
	struct grpc_server *s = call->server;

	while (len > 0 && !call->answered) {
		size_t n;

		if (call->prefix_len < GRPC_PREFIX_LEN) {
			n = MIN(GRPC_PREFIX_LEN - call->prefix_len, len);
			memcpy(call->prefix + call->prefix_len, data, n);
			call->prefix_len += n;
			data += n;
			len -= n;
			if (call->prefix_len < GRPC_PREFIX_LEN)
				break;

			call->msg_len = (uint32_t)call->prefix[1] << 24 |
					(uint32_t)call->prefix[2] << 16 |
					(uint32_t)call->prefix[3] << 8 | call->prefix[4];
			if (call->prefix[0] == 1) {
				call_fail(call, GRPC_STATUS_UNIMPLEMENTED,
					  "compressed messages are not supported (grpc-encoding %s)",
					  call->encoding[0] ? call->encoding : "missing");
				break;
			}
			if (call->prefix[0] != 0) {
				call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					  "invalid message flags 0x%02x", call->prefix[0]);
				break;
			}
			if (call->msg_len > s->max_message) {
				call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
					  "request message of %u bytes exceeds the limit of %zu bytes",
					  call->msg_len, s->max_message);
				break;
			}
			continue;
		}

		if (call->body_len == call->msg_len) {
			call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				  "more than one request message in a unary call");
			break;
		}
		n = MIN(call->msg_len - call->body_len, len);
		if (call->body_len + n > call->body_cap) {
			/* Grow with the data actually received, not with what the prefix promises:
			 * a 5-byte prefix must not make us reserve 4 MiB. */
			size_t cap = MAX(call->body_cap * 2, call->body_len + n);
			uint8_t *p;

			cap = MIN(MAX(cap, (size_t)16384), (size_t)call->msg_len);
			p = realloc(call->body, cap);
			if (!p)
				return -ENOMEM;
			call->body = p;
			call->body_cap = cap;
		}
		memcpy(call->body + call->body_len, data, n);
		call->body_len += n;
		data += n;
		len -= n;
	}
	return 0;
}

/* ---- nghttp2 callbacks ---------------------------------------------------------------------- */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct conn *c = user_data;
	struct grpc_server *s = c->server;
	struct grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;

	call = calloc(1, sizeof(*call));
	if (!call)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	call->server = s;
	call->n_ref = 1; /* the stream's */
	call->conn = c;
	call->stream_id = frame->hd.stream_id;
	call->peer = c->peer;
	call->next = s->calls;
	if (s->calls)
		s->calls->prev = call;
	s->calls = call;
	c->n_calls++;
	nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, call);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user_data)
{
	struct grpc_call *call;

	call = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (!call)
		return 0;
	call->header_bytes += namelen + valuelen + 32;
	if (call->header_bytes > MAX_HEADER_LIST)
		/* Resets the stream; on_stream_close then releases the call. */
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0; /* trailers from the client carry nothing gRPC defines */

#define NAME_IS(lit) (namelen == sizeof(lit) - 1 && memcmp(name, lit, namelen) == 0)
	if (NAME_IS(":method")) {
		call->method_post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
	} else if (NAME_IS(":path")) {
		free(call->path);
		call->path = strndup((const char *)value, valuelen);
		if (!call->path)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	} else if (NAME_IS("content-type")) {
		call->content_type_ok = content_type_is_grpc(value, valuelen);
	} else if (NAME_IS("grpc-timeout")) {
		uint64_t ms;

		if (parse_grpc_timeout(value, valuelen, &ms) < 0)
			call->timeout_bad = true;
		else
			call->deadline_ms = now_ms() + ms;
	} else if (NAME_IS("grpc-encoding")) {
		snprintf(call->encoding, sizeof(call->encoding), "%.*s",
			 (int)MIN(valuelen, sizeof(call->encoding) - 1), (const char *)value);
	}
#undef NAME_IS
	return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct conn *c = user_data;
	struct grpc_call *call;

	/* nghttp2 checked the client magic and that SETTINGS came first. */
	c->got_preface = true;

	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
	case NGHTTP2_DATA:
		call = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
		if (!call)
			break;
		if (frame->hd.type == NGHTTP2_HEADERS &&
		    frame->headers.cat == NGHTTP2_HCAT_REQUEST)
			call_headers_done(call);
		if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
			call_request_done(call);
		break;
	case NGHTTP2_RST_STREAM: {
		uint64_t now = now_ms();

		if (now - c->rst_window_ms > RST_WINDOW_MS) {
			c->rst_window_ms = now;
			c->n_rst = 0;
		}
		if (++c->n_rst > RST_MAX) {
			log_warning("grpc: closing connection of pid %d uid %u: more than %d stream "
				    "resets in %d ms",
				    (int)c->peer.pid, (unsigned)c->peer.uid, RST_MAX, RST_WINDOW_MS);
			nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
		}
		break;
	}
	default:
		break;
	}
	return 0;
}

static int on_data_chunk_recv(nghttp2_session *session, uint8_t flags, int32_t stream_id,
			      const uint8_t *data, size_t len, void *user_data)
{
	struct grpc_call *call = nghttp2_session_get_stream_user_data(session, stream_id);

	if (!call)
		return 0;
	if (call_recv_data(call, data, len) < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct grpc_call *call;

	if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	call = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	/* We answered before the request ended (limit, unknown method, deadline): ask the client
	 * to stop sending (RFC 9113 8.1: RST_STREAM with NO_ERROR after a complete response). */
	if (call && !call->req_done)
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
					  NGHTTP2_NO_ERROR);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			   void *user_data)
{
	struct grpc_call *call = nghttp2_session_get_stream_user_data(session, stream_id);

	if (call) {
		if (!call->answered)
			log_debug("grpc: %s from pid %d: stream closed by the client (%s)",
				  call->path ?: "?", (int)call->peer.pid,
				  nghttp2_http2_strerror(error_code));
		call_detach(call);
	}
	return 0;
}

static int on_error(nghttp2_session *session, int lib_error_code, const char *msg, size_t len,
		    void *user_data)
{
	struct conn *c = user_data;

	log_debug("grpc: HTTP/2 error on connection of pid %d: %.*s", (int)c->peer.pid, (int)len,
		  msg);
	return 0;
}

/* ---- connections ---------------------------------------------------------------------------- */

static void conn_close(struct conn *c)
{
	struct grpc_server *s = c->server;
	struct grpc_call *call, *next;

	for (call = s->calls; call && c->n_calls > 0; call = next) {
		next = call->next;
		if (call->conn == c)
			call_detach(call);
	}
	nghttp2_session_del(c->session);
	safe_close(c->fd);
	free(c->wbuf);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	log_debug("grpc: connection of pid %d closed", (int)c->peer.pid);
	free(c);
}

/* The peer's supplementary groups at connect time (Linux 4.13+); none when unknown. */
static void peer_read_groups(int fd, struct grpc_peer *peer)
{
	gid_t groups[GRPC_PEER_GROUPS_MAX * 4];
	socklen_t len = sizeof(groups);

	/* ERANGE (more groups than fit) leaves the buffer unwritten: no groups then. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return;
	peer->n_groups = MIN((size_t)len / sizeof(gid_t), (size_t)GRPC_PEER_GROUPS_MAX);
	memcpy(peer->groups, groups, peer->n_groups * sizeof(gid_t));
}

static int conn_new(struct grpc_server *s, int fd, const struct ucred *cred)
{
	nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->max_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST },
	};
	struct conn *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->server = s;
	c->fd = fd;
	c->peer = (struct grpc_peer){ .pid = cred->pid, .uid = cred->uid, .gid = cred->gid };
	peer_read_groups(fd, &c->peer);
	c->accepted_ms = c->last_activity_ms = c->rst_window_ms = now_ms();

	r = nghttp2_session_server_new2(&c->session, s->callbacks, c, s->option);
	if (r != 0) {
		free(c);
		return -ENOMEM;
	}
	r = h2_submit_settings(c->session, settings, ELEMENTSOF(settings));
	if (r < 0) {
		nghttp2_session_del(c->session);
		free(c);
		return -ENOMEM;
	}

	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	log_debug("grpc: connection from pid %d uid %u gid %u", (int)c->peer.pid,
		  (unsigned)c->peer.uid, (unsigned)c->peer.gid);
	return 0;
}

static void conn_read(struct conn *c)
{
	struct grpc_server *s = c->server;

	for (int i = 0; i < 4 && !c->dead; i++) {
		ssize_t n, rv;

		n = recv(c->fd, s->rbuf, READ_BUF, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->dead = true;
			return;
		}
		if (n == 0) {
			c->dead = true;
			return;
		}
		c->last_activity_ms = now_ms();
		rv = nghttp2_session_mem_recv(c->session, s->rbuf, (size_t)n);
		if (rv < 0) {
			/* Fatal (bad client magic, callback failure, out of memory): nghttp2 says
			 * the session cannot continue. Protocol errors it answers itself with a
			 * GOAWAY and then stops wanting to read or write. */
			log_debug("grpc: connection of pid %d: %s", (int)c->peer.pid,
				  nghttp2_strerror((int)rv));
			c->dead = true;
			return;
		}
		if (n < READ_BUF)
			return;
	}
}

static int conn_wbuf_append(struct conn *c, const uint8_t *data, size_t len)
{
	if (c->wlen + len > c->wcap) {
		size_t cap = MAX(c->wcap * 2, c->wlen + len);
		uint8_t *p = realloc(c->wbuf, cap);

		if (!p)
			return -ENOMEM;
		c->wbuf = p;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, data, len);
	c->wlen += len;
	return 0;
}

/* Writes what nghttp2 has to send until the socket would block; the rest stays in wbuf and
 * the loop polls for POLLOUT. */
static int conn_flush(struct conn *c)
{
	for (;;) {
		int r = h2_send_pending(c->fd, c->wbuf, &c->woff, c->wlen);
		if (r < 0 || c->woff < c->wlen)
			return r;
		c->woff = c->wlen = 0;
		while (c->wlen < WRITE_HIGH) {
			const uint8_t *data;
			ssize_t n = nghttp2_session_mem_send(c->session, &data);

			if (n < 0)
				return -EPROTO;
			if (n == 0)
				break;
			if (conn_wbuf_append(c, data, (size_t)n) < 0)
				return -ENOMEM;
		}
		if (c->wlen == 0)
			return 0;
	}
}

static bool conn_busy(struct conn *c)
{
	for (struct grpc_call *call = c->server->calls; call; call = call->next)
		if (call->conn == c && call->with_handler && !call->answered)
			return true;
	return false;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static void server_run_posted(struct grpc_server *s)
{
	struct post_item *head;

	pthread_mutex_lock(&s->lock);
	head = s->post_head;
	s->post_head = s->post_tail = NULL;
	pthread_mutex_unlock(&s->lock);

	while (head) {
		struct post_item *next = head->next;

		head->fn(head->arg);
		free(head);
		head = next;
	}
}

static void server_accept(struct grpc_server *s)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		_cleanup_close_ int fd = -EBADF;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		uint64_t now;

		fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Out of fds: the listening socket stays readable, so do not spin. */
				log_warning_errno(errno, "grpc: cannot accept connection: %m");
				s->accept_paused_until_ms = now_ms() + ACCEPT_PAUSE_MS;
			} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				log_debug_errno(errno, "grpc: accept failed: %m");
			}
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			log_debug_errno(errno, "grpc: SO_PEERCRED failed, closing connection: %m");
			continue;
		}
		if (s->n_conns >= s->max_connections) {
			now = now_ms();
			if (now - s->last_reject_log_ms >= 1000) {
				log_warning("grpc: rejecting connection from pid %d uid %u: "
					    "connection limit %u reached%s",
					    (int)cred.pid, (unsigned)cred.uid, s->max_connections,
					    s->rejects_suppressed ? ", earlier rejections suppressed"
								  : "");
				s->last_reject_log_ms = now;
				s->rejects_suppressed = 0;
			} else {
				s->rejects_suppressed++;
			}
			continue;
		}
		if (conn_new(s, fd, &cred) < 0) {
			log_debug("grpc: out of memory for a new connection");
			continue;
		}
		TAKE_FD(fd);
	}
}

static void server_timers(struct grpc_server *s, uint64_t now)
{
	for (struct grpc_call *call = s->calls; call; call = call->next) {
		if (call->deadline_ms && call->conn && !call->answered && now >= call->deadline_ms) {
			call_fail(call, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
			call->cancelled = true;
		}
	}
	for (struct conn *c = s->conns; c; c = c->next) {
		if (c->dead)
			continue;
		if (!c->got_preface) {
			if (now >= c->accepted_ms + s->idle_timeout_ms) {
				log_debug("grpc: connection of pid %d sent no HTTP/2 preface in %u ms",
					  (int)c->peer.pid, s->idle_timeout_ms);
				c->dead = true;
			}
			continue;
		}
		if (now < c->last_activity_ms + s->idle_timeout_ms)
			continue;
		if (conn_busy(c)) {
			/* Waiting for a handler is not idleness; restart the clock. */
			c->last_activity_ms = now;
			continue;
		}
		log_debug("grpc: closing idle connection of pid %d", (int)c->peer.pid);
		nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
		(void)conn_flush(c); /* best effort: the GOAWAY, if the socket takes it */
		c->dead = true;
	}
}

static int server_poll_timeout(struct grpc_server *s, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (struct grpc_call *call = s->calls; call; call = call->next)
		if (call->deadline_ms && call->conn && !call->answered)
			next = MIN(next, call->deadline_ms);
	for (struct conn *c = s->conns; c; c = c->next)
		next = MIN(next, (c->got_preface ? c->last_activity_ms : c->accepted_ms) +
					 s->idle_timeout_ms);
	if (s->accept_paused_until_ms)
		next = MIN(next, s->accept_paused_until_ms);
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return (int)MIN(next - now, (uint64_t)60000);
}

/* Flushes every connection and closes those that are dead or done. */
static void server_sweep(struct grpc_server *s)
{
	struct conn *c, *next;

	for (c = s->conns; c; c = next) {
		next = c->next;
		if (!c->dead) {
			int r = conn_flush(c);

			if (r < 0) {
				log_debug_errno(r, "grpc: write to pid %d failed: %m", (int)c->peer.pid);
				c->dead = true;
			} else if (c->woff == c->wlen && !nghttp2_session_want_read(c->session) &&
				   !nghttp2_session_want_write(c->session)) {
				c->dead = true;
			}
		}
		if (c->dead)
			conn_close(c);
	}
}

static void drain_eventfd(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

/* Answers what is pending, says GOAWAY and gives the clients a bounded time to read it. */
static void server_shutdown(struct grpc_server *s)
{
	_cleanup_free_ struct pollfd *pfds = NULL;
	_cleanup_free_ struct conn **pconns = NULL;
	uint64_t deadline;

	pthread_mutex_lock(&s->lock);
	s->stopped = true;
	pthread_mutex_unlock(&s->lock);
	s->stopping = true;

	/* What was posted before the stop still runs: its replies may reach their clients. */
	server_run_posted(s);

	for (struct grpc_call *call = s->calls; call; call = call->next) {
		if (call->conn && !call->answered) {
			call_fail(call, GRPC_STATUS_UNAVAILABLE, "server is shutting down");
			call->cancelled = true;
		}
	}
	for (struct conn *c = s->conns; c; c = c->next)
		if (!c->dead)
			nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
					      nghttp2_session_get_last_proc_stream_id(c->session),
					      NGHTTP2_NO_ERROR, NULL, 0);

	pfds = calloc(s->max_connections, sizeof(*pfds));
	pconns = calloc(s->max_connections, sizeof(*pconns));
	deadline = now_ms() + STOP_FLUSH_MS;
	while (pfds && pconns) {
		uint64_t now;
		size_t n = 0;
		int r;

		server_sweep(s);
		for (struct conn *c = s->conns; c; c = c->next) {
			if (c->woff == c->wlen && !nghttp2_session_want_write(c->session))
				continue;
			/* Keep reading too: a response may wait for the client's WINDOW_UPDATE. */
			pfds[n] = (struct pollfd){ .fd = c->fd,
						   .events = POLLIN |
							     (c->woff < c->wlen ? POLLOUT : 0) };
			pconns[n++] = c;
		}
		now = now_ms();
		if (n == 0 || now >= deadline)
			break;
		r = poll(pfds, n, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < n && r > 0; i++)
			if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(pconns[i]);
	}

	while (s->conns)
		conn_close(s->conns);
}

int grpc_server__run(struct grpc_server *s)
{
	_cleanup_free_ struct pollfd *pfds = NULL;
	_cleanup_free_ struct conn **pconns = NULL;
	int ret = 0;

	if (s->ran)
		return -ESHUTDOWN;
	s->ran = true;

	pfds = calloc(2 + s->max_connections, sizeof(*pfds));
	pconns = calloc(s->max_connections, sizeof(*pconns));
	if (!pfds || !pconns)
		ret = -ENOMEM;

	while (ret == 0 && !__atomic_load_n(&s->stop_requested, __ATOMIC_ACQUIRE)) {
		uint64_t now = now_ms();
		size_t n = 2, nc = 0;
		int r;

		if (s->accept_paused_until_ms && now >= s->accept_paused_until_ms)
			s->accept_paused_until_ms = 0;
		pfds[0] = (struct pollfd){ .fd = s->event_fd, .events = POLLIN };
		pfds[1] = (struct pollfd){ .fd = s->accept_paused_until_ms ? -1 : s->listen_fd,
					   .events = POLLIN };
		for (struct conn *c = s->conns; c; c = c->next) {
			pfds[n++] = (struct pollfd){ .fd = c->fd,
						     .events = POLLIN |
							       (c->woff < c->wlen ? POLLOUT : 0) };
			pconns[nc++] = c;
		}

		r = poll(pfds, n, server_poll_timeout(s, now));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = log_debug_errno(errno, "grpc: poll failed: %m");
			break;
		}

		if (pfds[0].revents & POLLIN) {
			drain_eventfd(s->event_fd);
			server_run_posted(s);
		}
		/* Connections before the listening socket: a slot freed by a client that just
		 * closed is available to the one that connects next. */
		for (size_t i = 0; i < nc; i++)
			if (pfds[2 + i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(pconns[i]);
		if (pfds[1].revents & POLLIN)
			server_accept(s);
		server_timers(s, now_ms());
		server_sweep(s);
	}

	server_shutdown(s);
	return ret;
}

/* ---- public API ----------------------------------------------------------------------------- */

int grpc_listen_unix(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	if (listen(fd, SOMAXCONN) < 0)
		return negative_errno();
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int server_setup_nghttp2(struct grpc_server *s)
{
	nghttp2_session_callbacks *cb;

	if (nghttp2_session_callbacks_new(&s->callbacks) != 0)
		return -ENOMEM;
	cb = s->callbacks;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_error_callback2(cb, on_error);

	if (nghttp2_option_new(&s->option) != 0)
		return -ENOMEM;
	/* Keep nghttp2's HTTP messaging checks (pseudo-headers, content-length) on. */
	return 0;
}

int grpc_server__new(int listen_fd, const struct grpc_server_config *config,
		     const struct grpc_method *methods, size_t n_methods, struct grpc_server **ret)
{
	struct grpc_server_config def = {};
	struct grpc_server *s;
	int accepting = 0, flags, r;
	socklen_t len = sizeof(accepting);

	if (listen_fd < 0 || !ret || (n_methods && !methods))
		return -EINVAL;
	if (!config)
		config = &def;
	if (getsockopt(listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0)
		return negative_errno();
	if (!accepting)
		return -EINVAL;
	for (size_t i = 0; i < n_methods; i++)
		if (!methods[i].path || !methods[i].handler)
			return -EINVAL;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->listen_fd = -EBADF;
	s->event_fd = -EBADF;
	pthread_mutex_init(&s->lock, NULL);
	s->max_message = config->max_message ?: DEFAULT_MAX_MESSAGE;
	/* The 5-byte prefix carries a u32 length. */
	s->max_message = MIN(s->max_message, (size_t)UINT32_MAX);
	s->max_connections = config->max_connections ?: DEFAULT_MAX_CONNECTIONS;
	s->max_streams = config->max_streams ?: DEFAULT_MAX_STREAMS;
	s->idle_timeout_ms = config->idle_timeout_ms ?: DEFAULT_IDLE_TIMEOUT_MS;
	s->max_held = s->max_connections * s->max_streams;

	r = -ENOMEM;
	s->rbuf = malloc(READ_BUF);
	if (!s->rbuf)
		goto fail;
	if (n_methods) {
		s->methods = calloc(n_methods, sizeof(*methods));
		if (!s->methods)
			goto fail;
		memcpy(s->methods, methods, n_methods * sizeof(*methods));
	}
	s->n_methods = n_methods;
	r = server_setup_nghttp2(s);
	if (r < 0)
		goto fail;

	s->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->event_fd < 0) {
		r = negative_errno();
		goto fail;
	}
	flags = fcntl(listen_fd, F_GETFL);
	if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(listen_fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = negative_errno();
		goto fail;
	}
	s->listen_fd = listen_fd;
	*ret = s;
	return 0;

fail:
	grpc_server__free(s);
	return r;
}

void grpc_server__stop(struct grpc_server *s)
{
	int saved = errno;
	uint64_t one = 1;
	ssize_t _unused_ n;

	/* Async-signal-safe: an atomic store and a write(2) on the eventfd. */
	__atomic_store_n(&s->stop_requested, 1, __ATOMIC_RELEASE);
	n = write(s->event_fd, &one, sizeof(one));
	errno = saved;
}

int grpc_server__post(struct grpc_server *s, void (*fn)(void *arg), void *arg)
{
	struct post_item *item;
	uint64_t one = 1;
	ssize_t _unused_ n;

	if (!fn)
		return -EINVAL;
	item = malloc(sizeof(*item));
	if (!item)
		return -ENOMEM;
	*item = (struct post_item){ .fn = fn, .arg = arg };

	pthread_mutex_lock(&s->lock);
	if (s->stopped) {
		pthread_mutex_unlock(&s->lock);
		free(item);
		return -ESHUTDOWN;
	}
	if (s->post_tail)
		s->post_tail->next = item;
	else
		s->post_head = item;
	s->post_tail = item;
	pthread_mutex_unlock(&s->lock);

	/* Only fails when the counter would overflow, i.e. the loop is already due to wake. */
	n = write(s->event_fd, &one, sizeof(one));
	return 0;
}

void grpc_server__free(struct grpc_server *s)
{
	if (!s)
		return;
	/* Never-run servers may still hold posted closures; their promise is to run. */
	pthread_mutex_lock(&s->lock);
	s->stopped = true;
	pthread_mutex_unlock(&s->lock);
	server_run_posted(s);
	while (s->conns)
		conn_close(s->conns);
	while (s->calls)
		call_free(s->calls); /* held by handlers that never replied */
	if (s->callbacks)
		nghttp2_session_callbacks_del(s->callbacks);
	if (s->option)
		nghttp2_option_del(s->option);
	safe_close(s->listen_fd);
	safe_close(s->event_fd);
	pthread_mutex_destroy(&s->lock);
	free(s->methods);
	free(s->rbuf);
	free(s);
}

const struct grpc_peer *grpc_call__peer(const struct grpc_call *call)
{
	return &call->peer;
}

const char *grpc_call__path(const struct grpc_call *call)
{
	return call->path;
}

struct grpc_server *grpc_call__server(const struct grpc_call *call)
{
	return call->server;
}

bool grpc_call__cancelled(const struct grpc_call *call)
{
	return call->cancelled;
}

void grpc_call__reply(struct grpc_call *call, int status, const char *message, const uint8_t *msg,
		      size_t len)
{
	struct grpc_server *s;

	if (!call)
		return;
	s = call->server;
	if (!call->with_handler) {
		/* A second reply, or a reply to a call no handler was given: a caller bug, but
		 * freeing here could be a double free, so only complain. */
		log_debug("grpc: %s: reply to a call that is not held by a handler ignored",
			  call->path ?: "?");
		return;
	}
	call->with_handler = false;
	s->n_held--;

	if (!call->conn || call->answered || call->cancelled) {
		log_debug("grpc: %s from pid %d: reply dropped, call %s", call->path ?: "?",
			  (int)call->peer.pid, call->answered ? "already answered" : "cancelled");
	} else if (status == GRPC_STATUS_OK) {
		if (len > s->max_message)
			call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
				  "response message of %zu bytes exceeds the limit of %zu bytes",
				  len, s->max_message);
		else
			call_submit_ok(call, msg, len);
	} else {
		if (status < 0 || status > GRPC_STATUS_UNAUTHENTICATED)
			status = GRPC_STATUS_UNKNOWN;
		call_submit_status(call, status, message);
	}
	call_unref(call);
}

void grpc_call__replyf(struct grpc_call *call, int status, const char *fmt, ...)
{
	_cleanup_free_ char *buf = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (r < 0)
		buf = NULL;
	grpc_call__reply(call, status, buf ?: fmt, NULL, 0);
}
