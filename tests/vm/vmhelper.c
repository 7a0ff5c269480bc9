// SPDX-License-Identifier: Apache-2.0
/*
 * vmhelper — the small tools the VM tier's busybox test scripts need and busybox lacks.
 * Built statically by tests/vm/run (cc -static ... -ljansson) and copied into the initramfs,
 * so it needs no shared library inside the VM. It talks to the kernel with raw bpf() calls:
 * linking libbpf statically would drag libelf and zlib in for four commands.
 *
 *   vmhelper json PATH          read one JSON document on stdin, print the value at PATH:
 *                               dot-separated keys and array indices (programs.0.kernel_info.id);
 *                               a trailing '#' prints the length of an array or object
 *                               (programs#). Strings print raw, other values as compact JSON.
 *                               Exit 1 when PATH is absent, 2 when stdin is not JSON.
 *   vmhelper map-u64 PIN [KEY]  print the u64 at u32 KEY (default 0) of the pinned map PIN
 *   vmhelper map-hex PIN [KEY]  print the value at KEY as hex bytes, in memory order
 *   vmhelper map-zero PIN [KEY] write zero bytes to the whole value at KEY
 *   vmhelper order PIN          bpf/order_record.h's record: "COUNT TAG1 TAG2 ..." (≤ 16 tags)
 *   vmhelper prog-exists ID     exit 0 when the kernel has program ID, 1 when not
 *   vmhelper prog-ids           print the id of every program the kernel has, one a line
 *   vmhelper getppid N          call getppid() N times (the tracepoint tests' trigger)
 *   vmhelper test-run REPEAT ROUNDS PROG...
 *                               BPF_PROG_TEST_RUN of each XDP program PROG (a pin path or a
 *                               program id) on one 64-byte packet, REPEAT times per run, ROUNDS
 *                               runs each, interleaved (bench/dispatcher_vm.sh). Prints one line
 *                               per PROG: the kernel's ns per packet (min q1 median q3 max over
 *                               the rounds), its verdict, and the same five of its ratio to the
 *                               first PROG's measurement in the same round.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int obj_get(const char *pin)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.pathname = (uint64_t)(uintptr_t)pin;
	fd = sys_bpf(BPF_OBJ_GET, &a);
	if (fd < 0)
		fprintf(stderr, "vmhelper: %s: %s\n", pin, strerror(errno));
	return fd;
}

static int map_value_size(int fd, uint32_t *ret)
{
	struct bpf_map_info info;
	union bpf_attr a;

	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
		return -errno;
	*ret = info.value_size;
	return 0;
}

/* Opens PIN and reads the value at KEY into a malloc'd buffer; returns its size or -1. */
static long map_read(const char *pin, uint32_t key, unsigned char **ret)
{
	union bpf_attr a;
	unsigned char *buf;
	uint32_t size;
	int fd = obj_get(pin);

	if (fd < 0)
		return -1;
	if (map_value_size(fd, &size) < 0) {
		fprintf(stderr, "vmhelper: %s: map info: %s\n", pin, strerror(errno));
		return -1;
	}
	/* Per-CPU maps would need more; the test programs use plain arrays. */
	buf = calloc(1, size + 8);
	if (!buf)
		return -1;
	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)buf;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) < 0) {
		fprintf(stderr, "vmhelper: %s: lookup key %u: %s\n", pin, key, strerror(errno));
		free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	*ret = buf;
	return size;
}

static int cmd_map_zero(const char *pin, uint32_t key)
{
	union bpf_attr a;
	unsigned char *buf;
	uint32_t size;
	int fd = obj_get(pin);

	if (fd < 0 || map_value_size(fd, &size) < 0)
		return 1;
	buf = calloc(1, size);
	if (!buf)
		return 1;
	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)buf;
	a.flags = BPF_ANY;
	if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) {
		fprintf(stderr, "vmhelper: %s: update key %u: %s\n", pin, key, strerror(errno));
		return 1;
	}
	return 0;
}

static int prog_exists(uint32_t id)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	close(fd);
	return 1;
}

static int cmd_prog_ids(void)
{
	union bpf_attr a;
	uint32_t id = 0;

	for (;;) {
		memset(&a, 0, sizeof(a));
		a.start_id = id;
		if (sys_bpf(BPF_PROG_GET_NEXT_ID, &a) < 0)
			return errno == ENOENT ? 0 : 1;
		id = a.next_id;
		printf("%u\n", id);
	}
}

static int cmd_json(const char *path)
{
	json_error_t jerr;
	json_t *root = json_loadf(stdin, 0, &jerr), *cur;
	char *copy, *tok, *save = NULL;
	size_t len = strlen(path);
	int want_len = len > 0 && path[len - 1] == '#';

	if (!root) {
		fprintf(stderr, "vmhelper json: not JSON: %s\n", jerr.text);
		return 2;
	}
	copy = strdup(path);
	if (want_len)
		copy[len - 1] = 0;
	cur = root;
	for (tok = strtok_r(copy, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(cur)) {
			char *end;
			unsigned long i = strtoul(tok, &end, 10);

			cur = *end ? NULL : json_array_get(cur, i);
		} else if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else {
			cur = NULL;
		}
	}
	if (!cur)
		return 1;
	if (want_len) {
		if (json_is_array(cur))
			printf("%zu\n", json_array_size(cur));
		else if (json_is_object(cur))
			printf("%zu\n", json_object_size(cur));
		else
			return 1;
	} else if (json_is_string(cur)) {
		printf("%s\n", json_string_value(cur));
	} else {
		char *s = json_dumps(cur, JSON_COMPACT | JSON_ENCODE_ANY);

		printf("%s\n", s ? s : "");
	}
	return 0;
}

static int prog_open(const char *arg)
{
	union bpf_attr a;
	char *end;
	int fd;

	if (arg[0] == '/')
		return obj_get(arg);
	memset(&a, 0, sizeof(a));
	a.prog_id = (uint32_t)strtoul(arg, &end, 10);
	if (*end || !a.prog_id) {
		fprintf(stderr, "vmhelper: %s: neither a pin path nor a program id\n", arg);
		return -1;
	}
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd < 0)
		fprintf(stderr, "vmhelper: program %s: %s\n", arg, strerror(errno));
	return fd;
}

/* One BPF_PROG_TEST_RUN: the kernel times REPEAT runs and reports the mean in whole ns. */
static int test_run(int fd, const void *pkt, uint32_t len, uint32_t repeat, uint32_t *ns,
		    uint32_t *verdict)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.test.prog_fd = fd;
	a.test.data_in = (uint64_t)(uintptr_t)pkt;
	a.test.data_size_in = len;
	a.test.repeat = repeat;
	if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0)
		return -errno;
	*ns = a.test.duration;
	*verdict = a.test.retval;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Quantile q of n sorted values, interpolated between neighbours. */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

static int cmd_test_run(uint32_t repeat, int rounds, int nprogs, char **progs)
{
	/* Ethernet (IPv4); IPv4 (50 bytes, UDP, 10.201.0.2 → 10.201.0.1); UDP (12345 → 9, 30
	 * bytes); zero bytes up to 64: a minimal real frame (also bench/dispatcher_native.c's). */
	static const unsigned char pkt[64] =
		"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
		"\x45\x00\x00\x32\x00\x00\x40\x00\x40\x11\x00\x00"
		"\x0a\xc9\x00\x02\x0a\xc9\x00\x01"
		"\x30\x39\x00\x09\x00\x1e\x00\x00";
	double *ns = calloc((size_t)rounds * nprogs, sizeof(*ns));
	double *sorted = calloc((size_t)rounds, sizeof(*sorted));
	uint32_t *verdicts = calloc((size_t)nprogs, sizeof(*verdicts));
	int *fds = calloc((size_t)nprogs, sizeof(*fds));
	uint32_t d, v;
	int r, i, err;

	if (!ns || !sorted || !verdicts || !fds)
		return 1;
	for (i = 0; i < nprogs; i++) {
		fds[i] = prog_open(progs[i]);
		if (fds[i] < 0)
			return 1;
		/* A warm-up run each: first-use costs stay out of the rounds. */
		err = test_run(fds[i], pkt, sizeof(pkt), repeat, &d, &verdicts[i]);
		if (err < 0) {
			fprintf(stderr, "vmhelper: test run of %s: %s\n", progs[i], strerror(-err));
			return 1;
		}
	}
	for (r = 0; r < rounds; r++) {
		/* Each round starts with the next program, so no program always runs first. */
		for (int k = 0; k < nprogs; k++) {
			i = (r + k) % nprogs;
			err = test_run(fds[i], pkt, sizeof(pkt), repeat, &d, &v);
			if (err < 0) {
				fprintf(stderr, "vmhelper: test run of %s: %s\n", progs[i],
					strerror(-err));
				return 1;
			}
			if (v != verdicts[i]) {
				fprintf(stderr, "vmhelper: %s returned %u, earlier %u\n", progs[i],
					v, verdicts[i]);
				return 1;
			}
			ns[(size_t)r * nprogs + i] = d;
		}
	}
	printf("test-run repeat %u rounds %d packet %zu bytes\n", repeat, rounds, sizeof(pkt));
	for (i = 0; i < nprogs; i++) {
		double q[5], ratio[5];

		for (r = 0; r < rounds; r++)
			sorted[r] = ns[(size_t)r * nprogs + i];
		qsort(sorted, rounds, sizeof(*sorted), cmp_double);
		for (int k = 0; k < 5; k++)
			q[k] = quantile(sorted, rounds, k / 4.0);
		for (r = 0; r < rounds; r++) {
			double base = ns[(size_t)r * nprogs];

			sorted[r] = base > 0 ? ns[(size_t)r * nprogs + i] / base : 0;
		}
		qsort(sorted, rounds, sizeof(*sorted), cmp_double);
		for (int k = 0; k < 5; k++)
			ratio[k] = quantile(sorted, rounds, k / 4.0);
		printf("prog %s ns min %.0f q1 %.1f median %.1f q3 %.1f max %.0f verdict %u "
		       "ratio min %.3f q1 %.3f median %.3f q3 %.3f max %.3f\n",
		       progs[i], q[0], q[1], q[2], q[3], q[4], verdicts[i], ratio[0], ratio[1],
		       ratio[2], ratio[3], ratio[4]);
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: vmhelper json PATH | map-u64 PIN [KEY] | map-hex PIN [KEY] | "
			"map-zero PIN [KEY] | order PIN | prog-exists ID | prog-ids | getppid N | "
			"test-run REPEAT ROUNDS PROG...\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	uint32_t key = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 0;
	unsigned char *buf = NULL;
	long n;

	if (!strcmp(cmd, "json") && argc == 3)
		return cmd_json(argv[2]);
	if (!strcmp(cmd, "map-u64") && argc >= 3) {
		uint64_t v = 0;

		n = map_read(argv[2], key, &buf);
		if (n < 0)
			return 1;
		memcpy(&v, buf, n < 8 ? (size_t)n : 8);
		printf("%" PRIu64 "\n", v);
		return 0;
	}
	if (!strcmp(cmd, "map-hex") && argc >= 3) {
		n = map_read(argv[2], key, &buf);
		if (n < 0)
			return 1;
		for (long i = 0; i < n; i++)
			printf("%02x", buf[i]);
		printf("\n");
		return 0;
	}
	if (!strcmp(cmd, "map-zero") && argc >= 3)
		return cmd_map_zero(argv[2], key);
	if (!strcmp(cmd, "order") && argc == 3) {
		uint32_t count, tag;

		n = map_read(argv[2], 0, &buf);
		if (n < 4)
			return 1;
		memcpy(&count, buf, 4);
		printf("%u", count);
		for (uint32_t i = 0; i < count && i < 16 && 4 + 4 * (i + 1) <= (uint32_t)n; i++) {
			memcpy(&tag, buf + 4 + 4 * i, 4);
			printf(" %u", tag);
		}
		printf("\n");
		return 0;
	}
	if (!strcmp(cmd, "prog-exists") && argc == 3) {
		int r = prog_exists((uint32_t)strtoul(argv[2], NULL, 10));

		if (r < 0)
			fprintf(stderr, "vmhelper: prog %s: %s\n", argv[2], strerror(-r));
		return r == 1 ? 0 : 1;
	}
	if (!strcmp(cmd, "prog-ids") && argc == 2)
		return cmd_prog_ids();
	if (!strcmp(cmd, "getppid") && argc == 3) {
		long count = strtol(argv[2], NULL, 10);

		for (long i = 0; i < count; i++)
			syscall(__NR_getppid); /* not getppid(): no libc caching, one syscall each */
		return 0;
	}
	if (!strcmp(cmd, "test-run") && argc >= 5) {
		unsigned long repeat = strtoul(argv[2], NULL, 10);
		long rounds = strtol(argv[3], NULL, 10);

		if (repeat < 1 || repeat > UINT32_MAX || rounds < 1 || rounds > 100000)
			return usage();
		return cmd_test_run((uint32_t)repeat, (int)rounds, argc - 4, argv + 4);
	}
	return usage();
}
