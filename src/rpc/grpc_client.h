/* SPDX-License-Identifier: Apache-2.0 */
/* A blocking, unary-only gRPC client over HTTP/2 on a unix socket (nghttp2), for bpfctl. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct grpc_client;

/* Connects to the unix socket at path. -ENOENT/-ECONNREFUSED/-EACCES as connect(2) says.
 * The connection is HTTP/2 with prior knowledge; calls on one client are sequential. */
int grpc_client__connect(const char *socket_path, struct grpc_client **ret);
void grpc_client__free(struct grpc_client *c);

struct grpc_result {
	int status;	/* grpc-status from the trailers (or synthesized, see below) */
	char *message;	/* grpc-message, percent-decoded; malloc'd, may be NULL */
	uint8_t *body;	/* response message without the 5-byte prefix; malloc'd, may be NULL */
	size_t body_len;
};
void grpc_result__clear(struct grpc_result *r);

/*
 * Sends one unary call and waits for its answer (timeout_ms 0: no deadline; otherwise sent as
 * grpc-timeout too). Returns 0 when an answer with a grpc-status arrived (which may be an error
 * status), or a negative errno when the transport failed (connection closed: -ECONNRESET,
 * protocol error: -EPROTO, timeout: -ETIMEDOUT). A response without grpc-status but with an
 * HTTP error is reported as status UNKNOWN/UNIMPLEMENTED etc. per the gRPC HTTP mapping.
 *
 * Details: the server enforces the deadline (it answers DEADLINE_EXCEEDED); the client waits
 * timeout_ms plus one second of grace for that answer before giving up with -ETIMEDOUT (and
 * resets the stream, so the client stays usable). A stream reset without grpc-status is
 * reported with the status gRPC maps the HTTP/2 error code to (REFUSED_STREAM -> UNAVAILABLE,
 * CANCEL -> CANCELLED, ...). A response message over 4 MiB is RESOURCE_EXHAUSTED. Malformed
 * gRPC framing, or OK without exactly one message, is -EPROTO. After a transport error, or
 * when the server closed the connection between calls (idle timeout, GOAWAY), the next call
 * connects again first (nothing of it has been sent, so this never repeats a call).
 * ret is written only when 0 is returned; release it with grpc_result__clear().
 */
int grpc_client__call(struct grpc_client *c, const char *path, const uint8_t *req, size_t len,
		      unsigned timeout_ms, struct grpc_result *ret);
