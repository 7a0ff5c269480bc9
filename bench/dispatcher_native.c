// SPDX-License-Identifier: Apache-2.0
/*
 * dispatcher_native — the host's reference for bench/dispatcher.sh: what bpfd's XDP dispatcher
 * program costs per packet on this machine's real CPU and kernel. This kernel refuses program
 * extensions, so no slot can hold a user program here: the N enabled slots stay the dispatcher's
 * own stubs (each a BPF-to-BPF call, a bpf_xdp_adjust_head(ctx, 0) helper call and "return 31",
 * dispatcher_return, which the slot's proceed_on mask lets go on). That is the dispatcher's
 * skeleton — the part a chain pays for on top of its programs — against bpf/xdp_pass.bpf.c run
 * directly. In the VM (bench/dispatcher_vm.sh) the slots run real extensions instead.
 *
 * Usage (root): dispatcher_native XDP_DISPATCHER.bpf.o XDP_PASS.bpf.o [REPEAT] [ROUNDS]
 *               defaults 10000000 31
 * Loads xdp_pass and the dispatcher with 1, 2, 5 and 10 slots enabled (nothing is attached),
 * times each with BPF_PROG_TEST_RUN on a 64-byte frame, REPEAT runs per measurement, ROUNDS
 * measurements each, interleaved, and prints a table like dispatcher_vm.sh's. The kernel
 * reports whole ns, too coarse for a few ns; the finer figure is this thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID) across each BPF_PROG_TEST_RUN call over REPEAT: like the kernel's
 * timer it leaves out the time the thread waits for a CPU (wall time does not: on a busy
 * machine it was 3x the kernel's figure), and its one syscall adds < 0.01 ns per run at 10^7.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "dispatcher.h"

#define N_CHAINS 4
static const int chain_lengths[N_CHAINS] = {1, 2, 5, 10};

/* Ethernet (IPv4); IPv4 (50 bytes, UDP, 10.201.0.2 → 10.201.0.1); UDP (12345 → 9, 30
 * bytes); zero bytes up to 64: a minimal real frame (vmhelper test-run sends the same). */
static const unsigned char pkt[64] = "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
				     "\x45\x00\x00\x32\x00\x00\x40\x00\x40\x11\x00\x00"
				     "\x0a\xc9\x00\x02\x0a\xc9\x00\x01"
				     "\x30\x39\x00\x09\x00\x1e\x00\x00";

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Loads prog_name from path; with conf, writes it into the object's .rodata first. */
static int load(const char *path, const char *prog_name, const struct xdp_dispatcher_config *conf,
		struct bpf_object **ret)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		err = -errno;
		fprintf(stderr, "open %s: %s\n", path, strerror(-err));
		return err;
	}
	if (conf) {
		err = -ENOENT;
		bpf_object__for_each_map(map, obj) {
			if (bpf_map__is_internal(map) && strstr(bpf_map__name(map), ".rodata")) {
				err = bpf_map__set_initial_value(map, conf, sizeof(*conf));
				break;
			}
		}
		if (err) {
			fprintf(stderr, "%s: setting .rodata: %s\n", path, strerror(-err));
			goto close;
		}
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load %s: %s\n", path, strerror(-err));
		goto close;
	}
	prog = bpf_object__find_program_by_name(obj, prog_name);
	if (!prog) {
		fprintf(stderr, "%s has no program %s\n", path, prog_name);
		err = -ENOENT;
		goto close;
	}
	*ret = obj;
	return bpf_program__fd(prog);
close:
	bpf_object__close(obj);
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double quantile_sorted(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

/* libbpf's notes (e.g. the dispatcher's xdp_metadata section it skips) would clutter the table. */
static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *objs[N_CHAINS + 1] = {0};
	int fds[N_CHAINS + 1];
	double *kns, *cpu, *tmp;
	unsigned int repeat;
	int rounds, i, r, rc = 1;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: %s XDP_DISPATCHER.bpf.o XDP_PASS.bpf.o [REPEAT] [ROUNDS]\n",
			argv[0]);
		return 2;
	}
	repeat = argc > 3 ? (unsigned int)strtoul(argv[3], NULL, 10) : 10000000;
	rounds = argc > 4 ? atoi(argv[4]) : 31;
	if (!repeat || rounds < 1)
		return 2;
	libbpf_set_print(print_warnings);
	kns = calloc((size_t)rounds * (N_CHAINS + 1), sizeof(*kns));
	cpu = calloc((size_t)rounds * (N_CHAINS + 1), sizeof(*cpu));
	tmp = calloc((size_t)rounds, sizeof(*tmp));
	if (!kns || !cpu || !tmp)
		return 1;

	fds[0] = load(argv[2], "xdp_pass", NULL, &objs[0]);
	if (fds[0] < 0)
		goto out;
	for (i = 0; i < N_CHAINS; i++) {
		struct xdp_dispatcher_config conf = {
			.magic = XDP_DISPATCHER_MAGIC,
			.dispatcher_version = XDP_DISPATCHER_VERSION,
			.num_progs_enabled = (uint8_t)chain_lengths[i],
		};

		/* bpfd's default proceed_on: pass + dispatcher_return. */
		for (int s = 0; s < chain_lengths[i]; s++) {
			conf.chain_call_actions[s] = 1u << XDP_PASS | 1u << XDP_DISPATCHER_RETVAL;
			conf.run_prios[s] = (uint32_t)s + 1;
		}
		fds[i + 1] = load(argv[1], "xdp_dispatcher", &conf, &objs[i + 1]);
		if (fds[i + 1] < 0)
			goto out;
	}

	for (r = -1; r < rounds; r++) { /* round -1: warm-up, not counted */
		for (int k = 0; k <= N_CHAINS; k++) {
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
				    .data_size_in = sizeof(pkt), .repeat = repeat);
			double start;
			int err;

			i = (r + 1 + k) % (N_CHAINS + 1); /* rotate who runs first */
			start = cpu_ns();
			err = bpf_prog_test_run_opts(fds[i], &opts);
			if (err) {
				fprintf(stderr, "BPF_PROG_TEST_RUN: %s\n", strerror(-err));
				goto out;
			}
			if (opts.retval != XDP_PASS) {
				fprintf(stderr, "program %d returned %u, not XDP_PASS\n", i,
					opts.retval);
				goto out;
			}
			if (r >= 0) {
				kns[r * (N_CHAINS + 1) + i] = opts.duration;
				cpu[r * (N_CHAINS + 1) + i] = (cpu_ns() - start) / repeat;
			}
		}
	}

	double kmed[N_CHAINS + 1], cmed[N_CHAINS + 1];

	for (i = 0; i <= N_CHAINS; i++) {
		for (r = 0; r < rounds; r++)
			tmp[r] = kns[r * (N_CHAINS + 1) + i];
		kmed[i] = median(tmp, rounds);
		for (r = 0; r < rounds; r++)
			tmp[r] = cpu[r * (N_CHAINS + 1) + i];
		cmed[i] = median(tmp, rounds);
	}
	printf("this machine, no extensions: dispatcher with N stub slots vs xdp_pass direct; "
	       "BPF_PROG_TEST_RUN, 64-byte packet, repeat %u, %d rounds interleaved\n",
	       repeat, rounds);
	printf("direct: %.2f ns CPU time, %.0f ns kernel (medians)\n", cmed[0], kmed[0]);
	printf("%3s  %-27s  %-22s  %s\n", "N", "dispatcher ns: CPU kernel", "ratio [q1-q3]",
	       "added ns per slot (CPU time)");
	for (i = 1; i <= N_CHAINS; i++) {
		for (r = 0; r < rounds; r++)
			tmp[r] = cpu[r * (N_CHAINS + 1) + i] / cpu[r * (N_CHAINS + 1)];
		qsort(tmp, rounds, sizeof(*tmp), cmp_double);
		printf("%3d  %13.2f %6.0f         %5.2fx [%4.2f-%4.2f]     %6.2f\n",
		       chain_lengths[i - 1], cmed[i], kmed[i], quantile_sorted(tmp, rounds, 0.5),
		       quantile_sorted(tmp, rounds, 0.25), quantile_sorted(tmp, rounds, 0.75),
		       (cmed[i] - cmed[0]) / chain_lengths[i - 1]);
	}
	rc = 0;
out:
	for (i = 0; i <= N_CHAINS; i++)
		bpf_object__close(objs[i]);
	free(kns);
	free(cpu);
	free(tmp);
	return rc;
}
