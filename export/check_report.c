/* check_report.c -- the check's result: the verdict, the detail lines (the first MAX_DETAILS
 * differences, the rest counted) and the result as JSON.
 *
 * It judges nothing (check_diag.c does). One struct run per thread; nothing locks.
 */
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"

void check_verdict(struct run *r, enum check_status st, const char *kind, const char *fmt, ...)
{
	va_list ap;

	r->res->status = st;
	snprintf(r->res->kind, sizeof(r->res->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(r->res->message, sizeof(r->res->message), fmt, ap);
	va_end(ap);
}

void check_detail(struct run *r, const char *line)
{
	size_t n = strlen(line);
	char *s = realloc(r->res->details, r->details_len + n + 2);

	if (!s) {
		return;
	}
	memcpy(s + r->details_len, line, n);
	s[r->details_len + n] = '\n';
	s[r->details_len + n + 1] = '\0';
	r->res->details = s;
	r->details_len += n + 1;
}

/* check_differ -- one difference between the share and the view, as a detail line. */
void check_differ(struct run *r, const char *fmt, ...)
{
	char line[PATH_MAX + 256];
	va_list ap;

	r->res->differences++;
	if (++r->n_details > MAX_DETAILS) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	check_detail(r, line);
}

static const char *status_name(enum check_status st)
{
	return st == CHECK_OK         ? "OK"
	       : st == CHECK_WARNING  ? "WARNING"
	       : st == CHECK_CRITICAL ? "CRITICAL"
	                              : "UNKNOWN";
}

static json_object *details_json(const char *details)
{
	json_object *a = json_object_new_array();

	for (const char *p = details; a && p && *p;) {
		size_t n = strcspn(p, "\n");
		json_object_array_add(a, json_object_new_string_len(p, (int)n));
		p += n + (p[n] == '\n');
	}
	return a;
}

char *check_result_json(const struct check_result *res, const struct check_opts *o)
{
	json_object *j = json_object_new_object();
	char *out = NULL;

	if (!j) {
		return NULL;
	}
	json_object_object_add(j, "status", json_object_new_string(status_name(res->status)));
	json_object_object_add(j, "code", json_object_new_int((int)res->status));
	json_object_object_add(j, "kind", json_object_new_string(res->kind));
	json_object_object_add(j, "message", json_object_new_string(res->message));
	json_object_object_add(j, "url", o && o->url ? json_object_new_string(o->url) : NULL);
	json_object_object_add(j, "files_remote",
	                       json_object_new_int64((int64_t)res->files_remote));
	json_object_object_add(j, "files_local", json_object_new_int64((int64_t)res->files_local));
	json_object_object_add(j, "differences", json_object_new_int64((int64_t)res->differences));
	json_object_object_add(j, "details", details_json(res->details));
	json_object_object_add(j, "time_s",
	                       res->time_s >= 0 ? json_object_new_double(res->time_s) : NULL);
	json_object_object_add(j, "free_percent",
	                       res->free_pct >= 0 ? json_object_new_double(res->free_pct) : NULL);
	out = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return out;
}

void check_result_fini(struct check_result *res)
{
	if (res) {
		free(res->details);
		res->details = NULL;
	}
}
