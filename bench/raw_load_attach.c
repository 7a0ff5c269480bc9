// SPDX-License-Identifier: Apache-2.0
/*
 * raw_load_attach — the baseline of bench/load_attach.sh: what loading and attaching one XDP
 * program costs with plain libbpf, no daemon in between.
 *
 * Usage: raw_load_attach OBJECT.bpf.o PROGRAM IFNAME
 * Opens OBJECT, loads it, attaches PROGRAM to IFNAME with an XDP bpf_link (the kernel picks
 * driver mode when the driver has it, as bpfd does), then detaches and closes everything.
 * Prints "teardown_us N": the time the detach and close took, so the benchmark can compare
 * load+attach alone (bpfd's detach/unload are not timed either).
 * Exit 0 on success; errors go to stderr.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	long long teardown_start;
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	unsigned int ifindex;
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o PROGRAM IFNAME\n", argv[0]);
		return 2;
	}
	ifindex = if_nametoindex(argv[3]);
	if (ifindex == 0) {
		fprintf(stderr, "interface %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load %s: %s\n", argv[1], strerror(-err));
		goto close_obj;
	}
	prog = bpf_object__find_program_by_name(obj, argv[2]);
	if (!prog) {
		fprintf(stderr, "program %s not found in %s\n", argv[2], argv[1]);
		err = -ENOENT;
		goto close_obj;
	}
	link = bpf_program__attach_xdp(prog, (int)ifindex);
	if (!link) {
		err = -errno;
		fprintf(stderr, "attach %s to %s: %s\n", argv[2], argv[3], strerror(-err));
		goto close_obj;
	}
	teardown_start = now_us();
	bpf_link__destroy(link);
	bpf_object__close(obj);
	printf("teardown_us %lld\n", now_us() - teardown_start);
	return 0;
close_obj:
	bpf_object__close(obj);
	return 1;
}
