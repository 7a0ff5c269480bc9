/* SPDX-License-Identifier: Apache-2.0 */
#include "listen.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "macro.h"
#include "sd_protocol.h"

static int mkdir_parent(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}

int listen_socket_open(const char *path, gid_t gid, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int n, r;

	n = sd_protocol_listen_fds();
	if (n < 0 || n > 1)
		return log_error_errno(-EINVAL, "systemd passed %d sockets, expected one", n);
	if (n == 1) {
		int fd0 = SD_PROTOCOL_LISTEN_FDS_START, type = 0, listening = 0;
		socklen_t l1 = sizeof(type), l2 = sizeof(listening);
		struct sockaddr_un peer = {};
		socklen_t l3 = sizeof(peer);

		if (getsockopt(fd0, SOL_SOCKET, SO_TYPE, &type, &l1) < 0 ||
		    getsockopt(fd0, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l2) < 0 ||
		    getsockname(fd0, (struct sockaddr *)&peer, &l3) < 0 ||
		    peer.sun_family != AF_UNIX || type != SOCK_STREAM || !listening)
			return log_error_errno(-EINVAL, "the socket systemd passed is not a "
							"listening unix stream socket");
		log_info("Serving on the socket passed by systemd");
		*ret_fd = fd0;
		return 0;
	}

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(-ENAMETOOLONG, "socket path %s is too long", path);
	strcpy(sa.sun_path, path);
	r = mkdir_parent(path);
	if (r < 0)
		return log_error_errno(r, "cannot create the directory of %s: %m", path);
	/* A socket left by an earlier bpfd: nobody listens on it any more. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(errno, "socket(AF_UNIX): %m");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return log_error_errno(errno, "cannot bind %s: %m", path);
	if (chmod(path, 0660) < 0 || (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0))
		return log_error_errno(errno, "cannot set mode and group of %s: %m", path);
	if (listen(fd, 128) < 0)
		return log_error_errno(errno, "listen on %s: %m", path);
	log_info("Serving on %s", path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}
