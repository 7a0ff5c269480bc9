/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

/* The API socket: taken from systemd (socket activation) when it passed exactly one, else
 * created at path with mode 0660 and group gid ((gid_t)-1: root's). */
int listen_socket_open(const char *path, gid_t gid, int *ret_fd);
