/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A unary-only gRPC server over HTTP/2 cleartext (nghttp2) on an already listening socket.
 *
 * Everything in here runs on one event-loop thread (the caller of grpc_server__run()). Handlers
 * are called on that thread with the complete, de-framed request message and must not block:
 * a handler either replies at once with grpc_call__reply(), or keeps the call and replies later
 * after work done elsewhere is handed back to the loop with grpc_server__post().
 *
 * Limits (all enforced with a gRPC status or a GOAWAY, never a crash):
 *   - request and response messages: max_message bytes (default 4 MiB) -> RESOURCE_EXHAUSTED
 *   - concurrent connections: max_connections (extra ones are accepted and closed at once)
 *   - concurrent streams per connection: max_streams (SETTINGS_MAX_CONCURRENT_STREAMS)
 *   - connections idle (no open stream, no bytes) longer than idle_timeout_ms are closed, and a
 *     connection that does not complete its HTTP/2 preface within that time too
 *   - grpc-timeout is honoured: the call is answered DEADLINE_EXCEEDED when it expires; the
 *     handler's later reply is then dropped
 *   - compressed messages (flag byte 1) -> UNIMPLEMENTED; unknown path -> UNIMPLEMENTED;
 *     content-type not application/grpc* -> HTTP 415 per the gRPC HTTP/2 spec; :method not
 *     POST -> HTTP 405 (both without grpc-status, so clients apply the HTTP mapping)
 *   - a unary request carrying no message, a truncated message or more than one message ->
 *     INVALID_ARGUMENT (grpc-java says INTERNAL, but API.md keeps INTERNAL for bpfd's own bugs)
 *   - calls held by handlers (async replies), counting those whose client went away:
 *     max_connections * max_streams in total; more -> RESOURCE_EXHAUSTED
 *   - grpc-message is cut to 6 KiB on the wire (whole UTF-8 characters), below grpc's default
 *     8 KiB metadata limit
 *   - a connection with open streams but no byte received for idle_timeout_ms and no call
 *     with a handler is closed too (a client that stalls mid-request or stops reading)
 *
 * Call lifetime: a call belongs to the server until its handler is invoked, then to the
 * handler until grpc_call__reply(). A call whose client vanishes (stream reset, connection
 * closed) or whose deadline passes while the handler holds it stays valid: it is marked
 * cancelled, detached from its connection, and freed by the handler's reply (which is
 * dropped). After grpc_server__run() returned, unreplied calls may still be replied to
 * (dropped) from the thread that ran the loop until grpc_server__free(), which frees those
 * left. So: a worker whose grpc_server__post() fails with -ESHUTDOWN frees its own closure
 * argument and must not touch the call any more.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct grpc_server;
struct grpc_call;

/* msg (without the 5-byte prefix) is valid only during the handler invocation. */
typedef void (*grpc_handler_fn)(struct grpc_call *call, const uint8_t *msg, size_t len,
				void *userdata);

struct grpc_method {
	const char *path; /* "/bpfman.v1.Bpfman/Load" */
	grpc_handler_fn handler;
	void *userdata;
};

struct grpc_server_config {
	size_t max_message;	  /* 0 -> 4 MiB */
	unsigned max_connections; /* 0 -> 64 */
	unsigned max_streams;	  /* 0 -> 16 */
	unsigned idle_timeout_ms; /* 0 -> 30000 */
};

/* Convenience for the daemon and tests: a non-blocking, close-on-exec unix stream socket
 * bound to path and listening. The caller owns mode/ownership of the path and stale sockets
 * (bind fails with -EADDRINUSE on an existing path). */
int grpc_listen_unix(const char *path, int *ret_fd);

/* Copies methods (not the strings, which must outlive the server).
 * Takes ownership of listen_fd (a SOCK_STREAM socket in listen state) on success. */
int grpc_server__new(int listen_fd, const struct grpc_server_config *config,
		     const struct grpc_method *methods, size_t n_methods,
		     struct grpc_server **ret);
/* Runs the loop until grpc_server__stop(); returns 0 or a negative errno. Once only: it
 * returns -ESHUTDOWN when called again. On return every connection is closed (after a GOAWAY
 * and a bounded flush), closures queued before the stop have run, and pending calls were
 * answered UNAVAILABLE. */
int grpc_server__run(struct grpc_server *s);
/* Thread-safe and async-signal-safe: makes grpc_server__run() return soon. Calls still
 * pending are answered UNAVAILABLE. */
void grpc_server__stop(struct grpc_server *s);
/* Thread-safe: runs fn(arg) on the loop thread soon (FIFO). Returns -ESHUTDOWN once the loop
 * has stopped, in which case fn is not called and arg stays the caller's. */
int grpc_server__post(struct grpc_server *s, void (*fn)(void *arg), void *arg);
/* Not thread-safe with post/reply: join the threads that may still post before freeing.
 * Frees the calls handlers never replied to. Accepts NULL. */
void grpc_server__free(struct grpc_server *s);

#define GRPC_PEER_GROUPS_MAX 64

/* Credentials of the peer (SO_PEERCRED and SO_PEERGROUPS, read once at accept). Callers
 * with more supplementary groups than GRPC_PEER_GROUPS_MAX keep the first ones only, which
 * can only deny access, never grant it. */
struct grpc_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	size_t n_groups;
	gid_t groups[GRPC_PEER_GROUPS_MAX];
};
const struct grpc_peer *grpc_call__peer(const struct grpc_call *call);
const char *grpc_call__path(const struct grpc_call *call);
/* The server the call arrived on, e.g. for grpc_server__post() from a worker. */
struct grpc_server *grpc_call__server(const struct grpc_call *call);
/* True once the client reset the stream, closed the connection, the deadline passed or the
 * server stopped. Loop thread only (it is not synchronised with other threads). */
bool grpc_call__cancelled(const struct grpc_call *call);

/*
 * Answers the call and releases it; call must not be used afterwards. Must run on the loop
 * thread. status GRPC_STATUS_OK sends msg (may be NULL/0 for an empty message); any other
 * status sends no message and `message` (UTF-8, percent-encoded on the wire by the server) in
 * grpc-message. If the call was cancelled meanwhile, the reply is dropped and the call freed.
 */
void grpc_call__reply(struct grpc_call *call, int status, const char *message, const uint8_t *msg,
		      size_t len);
/* printf-style error reply. */
void grpc_call__replyf(struct grpc_call *call, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
