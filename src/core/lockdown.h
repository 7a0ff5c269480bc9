/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/* The kernel's lockdown level ("none", "integrity", "confidentiality") from securityfs, or
 * NULL when it cannot be read (securityfs not mounted, no lockdown LSM). */
const char *kernel_lockdown_level(char *buf, size_t size);
