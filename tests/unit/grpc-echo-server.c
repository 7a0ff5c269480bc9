/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test server for interop with real gRPC clients (test-grpc-interop.py):
 *   grpc-echo-server SOCKET_PATH
 * /test.Echo/Echo replies the request; /test.Echo/Fail takes "<code>:<message>" and answers
 * that status; /test.Echo/Slow takes "<ms>[:...]" and replies the request from a worker thread
 * after that delay. SIGTERM/SIGINT stop it (grpc_server__stop() from the signal handler);
 * exits 0 after a clean shutdown.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grpc_server.h"
#include "grpc_status.h"
#include "macro.h"

static struct grpc_server *server;

static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t workers[1024];
static size_t n_workers;

static void handle_echo(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	grpc_call__reply(call, GRPC_STATUS_OK, NULL, msg, len);
}

static void handle_fail(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	char *buf = strndup((const char *)msg, len);
	char *colon = buf ? strchr(buf, ':') : NULL;

	if (!colon) {
		grpc_call__reply(call, GRPC_STATUS_INTERNAL, "bad Fail request", NULL, 0);
	} else {
		*colon = '\0';
		grpc_call__reply(call, atoi(buf), colon + 1, NULL, 0);
	}
	free(buf);
}

struct slow {
	struct grpc_call *call;
	unsigned delay_ms;
	uint8_t *data;
	size_t len;
};

static void slow_reply(void *arg)
{
	struct slow *sl = arg;

	grpc_call__reply(sl->call, GRPC_STATUS_OK, NULL, sl->data, sl->len);
	free(sl->data);
	free(sl);
}

static void *slow_worker(void *arg)
{
	struct slow *sl = arg;
	struct timespec ts = { sl->delay_ms / 1000, (long)(sl->delay_ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
	if (grpc_server__post(server, slow_reply, sl) < 0) {
		free(sl->data);
		free(sl);
	}
	return NULL;
}

static void handle_slow(struct grpc_call *call, const uint8_t *msg, size_t len, void *userdata)
{
	struct slow *sl = calloc(1, sizeof(*sl));
	char buf[16];

	if (!sl || !(sl->data = malloc(len + 1))) {
		free(sl);
		grpc_call__reply(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)MIN(len, sizeof(buf) - 1), (const char *)msg);
	sl->call = call;
	sl->delay_ms = (unsigned)strtoul(buf, NULL, 10);
	memcpy(sl->data, msg, len);
	sl->len = len;

	pthread_mutex_lock(&workers_lock);
	if (n_workers < ELEMENTSOF(workers) &&
	    pthread_create(&workers[n_workers], NULL, slow_worker, sl) == 0) {
		n_workers++;
		sl = NULL;
	}
	pthread_mutex_unlock(&workers_lock);
	if (sl) {
		grpc_call__reply(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "no worker", NULL, 0);
		free(sl->data);
		free(sl);
	}
}

static void on_signal(int sig)
{
	grpc_server__stop(server);
}

int main(int argc, char **argv)
{
	static const struct grpc_method methods[] = {
		{ "/test.Echo/Echo", handle_echo, NULL },
		{ "/test.Echo/Fail", handle_fail, NULL },
		{ "/test.Echo/Slow", handle_slow, NULL },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	int fd, r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
		return 2;
	}
	r = grpc_listen_unix(argv[1], &fd);
	if (r < 0) {
		fprintf(stderr, "listen on %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	r = grpc_server__new(fd, NULL, methods, ELEMENTSOF(methods), &server);
	if (r < 0) {
		fprintf(stderr, "grpc_server__new: %s\n", strerror(-r));
		close(fd);
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	r = grpc_server__run(server);
	for (size_t i = 0; i < n_workers; i++)
		pthread_join(workers[i], NULL);
	grpc_server__free(server);
	unlink(argv[1]);
	if (r < 0) {
		fprintf(stderr, "grpc_server__run: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
