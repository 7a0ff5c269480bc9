/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking unary gRPC client: one nghttp2 client session over a unix socket (h2 with prior
 * knowledge), one call at a time, poll(2) for the deadline.
 */
#include "grpc_client.h"

#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "grpc_status.h"
#include "h2_util.h"
#include "log.h"
#include "macro.h"

#define GRPC_PREFIX_LEN 5
#define MAX_RESPONSE (4u << 20)
#define DEADLINE_GRACE_MS 1000
#define READ_BUF 65536

struct client_call {
	int32_t stream_id;
	uint8_t prefix[GRPC_PREFIX_LEN];
	const uint8_t *req;
	size_t req_len, sent;

	int http_status;
	bool have_status;
	int status;
	char *message; /* raw, percent-encoded */
	size_t message_len;
	uint8_t *data; /* every DATA byte, prefix included */
	size_t data_len, data_cap;
	bool too_large;
	bool closed;
	bool not_sent;
	uint32_t error_code;
};

struct grpc_client {
	char *socket_path;
	int fd;
	nghttp2_session *session;
	bool broken;
	struct client_call *cur;
	uint8_t *wbuf;
	size_t wlen, woff, wcap;
	uint8_t *rbuf;
};

static struct client_call *cur_call(struct grpc_client *c, int32_t stream_id)
{
	return c->cur && c->cur->stream_id == stream_id ? c->cur : NULL;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user_data)
{
	struct client_call *cc = cur_call(user_data, frame->hd.stream_id);

	if (!cc)
		return 0;
#define NAME_IS(lit) (namelen == sizeof(lit) - 1 && memcmp(name, lit, namelen) == 0)
	if (NAME_IS(":status")) {
		cc->http_status = 0;
		for (size_t i = 0; i < valuelen && i < 3; i++)
			cc->http_status = cc->http_status * 10 + (value[i] - '0');
	} else if (NAME_IS("grpc-status")) {
		int st = 0;

		for (size_t i = 0; i < valuelen; i++) {
			if (value[i] < '0' || value[i] > '9' || i >= 9) {
				st = GRPC_STATUS_UNKNOWN;
				break;
			}
			st = st * 10 + (value[i] - '0');
		}
		cc->have_status = valuelen > 0;
		cc->status = valuelen > 0 ? st : GRPC_STATUS_UNKNOWN;
	} else if (NAME_IS("grpc-message")) {
		char *m = malloc(valuelen + 1);

		if (!m)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		memcpy(m, value, valuelen);
		m[valuelen] = '\0';
		free(cc->message);
		cc->message = m;
		cc->message_len = valuelen;
	}
#undef NAME_IS
	return 0;
}

static uint32_t prefix_len_of(const uint8_t *p)
{
	return (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
}

static int on_data_chunk_recv(nghttp2_session *session, uint8_t flags, int32_t stream_id,
			      const uint8_t *data, size_t len, void *user_data)
{
	struct client_call *cc = cur_call(user_data, stream_id);

	if (!cc || cc->too_large)
		return 0;
	if (cc->data_len + len > GRPC_PREFIX_LEN + MAX_RESPONSE) {
		/* Stop buffering and stop the sender; the verdict is made at the end. */
		cc->too_large = true;
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
		return 0;
	}
	if (cc->data_len + len > cc->data_cap) {
		size_t cap = MAX(MAX(cc->data_cap * 2, cc->data_len + len), (size_t)16384);
		uint8_t *p = realloc(cc->data, cap);

		if (!p)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		cc->data = p;
		cc->data_cap = cap;
	}
	memcpy(cc->data + cc->data_len, data, len);
	cc->data_len += len;
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			   void *user_data)
{
	struct client_call *cc = cur_call(user_data, stream_id);

	if (cc) {
		cc->closed = true;
		cc->error_code = error_code;
	}
	return 0;
}

static int on_frame_not_send(nghttp2_session *session, const nghttp2_frame *frame,
			     int lib_error_code, void *user_data)
{
	struct client_call *cc = cur_call(user_data, frame->hd.stream_id);

	/* The request never left (the server said GOAWAY first). */
	if (cc && frame->hd.type == NGHTTP2_HEADERS) {
		cc->closed = true;
		cc->not_sent = true;
	}
	return 0;
}

static ssize_t req_read_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
			   size_t length, uint32_t *data_flags, nghttp2_data_source *source,
			   void *user_data)
{
	struct client_call *cc = source->ptr;
	size_t total = GRPC_PREFIX_LEN + cc->req_len, n = 0;

	while (n < length && cc->sent < total) {
		size_t k;

		if (cc->sent < GRPC_PREFIX_LEN) {
			k = MIN(GRPC_PREFIX_LEN - cc->sent, length - n);
			memcpy(buf + n, cc->prefix + cc->sent, k);
		} else {
			k = MIN(total - cc->sent, length - n);
			memcpy(buf + n, cc->req + (cc->sent - GRPC_PREFIX_LEN), k);
		}
		n += k;
		cc->sent += k;
	}
	if (cc->sent == total)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static void client_disconnect(struct grpc_client *c)
{
	if (c->session) {
		nghttp2_session_del(c->session);
		c->session = NULL;
	}
	c->fd = safe_close(c->fd);
	c->wlen = c->woff = 0;
}

static int client_connect(struct grpc_client *c)
{
	nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW },
	};
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	nghttp2_session_callbacks *cb;
	int r;

	if (strlen(c->socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, c->socket_path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	/* Non-blocking from here on: every wait goes through poll() and its deadline. */
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return negative_errno();

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return -ENOMEM;
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_not_send_callback(cb, on_frame_not_send);
	r = nghttp2_session_client_new(&c->session, cb, c);
	nghttp2_session_callbacks_del(cb);
	if (r != 0)
		return -ENOMEM;
	/* Queued now, sent with the first request: the client preface goes out first. */
	r = h2_submit_settings(c->session, settings, ELEMENTSOF(settings));
	if (r < 0) {
		nghttp2_session_del(c->session);
		c->session = NULL;
		return -ENOMEM;
	}
	c->fd = TAKE_FD(fd);
	c->broken = false;
	return 0;
}

int grpc_client__connect(const char *socket_path, struct grpc_client **ret)
{
	struct grpc_client *c;
	int r;

	if (!socket_path || !ret)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -EBADF;
	c->socket_path = strdup(socket_path);
	c->rbuf = malloc(READ_BUF);
	if (!c->socket_path || !c->rbuf) {
		grpc_client__free(c);
		return -ENOMEM;
	}
	r = client_connect(c);
	if (r < 0) {
		grpc_client__free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void grpc_client__free(struct grpc_client *c)
{
	if (!c)
		return;
	client_disconnect(c);
	free(c->socket_path);
	free(c->wbuf);
	free(c->rbuf);
	free(c);
}

void grpc_result__clear(struct grpc_result *r)
{
	if (!r)
		return;
	free(r->message);
	free(r->body);
	*r = (struct grpc_result){};
}

/* Moves frames from nghttp2 into wbuf: up to 64 KiB, or everything if all. */
static int client_serialize(struct grpc_client *c, bool all)
{
	while (all || c->wlen < 65536) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->session, &data);

		if (n < 0)
			return -EPROTO;
		if (n == 0)
			break;
		if (c->wlen + (size_t)n > c->wcap) {
			size_t cap = MAX(c->wcap * 2, c->wlen + (size_t)n);
			uint8_t *p = realloc(c->wbuf, cap);

			if (!p)
				return -ENOMEM;
			c->wbuf = p;
			c->wcap = cap;
		}
		memcpy(c->wbuf + c->wlen, data, (size_t)n);
		c->wlen += (size_t)n;
	}
	return 0;
}

static int client_flush(struct grpc_client *c)
{
	for (;;) {
		int r;

		r = h2_send_pending(c->fd, c->wbuf, &c->woff, c->wlen);
		if (r < 0 || c->woff < c->wlen)
			return r;
		c->woff = c->wlen = 0;
		r = client_serialize(c, false);
		if (r < 0)
			return r;
		if (c->wlen == 0)
			return 0;
	}
}

/* Drives the connection until the current stream closed or the deadline (0: none) passed. */
static int client_wait(struct grpc_client *c, uint64_t deadline)
{
	struct client_call *cc = c->cur;

	for (;;) {
		struct pollfd pfd;
		int timeout = -1, r;
		ssize_t n;

		r = client_flush(c);
		if (r < 0)
			return r == -EPROTO || r == -ENOMEM ? r : -ECONNRESET;
		if (cc->closed)
			return 0;
		if (c->woff == c->wlen && !nghttp2_session_want_read(c->session) &&
		    !nghttp2_session_want_write(c->session))
			return -ECONNRESET;
		if (deadline) {
			uint64_t now = now_ms();

			if (now >= deadline)
				return -ETIMEDOUT;
			timeout = (int)MIN(deadline - now, (uint64_t)INT32_MAX);
		}

		pfd = (struct pollfd){ .fd = c->fd,
				       .events = POLLIN | (c->woff < c->wlen ? POLLOUT : 0) };
		r = poll(&pfd, 1, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (r == 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;

		n = recv(c->fd, c->rbuf, READ_BUF, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -ECONNRESET;
		}
		if (n == 0)
			return -ECONNRESET;
		if (nghttp2_session_mem_recv(c->session, c->rbuf, (size_t)n) < 0)
			return -EPROTO;
	}
}

/* Between calls: takes in what the server sent meanwhile (a GOAWAY, EOF) without waiting,
 * so a connection the server closed is noticed before a request is put on it. */
static void client_read_pending(struct grpc_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->rbuf, READ_BUF, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || nghttp2_session_mem_recv(c->session, c->rbuf, (size_t)n) < 0) {
			c->broken = true;
			return;
		}
	}
}

/* gRPC's mapping of HTTP status codes for responses without grpc-status
 * (grpc/doc/http-grpc-status-mapping.md). */
static int status_from_http(int http_status)
{
	switch (http_status) {
	case 400:
		return GRPC_STATUS_INTERNAL;
	case 401:
		return GRPC_STATUS_UNAUTHENTICATED;
	case 403:
		return GRPC_STATUS_PERMISSION_DENIED;
	case 404:
		return GRPC_STATUS_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return GRPC_STATUS_UNAVAILABLE;
	default:
		return GRPC_STATUS_UNKNOWN;
	}
}

/* ... and of HTTP/2 RST_STREAM error codes (same document). */
static int status_from_h2_error(uint32_t error_code)
{
	switch (error_code) {
	case NGHTTP2_REFUSED_STREAM:
		return GRPC_STATUS_UNAVAILABLE;
	case NGHTTP2_CANCEL:
		return GRPC_STATUS_CANCELLED;
	case NGHTTP2_ENHANCE_YOUR_CALM:
		return GRPC_STATUS_RESOURCE_EXHAUSTED;
	case NGHTTP2_INADEQUATE_SECURITY:
		return GRPC_STATUS_PERMISSION_DENIED;
	default:
		return GRPC_STATUS_INTERNAL;
	}
}

static int synth_message(char **ret, const char *fmt, ...) _printf_(2, 3);
static int synth_message(char **ret, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (r < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Turns what arrived on the stream into a result. */
static int client_result(struct client_call *cc, struct grpc_result *ret)
{
	struct grpc_result res = {};
	int r;

	if (cc->too_large) {
		uint32_t n = cc->data_len >= GRPC_PREFIX_LEN ? prefix_len_of(cc->data) : 0;

		if (n <= MAX_RESPONSE)
			return -EPROTO; /* more than one message */
		res.status = GRPC_STATUS_RESOURCE_EXHAUSTED;
		r = synth_message(&res.message,
				  "response message of %u bytes exceeds the limit of %u bytes", n,
				  MAX_RESPONSE);
		if (r < 0)
			return r;
		*ret = res;
		return 0;
	}

	if (!cc->have_status) {
		if (cc->http_status && cc->http_status != 200) {
			res.status = status_from_http(cc->http_status);
			r = synth_message(&res.message, "HTTP status %d from the server",
					  cc->http_status);
		} else if (cc->error_code != NGHTTP2_NO_ERROR) {
			res.status = status_from_h2_error(cc->error_code);
			r = synth_message(&res.message, "stream reset by the server: %s",
					  nghttp2_http2_strerror(cc->error_code));
		} else {
			return -EPROTO; /* no grpc-status at all */
		}
		if (r < 0)
			return r;
		*ret = res;
		return 0;
	}

	res.status = cc->status;
	if (cc->message) {
		r = grpc_percent_decode(cc->message, cc->message_len, &res.message);
		if (r < 0)
			return r;
	}
	if (res.status == GRPC_STATUS_OK) {
		uint32_t n;

		/* Unary: exactly one uncompressed message. */
		if (cc->data_len < GRPC_PREFIX_LEN || cc->data[0] != 0 ||
		    cc->data_len != GRPC_PREFIX_LEN + (size_t)(n = prefix_len_of(cc->data))) {
			free(res.message);
			return -EPROTO;
		}
		if (n > 0) {
			res.body = malloc(n);
			if (!res.body) {
				free(res.message);
				return -ENOMEM;
			}
			memcpy(res.body, cc->data + GRPC_PREFIX_LEN, n);
			res.body_len = n;
		}
	}
	*ret = res;
	return 0;
}

int grpc_client__call(struct grpc_client *c, const char *path, const uint8_t *req, size_t len,
		      unsigned timeout_ms, struct grpc_result *ret)
{
	struct client_call cc = {};
	char timeout[16];
	nghttp2_nv hdrs[8] = {
		NV(":method", "POST"),	   NV(":scheme", "http"),
		NV(":path", path),	   NV(":authority", "localhost"),
		NV("content-type", "application/grpc"), NV("te", "trailers"),
		NV("user-agent", "bpfd-grpc-c/" BPFD_VERSION),
	};
	size_t n_hdrs = 7;
	nghttp2_data_provider prd = { .source.ptr = &cc, .read_callback = req_read_cb };
	uint64_t deadline = 0;
	int32_t id;
	int r;

	if (!c || !path || !ret || (len && !req))
		return -EINVAL;
	if (len > UINT32_MAX)
		return -EMSGSIZE;

	if (!c->broken && c->session)
		client_read_pending(c);
	/* The connection died on an earlier call or the server closed it (idle, GOAWAY):
	 * nothing of this call left yet, so a fresh connection is safe. */
	if (c->broken || !c->session ||
	    (c->woff == c->wlen && !nghttp2_session_want_read(c->session) &&
	     !nghttp2_session_want_write(c->session))) {
		client_disconnect(c);
		r = client_connect(c);
		if (r < 0)
			return r == -ENOENT || r == -EACCES || r == -ECONNREFUSED ? r : -ECONNRESET;
	}

	if (timeout_ms) {
		if (timeout_ms <= 99999999)
			snprintf(timeout, sizeof(timeout), "%um", timeout_ms);
		else
			snprintf(timeout, sizeof(timeout), "%uS", (timeout_ms + 999) / 1000);
		hdrs[n_hdrs++] = (nghttp2_nv)NV("grpc-timeout", timeout);
		deadline = now_ms() + timeout_ms + DEADLINE_GRACE_MS;
	}

	cc.prefix[0] = 0;
	cc.prefix[1] = (uint8_t)(len >> 24);
	cc.prefix[2] = (uint8_t)(len >> 16);
	cc.prefix[3] = (uint8_t)(len >> 8);
	cc.prefix[4] = (uint8_t)len;
	cc.req = req;
	cc.req_len = len;

	id = nghttp2_submit_request(c->session, NULL, hdrs, n_hdrs, &prd, NULL);
	if (id < 0) {
		c->broken = true;
		return id == NGHTTP2_ERR_NOMEM ? -ENOMEM : -ECONNRESET;
	}
	cc.stream_id = id;
	c->cur = &cc;

	r = client_wait(c, deadline);
	if (r == -ETIMEDOUT) {
		/* Cancel the stream but keep the connection: it is still in a sane state.
		 * Serialize at once: nghttp2 emits the RST_STREAM before any DATA and closes the
		 * stream with it, so its data provider never reads this stack frame again. */
		nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
		if (client_serialize(c, true) < 0 || client_flush(c) < 0)
			c->broken = true;
	} else if (r == 0 && cc.not_sent) {
		r = -ECONNRESET;
	}
	c->cur = NULL; /* cc lives on this stack frame: no callback may see it from now on */
	if (r < 0) {
		if (r != -ETIMEDOUT)
			c->broken = true;
		log_debug_errno(r, "grpc: call %s failed: %m", path);
	} else {
		r = client_result(&cc, ret);
		if (r == -EPROTO)
			c->broken = true;
	}
	free(cc.message);
	free(cc.data);
	return r;
}
