/*
 * opts: the pure part of the command line: numbers checked strictly
 * against their bounds, and whether a mountpoint already holds this
 * filesystem (read from /proc/self/mountinfo text). No I/O.
 */
#ifndef EXFS_OPTS_H
#define EXFS_OPTS_H

/* A numeric -o option and its allowed range. */
struct opts_num {
	const char *name; /* "cache_ttl" */
	const char *unit; /* "seconds", or NULL for a plain count */
	long min, max;
};

/* Parse val (decimal digits only: no sign, space, exponent or suffix) into
 * *out. 0, or -EINVAL with *err (allocated) naming the option, the value
 * given and the allowed range. */
int opts_number(const struct opts_num *spec, const char *val, int *out,
		char **err);

/* Nonzero when the mountinfo text (the format of /proc/self/mountinfo)
 * has a mount of file system type fstype (e.g. "fuse.exalsiusfs") whose
 * mount point is path (absolute, without symbolic links). */
int opts_mounted_at(const char *mountinfo, const char *path,
		    const char *fstype);

#endif
