/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The queue between the capability-free request thread and the privileged thread. A request
 * handler fills a struct work with a typed operation and submits it; the privileged thread runs
 * it against the core; the request thread then gets it back to answer the call. The
 * privileged thread only ever sees typed C structs, never bytes from a client.
 */
#pragma once

#include <stdbool.h>

struct core;
struct grpc_call;
struct grpc_server;

struct work {
	/* Privileged thread: do the operation, keep the result in the containing struct. */
	void (*run)(struct work *w, struct core *core);
	/* Request thread: answer w->call (when deliver) and free w. deliver is false when the
	 * server has stopped: w->call is gone then and must not be touched. */
	void (*finish)(struct work *w, bool deliver);
	struct grpc_call *call;
	struct work *next;
};

struct worker;

int worker__new(struct grpc_server *server, struct worker **ret);
void worker__free(struct worker *wk);
/* Any thread. -ESHUTDOWN once the worker stopped accepting work. */
int worker__submit(struct worker *wk, struct work *w);
/* An fd that polls readable while work is queued. */
int worker__fd(const struct worker *wk);
/* Privileged thread: runs everything queued and hands each back to the request thread. */
void worker__drain(struct worker *wk, struct core *core);
/* Refuses new work and finishes queued work without delivering it. */
void worker__shutdown(struct worker *wk);
