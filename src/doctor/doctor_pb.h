/* SPDX-License-Identifier: Apache-2.0 */
/* A doctor report as bpfd.v1.DoctorResponse: what the Doctor RPC sends and bpfctl prints. */
#pragma once

#include "bpfd.pb-c.h"
#include "doctor.h"

/* Where the message's parts come from: bpfd's arena, or malloc (bpfctl, which then frees
 * the message with protobuf_c_message_free_unpacked()). alloc returns zeroed memory. */
struct doctor_pb_alloc {
	void *(*alloc)(void *userdata, size_t size);
	char *(*strdup)(void *userdata, const char *s);
	void *userdata;
};

/* Fills ret (already initialised). Returns 0 or -ENOMEM (ret then partly filled; free it the
 * way it was allocated). */
int doctor__to_pb(const struct doctor *d, const struct doctor_pb_alloc *a,
		  Bpfd__V1__DoctorResponse *ret);

/* A doctor_pb_alloc of calloc/strdup. */
extern const struct doctor_pb_alloc doctor_pb_malloc;
