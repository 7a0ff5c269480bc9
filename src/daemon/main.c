/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfd: loads, attaches, lists and unloads eBPF programs for clients without privilege.
 *
 * Threads: the main thread is the privileged one. Before anything else runs concurrently it
 * starts the request thread, which drops every capability first thing and then serves gRPC.
 * The main thread runs typed operations from the worker queue and handles signals.
 */
#include <getopt.h>
#include <linux/capability.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>

#include <bpf/libbpf.h>

#include "caps.h"
#include "core.h"
#include "grpc_server.h"
#include "listen.h"
#include "log.h"
#include "sd_protocol.h"
#include "service.h"
#include "worker.h"

struct options {
	const char *socket;
	const char *state_dir;
	const char *bpffs;
	const char *group;
	unsigned max_connections;
};

static const struct option_doc {
	struct option opt;
	const char *arg;
	const char *help;
} option_table[] = {
	{ { "socket", required_argument, NULL, 's' }, "PATH",
	  "API socket (default /run/bpfd/bpfd.sock; ignored under socket activation)" },
	{ { "state-dir", required_argument, NULL, 'd' }, "DIR",
	  "directory of state.db (default /run/bpfd)" },
	{ { "bpffs", required_argument, NULL, 'b' }, "DIR",
	  "bpffs mount owned by bpfd, mounted if needed (default /run/bpfd/fs)" },
	{ { "group", required_argument, NULL, 'g' }, "GROUP",
	  "group (name or number) of the socket and map pins (default bpfd, if it exists)" },
	{ { "max-connections", required_argument, NULL, 'c' }, "N",
	  "concurrent client connections (default 64)" },
	{ { "log-level", required_argument, NULL, 'l' }, "LEVEL",
	  "err, warning, notice, info (default) or debug" },
	{ { "version", no_argument, NULL, 'V' }, NULL, "print the version and exit" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "show this help and exit" },
};

static void help(FILE *f)
{
	fprintf(f, "Usage: bpfd [OPTION]...\n\n"
		   "Loads, attaches, lists and unloads eBPF programs for unprivileged clients\n"
		   "speaking the bpfman.v1 gRPC API (use bpfctl). Runs in the foreground.\n\n"
		   "Options:\n");
	for (size_t i = 0; i < ELEMENTSOF(option_table); i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", option_table[i].opt.name,
			 option_table[i].arg ? " " : "", option_table[i].arg ? option_table[i].arg : "");
		fprintf(f, "  %-24s %s\n", left, option_table[i].help);
	}
}

static int parse_options(int argc, char **argv, struct options *o)
{
	struct option longopts[ELEMENTSOF(option_table) + 1] = {};
	int c;

	for (size_t i = 0; i < ELEMENTSOF(option_table); i++)
		longopts[i] = option_table[i].opt;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'd':
			o->state_dir = optarg;
			break;
		case 'b':
			o->bpffs = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'c': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > 4096) {
				fprintf(stderr, "bpfd: --max-connections: '%s' is not in 1..4096\n",
					optarg);
				return -EINVAL;
			}
			o->max_connections = (unsigned)v;
			break;
		}
		case 'l': {
			int level = log_level_from_string(optarg);

			if (level < 0) {
				fprintf(stderr, "bpfd: --log-level: unknown level '%s'\n", optarg);
				return -EINVAL;
			}
			log_set_max_level(level);
			break;
		}
		case 'V':
			printf("bpfd %s\n", BPFD_VERSION);
			return 0;
		case 'h':
			help(stdout);
			return 0;
		default:
			help(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bpfd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t len;

	/* libbpf's own words reach clients through bpfd's error messages; keep them for
	 * debugging only. */
	if (log_get_max_level() < LOG_LEVEL_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = 0;
	/* libbpf starts its own lines with "libbpf: ". */
	log_debug("%s", buf);
	return 0;
}

static void *request_thread(void *arg)
{
	struct grpc_server *server = arg;
	int r;

	prctl(PR_SET_NAME, "bpfd-requests");
	r = caps_drop_thread();
	if (r < 0) {
		/* Serving with capabilities would break the promise; refuse instead. */
		log_error_errno(r, "Cannot drop the capabilities of the request thread: %m");
		kill(getpid(), SIGTERM);
		return NULL;
	}
	r = grpc_server__run(server);
	if (r < 0) {
		log_error_errno(r, "The request loop failed: %m");
		kill(getpid(), SIGTERM);
	}
	return NULL;
}

/* The clients' group. The default "bpfd" may be missing (not installed yet): then only root
 * can connect. A group given explicitly must exist (or be a number). */
static int resolve_group(const char *name, bool explicit, gid_t *ret)
{
	struct group *g = NULL;
	char *end;
	unsigned long v;
	FILE *f;

	/* /etc/group only: sysusers.d puts bpfd's group there, and NSS would load modules (such
	 * as libnss_systemd) that stay resident for the daemon's lifetime. Other groups can be
	 * given by number. */
	f = fopen("/etc/group", "re");
	while (f && (g = fgetgrent(f)) && !streq(g->gr_name, name))
		;
	if (f)
		fclose(f);

	if (g) {
		*ret = g->gr_gid;
		return 0;
	}
	v = strtoul(name, &end, 10);
	if (*name && !*end && v < (gid_t)-1) {
		*ret = (gid_t)v;
		return 0;
	}
	if (explicit)
		return log_error_errno(-ENOENT, "--group: no group '%s'", name);
	log_warning("Group '%s' does not exist: the socket and map pins stay root's group, so "
		    "only root can use bpfd", name);
	*ret = (gid_t)-1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.socket = "/run/bpfd/bpfd.sock",
		.state_dir = "/run/bpfd",
		.bpffs = "/run/bpfd/fs",
	};
	struct grpc_server_config scfg = {};
	struct grpc_server *server = NULL;
	struct worker *worker = NULL;
	struct core *core = NULL;
	struct service svc = {};
	struct error err = {};
	const struct grpc_method *methods;
	size_t n_methods;
	pthread_t thread;
	sigset_t mask;
	int listen_fd = -1, sfd = -1, watch_fd, r;
	gid_t gid = (gid_t)-1;

	r = parse_options(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	libbpf_set_print(libbpf_print);
	if (resolve_group(o.group ? o.group : "bpfd", o.group != NULL, &gid) < 0)
		return 2;
	if (caps_self_check() < 0)
		return 1;

	/* Every thread inherits this mask; only the main thread takes signals, via signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	sigdelset(&mask, SIGPIPE);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_error_errno(errno, "signalfd: %m");
		return 1;
	}

	r = core__new(&(struct core_config){ .bpffs = o.bpffs, .state_dir = o.state_dir,
					      .pin_gid = gid },
		      &core, &err);
	if (r < 0) {
		log_error("Cannot start: %s", err.message);
		return 1;
	}
	/* Interfaces and namespaces that disappear take bpfd's links with them (link_watch.c);
	 * this also forgets those that vanished while bpfd was down, before any request. */
	watch_fd = core__link_watch_start(core);
	if (watch_fd < 0)
		log_warning_errno(watch_fd, "Cannot watch rtnetlink; links on deleted interfaces stay "
				  "listed until detached: %m");
	r = listen_socket_open(o.socket, gid, &listen_fd);
	if (r < 0)
		goto out;
	scfg.max_connections = o.max_connections;
	methods = service__methods(&svc, &n_methods);
	r = grpc_server__new(listen_fd, &scfg, methods, n_methods, &server);
	if (r < 0) {
		log_error_errno(r, "Cannot set up the gRPC server: %m");
		goto out;
	}
	r = worker__new(server, &worker);
	if (r < 0) {
		log_error_errno(r, "Cannot set up the work queue: %m");
		goto out;
	}
	svc.worker = worker;
	r = -pthread_create(&thread, NULL, request_thread, server);
	if (r < 0) {
		log_error_errno(r, "Cannot start the request thread: %m");
		goto out;
	}
	/* CAP_SETPCAP served the request thread's bounding-set drop; nothing else needs it. */
	r = caps_drop_one(CAP_SETPCAP);
	if (r < 0)
		log_warning_errno(r, "Cannot drop CAP_SETPCAP: %m");
	sd_protocol_notify("READY=1\nSTATUS=Serving");
	log_info("bpfd %s ready", BPFD_VERSION);

	for (;;) {
		struct pollfd p[3] = { { .fd = worker__fd(worker), .events = POLLIN },
				       { .fd = sfd, .events = POLLIN },
				       { .fd = watch_fd, .events = POLLIN } };

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error_errno(errno, "poll: %m");
			break;
		}
		if (p[0].revents & POLLIN)
			worker__drain(worker, core);
		if (p[2].revents & POLLIN)
			core__link_watch_handle(core);
		/* Namespaces that got or lost their last link since. */
		core__link_watch_sync(core);
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				log_info("Received %s, shutting down; programs and pins stay",
					 strsignal((int)si.ssi_signo));
			break;
		}
	}
	sd_protocol_notify("STOPPING=1");
	grpc_server__stop(server);
	pthread_join(thread, NULL);
	worker__shutdown(worker);
	r = 0;
out:
	worker__free(worker);
	grpc_server__free(server);
	if (!server)
		safe_close(listen_fd);
	core__free(core);
	safe_close(sfd);
	return r < 0 ? 1 : 0;
}
