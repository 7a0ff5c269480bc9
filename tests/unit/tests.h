/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny unit-test registry: TEST(name) { ... } defines a test; ASSERT_* print the actual and
 * the expected value and fail the test. main() runs every test (or those named on the command
 * line) and prints "N passed, N failed".
 */
#pragma once

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST_MAX 512
extern struct test_case test_cases[TEST_MAX];
extern size_t n_test_cases;
extern jmp_buf test_jmp;

#define TEST(name)                                                                                 \
	static void test_##name(void);                                                             \
	__attribute__((constructor)) static void register_##name(void)                            \
	{                                                                                          \
		if (n_test_cases < TEST_MAX)                                                       \
			test_cases[n_test_cases++] = (struct test_case){ #name, test_##name };     \
	}                                                                                          \
	static void test_##name(void)

#define TEST_FAIL(...)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                   \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		longjmp(test_jmp, 1);                                                              \
	} while (0)

#define ASSERT_TRUE(e)                                                                             \
	do {                                                                                       \
		if (!(e))                                                                          \
			TEST_FAIL("expected true: %s", #e);                                        \
	} while (0)
#define ASSERT_INT_EQ(a, b)                                                                        \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b)                                                                      \
			TEST_FAIL("%s == %s: actual %lld, expected %lld", #a, #b, _a, _b);         \
	} while (0)
#define ASSERT_STR_EQ(a, b)                                                                        \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                             \
			TEST_FAIL("%s == %s: actual \"%s\", expected \"%s\"", #a, #b,              \
				  _a ? _a : "(null)", _b ? _b : "(null)");                        \
	} while (0)
#define ASSERT_STR_CONTAINS(hay, needle)                                                           \
	do {                                                                                       \
		const char *_h = (hay), *_n = (needle);                                            \
		if (!_h || !strstr(_h, _n))                                                        \
			TEST_FAIL("%s contains \"%s\": actual \"%s\"", #hay, _n,                   \
				  _h ? _h : "(null)");                                             \
	} while (0)
#define ASSERT_OK(e)                                                                               \
	do {                                                                                       \
		long long _r = (long long)(e);                                                     \
		if (_r < 0)                                                                        \
			TEST_FAIL("%s: actual %lld (%s), expected >= 0", #e, _r, strerror((int)-_r)); \
	} while (0)
#define ASSERT_ERR(e, err)                                                                         \
	do {                                                                                       \
		long long _r = (long long)(e);                                                     \
		if (_r != (err))                                                                   \
			TEST_FAIL("%s: actual %lld, expected %s (%d)", #e, _r, #err, (int)(err));    \
	} while (0)
