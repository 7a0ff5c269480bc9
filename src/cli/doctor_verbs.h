/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl's local verbs: `doctor` and `caps` diagnose the machine they run on (docs/doctor.md). */
#pragma once

#include <stdio.h>

#include "bpfd.pb-c.h"
#include "cli.h"

struct doctor_args {
	bool daemon;
	bool no_probes;
	const char *root;
};
extern const struct cli_option cli_doctor_options[];
int cli_run_doctor(struct cli *cli, void *args);

extern const struct cli_verb cli_caps_verbs[];

/* The human report: header, then the checks grouped by verdict (fail, warn, unknown, ok). */
void output_doctor(FILE *f, const Bpfd__V1__DoctorResponse *r);
