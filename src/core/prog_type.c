/* SPDX-License-Identifier: Apache-2.0 */
/* Names of bpfd's program types (BpfmanProgramType); no dependency beyond core.h. */
#include "core.h"

static const char *const prog_type_names[_BPFD_PROG_MAX] = {
	[BPFD_PROG_XDP] = "xdp",	   [BPFD_PROG_TC] = "tc",
	[BPFD_PROG_TRACEPOINT] = "tracepoint", [BPFD_PROG_KPROBE] = "kprobe",
	[BPFD_PROG_UPROBE] = "uprobe",	   [BPFD_PROG_FENTRY] = "fentry",
	[BPFD_PROG_FEXIT] = "fexit",	   [BPFD_PROG_TCX] = "tcx",
	[BPFD_PROG_LSM] = "lsm",
};

const char *bpfd_prog_type_to_string(int type)
{
	return type >= 0 && type < _BPFD_PROG_MAX ? prog_type_names[type] : NULL;
}
