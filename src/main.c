/*
 * main: options, the access token, start-up and the FUSE loop, and the
 * login and logout subcommands. The token is read from the environment, a
 * file, a command or a login (never from the command line), and removed
 * from the environment once read.
 */
#include "conf.h"
#include "cred.h"
#include "fs.h"
#include "login.h"
#include "oauth.h"
#include "store.h"
#include <fuse_lowlevel.h>
#include "http.h"
#include "log.h"
#include "model.h"
#include "opts.h"
#include "secret.h"
#include "vfs.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_API_URL "https://api.exalsius.ai/v1"

struct options {
	char *api_url;
	char *auth_url;
	char *token_file;
	char *token_cmd;
	char *token_source;
	char *cluster;
	char *cafile;
	char *logs_format;	/* text or ndjson */
	char *num[8];		/* the numbers as given, checked by main_numbers */
	int cache_ttl;
	int timeout;
	int retries;
	int max_stale;
	int wait_timeout;
	int logs_max;		/* KiB held per workspace */
	int logs_streams;
	int logs_grace;
	int umask;		/* bits taken from every mode (-o umask=OCTAL) */
	int uid;		/* owner shown (-1: who mounted) */
	int gid;
	int ro;
	int allow_other;
	int foreground;
	int debug;
	int help;
	int version;
	int nonopts;		/* positional arguments seen */
	char *source;		/* mount(8) passes "exalsiusfs MOUNTPOINT" */
	char *mountpoint;	/* the last positional argument */
};

/* The numeric options, in the order of options.num[], with their bounds
 * (a day at most for times: beyond that a value is a typo). */
static const struct opts_num main_num_specs[] = {
	{ "cache_ttl", "seconds", 0, 86400 },
	{ "timeout", "seconds", 1, 3600 },
	{ "retries", NULL, 0, 10 },
	{ "max_stale", "seconds", 0, 86400 },
	{ "wait_timeout", "seconds", 1, 86400 },
	{ "logs_max", "KiB", 64, 1048576 },
	{ "logs_streams", NULL, 1, 4096 },
	{ "logs_grace", "seconds", 1, 86400 },
};

enum { KEY_RO, KEY_ALLOW_OTHER, KEY_FG, KEY_DEBUG, KEY_HELP, KEY_VERSION };

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt main_opts[] = {
	OPT("api_url=%s", api_url),
	OPT("auth_url=%s", auth_url),
	OPT("token_file=%s", token_file),
	OPT("token_cmd=%s", token_cmd),
	OPT("token_source=%s", token_source),
	OPT("cluster=%s", cluster),
	OPT("cafile=%s", cafile),
	OPT("cache_ttl=%s", num[0]),
	OPT("timeout=%s", num[1]),
	OPT("retries=%s", num[2]),
	OPT("max_stale=%s", num[3]),
	OPT("wait_timeout=%s", num[4]),
	OPT("logs_max=%s", num[5]),
	OPT("logs_streams=%s", num[6]),
	OPT("logs_grace=%s", num[7]),
	OPT("logs_format=%s", logs_format),
	OPT("umask=%o", umask),
	OPT("uid=%d", uid),
	OPT("gid=%d", gid),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("-f", KEY_FG),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	/* fstab words that mount(8) may hand on and that mean nothing here */
	FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_END
};

static int
main_opt_proc(void *data, const char *arg, int key, struct fuse_args *out)
{
	struct options *o = data;

	(void)arg;
	(void)out;
	switch (key) {
	case KEY_RO:
		/* enforced by the file system, not the kernel: .ctl stays
		 * writable (a refresh changes nothing on the API) */
		o->ro = 1;
		return 0;
	case KEY_ALLOW_OTHER:
		o->allow_other = 1;
		return 1;
	case KEY_FG:
		o->foreground = 1;
		return 1;
	case KEY_DEBUG:
		o->debug = o->foreground = 1;
		return 1;
	case KEY_HELP:
		o->help = 1;
		return 0;
	case KEY_VERSION:
		o->version = 1;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		free(o->mountpoint);
		o->mountpoint = strdup(arg);
		/* keep the first aside: with two, it was mount(8)'s source */
		if (o->nonopts++ == 0) {
			o->source = strdup(arg);
			return 0;
		}
		return 1;
	default:
		return 1;
	}
}

static void
main_usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n"
	       "       %s login [-o auth_url=URL] [--file]\n"
	       "       %s logout\n"
	       "       mount -t fuse.exalsiusfs exalsiusfs MOUNTPOINT -o token_file=PATH,...\n\n"
	       "Mount the exalsius workspace API as files. After exls login (or\n"
	       "exalsiusfs login) no option is needed.\n\n"
	       "Options (several -o options may be joined with commas):\n"
	       "    -o api_url=URL         API base URL (default $EXALSIUS_API_URL, $EXLS_BACKEND_HOST,\n"
	       "                           backend_host in exls's config.yaml, or %s)\n"
	       "    -o token_file=PATH     read the access token from PATH (again when it changes)\n"
	       "    -o token_cmd=COMMAND   run COMMAND for the token (again after a 401\n"
	       "                           and before a JWT expires); else the token is\n"
	       "                           $EXALSIUS_TOKEN or $ACCESS_TOKEN, else the exls\n"
	       "                           login in the Secret Service, else exalsiusfs login's\n"
	       "    -o token_source=NAME   use only cmd, file, env, keyring or store\n"
	       "    -o auth_url=URL        login service (default https://$EXLS_AUTH0_DOMAIN)\n"
	       "    -o cluster=UUID        show only this cluster's workspaces\n"
	       "    -o cache_ttl=SECONDS   cache lifetime, 0-86400 (default 10, 0 = always ask)\n"
	       "    -o timeout=SECONDS     per API request, retries included, 1-3600 (default 30)\n"
	       "    -o retries=N           retries of repeatable requests, 0-10 (default 2)\n"
	       "    -o max_stale=SECONDS   serve the last listing this long while the API\n"
	       "                           fails transiently, 0-86400 (default 300, 0 = never)\n"
	       "    -o wait_timeout=SECONDS  how long wait/STATE blocks, 1-86400 (default 600)\n"
	       "    -o logs_max=KIB        log held per workspace, 64-1048576 (default 8192)\n"
	       "    -o logs_streams=N      log streams open at once, 1-4096 (default 128)\n"
	       "    -o logs_grace=SECONDS  a log stream outlives its last reader, 1-86400\n"
	       "                           (default 30)\n"
	       "    -o logs_format=FORMAT  text (TIMESTAMP POD MESSAGE, default) or ndjson\n"
	       "    -o cafile=PATH         extra CA bundle for TLS verification\n"
	       "    -o ro                  read-only mount\n"
	       "    -o allow_other         let other users in (implies default_permissions)\n"
	       "    -o umask=OCTAL         mode bits to take away from every entry (e.g. 077)\n"
	       "    -o uid=N,gid=N         the owner shown (default: who mounted)\n"
	       "    -f                     stay in the foreground, log to stderr\n"
	       "    -d                     debug output (implies -f)\n"
	       "    -s                     single-threaded\n"
	       "    -h, --help             this help\n"
	       "    -V, --version          print the version\n\n"
	       "Unmount with: fusermount3 -u MOUNTPOINT\n"
	       "Everything else (files, errors, fstab, systemd): man exalsiusfs\n",
	       prog, prog, prog, DEFAULT_API_URL);
}

/* Check the numeric options and store them; 0, or -1 with a message
 * naming the first bad one and its range. */
static int
main_numbers(struct options *o)
{
	int *dst[] = { &o->cache_ttl, &o->timeout, &o->retries, &o->max_stale,
		       &o->wait_timeout, &o->logs_max, &o->logs_streams, &o->logs_grace };
	char *err = NULL;

	for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		if (!o->num[i])
			continue;	/* the default stays */
		if (opts_number(&main_num_specs[i], o->num[i], dst[i], &err) != 0) {
			fprintf(stderr, "exalsiusfs: %s\n", err ? err : "out of memory");
			free(err);
			return -1;
		}
	}
	return 0;
}

/* 0, or -1 with a message when exalsiusfs is mounted at mp already: FUSE
 * would stack a second mount over the first. A mountpoint that cannot be
 * resolved (a dead mount answers ENOTCONN) is looked up by its parent. */
static int
main_check_mountpoint(const char *mp)
{
	char path[PATH_MAX], *copy1 = strdup(mp), *copy2 = strdup(mp);
	char *buf = NULL;
	size_t len = 0;
	FILE *fp, *mi;
	int busy = 0, n;

	if (!copy1 || !copy2)
		goto out;
	if (!realpath(mp, path)) {
		char parent[PATH_MAX];
		const char *base = basename(copy2);

		if (!realpath(dirname(copy1), parent))
			goto out;	/* mounting will say what is wrong */
		n = snprintf(path, sizeof(path), "%s/%s",
			     strcmp(parent, "/") == 0 ? "" : parent, base);
		if (n < 0 || (size_t)n >= sizeof(path))
			goto out;
	}
	mi = fopen("/proc/self/mountinfo", "r");
	fp = mi ? open_memstream(&buf, &len) : NULL;
	if (fp) {
		char chunk[4096];
		size_t got;

		while ((got = fread(chunk, 1, sizeof(chunk), mi)) > 0)
			fwrite(chunk, 1, got, fp);
		fclose(fp);
		busy = buf && opts_mounted_at(buf, path, "fuse.exalsiusfs");
	}
	if (mi)
		fclose(mi);
	if (busy)
		fprintf(stderr, "exalsiusfs: %s: exalsiusfs is already mounted there; "
			"unmount it first (fusermount3 -u %s)\n", mp, mp);
out:
	free(buf);
	free(copy1);
	free(copy2);
	return busy ? -1 : 0;
}

/* Remove a variable from the environment, first wiping its value in
 * place: /proc/PID/environ shows the original strings, not the list that
 * unsetenv() edits. */
static void
main_scrub_env(const char *name)
{
	extern char **environ;
	size_t n = strlen(name);

	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			secret_clear(*e + n + 1);
	unsetenv(name);
}

static volatile sig_atomic_t main_stop;	/* set by SIGINT/SIGTERM during login */

static void
main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

/* The token source (see cred.h); the environment's token variables are
 * wiped either way. NULL with a message printed on failure. */
static struct cred *
main_cred(const struct options *o, struct http *auth, const struct conf_auth *a)
{
	const char *env = getenv("EXALSIUS_TOKEN");
	char *token = NULL, *err = NULL, *store = store_default_path();
	struct cred_cfg cc = { 0 };
	struct cred *c;

	if (!env || !*env)
		env = getenv("ACCESS_TOKEN");
	if (env && *env)
		token = strdup(env);
	main_scrub_env("EXALSIUS_TOKEN");
	main_scrub_env("ACCESS_TOKEN");
	if (o->token_file && o->token_cmd) {
		fprintf(stderr, "exalsiusfs: give token_file or token_cmd, not both\n");
		secret_wipe(token);
		free(store);
		return NULL;
	}
	cc.token = token;
	cc.file = o->token_file;
	cc.cmd = o->token_cmd;
	cc.pin = o->token_source;
	cc.auth = auth;
	cc.client_id = a->client_id;
	cc.audience = a->audience;
	cc.scope = a->scope;
	cc.store_path = store;
	c = cred_new(&cc, &err);
	secret_wipe(token);
	free(store);
	if (!c) {
		fprintf(stderr, "exalsiusfs: %s\n", err ? err : "out of memory");
		free(err);
		return NULL;
	}
	return c;
}

/* At start-up: say which token the mount uses. A login is looked up now
 * only in the foreground: the Secret Service's client must not start
 * before the daemon forks. */
static void
main_cred_report(struct cred *c, int foreground)
{
	char *t = NULL, *err = NULL;

	if (!foreground && cred_refreshable(c) && strcmp(cred_source_name(c), "none") == 0) {
		log_msg(LOG_LVL_INFO, "access token: looked up at first use (the exls login "
			"in the Secret Service, else exalsiusfs login's)");
		return;
	}
	cred_get(c, NULL, &t, &err);
	if (!t)
		fprintf(stderr, "exalsiusfs: warning: no access token (%s); every API call "
			"will fail with EACCES until you log in\n",
			err ? err : "EXALSIUS_TOKEN, ACCESS_TOKEN, -o token_file or -o token_cmd");
	else
		log_msg(LOG_LVL_INFO, "access token from %s", cred_source_name(c));
	secret_wipe(t);
	free(err);
}

/* The API base URL: -o api_url, EXALSIUS_API_URL, the CLI's backend host,
 * the default. Allocated. */
static char *
main_api_url(const struct options *o)
{
	const char *env = getenv("EXALSIUS_API_URL");
	char *host = NULL, *from = NULL, *url;

	if (o->api_url)
		return strdup(o->api_url);
	if (env && *env)
		return strdup(env);
	if (conf_backend_host(&host, &from) == 0) {
		log_msg(LOG_LVL_INFO, "API host %s from %s", host, from);
		free(from);
		return host;
	}
	url = strdup(DEFAULT_API_URL);
	return url;
}

/* The text of .account (see cred_describe). */
static char *
main_account(void *arg)
{
	char *out = NULL;

	return cred_describe(arg, &out) == 0 ? out : NULL;
}

static int
main_login_refused(void *arg)
{
	return cred_login_refused(arg);
}

/* Worker threads kept idle after a burst (-o max_idle_threads, else 4):
 * libfuse's default keeps every worker it ever started. Waits and log
 * reads hold no worker, so once a burst of opens is answered the daemon
 * is back to this many idle workers however many requests still wait. */
static unsigned int
main_idle_threads(const struct fuse_cmdline_opts *co)
{
	if (co->max_idle_threads == UINT_MAX)
		return 4;
	return co->max_idle_threads < co->max_threads ? co->max_idle_threads : co->max_threads;
}

/* Mount and serve until unmounted; the exit status. A connection the
 * kernel aborted (a lazy unmount while requests were in flight) counts as
 * a clean end. */
static int
main_run(struct fuse_args *args, struct fs_ctx *ctx)
{
	struct fuse_cmdline_opts co = { 0 };
	struct fuse_loop_config *lc = NULL;
	struct fuse_session *se = NULL;
	int rc = 1, res;

	if (fuse_parse_cmdline(args, &co) != 0)
		return 1;
	if (!co.mountpoint) {
		fprintf(stderr, "exalsiusfs: no mountpoint given (see --help)\n");
		goto out;
	}
	se = fs_session_new(args, ctx);
	if (!se)
		goto out;
	if (fuse_session_mount(se, co.mountpoint) != 0)
		goto out_destroy;
	if (fuse_daemonize(co.foreground) != 0 || fuse_set_signal_handlers(se) != 0)
		goto out_unmount;
	if (co.singlethread) {
		res = fuse_session_loop(se);
	} else {
		lc = fuse_loop_cfg_create();
		if (!lc)
			goto out_signals;
		fuse_loop_cfg_set_clone_fd(lc, co.clone_fd);
		fuse_loop_cfg_set_max_threads(lc, co.max_threads);
		fuse_loop_cfg_set_idle_threads(lc, main_idle_threads(&co));
		res = fuse_session_loop_mt(se, lc);
		fuse_loop_cfg_destroy(lc);
	}
	if (res == -ECONNABORTED || res == ECONNABORTED) {
		log_msg(LOG_LVL_INFO, "the kernel closed the connection (lazy unmount); exiting");
		res = 0;
	}
	rc = res == 0 ? 0 : 8;
out_signals:
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_session_unmount(se);
out_destroy:
	fuse_session_destroy(se);
	ctx->se = NULL;
out:
	free(co.mountpoint);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { .cache_ttl = 10, .timeout = 30, .retries = 2,
			     .max_stale = 300, .wait_timeout = 600,
			     .logs_max = 8192, .logs_streams = 128, .logs_grace = 30,
			     .uid = -1, .gid = -1 };
	struct rlimit nocore = { 0, 0 };
	struct http_cfg hc = { 0 };
	struct fs_ctx ctx = { 0 };
	struct vfs_cfg vc = { 0 };
	struct http *h = NULL;
	struct conf_auth auth = { 0 };
	struct http *auth_http = NULL;
	struct cred *cred = NULL;
	char *err = NULL, *url = NULL;
	int rc = 1;

	/* Blocks of 256 KiB and more (list bodies, held logs) are mapped on
	 * their own and given back whole when freed. glibc would otherwise
	 * raise this threshold after the first such free and take later ones
	 * from the heap, where freed space often stays in the daemon. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (argc >= 2 && strcmp(argv[1], "login") == 0) {
		struct sigaction sa = { 0 };

		sa.sa_handler = main_on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		return login_run(argc - 1, argv + 1, &main_stop);
	}
	if (argc >= 2 && strcmp(argv[1], "logout") == 0)
		return login_logout(argc - 1, argv + 1);
	fs_ctx_init(&ctx);
	if (fuse_opt_parse(&args, &o, main_opts, main_opt_proc) < 0) {
		fs_ctx_destroy(&ctx);
		return 1;
	}
	/* one positional argument: it was the mountpoint after all */
	if (o.nonopts == 1 && o.source)
		fuse_opt_add_arg(&args, o.source);
	if (o.version) {
		printf("exalsiusfs %s\n", EXFS_VERSION);
		rc = 0;
		goto out;
	}
	if (o.help) {
		main_usage(argv[0]);
		rc = 0;
		goto out;
	}
	/* the token must not end up in a core file or be read by ptrace */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	log_open(o.foreground, o.debug);
	url = main_api_url(&o);
	if (!url)
		goto out;
	if (!http_url_allowed(url)) {
		fprintf(stderr, "exalsiusfs: api_url must be https:// (plain http:// only to a loopback host)\n");
		goto out;
	}
	if (o.cluster && !model_is_uuid(o.cluster)) {
		fprintf(stderr, "exalsiusfs: cluster must be a UUID\n");
		goto out;
	}
	if (main_numbers(&o) != 0)
		goto out;
	if (o.logs_format && strcmp(o.logs_format, "text") != 0 &&
	    strcmp(o.logs_format, "ndjson") != 0) {
		fprintf(stderr, "exalsiusfs: logs_format must be text or ndjson\n");
		goto out;
	}
	if (o.mountpoint && main_check_mountpoint(o.mountpoint) != 0)
		goto out;
	if (conf_auth(o.auth_url, &auth, &err) < 0) {
		fprintf(stderr, "exalsiusfs: %s\n", err);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "exalsiusfs: libcurl failed to initialise\n");
		goto out;
	}
	auth_http = oauth_http_new(auth.url, (long)o.timeout * 1000, o.retries, &err);
	if (!auth_http) {
		fprintf(stderr, "exalsiusfs: %s\n", err ? err : "out of memory");
		goto cleanup;
	}
	cred = main_cred(&o, auth_http, &auth);
	if (!cred)
		goto cleanup;
	main_cred_report(cred, o.foreground);
	hc.base_url = url;
	hc.cred = cred;
	hc.cafile = o.cafile;
	hc.timeout_ms = (long)o.timeout * 1000;
	hc.connect_timeout_ms = hc.timeout_ms < 10000 ? hc.timeout_ms : 10000;
	hc.retries = o.retries;
	hc.max_body = 256UL * 1024 * 1024;
	h = http_new(&hc, &err);
	if (!h) {
		fprintf(stderr, "exalsiusfs: %s\n", err);
		goto cleanup;
	}
	vc.cluster = o.cluster;
	vc.ttl_ms = (long long)o.cache_ttl * 1000;
	vc.ro = o.ro;
	vc.max_stale_ms = (long long)o.max_stale * 1000;
	vc.wait_timeout_ms = (long long)o.wait_timeout * 1000;
	vc.logs_cap = (size_t)o.logs_max * 1024;
	vc.logs_streams = o.logs_streams;
	vc.logs_grace_ms = (long long)o.logs_grace * 1000;
	vc.logs_ndjson = o.logs_format && strcmp(o.logs_format, "ndjson") == 0;
	vc.poll_notify = fs_poll_notify;
	vc.poll_destroy = fs_poll_destroy;
	vc.invalidate = fs_invalidate;
	vc.invalidate_later = fs_invalidate_later;
	vc.invalidate_arg = &ctx;
	vc.account = main_account;
	vc.login_refused = main_login_refused;
	vc.account_arg = cred;
	ctx.vfs = vfs_new(&vc, h);
	if (!ctx.vfs) {
		fprintf(stderr, "exalsiusfs: out of memory\n");
		goto cleanup;
	}
	ctx.inodes = inode_table_new();
	if (!ctx.inodes) {
		fprintf(stderr, "exalsiusfs: out of memory\n");
		goto cleanup;
	}
	ctx.uid = o.uid >= 0 ? (uid_t)o.uid : getuid();
	ctx.gid = o.gid >= 0 ? (gid_t)o.gid : getgid();
	ctx.umask = (mode_t)(o.umask & 0777);
	/* the kernel may keep entries, attributes and the pages of listing
	 * files as long as our cache holds them fresh: whatever a refresh
	 * or a mutation changes is invalidated explicitly */
	ctx.kernel_timeout = o.cache_ttl;
	fuse_opt_add_arg(&args, "-ofsname=exalsiusfs,subtype=exalsiusfs");
	/* other users only ever get in with the kernel checking modes */
	if (o.allow_other)
		fuse_opt_add_arg(&args, "-odefault_permissions");
	rc = main_run(&args, &ctx);
cleanup:
	vfs_free(ctx.vfs);
	inode_table_free(ctx.inodes);
	http_free(h);
	cred_free(cred);
	cred = NULL;
	http_free(auth_http);
	curl_global_cleanup();
out:
	fs_ctx_destroy(&ctx);
	cred_free(cred);
	free(url);
	conf_auth_free(&auth);
	free(o.auth_url);
	free(o.token_source);
	free(err);
	log_close();
	fuse_opt_free_args(&args);
	free(o.api_url);
	free(o.token_file);
	free(o.token_cmd);
	free(o.source);
	free(o.mountpoint);
	for (size_t i = 0; i < sizeof(o.num) / sizeof(o.num[0]); i++)
		free(o.num[i]);
	free(o.cluster);
	free(o.cafile);
	free(o.logs_format);
	return rc;
}
