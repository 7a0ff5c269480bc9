/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl's human output for each response (--json goes through json.h instead). */
#pragma once

#include <stdio.h>

#include "bpfd.pb-c.h"
#include "bpfman.pb-c.h"

/* The "Program N" block of `get` and `load`; info may be NULL (not loaded by bpfd). */
void output_program(FILE *f, const Bpfman__V1__ProgramInfo *info,
		    const Bpfman__V1__KernelProgramInfo *kernel);
/* `list`: ID NAME TYPE LOADED AT LINKS METADATA. */
int output_program_table(FILE *f, const Bpfman__V1__ListResponse *r);
/* `link list`: LINK PROGRAM TYPE HOOK PRIORITY POSITION. */
int output_link_table(FILE *f, const Bpfd__V1__ListLinksResponse *r);
/* `link get`. */
void output_link(FILE *f, const Bpfd__V1__LinkInfo *l);
/* `version`. */
int output_version(FILE *f, const char *client_version, const Bpfd__V1__VersionResponse *v);

/* Pieces, exported for the unit tests: malloc'd, NULL when out of memory. */
char *output_link_hook(const Bpfd__V1__LinkInfo *l);
char *output_u32_list(const uint32_t *v, size_t n); /* "1, 2" or "-" */
