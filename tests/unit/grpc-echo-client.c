/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfd's gRPC client as a command, for interop with a real gRPC server (test-grpc-interop.py):
 *   grpc-echo-client SOCKET_PATH METHOD_PATH REQUEST [TIMEOUT_MS]
 * prints "ret=", "status=", "message=<hex>" and "body=<hex>" lines; exits 0 iff ret is 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_client.h"

static void print_hex(const char *key, const uint8_t *p, size_t len)
{
	printf("%s=", key);
	for (size_t i = 0; i < len; i++)
		printf("%02x", p[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct grpc_client *c;
	struct grpc_result res = {};
	int r;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s SOCKET_PATH METHOD_PATH REQUEST [TIMEOUT_MS]\n", argv[0]);
		return 2;
	}
	r = grpc_client__connect(argv[1], &c);
	if (r < 0) {
		printf("ret=%d\n", r);
		return 1;
	}
	r = grpc_client__call(c, argv[2], (const uint8_t *)argv[3], strlen(argv[3]),
			      argc == 5 ? (unsigned)strtoul(argv[4], NULL, 10) : 0, &res);
	printf("ret=%d\n", r);
	if (r == 0) {
		printf("status=%d\n", res.status);
		print_hex("message", (const uint8_t *)(res.message ?: ""),
			  res.message ? strlen(res.message) : 0);
		print_hex("body", res.body, res.body_len);
	}
	grpc_result__clear(&res);
	grpc_client__free(c);
	return r == 0 ? 0 : 1;
}
