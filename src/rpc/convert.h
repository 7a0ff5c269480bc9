/* SPDX-License-Identifier: Apache-2.0 */
/* Between protobuf-c messages and the core's plain structs. Messages built here live in the
 * arena and borrow strings from the core structs, which must outlive the packing. */
#pragma once

#include "arena.h"
#include "bpfd.pb-c.h"
#include "bpfman.pb-c.h"
#include "core.h"

Bpfman__V1__KernelProgramInfo *kernel_info_to_pb(struct arena *a, const struct kernel_prog_info *k);
Bpfman__V1__ProgramInfo *program_info_to_pb(struct arena *a, const struct program_view *v);
Bpfd__V1__LinkInfo *link_info_to_pb(struct arena *a, const struct link_view *v);

/* Fills ret from an AttachInfo; ret borrows the message's strings. kv arrays come from a. */
int attach_info_from_pb(struct arena *a, const Bpfman__V1__AttachInfo *info,
			struct link_record *ret, struct error *err);

/* Map fields (repeated entries with key and value) to kv_pair arrays in the arena. Every
 * protobuf-c map entry of strings has the layout {base, key, value}. */
struct kv_pair *string_map_from_pb(struct arena *a, void *const *entries, size_t n);
