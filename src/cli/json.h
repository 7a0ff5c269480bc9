/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfctl --json: any protobuf-c message rendered generically from its descriptor, so every
 * response (and every future field) prints without per-message code. The contract, which the
 * integration tests parse:
 *   - an object keyed by the exact .proto field names, in field-number order;
 *   - optional scalars and enums only when their has_ flag is set; strings, bytes and nested
 *     messages only when present (non-NULL / has_ set); oneofs: only the member that is set;
 *   - repeated fields always, as arrays (empty: []); map fields as objects;
 *   - bytes as lowercase hex strings; enums as their .proto value names (the number when the
 *     name is unknown); 32- and 64-bit integers as JSON numbers (a uint64 above INT64_MAX,
 *     which jansson cannot hold as an integer, as a real);
 *   - strings that are not valid UTF-8 get U+FFFD for each bad byte.
 */
#pragma once

#include <stdio.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* NULL only when out of memory. */
json_t *json_from_pb(const ProtobufCMessage *msg);
/* {"error":{"status":"NOT_FOUND","code":5,"message":"..."}} */
json_t *json_error(int code, const char *status, const char *message);
/* A JSON string for s, replacing invalid UTF-8; "" for NULL. */
json_t *json_string_lossy(const char *s);
/* One compact line and '\n'. Returns 0 or -EIO/-ENOMEM. */
int json_print(FILE *f, const json_t *j);

/* jansson (>= 2.9) provides json_decrefp(). */
#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))
