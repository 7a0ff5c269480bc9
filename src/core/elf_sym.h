/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A path (made absolute, symlinks resolved) or a library name ("libc", "c", "libssl.so.3")
 * searched in the standard library directories. -ENOENT when nothing matches. */
int elf_resolve_target(const char *target, char *ret, size_t size);
/* File offset of function fn in the ELF file at path (.symtab, then .dynsym). */
int elf_func_offset(const char *path, const char *fn, uint64_t *ret);
