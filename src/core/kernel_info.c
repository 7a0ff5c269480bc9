/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel's view of a program: bpf_prog_info plus what only fdinfo tells (memlock). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void kernel_prog_info__clear(struct kernel_prog_info *k)
{
	free(k->map_ids);
	*k = (struct kernel_prog_info){};
}

static uint32_t fdinfo_memlock(int fd)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64], line[128];
	unsigned long long v;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return 0;
}

/* load_time is nanoseconds since boot; the API wants wall-clock time. */
static void format_load_time(uint64_t load_time_ns, char *buf, size_t size)
{
	struct timespec real, boot;
	struct tm tm;
	int64_t boot_ns, t;
	time_t secs;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	boot_ns = ((int64_t)real.tv_sec - boot.tv_sec) * 1000000000LL + real.tv_nsec - boot.tv_nsec;
	t = boot_ns + (int64_t)load_time_ns;
	secs = t / 1000000000LL;
	gmtime_r(&secs, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int kernel_prog_info_by_id(uint32_t id, struct kernel_prog_info *ret)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ uint32_t *map_ids = NULL;
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info), n_maps;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return negative_errno();
	if (bpf_prog_get_info_by_fd(fd, &info, &len) < 0)
		return negative_errno();
	n_maps = info.nr_map_ids;
	if (n_maps > 0) {
		map_ids = calloc(n_maps, sizeof(uint32_t));
		if (!map_ids)
			return -ENOMEM;
		info = (struct bpf_prog_info){ .nr_map_ids = n_maps,
					       .map_ids = (uint64_t)(uintptr_t)map_ids };
		len = sizeof(info);
		if (bpf_prog_get_info_by_fd(fd, &info, &len) < 0)
			return negative_errno();
		n_maps = MIN(n_maps, info.nr_map_ids);
	}

	*ret = (struct kernel_prog_info){
		.id = info.id,
		.type = info.type,
		.gpl_compatible = info.gpl_compatible,
		.map_ids = TAKE_PTR(map_ids),
		.n_map_ids = n_maps,
		.btf_id = info.btf_id,
		.bytes_xlated = info.xlated_prog_len,
		.jited = info.jited_prog_len > 0,
		.bytes_jited = info.jited_prog_len,
		.bytes_memlock = fdinfo_memlock(fd),
		.verified_insns = info.verified_insns,
	};
	memcpy(ret->name, info.name, sizeof(ret->name) - 1);
	for (int i = 0; i < 8; i++)
		snprintf(ret->tag + 2 * i, 3, "%02x", info.tag[i]);
	format_load_time(info.load_time, ret->loaded_at, sizeof(ret->loaded_at));
	return 0;
}

uint32_t kernel_link_id_of_fd(int link_fd)
{
	struct bpf_link_info info = {};
	uint32_t len = sizeof(info);

	if (bpf_link_get_info_by_fd(link_fd, &info, &len) < 0)
		return 0;
	return info.id;
}
