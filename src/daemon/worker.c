/* SPDX-License-Identifier: Apache-2.0 */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "grpc_server.h"
#include "macro.h"

struct worker {
	pthread_mutex_t lock;
	struct work *head, *tail;
	bool stopped;
	int efd;
	struct grpc_server *server;
};

int worker__new(struct grpc_server *server, struct worker **ret)
{
	struct worker *wk = calloc(1, sizeof(*wk));

	if (!wk)
		return -ENOMEM;
	wk->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wk->efd < 0) {
		int r = negative_errno();

		free(wk);
		return r;
	}
	pthread_mutex_init(&wk->lock, NULL);
	wk->server = server;
	*ret = wk;
	return 0;
}

void worker__free(struct worker *wk)
{
	if (!wk)
		return;
	worker__shutdown(wk);
	safe_close(wk->efd);
	pthread_mutex_destroy(&wk->lock);
	free(wk);
}

int worker__fd(const struct worker *wk)
{
	return wk->efd;
}

int worker__submit(struct worker *wk, struct work *w)
{
	uint64_t one = 1;

	pthread_mutex_lock(&wk->lock);
	if (wk->stopped) {
		pthread_mutex_unlock(&wk->lock);
		return -ESHUTDOWN;
	}
	w->next = NULL;
	if (wk->tail)
		wk->tail->next = w;
	else
		wk->head = w;
	wk->tail = w;
	pthread_mutex_unlock(&wk->lock);
	(void)!write(wk->efd, &one, sizeof(one));
	return 0;
}

static struct work *pop(struct worker *wk)
{
	struct work *w;

	pthread_mutex_lock(&wk->lock);
	w = wk->head;
	if (w) {
		wk->head = w->next;
		if (!wk->head)
			wk->tail = NULL;
	}
	pthread_mutex_unlock(&wk->lock);
	return w;
}

static void finish_delivered(void *arg)
{
	struct work *w = arg;

	w->finish(w, true);
}

void worker__drain(struct worker *wk, struct core *core)
{
	uint64_t v;
	struct work *w;

	(void)!read(wk->efd, &v, sizeof(v));
	while ((w = pop(wk))) {
		w->run(w, core);
		if (grpc_server__post(wk->server, finish_delivered, w) < 0)
			w->finish(w, false);
	}
}

void worker__shutdown(struct worker *wk)
{
	struct work *w;

	pthread_mutex_lock(&wk->lock);
	wk->stopped = true;
	pthread_mutex_unlock(&wk->lock);
	while ((w = pop(wk)))
		w->finish(w, false);
}
