/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl's main: the real transport (grpc_client) plugged into cli_main(). */
#include <stdio.h>

#include "cli.h"
#include "grpc_client.h"

static int transport_connect(void *userdata, const char *socket_path, void **ret_conn)
{
	struct grpc_client *c;
	int r;

	r = grpc_client__connect(socket_path, &c);
	if (r < 0)
		return r;
	*ret_conn = c;
	return 0;
}

static int transport_call(void *conn, const char *path, const uint8_t *req, size_t len,
			  unsigned timeout_ms, struct grpc_result *ret)
{
	return grpc_client__call(conn, path, req, len, timeout_ms, ret);
}

static void transport_disconnect(void *conn)
{
	grpc_client__free(conn);
}

static const struct cli_transport grpc_transport = {
	.connect = transport_connect,
	.call = transport_call,
	.disconnect = transport_disconnect,
	.result_clear = grpc_result__clear,
};

int main(int argc, char **argv)
{
	struct cli cli = {
		.out = stdout,
		.err = stderr,
		.transport = &grpc_transport,
	};
	int code;

	code = cli_main(&cli, argc, argv);
	cli_done(&cli);
	if (fflush(stdout) != 0 && code == 0)
		code = CLI_EXIT_TRANSPORT;
	return code;
}
