/*
 * path: the pure mapping between API names and file names, and the parsing
 * of paths inside the mount. No I/O, no locks, no allocation but where said.
 *
 * Encoding: '/', '%', control bytes and a leading '.' become %XX; a name
 * that would exceed 255 bytes is cut (never inside an escape or a UTF-8
 * sequence) and given the suffix "@<id8>"; so is every later workspace that
 * shares an already-taken directory name (oldest by created_at, then id,
 * keeps the plain name). "." and ".." cannot result.
 */
#ifndef EXFS_PATH_H
#define EXFS_PATH_H

#include <stddef.h>

#define PATH_NAME_MAX 255

/* Encode name into out (PATH_NAME_MAX + 1 bytes); with_suffix forces the
 * "@<id8>" suffix. Returns the length written. */
size_t path_encode_name(const char *name, const char *id, int with_suffix,
			char out[PATH_NAME_MAX + 1]);

/* Decode a directory name typed by a user (mkdir) into the API name.
 * 0 on success; -EINVAL when it is reserved (leading '.'), empty, holds a
 * bad escape or NUL, or is not in canonical encoded form; -ENAMETOOLONG
 * when out is too small. */
int path_decode_name(const char *dirname, char *out, size_t outsz);

/* One workspace to name: inputs borrowed, dirname allocated by
 * path_assign_names() and owned by the caller. */
struct path_named {
	const char *name;
	const char *id;
	const char *created_at;
	char *dirname;
	const char *keep;	/* a name already shown for it, or NULL */
};

/* Give every element a unique, deterministic directory name.
 * 0 or -ENOMEM (then no dirname is set). */
int path_assign_names(struct path_named *v, size_t n);

/* Whether dirname is held for something other than workspace id (a
 * draft, a workspace this mount deleted); such a name is never given. */
typedef int (*path_reserved_fn)(void *arg, const char *dirname, const char *id);

/* The same with names kept: an element whose keep is set gets it (the
 * oldest wins if two claim one); the others get the deterministic name,
 * or the suffixed one when it is taken or reserved (reserved may be
 * NULL). So a name once shown never moves to another workspace. */
int path_assign_names_kept(struct path_named *v, size_t n,
			   path_reserved_fn reserved, void *arg);

enum path_kind { PATH_ROOT, PATH_TOP, PATH_FILE, PATH_DEEP };

/* A path inside the mount split into at most three components. */
struct path_parts {
	enum path_kind kind;
	char top[PATH_NAME_MAX + 1];	/* directory name at the root */
	char file[PATH_NAME_MAX + 1];	/* name inside it */
	char leaf[PATH_NAME_MAX + 1];	/* name one level deeper */
};

/* Split "/a", "/a/b" or "/a/b/c"; -ENOENT for deeper paths,
 * -ENAMETOOLONG for a component over 255 bytes. */
int path_split(const char *path, struct path_parts *out);

/* The files a workspace or draft directory may hold. */
enum ws_file {
	WS_FILE_NONE = -1,
	WS_FILE_STATUS_JSON,
	WS_FILE_STATUS,
	WS_FILE_ID,
	WS_FILE_CONTROL,
	WS_FILE_ERROR,
	WS_FILE_SPEC,
	WS_FILE_ACCESS,
	WS_FILE_LOGS,
	WS_FILE_WAIT,
	WS_FILE_LOGS_FOLLOW,	/* never listed: a reader that never ends */
	WS_FILE_COUNT
};

/* Map a file name to its kind, WS_FILE_NONE if unknown. */
enum ws_file path_file_kind(const char *name);
/* The file name of a kind. */
const char *path_file_name(enum ws_file f);

#endif
