/*
 * rfc3339: timestamps as the API writes them (2026-01-02T03:04:05.123456Z,
 * or with a +hh:mm offset), turned into microseconds since the epoch.
 * Pure; no allocation. Also formats seconds back (UTC).
 */
#ifndef EXFS_RFC3339_H
#define EXFS_RFC3339_H

/* Microseconds since 1970 in *us; 0 on success, -1 when not understood. */
int rfc3339_parse(const char *s, long long *us);

/* secs as 2026-01-02T03:04:05+00:00 (what Python's isoformat() writes
 * for UTC) into buf; 0, or -1 when it does not fit. */
int rfc3339_format(long long secs, char *buf, unsigned long n);

#endif
