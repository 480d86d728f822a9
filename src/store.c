/*
 * store: the file holds only what login wrote (tokens, expiry, client id);
 * it is never written with a mode wider than 0600, not even for an instant.
 */
#include "store.h"
#include "model.h"
#include "rfc3339.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAX 65536

char *
store_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (x && *x == '/')
		return model_asprintf("%s/exalsiusfs/login.json", x);
	if (home && *home)
		return model_asprintf("%s/.config/exalsiusfs/login.json", home);
	return NULL;
}

static char *
store_jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? strdup(s) : NULL;
}

int
store_load(const char *path, struct oauth_tokens *t, char **client_id,
	   char **err)
{
	char *buf = NULL;
	long long us;
	struct stat st;
	ssize_t n;
	json_t *o;
	int fd, rc = 0;

	memset(t, 0, sizeof(*t));
	*client_id = NULL;
	*err = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		*err = model_asprintf("cannot read %s: %s", path, strerror(errno));
		return -EACCES;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) ||
	    st.st_uid != geteuid()) {
		*err = model_asprintf("%s is not a regular file of yours with mode 0600; ignored "
				      "(run chmod 600 on it, or log in again)", path);
		close(fd);
		return -EACCES;
	}
	buf = calloc(1, STORE_MAX + 1);
	if (!buf) {
		close(fd);
		*err = strdup("out of memory");
		return -ENOMEM;
	}
	n = read(fd, buf, STORE_MAX);
	close(fd);
	o = n > 0 ? json_loadb(buf, (size_t)n, 0, NULL) : NULL;
	memset(buf, 0, STORE_MAX);
	free(buf);
	if (!json_is_object(o)) {
		*err = model_asprintf("%s is not a login written by exalsiusfs login", path);
		rc = -EINVAL;
		goto out;
	}
	t->access = store_jstr(o, "access_token");
	t->id = store_jstr(o, "id_token");
	t->refresh = store_jstr(o, "refresh_token");
	if (rfc3339_parse(json_string_value(json_object_get(o, "expiry")), &us) == 0)
		t->expiry = us / 1000000;
	*client_id = store_jstr(o, "client_id");
	if (!t->access && !t->refresh) {
		oauth_tokens_free(t);
		free(*client_id);
		*client_id = NULL;
		*err = model_asprintf("%s holds no token", path);
		rc = -EINVAL;
	}
out:
	json_decref(o);
	return rc;
}

/* mkdir -p for the parent directories of path, each new one 0700. */
static int
store_mkdirs(const char *path)
{
	char *d = strdup(path);
	int rc = 0;

	if (!d)
		return -ENOMEM;
	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0700) < 0 && errno != EEXIST)
			rc = -errno;
		*p = '/';
		if (rc < 0)
			break;
	}
	free(d);
	return rc;
}

int
store_save(const char *path, const char *client_id,
	   const struct oauth_tokens *t, char **err)
{
	char exp[40] = "", *tmp = NULL, *text = NULL;
	json_t *o = json_object();
	size_t len, off = 0;
	int fd = -1, rc;

	*err = NULL;
	if (t->expiry > 0)
		rfc3339_format(t->expiry, exp, sizeof(exp));
	if (!o ||
	    json_object_set_new(o, "client_id", json_string(client_id ? client_id : "")) < 0 ||
	    json_object_set_new(o, "access_token", t->access ? json_string(t->access) : json_null()) < 0 ||
	    json_object_set_new(o, "id_token", t->id ? json_string(t->id) : json_null()) < 0 ||
	    json_object_set_new(o, "refresh_token", t->refresh ? json_string(t->refresh) : json_null()) < 0 ||
	    json_object_set_new(o, "expiry", json_string(exp)) < 0 ||
	    !(text = json_dumps(o, JSON_INDENT(2)))) {
		rc = -ENOMEM;
		*err = strdup("out of memory");
		goto out;
	}
	rc = store_mkdirs(path);
	tmp = model_asprintf("%s.tmp.%ld", path, (long)getpid());
	if (rc < 0 || !tmp) {
		rc = rc < 0 ? rc : -ENOMEM;
		*err = model_asprintf("cannot create the directory of %s: %s", path, strerror(-rc));
		goto out;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		*err = model_asprintf("cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	len = strlen(text);
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -EIO;
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) < 0))
		rc = -EIO;
	if (close(fd) < 0 && rc == 0)
		rc = -EIO;
	fd = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		*err = model_asprintf("cannot write %s: %s", path, strerror(-rc));
		unlink(tmp);
	}
out:
	if (text) {
		memset(text, 0, strlen(text));
		free(text);
	}
	json_decref(o);
	free(tmp);
	return rc;
}

int
store_remove(const char *path, char **err)
{
	*err = NULL;
	if (unlink(path) < 0 && errno != ENOENT) {
		*err = model_asprintf("cannot remove %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}
