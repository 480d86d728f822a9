/*
 * rfc3339: timestamps as the API writes them (2026-01-02T03:04:05.123456Z,
 * or with a +hh:mm offset), turned into microseconds since the epoch.
 * Pure; no allocation.
 */
#ifndef EXFS_RFC3339_H
#define EXFS_RFC3339_H

/* Microseconds since 1970 in *us; 0 on success, -1 when not understood. */
int rfc3339_parse(const char *s, long long *us);

#endif
