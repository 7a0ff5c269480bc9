/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC services bpfd serves: bpfman.v1.Bpfman (API.md) and bpfd.v1.Bpfd. Handlers run on
 * the capability-free request thread; kernel work goes to the privileged thread as typed
 * operations through the worker. */
#pragma once

#include <stddef.h>

#include "grpc_server.h"

struct worker;

struct service {
	struct worker *worker;
};

/* The method table for grpc_server__new(); static storage, userdata points at svc. */
const struct grpc_method *service__methods(struct service *svc, size_t *ret_n);
