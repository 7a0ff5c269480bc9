/* SPDX-License-Identifier: Apache-2.0 */
/* fentry, fexit and lsm: the hook is fixed when the program is loaded. */
#include <string.h>

#include "internal.h"

int attach_tracing(int prog_fd, const struct program_record *prog, struct error *err)
{
	enum bpf_attach_type type = prog->type == BPFD_PROG_FENTRY ? BPF_TRACE_FENTRY :
				    prog->type == BPFD_PROG_FEXIT  ? BPF_TRACE_FEXIT :
								     BPF_LSM_MAC;
	const char *what = bpfd_prog_type_to_string(prog->type);
	int fd;

	fd = bpf_link_create(prog_fd, 0, type, NULL);
	if (fd >= 0)
		return fd;
	if (errno == EPERM) {
		error_set(err, -EPERM, "%s attach of program %u to '%s' refused: EPERM", what,
			  prog->id, prog->attach_fn ? prog->attach_fn : "?");
		diagnose_eperm(err, what);
		return -EPERM;
	}
	if (errno == EOPNOTSUPP || errno == 524 /* ENOTSUPP, kernel-internal */)
		return error_set(err, -EOPNOTSUPP,
				 "%s attach of program %u: this kernel cannot attach "
				 "trampoline programs here: %m",
				 what, prog->id);
	return error_set(err, -EIO, "%s attach of program %u failed: %m", what, prog->id);
}
