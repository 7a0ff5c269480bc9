/* SPDX-License-Identifier: Apache-2.0 */
/* libxdp's view of bpfd's XDP chains: the directory names libxdp reads and which ones go. */
#include <errno.h>
#include <string.h>

#include "dispatcher_libxdp.h"
#include "tests.h"

TEST(dir_name_is_libxdps)
{
	char buf[64];

	ASSERT_OK(libxdp_view_dir_name(3, 41, false, buf, sizeof(buf)));
	ASSERT_STR_EQ(buf, "dispatch-3-41");
	ASSERT_OK(libxdp_view_dir_name(3, 41, true, buf, sizeof(buf)));
	ASSERT_STR_EQ(buf, "dispatch-3-41-new");
	ASSERT_OK(libxdp_view_dir_name(2147483647, 4294967295u, false, buf, sizeof(buf)));
	ASSERT_STR_EQ(buf, "dispatch-2147483647-4294967295");
	ASSERT_INT_EQ(libxdp_view_dir_name(3, 41, false, buf, 8), -ENAMETOOLONG);
}

TEST(owns_only_dispatch_names)
{
	ASSERT_TRUE(libxdp_view_owns_name("dispatch-3-41"));
	ASSERT_TRUE(libxdp_view_owns_name("dispatch-3-41-new"));
	ASSERT_TRUE(libxdp_view_owns_name("dispatch-garbage"));
	/* bpfd's own hook directories: "<ifindex>" and "<ifindex>_<netns hash>". */
	ASSERT_TRUE(!libxdp_view_owns_name("3"));
	ASSERT_TRUE(!libxdp_view_owns_name("7_0badf00d"));
	ASSERT_TRUE(!libxdp_view_owns_name("dispatch"));
}

TEST(parse_round_trip)
{
	char buf[64];
	uint32_t id = 0;
	int ifindex = 0;

	ASSERT_OK(libxdp_view_dir_name(12, 977, false, buf, sizeof(buf)));
	ASSERT_TRUE(libxdp_view_parse_name(buf, &ifindex, &id));
	ASSERT_INT_EQ(ifindex, 12);
	ASSERT_INT_EQ(id, 977);
	ASSERT_TRUE(libxdp_view_parse_name("dispatch-1-4294967295", &ifindex, &id));
	ASSERT_INT_EQ(id, 4294967295u);
}

TEST(parse_rejects_other_names)
{
	const char *bad[] = {
		"dispatch-3-41-new",
		"dispatch-3",
		"dispatch--41",
		"dispatch-3-",
		"dispatch-3-41x",
		"dispatch-a-41",
		"dispatch-3-4294967296",
		"dispatch-2147483648-1",
		"3",
		"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (libxdp_view_parse_name(bad[i], NULL, NULL))
			TEST_FAIL("parsed '%s'", bad[i]);
}

TEST(stale_unless_live)
{
	const uint32_t live[] = {41, 99};

	ASSERT_TRUE(!libxdp_view_is_stale("dispatch-3-41", live, 2));
	ASSERT_TRUE(!libxdp_view_is_stale("dispatch-8-99", live, 2));
	/* A previous revision of the same hook. */
	ASSERT_TRUE(libxdp_view_is_stale("dispatch-3-40", live, 2));
	ASSERT_TRUE(libxdp_view_is_stale("dispatch-3-41", NULL, 0));
	/* A directory a crash left half-written, even of a live dispatcher. */
	ASSERT_TRUE(libxdp_view_is_stale("dispatch-3-41-new", live, 2));
	ASSERT_TRUE(libxdp_view_is_stale("dispatch-junk", live, 2));
	/* Not a view directory at all: bpfd's hook directories are not its business. */
	ASSERT_TRUE(!libxdp_view_is_stale("3", live, 2));
}
