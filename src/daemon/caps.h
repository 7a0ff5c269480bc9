/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Drops every capability of the calling thread only: bounding set (PR_CAPBSET_DROP), ambient
 * set, then effective/permitted/inheritable with capset(2). Never libpsx, never setuid: the
 * other threads keep theirs. Returns 0 or a negative errno. */
int caps_drop_thread(void);
