/*
 * rfc3339: a strict little parser; fractions beyond microseconds are
 * truncated, a missing zone is taken as UTC.
 */
#include "rfc3339.h"

#include <ctype.h>
#include <stdio.h>
#include <time.h>

int
rfc3339_parse(const char *s, long long *us)
{
	struct tm tm = { 0 };
	long long frac = 0, scale = 100000;
	const char *p;
	int oh, om;

	*us = 0;
	if (!s)
		return -1;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	*us = (long long)timegm(&tm) * 1000000 + frac;
	if (*p == 'Z' || *p == 'z' || *p == '\0')
		return 0;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2) {
		*us -= (*p == '+' ? 1 : -1) * (long long)(oh * 3600 + om * 60) * 1000000;
		return 0;
	}
	*us = 0;
	return -1;
}

int
rfc3339_format(long long secs, char *buf, unsigned long n)
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%dT%H:%M:%S+00:00", &tm) == 0)
		return -1;
	return 0;
}
