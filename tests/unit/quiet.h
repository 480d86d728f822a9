/*
 * quiet.h: silence stderr around calls that log on purpose, so that the
 * test output shows cmocka's report only. Shared by the unit tests.
 */
#ifndef EXFS_TEST_QUIET_H
#define EXFS_TEST_QUIET_H

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int quiet_fd = -1;

static inline void
quiet_begin(void)
{
	int null = open("/dev/null", O_WRONLY);

	assert_true(null >= 0);
	fflush(stderr);
	quiet_fd = dup(2);
	assert_true(quiet_fd >= 0);
	assert_true(dup2(null, 2) >= 0);
	close(null);
}

static inline void
quiet_end(void)
{
	fflush(stderr);
	assert_true(dup2(quiet_fd, 2) >= 0);
	close(quiet_fd);
	quiet_fd = -1;
}

#endif
