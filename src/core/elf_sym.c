/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uprobe targets: a library name to a path, and a function name to a file offset. libbpf does
 * both inside bpf_program__attach_uprobe_opts(), but bpfd attaches programs it reopened from
 * their pins (no struct bpf_program), and libbpf exports neither step, hence this file.
 */
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_sym.h"
#include "macro.h"

static const char *const lib_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib", "/usr/local/lib",
};

static bool is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* libc.so and friends are often linker scripts, not libraries. */
static bool is_elf(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char magic[4];

	return fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0;
}

/* "libc" -> "libc.so.6" in dir, "c" too; the shortest versioned match wins. */
static bool find_in_dir(const char *dir, const char *name, char *out, size_t size)
{
	const char *prefixes[] = { "", "lib" };
	DIR *d;
	struct dirent *de;
	size_t best = SIZE_MAX;

	for (size_t p = 0; p < ELEMENTSOF(prefixes); p++) {
		snprintf(out, size, "%s/%s%s", dir, prefixes[p], name);
		if (is_regular(out) && is_elf(out))
			return true;
		snprintf(out, size, "%s/%s%s.so", dir, prefixes[p], name);
		if (is_regular(out) && is_elf(out))
			return true;
	}
	d = opendir(dir);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		for (size_t p = 0; p < ELEMENTSOF(prefixes); p++) {
			char stem[NAME_MAX + 1];
			size_t len;

			snprintf(stem, sizeof(stem), "%s%s.so.", prefixes[p], name);
			len = strlen(de->d_name);
			if (strncmp(de->d_name, stem, strlen(stem)) == 0 && len < best) {
				best = len;
				snprintf(out, size, "%s/%s", dir, de->d_name);
			}
		}
	}
	closedir(d);
	return best != SIZE_MAX && is_regular(out) && is_elf(out);
}

int elf_resolve_target(const char *target, char *ret, size_t size)
{
	char buf[PATH_MAX];

	if (strchr(target, '/')) {
		if (!realpath(target, buf))
			return negative_errno();
		if (!is_regular(buf))
			return -ENOENT;
		snprintf(ret, size, "%s", buf);
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(lib_dirs); i++)
		if (find_in_dir(lib_dirs[i], target, buf, sizeof(buf))) {
			char real[PATH_MAX];

			if (!realpath(buf, real))
				return negative_errno();
			snprintf(ret, size, "%s", real);
			return 0;
		}
	return -ENOENT;
}

int elf_func_offset(const char *path, const char *fn, uint64_t *ret)
{
	_cleanup_close_ int fd = -EBADF;
	Elf *elf;
	Elf_Scn *scn = NULL;
	int r = -ENOENT;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -EINVAL;
	if (elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return -EINVAL;
	}
	/* .symtab first (has static functions), then .dynsym. */
	for (int pass = 0; pass < 2 && r == -ENOENT; pass++) {
		Elf64_Word want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;

		scn = NULL;
		while ((scn = elf_nextscn(elf, scn)) && r == -ENOENT) {
			GElf_Shdr sh;
			Elf_Data *data;
			size_t n;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != want || !sh.sh_entsize)
				continue;
			data = elf_getdata(scn, NULL);
			if (!data)
				continue;
			n = sh.sh_size / sh.sh_entsize;
			for (size_t i = 0; i < n; i++) {
				GElf_Sym sym;
				GElf_Shdr tsh;
				const char *name;
				int t;

				if (!gelf_getsym(data, (int)i, &sym))
					continue;
				t = GELF_ST_TYPE(sym.st_info);
				if ((t != STT_FUNC && t != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF)
					continue;
				name = elf_strptr(elf, sh.sh_link, sym.st_name);
				if (!name || !streq(name, fn))
					continue;
				if (!gelf_getshdr(elf_getscn(elf, sym.st_shndx), &tsh))
					continue;
				/* Virtual address to file offset via the containing section. */
				*ret = sym.st_value - tsh.sh_addr + tsh.sh_offset;
				r = 0;
				break;
			}
		}
	}
	elf_end(elf);
	return r;
}
