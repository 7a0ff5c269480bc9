/* SPDX-License-Identifier: Apache-2.0 */
/* The dispatchers' pure parts: proceed_on masks, the XDP config, chain order. */
#include <errno.h>

#include "core.h"
#include "dispatcher.h"
#include "tests.h"

#define BIT(n) (1u << (n))

TEST(xdp_mask_default_is_pass_and_dispatcher_return)
{
	ASSERT_INT_EQ(xdp_proceed_on_mask(NULL, 0), BIT(2) | BIT(31));
}

TEST(xdp_mask_of_values)
{
	const int32_t v[] = {1, 2, 31};

	ASSERT_INT_EQ(xdp_proceed_on_mask(v, 3), BIT(1) | BIT(2) | BIT(31));
	ASSERT_INT_EQ(xdp_proceed_on_mask(v, 1), BIT(1));
}

TEST(proceed_on_validation)
{
	const int32_t xdp_ok[] = {0, 1, 2, 3, 4, 31}, xdp_bad[] = {2, 5};
	const int32_t tc_ok[] = {-1, 0, 3, 8, 30}, tc_bad[] = {31};
	struct error err = {};

	ASSERT_INT_EQ(proceed_on_validate(BPFD_PROG_XDP, xdp_ok, 6, &err), 0);
	ASSERT_INT_EQ(proceed_on_validate(BPFD_PROG_XDP, xdp_bad, 2, &err), -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "proceed_on value 5");
	err = (struct error){};
	ASSERT_INT_EQ(proceed_on_validate(BPFD_PROG_TC, tc_ok, 5, &err), 0);
	ASSERT_INT_EQ(proceed_on_validate(BPFD_PROG_TC, tc_bad, 1, &err), -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "not a TC verdict");
	err = (struct error){};
	ASSERT_INT_EQ(proceed_on_validate(BPFD_PROG_XDP, NULL, 0, &err), 0);
}

TEST(xdp_config_layout_and_values)
{
	int32_t drop[] = {1};
	struct link_record chain[3] = {
		{.priority = 100},
		{.priority = 200, .proceed_on = drop, .n_proceed_on = 1},
		{.priority = 300},
	};
	struct xdp_dispatcher_config cfg;
	struct error err = {};

	ASSERT_INT_EQ(xdp_dispatcher_config_build(chain, 3, &cfg, &err), 0);
	ASSERT_INT_EQ(cfg.magic, 236);
	ASSERT_INT_EQ(cfg.dispatcher_version, 2);
	ASSERT_INT_EQ(cfg.num_progs_enabled, 3);
	ASSERT_INT_EQ(cfg.is_xdp_frags, 0);
	ASSERT_INT_EQ(cfg.chain_call_actions[0], BIT(2) | BIT(31));
	ASSERT_INT_EQ(cfg.chain_call_actions[1], BIT(1));
	ASSERT_INT_EQ(cfg.chain_call_actions[3], 0);
	ASSERT_INT_EQ(cfg.run_prios[2], 300);
	/* libxdp's v2 offsets: actions at 4, prios at 44, flags at 84. */
	ASSERT_INT_EQ(offsetof(struct xdp_dispatcher_config, chain_call_actions), 4);
	ASSERT_INT_EQ(offsetof(struct xdp_dispatcher_config, run_prios), 44);
	ASSERT_INT_EQ(offsetof(struct xdp_dispatcher_config, program_flags), 84);
}

TEST(xdp_config_refuses_an_eleventh)
{
	struct link_record chain[11] = {};
	struct xdp_dispatcher_config cfg;
	struct error err = {};

	ASSERT_INT_EQ(xdp_dispatcher_config_build(chain, 10, &cfg, &err), 0);
	ASSERT_INT_EQ(xdp_dispatcher_config_build(chain, 11, &cfg, &err), -ENOSPC);
}

TEST(insert_after_equal_priorities)
{
	struct link_record chain[4] = {
		{.priority = 100},
		{.priority = 200},
		{.priority = 200},
		{.priority = 300},
	};

	ASSERT_INT_EQ(chain_insert_index(chain, 4, 50), 0);
	ASSERT_INT_EQ(chain_insert_index(chain, 4, 100), 1);
	ASSERT_INT_EQ(chain_insert_index(chain, 4, 200), 3);
	ASSERT_INT_EQ(chain_insert_index(chain, 4, 1000), 4);
	ASSERT_INT_EQ(chain_insert_index(chain, 0, 1), 0);
}

TEST(hook_names)
{
	struct link_record a = {.ifindex = 7}, b = {.ifindex = 7, .netns = "/run/netns/x"},
			   c = {.ifindex = 7, .netns = "/run/netns/y"};
	char na[64], nb[64], nc[64];

	ASSERT_INT_EQ(dispatcher_hook_name(&a, na, sizeof(na)), 0);
	ASSERT_STR_EQ(na, "7");
	ASSERT_INT_EQ(dispatcher_hook_name(&b, nb, sizeof(nb)), 0);
	ASSERT_INT_EQ(dispatcher_hook_name(&c, nc, sizeof(nc)), 0);
	ASSERT_TRUE(strncmp(nb, "7_", 2) == 0);
	ASSERT_TRUE(strcmp(nb, nc) != 0);
	ASSERT_TRUE(strchr(nb, '.') == NULL);
}

/* TC: verdict v is bit v + 1 (TC_ACT_UNSPEC is -1), as in bpf/tc_dispatcher.bpf.c. */
TEST(tc_mask_default_is_pipe_and_dispatcher_return)
{
	ASSERT_INT_EQ(tc_proceed_on_mask(NULL, 0), BIT(3 + 1) | BIT(30 + 1));
}

TEST(tc_mask_of_values)
{
	const int32_t v[] = {-1, 2, 8, 30};

	ASSERT_INT_EQ(tc_proceed_on_mask(v, 4), BIT(0) | BIT(3) | BIT(9) | BIT(31));
	ASSERT_INT_EQ(tc_proceed_on_mask(v + 1, 1), BIT(3)); /* shot only */
}

TEST(tc_config_layout_and_values)
{
	int32_t shot[] = {2};
	struct link_record chain[3] = {
		{.priority = 100},
		{.priority = 200, .proceed_on = shot, .n_proceed_on = 1},
		{.priority = 300},
	};
	struct tc_dispatcher_config cfg;
	struct error err = {};

	ASSERT_INT_EQ(tc_dispatcher_config_build(chain, 3, &cfg, &err), 0);
	ASSERT_INT_EQ(cfg.num_progs_enabled, 3);
	ASSERT_INT_EQ(cfg.chain_call_actions[0], BIT(4) | BIT(31));
	ASSERT_INT_EQ(cfg.chain_call_actions[1], BIT(3));
	ASSERT_INT_EQ(cfg.chain_call_actions[3], 0);
	ASSERT_INT_EQ(cfg.run_prios[0], 100);
	ASSERT_INT_EQ(cfg.run_prios[2], 300);
	/* bpfman's TC dispatcher layout: actions at 4, prios at 44. */
	ASSERT_INT_EQ(offsetof(struct tc_dispatcher_config, chain_call_actions), 4);
	ASSERT_INT_EQ(offsetof(struct tc_dispatcher_config, run_prios), 44);
}

TEST(tc_config_refuses_an_eleventh)
{
	struct link_record chain[11] = {};
	struct tc_dispatcher_config cfg;
	struct error err = {};

	ASSERT_INT_EQ(tc_dispatcher_config_build(chain, 10, &cfg, &err), 0);
	ASSERT_INT_EQ(tc_dispatcher_config_build(chain, 11, &cfg, &err), -ENOSPC);
	ASSERT_STR_CONTAINS(err.message, "TC chain");
}

TEST(tc_hook_names)
{
	struct link_record in = {.ifindex = 7, .direction = "ingress"},
			   eg = {.ifindex = 7, .direction = "egress"},
			   ns = {.ifindex = 7, .direction = "ingress", .netns = "/run/netns/x"},
			   none = {.ifindex = 7};
	char a[80], b[80], c[80];

	ASSERT_INT_EQ(tc_dispatcher_hook_name(&in, a, sizeof(a)), 0);
	ASSERT_STR_EQ(a, "7_ingress");
	ASSERT_INT_EQ(tc_dispatcher_hook_name(&eg, b, sizeof(b)), 0);
	ASSERT_STR_EQ(b, "7_egress");
	ASSERT_INT_EQ(tc_dispatcher_hook_name(&ns, c, sizeof(c)), 0);
	ASSERT_TRUE(strncmp(c, "7_", 2) == 0 && strcmp(c, a) != 0);
	ASSERT_INT_EQ(tc_dispatcher_hook_name(&none, a, sizeof(a)), -EINVAL);
	ASSERT_INT_EQ(tc_dispatcher_hook_name(&in, a, 5), -ENAMETOOLONG);
}
