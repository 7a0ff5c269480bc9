/* SPDX-License-Identifier: Apache-2.0 */
/* grpc_status.c: names, errno mapping, grpc-message percent-encoding. */
#include <errno.h>
#include <stdlib.h>

#include "grpc_status.h"
#include "tests.h"

TEST(status_names)
{
	ASSERT_STR_EQ(grpc_status_to_string(GRPC_STATUS_OK), "OK");
	ASSERT_STR_EQ(grpc_status_to_string(GRPC_STATUS_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
	ASSERT_STR_EQ(grpc_status_to_string(GRPC_STATUS_UNAUTHENTICATED), "UNAUTHENTICATED");
	ASSERT_STR_EQ(grpc_status_to_string(17), "UNKNOWN");
	ASSERT_STR_EQ(grpc_status_to_string(-1), "UNKNOWN");
	for (int i = 0; i <= GRPC_STATUS_UNAUTHENTICATED; i++)
		ASSERT_INT_EQ(grpc_status_from_string(grpc_status_to_string(i)), i);
	ASSERT_ERR(grpc_status_from_string("NOPE"), -EINVAL);
	ASSERT_ERR(grpc_status_from_string("ok"), -EINVAL);
	ASSERT_ERR(grpc_status_from_string(NULL), -EINVAL);
}

TEST(status_from_errno)
{
	ASSERT_INT_EQ(grpc_status_from_errno(-EINVAL), GRPC_STATUS_INVALID_ARGUMENT);
	ASSERT_INT_EQ(grpc_status_from_errno(-EBADMSG), GRPC_STATUS_INVALID_ARGUMENT);
	ASSERT_INT_EQ(grpc_status_from_errno(-ENOENT), GRPC_STATUS_NOT_FOUND);
	ASSERT_INT_EQ(grpc_status_from_errno(-ENODEV), GRPC_STATUS_NOT_FOUND);
	ASSERT_INT_EQ(grpc_status_from_errno(-ESRCH), GRPC_STATUS_NOT_FOUND);
	ASSERT_INT_EQ(grpc_status_from_errno(-EEXIST), GRPC_STATUS_ALREADY_EXISTS);
	ASSERT_INT_EQ(grpc_status_from_errno(-EACCES), GRPC_STATUS_PERMISSION_DENIED);
	ASSERT_INT_EQ(grpc_status_from_errno(-ENOSPC), GRPC_STATUS_RESOURCE_EXHAUSTED);
	ASSERT_INT_EQ(grpc_status_from_errno(-EMFILE), GRPC_STATUS_RESOURCE_EXHAUSTED);
	ASSERT_INT_EQ(grpc_status_from_errno(-E2BIG), GRPC_STATUS_RESOURCE_EXHAUSTED);
	ASSERT_INT_EQ(grpc_status_from_errno(-EMSGSIZE), GRPC_STATUS_RESOURCE_EXHAUSTED);
	ASSERT_INT_EQ(grpc_status_from_errno(-EUSERS), GRPC_STATUS_RESOURCE_EXHAUSTED);
	ASSERT_INT_EQ(grpc_status_from_errno(-EPERM), GRPC_STATUS_FAILED_PRECONDITION);
	ASSERT_INT_EQ(grpc_status_from_errno(-EOPNOTSUPP), GRPC_STATUS_FAILED_PRECONDITION);
	ASSERT_INT_EQ(grpc_status_from_errno(-ENOTSUP), GRPC_STATUS_FAILED_PRECONDITION);
	ASSERT_INT_EQ(grpc_status_from_errno(-EBUSY), GRPC_STATUS_FAILED_PRECONDITION);
	ASSERT_INT_EQ(grpc_status_from_errno(-ENOSYS), GRPC_STATUS_FAILED_PRECONDITION);
	ASSERT_INT_EQ(grpc_status_from_errno(-EPROTONOSUPPORT), GRPC_STATUS_UNIMPLEMENTED);
	ASSERT_INT_EQ(grpc_status_from_errno(-ESHUTDOWN), GRPC_STATUS_UNAVAILABLE);
	ASSERT_INT_EQ(grpc_status_from_errno(-ETIMEDOUT), GRPC_STATUS_DEADLINE_EXCEEDED);
	ASSERT_INT_EQ(grpc_status_from_errno(-EIO), GRPC_STATUS_INTERNAL);
	ASSERT_INT_EQ(grpc_status_from_errno(-ENOMEM), GRPC_STATUS_INTERNAL);
	/* A positive errno by mistake still maps the same way. */
	ASSERT_INT_EQ(grpc_status_from_errno(ENOENT), GRPC_STATUS_NOT_FOUND);
}

TEST(percent_encode)
{
	char *s;

	ASSERT_OK(grpc_percent_encode("plain text: ok", 0, &s));
	ASSERT_STR_EQ(s, "plain text: ok");
	free(s);
	ASSERT_OK(grpc_percent_encode("n\xc3\xa9 100%\nx\x7f~", 0, &s));
	ASSERT_STR_EQ(s, "n%C3%A9 100%25%0Ax%7F~");
	free(s);
	ASSERT_OK(grpc_percent_encode("", 0, &s));
	ASSERT_STR_EQ(s, "");
	free(s);
	ASSERT_OK(grpc_percent_encode(NULL, 0, &s));
	ASSERT_STR_EQ(s, "");
	free(s);
}

TEST(percent_encode_cut)
{
	char *s;

	/* Cut never splits an escape ... */
	ASSERT_OK(grpc_percent_encode("ab%cd", 4, &s));
	ASSERT_STR_EQ(s, "ab");
	free(s);
	/* ... nor a UTF-8 character: "é" is 6 bytes encoded, all or nothing. */
	ASSERT_OK(grpc_percent_encode("a\xc3\xa9z", 6, &s));
	ASSERT_STR_EQ(s, "a");
	free(s);
	ASSERT_OK(grpc_percent_encode("a\xc3\xa9z", 7, &s));
	ASSERT_STR_EQ(s, "a%C3%A9");
	free(s);
	/* A lone continuation or truncated sequence is just bytes. */
	ASSERT_OK(grpc_percent_encode("\xe2\x9c", 0, &s));
	ASSERT_STR_EQ(s, "%E2%9C");
	free(s);
}

TEST(percent_decode)
{
	char *s;

	ASSERT_OK(grpc_percent_decode("n%C3%A9 100%25%0Ax", 18, &s));
	ASSERT_STR_EQ(s, "n\xc3\xa9 100%\nx");
	free(s);
	/* Lower-case hex is accepted; malformed escapes stay as they are. */
	ASSERT_OK(grpc_percent_decode("%e2%9c%93 %zz %4 %", 18, &s));
	ASSERT_STR_EQ(s, "\xe2\x9c\x93 %zz %4 %");
	free(s);
	/* Only len bytes are read. */
	ASSERT_OK(grpc_percent_decode("ab%41", 3, &s));
	ASSERT_STR_EQ(s, "ab%");
	free(s);
}
