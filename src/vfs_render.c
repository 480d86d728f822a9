/*
 * vfs_render: the content of every file node, as one allocated string.
 */
#include "vfs_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char vfs_control_help[] = "start\nstop\n";
static const char vfs_ctl_help[] = "refresh\nrefresh NAME\n";

/* ---- rendering ---------------------------------------------------------- */

static char *
vfs_ws_error(struct vfs *v, const char *id, time_t *mtime)
{
	char *s = NULL;

	pthread_mutex_lock(&v->mu);
	for (struct vfs_error *e = v->errors; e; e = e->next)
		if (strcmp(e->id, id) == 0) {
			char when[32];
			struct tm tm;

			gmtime_r(&e->mtime, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			s = model_asprintf("%s %s\n", when, e->msg);
			*mtime = e->mtime;
			break;
		}
	if (!s && v->stale_msg)
		s = model_asprintf("%s\n", v->stale_msg);
	pthread_mutex_unlock(&v->mu);
	return s ? s : strdup("");
}

static char *
vfs_draft_error(struct draft *d, time_t *mtime)
{
	char *s;

	pthread_mutex_lock(&d->mu);
	s = d->error ? model_asprintf("%s\n", d->error) : strdup("");
	if (d->error)
		*mtime = d->error_mtime;
	pthread_mutex_unlock(&d->mu);
	return s;
}

int
vfs_render_ws(enum ws_file file, const struct ws *w, char **out, size_t *len)
{
	char *s;

	switch (file) {
	case WS_FILE_STATUS_JSON:
		s = model_ws_json(w);
		break;
	case WS_FILE_STATUS:
		s = model_asprintf("%s\n", w->status);
		break;
	case WS_FILE_ID:
		s = model_asprintf("%s\n", w->id);
		break;
	case WS_FILE_ACCESS:
		s = strdup(w->access);
		break;
	default:
		return 0;
	}
	if (!s)
		return -ENOMEM;
	*out = s;
	*len = file == WS_FILE_STATUS_JSON ? w->json_len : strlen(s);
	return 1;
}

int
vfs_render(struct vfs *v, const struct node *n, char **out, size_t *len,
	   time_t *mtime)
{
	const struct ws *w = n->cur ? n->cur->ws : NULL;
	char *s = NULL;

	*mtime = n->cur ? n->cur->mtime : v->started;
	switch (n->kind) {
	case NODE_STATS:
		s = dot_render_stats(v);
		*mtime = time(NULL);
		break;
	case NODE_TSV:
		s = dot_render_tsv(v);
		break;
	case NODE_ACCOUNT:
		s = v->account ? v->account(v->account_arg) : strdup("source none\n");
		*mtime = time(NULL);
		break;
	case NODE_CTL:
		s = strdup(vfs_ctl_help);
		break;
	case NODE_TPL:
		s = strdup(model_templates_json(n->tpl, (size_t)n->tpl_idx));
		break;
	case NODE_WAIT:
		s = strdup("");
		break;
	case NODE_TEMP:
		return draft_render_temp(n->draft, n->leaf, out, len, mtime);
	case NODE_DRAFT:
		if (n->file == WS_FILE_SPEC)
			return draft_render_spec(v, n->draft, out, len, mtime);
		if (n->file == WS_FILE_ERROR)
			s = vfs_draft_error(n->draft, mtime);
		else
			return -EISDIR;
		break;
	case NODE_WS:
		switch (n->file) {
		case WS_FILE_STATUS_JSON:
		case WS_FILE_STATUS:
		case WS_FILE_ID:
		case WS_FILE_ACCESS:
			return vfs_render_ws(n->file, w, out, len) < 0 ? -ENOMEM : 0;
		case WS_FILE_CONTROL:
			s = strdup(vfs_control_help);
			break;
		case WS_FILE_ERROR:
			s = vfs_ws_error(v, w->id, mtime);
			break;
		default:
			return -EISDIR;
		}
		break;
	default:
		return -EISDIR;
	}
	if (!s)
		return -ENOMEM;
	*out = s;
	*len = strlen(s);
	return 0;
}
