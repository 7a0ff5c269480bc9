/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two systemd protocols bpfd speaks: readiness notification (sd_notify(3)) and socket
 * activation (sd_listen_fds(3)). Written here instead of linking libsystemd because
 * libsystemd pulls libgcrypt, libgpg-error, liblz4, libzstd and more into the daemon: about
 * 0.8 MiB of resident memory for two short, stable, documented protocols.
 */
#pragma once

#define SD_PROTOCOL_LISTEN_FDS_START 3

/* Sends state ("READY=1", ...) to $NOTIFY_SOCKET; 0 when not under systemd. */
int sd_protocol_notify(const char *state);
/* The number of sockets systemd passed ($LISTEN_PID == us), 0 when none; unsets the
 * variables and marks the fds close-on-exec. */
int sd_protocol_listen_fds(void);
