/*
 * vfs_dot: the root's reserved dot entries: .stats (counters), .ctl
 * (refresh now), .workspaces.tsv (one line per workspace), .by-id and
 * .by-cluster (symbolic links to workspace directories) and .templates.
 * Everything is derived from the current listing or the template cache.
 */
#include "vfs_int.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum node_kind kind;
} dot_entries[] = {
	{ ".stats", NODE_STATS },
	{ ".account", NODE_ACCOUNT },
	{ ".workspaces.tsv", NODE_TSV },
	{ ".ctl", NODE_CTL },
	{ ".by-id", NODE_BYID_DIR },
	{ ".by-cluster", NODE_BYCL_DIR },
	{ ".templates", NODE_TPL_DIR },
};
#define DOT_COUNT (sizeof(dot_entries) / sizeof(dot_entries[0]))

/* The listing's entry for a usable id or dirname, NULL if none. */
static const struct snap_ent *
dot_visible(struct vfs *v, const struct snap_ent *e)
{
	return e && model_is_uuid(e->ws->id) && !vfs_tombstoned(v, e->ws->id)
	       ? e : NULL;
}

/* Does any workspace of the listing belong to cluster cid? */
static int
dot_has_cluster(struct vfs *v, const struct snap *s, const char *cid)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].ws->cluster_id, cid) == 0 && dot_visible(v, &s->v[i]))
			return 1;
	return 0;
}

int
dot_resolve(struct vfs *v, const struct path_parts *pp, struct node *n)
{
	const struct snap_ent *e = NULL;
	unsigned long seq;
	size_t i;
	int rc;

	for (i = 0; i < DOT_COUNT; i++)
		if (strcmp(pp->top, dot_entries[i].name) == 0)
			break;
	if (i == DOT_COUNT)
		return -ENOENT;
	n->kind = dot_entries[i].kind;
	if (pp->kind == PATH_TOP)
		return 0;
	if (n->kind == NODE_TPL_DIR && pp->kind == PATH_FILE) {
		size_t len = strlen(pp->file);
		char *err = NULL, name[PATH_NAME_MAX + 1];

		if (len <= 5 || strcmp(pp->file + len - 5, ".json") != 0)
			return -ENOENT;
		memcpy(name, pp->file, len - 5);
		name[len - 5] = '\0';
		n->tpl = vfs_templates(v, &rc, &err);
		if (!n->tpl) {
			log_msg(LOG_LVL_ERR, "templates: %s", err ? err : "unavailable");
			free(err);
			return rc < 0 ? rc : -EIO;	/* EACCES for a bad token */
		}
		n->tpl_idx = model_templates_find(n->tpl, name);
		n->kind = NODE_TPL;
		return n->tpl_idx < 0 ? -ENOENT : 0;
	}
	if (n->kind != NODE_BYID_DIR && n->kind != NODE_BYCL_DIR)
		return -ENOENT;	/* the files have no children */
	rc = vfs_list(v, &n->list, &seq);
	if (rc < 0)
		return rc;
	if (n->kind == NODE_BYID_DIR && pp->kind == PATH_FILE) {
		e = dot_visible(v, snap_find_id(n->list, pp->file));
		if (!e)
			return -ENOENT;
		n->target = model_asprintf("../%s", e->dirname);
	} else if (n->kind == NODE_BYCL_DIR && pp->kind == PATH_FILE) {
		if (!dot_has_cluster(v, n->list, pp->file))
			return -ENOENT;
		n->kind = NODE_BYCL_CLUSTER;
		memcpy(n->leaf, pp->file, strlen(pp->file) + 1);
		return 0;
	} else if (n->kind == NODE_BYCL_DIR && pp->kind == PATH_DEEP) {
		e = dot_visible(v, snap_find_dir(n->list, pp->leaf));
		if (!e || strcmp(e->ws->cluster_id, pp->file) != 0)
			return -ENOENT;
		n->target = model_asprintf("../../%s", e->dirname);
	} else {
		return -ENOENT;
	}
	n->kind = NODE_LINK;
	n->ent = n->cur = e;
	return n->target ? 0 : -ENOMEM;
}

int
dot_readdir(struct vfs *v, const struct node *n, vfs_fill_fn fill, void *ctx)
{
	struct vfs_attr dir = { .is_dir = 1, .mode = 0755, .mtime = v->started };
	struct vfs_attr link = { .is_link = 1, .mode = 0777, .mtime = v->started };
	struct htab seen = { 0 };
	struct snap *s = NULL;
	unsigned long seq;
	int rc = 0;

	if (n->kind == NODE_TPL_DIR) {
		char *err = NULL;
		struct model_templates *t = vfs_templates(v, &rc, &err);

		if (!t) {
			log_msg(LOG_LVL_ERR, "templates: %s", err ? err : "unavailable");
			free(err);
			/* EACCES for a bad token; readdir(3) takes ENOENT for "empty" */
			return rc < 0 && rc != -ENOENT ? rc : -EIO;
		}
		for (size_t i = 0; i < model_templates_count(t); i++) {
			char name[PATH_NAME_MAX + 1];
			struct vfs_attr a = { .mode = 0444, .mtime = v->started };

			a.size = (off_t)strlen(model_templates_json(t, i));
			snprintf(name, sizeof(name), "%s.json", model_templates_name(t, i));
			if (fill(ctx, name, &a))
				break;
		}
		model_templates_unref(t);
		return 0;
	}
	rc = vfs_list(v, &s, &seq);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < s->n; i++) {
		const struct snap_ent *e = dot_visible(v, &s->v[i]);

		if (!e)
			continue;
		if (n->kind == NODE_BYID_DIR) {
			link.size = (off_t)strlen(e->dirname) + 3;
			if (fill(ctx, e->ws->id, &link))
				break;
		} else if (n->kind == NODE_BYCL_CLUSTER) {
			if (strcmp(e->ws->cluster_id, n->leaf) != 0)
				continue;
			link.size = (off_t)strlen(e->dirname) + 6;
			if (fill(ctx, e->dirname, &link))
				break;
		} else if (n->kind == NODE_BYCL_DIR && model_is_uuid(e->ws->cluster_id)) {
			rc = htab_put(&seen, e->ws->cluster_id, (void *)e);
			if (rc == -EEXIST) {
				rc = 0;
				continue;
			}
			if (rc < 0 || fill(ctx, e->ws->cluster_id, &dir))
				break;
		}
	}
	htab_free(&seen);
	snap_unref(s);
	return rc;
}

int
dot_fill_root(struct vfs *v, vfs_fill_fn fill, void *ctx)
{
	for (size_t i = 0; i < DOT_COUNT; i++) {
		enum node_kind k = dot_entries[i].kind;
		struct vfs_attr a = { .is_dir = 1, .mode = 0755, .mtime = v->started };

		/* sizes come with getattr: rendering here would cost API calls */
		if (k == NODE_STATS || k == NODE_TSV || k == NODE_CTL || k == NODE_ACCOUNT) {
			a.is_dir = 0;
			a.mode = k == NODE_CTL ? 0644 : 0444;
		}
		if (fill(ctx, dot_entries[i].name, &a))
			return 1;
	}
	return 0;
}

char *
dot_render_stats(struct vfs *v)
{
	struct http_stats hs;
	struct cache_stats cs;
	unsigned long total = 0, stale, log_open, log_started;
	size_t nws = 0, ndrafts = 0, nwaiters = 0, npollers = 0;
	time_t last = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	http_get_stats(v->http, &hs);
	cache_get_stats(v->cache, &cs);
	pthread_mutex_lock(&v->mu);
	stale = v->stale_serves;
	if (v->last) {
		nws = v->last->n;
		last = v->last->built;
	}
	for (struct draft *d = v->drafts; d; d = d->next)
		ndrafts++;
	for (struct vfs_waiter *w = v->waiters; w; w = w->next)
		nwaiters++;
	for (struct vfs_poller *p = v->pollers; p; p = p->next)
		npollers++;
	pthread_mutex_unlock(&v->mu);
	fp = open_memstream(&buf, &len);
	if (!fp)
		return NULL;
	for (int i = 0; i < API_OP_COUNT; i++)
		total += hs.requests[i];
	fprintf(fp, "requests_total %lu\n", total);
	for (int i = 0; i < API_OP_COUNT; i++)
		fprintf(fp, "requests_%s %lu\n", api_op_name((enum api_op)i), hs.requests[i]);
	for (int i = 0; i < API_OP_COUNT; i++) {
		const char *op = api_op_name((enum api_op)i);

		fprintf(fp, "responses_%s_2xx %lu\nresponses_%s_4xx %lu\n"
			"responses_%s_5xx %lu\nresponses_%s_failed %lu\n",
			op, hs.status_2xx[i], op, hs.status_4xx[i],
			op, hs.status_5xx[i], op, hs.transport_errors[i]);
	}
	fprintf(fp, "retries %lu\n", hs.retries);
	fprintf(fp, "cache_hits %lu\ncache_misses %lu\ncache_joins %lu\n"
		"cache_errors %lu\ncache_stale_serves %lu\n",
		cs.hits, cs.misses, cs.joins, cs.errors, stale);
	fprintf(fp, "latency_p50_ms %.1f\nlatency_p99_ms %.1f\n",
		hs.lat_p50_ms, hs.lat_p99_ms);
	fprintf(fp, "last_list_refresh %lld\n", (long long)last);
	fprintf(fp, "workspaces %zu\ndrafts %zu\n", nws, ndrafts);
	fprintf(fp, "waiters %zu\npollers %zu\n", nwaiters, npollers);
	logs_counts(v->logs, &log_open, &log_started);
	fprintf(fp, "log_streams_open %lu\nlog_streams_started %lu\n", log_open, log_started);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *
dot_render_tsv(struct vfs *v)
{
	struct snap *s = NULL;
	unsigned long seq;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	if (vfs_list(v, &s, &seq) < 0)
		return NULL;
	fp = open_memstream(&buf, &len);
	if (!fp) {
		snap_unref(s);
		return NULL;
	}
	fputs("name\tid\tstatus\tcluster\ttemplate\tgpus\tcreated\n", fp);
	for (size_t i = 0; i < s->n; i++) {
		const struct snap_ent *e = &s->v[i];
		const struct ws *w = e->ws;

		if (vfs_tombstoned(v, w->id))
			continue;
		/* dirnames and the cleaned fields hold no tab or newline */
		fprintf(fp, "%s\t%.64s\t%s\t%.64s\t%s\t%s\t%.64s\n", e->dirname,
			model_is_uuid(w->id) ? w->id : "-", w->status,
			model_is_uuid(w->cluster_id) ? w->cluster_id : "-",
			*w->template_name ? w->template_name : "-", w->gpus,
			w->created ? w->created_at : "-");
	}
	snap_unref(s);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
dot_write_ctl(struct vfs *v, const char *buf, size_t size)
{
	char line[PATH_NAME_MAX + 16];
	size_t b = 0, e = size;

	if (memchr(buf, '\0', size))
		return -EINVAL;	/* a NUL cannot be part of a command or a name */
	while (b < e && isspace((unsigned char)buf[b]))
		b++;
	while (e > b && isspace((unsigned char)buf[e - 1]))
		e--;
	if (e - b >= sizeof(line))
		return -EINVAL;
	memcpy(line, buf + b, e - b);
	line[e - b] = '\0';
	if (strcmp(line, "refresh") == 0) {
		cache_invalidate(v->cache, VFS_LIST_KEY);
		cache_invalidate(v->tpl_cache, VFS_TPL_KEY);
		logs_drop_unread(v->logs, NULL);
		log_msg(LOG_LVL_INFO, ".ctl: everything will be fetched again");
		return (int)size;
	}
	if (strncmp(line, "refresh ", 8) == 0) {
		const char *name = line + 8;
		struct snap *s = NULL;
		const struct snap_ent *ent;
		unsigned long seq;
		char key[PATH_NAME_MAX + 8];
		int rc;

		while (*name == ' ')
			name++;
		rc = vfs_list(v, &s, &seq);
		if (rc < 0)
			return rc;
		ent = snap_find_dir(s, name);
		if (!ent || !model_is_uuid(ent->ws->id)) {
			snap_unref(s);
			return -ENOENT;
		}
		vfs_ws_key(key, sizeof(key), ent->ws->id);
		cache_invalidate(v->cache, key);
		logs_drop_unread(v->logs, ent->ws->id);
		log_msg(LOG_LVL_INFO, ".ctl: %s will be fetched again", name);
		snap_unref(s);
		return (int)size;
	}
	log_msg(LOG_LVL_ERR, ".ctl: unknown command (known: refresh, refresh NAME)");
	return -EINVAL;
}
