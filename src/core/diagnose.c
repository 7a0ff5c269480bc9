/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "No unexplained EPERM": when the kernel refuses a load or an attach, the error bpfd returns
 * carries the doctor's one-line diagnosis of it (src/doctor/explain.c), e.g. "kprobe attach
 * refused: kernel lockdown=confidentiality (set from the command line) blocks kprobes; see
 * bpfctl doctor". The full report is `bpfctl doctor --daemon`.
 *
 * The facts are measured once, at the first refusal, on the privileged thread (whose
 * capabilities are the ones that matter: /proc/thread-self), without live probes: the refusal
 * being explained is the measurement. Nothing here logs; the caller logs the error once.
 */
#include <string.h>

#include "doctor.h"
#include "internal.h"

/* Privileged thread only, like every core function: no lock. */
static struct doctor *facts;

static const struct doctor *diagnose_doctor(void)
{
	const struct doctor_env env = { .live = true };

	if (!facts && doctor__new(&env, &facts) < 0)
		facts = NULL;
	return facts;
}

void diagnose_refusal(struct error *err, const char *what, bool load, int error, const char *log)
{
	const struct doctor *d = diagnose_doctor();
	char type[32], line[1024];

	if (!d) {
		error_append(err, "see bpfctl doctor (no diagnosis: out of memory)");
		return;
	}
	/* "kprobe do_sys_open" -> "kprobe": the hook's kind is the first word. */
	snprintf(type, sizeof(type), "%.*s", (int)strcspn(what, " "), what);
	doctor__explain(d, type, load ? DOCTOR_STAGE_LOAD : DOCTOR_STAGE_ATTACH, error, log, line,
			sizeof(line));
	error_append(err, "%s", line);
}

void diagnose_eperm(struct error *err, const char *what)
{
	/* The loader says "kernel refused to load ... with an empty verifier log"; every other
	 * caller is an attach. */
	bool load = strstr(err->message, "refused to load") != NULL;
	const char *log = strstr(err->message, "an empty verifier log") ? "" : NULL;

	diagnose_refusal(err, what, load, err->code ? err->code : -EPERM, log);
}
