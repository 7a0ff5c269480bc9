/* SPDX-License-Identifier: Apache-2.0 */
#include "tests.h"

struct test_case test_cases[TEST_MAX];
size_t n_test_cases;
jmp_buf test_jmp;

static int selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	volatile unsigned passed = 0, failed = 0;

	for (volatile size_t i = 0; i < n_test_cases; i++) {
		if (!selected(test_cases[i].name, argc, argv))
			continue;
		if (setjmp(test_jmp) == 0) {
			test_cases[i].fn();
			printf("ok   %s\n", test_cases[i].name);
			passed++;
		} else {
			printf("FAIL %s\n", test_cases[i].name);
			failed++;
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
