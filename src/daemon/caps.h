/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Drops every capability of the calling thread only: bounding set (PR_CAPBSET_DROP), ambient
 * set, then effective/permitted/inheritable with capset(2). Never libpsx, never setuid: the
 * other threads keep theirs. Returns 0 or a negative errno. */
int caps_drop_thread(void);

/* Drops one capability from the calling thread's bounding, permitted, effective, inheritable
 * and ambient sets (e.g. CAP_SETPCAP once it has served). */
int caps_drop_one(int cap);

/* Reads the calling thread's effective set; logs, per capability bpfd uses and lacks, what
 * will not work. -EPERM when bpfd cannot load programs at all (neither CAP_BPF nor
 * CAP_SYS_ADMIN). */
int caps_self_check(void);
