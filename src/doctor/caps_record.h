/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bpfctl caps record`: every capability check the kernel makes for a process tree, from the
 * capability:cap_capable tracepoint (6.13+) or a kprobe on cap_capable, summarised as the
 * minimal CapabilityBoundingSet=/AmbientCapabilities= a unit needs (docs/doctor.md).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "macro.h"

struct caps_record_opts {
	const char **argv; /* the command to run and record; may be empty with pid */
	size_t argc;
	pid_t pid;		/* a running process to record too; 0: none */
	unsigned duration_s;	/* without argv: stop after this long (0: at SIGINT/SIGTERM) */
	const char *unit;	/* a unit file to compare with; may be NULL */
};

struct caps_record_result;

/* Records; on failure writes why to err. Needs CAP_BPF, CAP_PERFMON (root). */
int caps_record_run(const struct caps_record_opts *o, struct caps_record_result **ret,
		    char *err, size_t err_size);
void caps_record_result_free(struct caps_record_result *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct caps_record_result *, caps_record_result_free);

void caps_record_result_print(const struct caps_record_result *r, FILE *f);
json_t *caps_record_result_to_json(const struct caps_record_result *r);
