/* migrate_cmd.c -- `pxeimagesfs migrate`: copy or move the images to another drive.
 *
 * Resolves the drives, plans (fs/migrate.c), prints the plan (--dry-run) or carries
 * it out with a progress bar on a terminal and one line per entry otherwise, then a
 * summary; --json prints the plan or the result as JSON instead. SIGINT and SIGTERM
 * stop the run cleanly (a rerun finishes it). Single-threaded.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fs.h"
#include "resolver.h"

#define REDRAW_NS 100000000LL /* the bar at most ten times a second */
#define MAX_FROM  64

static volatile sig_atomic_t migrate_stop;

struct ui {
	const struct migrate_plan *plan;
	bool tty;   /* stdout is a terminal: a bar */
	bool quiet; /* --json: nothing but the JSON on stdout */
	struct timespec start;
	long long drawn_ns;     /* when the bar was last drawn (monotonic ns), 0: never */
	bool bar;               /* a bar is on the current line */
	bool verifying;         /* the last event was MIGRATE_EV_VERIFY */
	long long verify_since; /* when that began (monotonic ns) */
	long long verify_ns;    /* time spent reading back before it: not copying */
};

static void migrate_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs migrate --to DRIVE [--from DRIVE ...] [--move] [--dry-run]\n"
	        "                           [--json] [--verify-existing] [-c FILE]\n\n"
	        "Copy every file and folder of the images tree that a source drive has and the\n"
	        "target lacks (or has with another size or mtime) to the target drive: to a\n"
	        "hidden temporary name, fsynced, checked by SHA-256, then renamed into place.\n"
	        "Safe while the view is mounted; an interrupted run is finished by running it\n"
	        "again.\n"
	        "  -t, --to DRIVE         the target drive (online, writable)\n"
	        "  -f, --from DRIVE       a source drive (repeatable; default: every other\n"
	        "                         online drive holding the images)\n"
	        "  -m, --move             remove each source copy once its copy is verified\n"
	        "  -n, --dry-run          print the plan; change nothing\n"
	        "  -j, --json             print the plan or the result as JSON\n"
	        "  -V, --verify-existing  compare files of equal size and mtime by SHA-256\n"
	        "  -c, --config FILE      configuration (default: $%s, else %s)\n\n"
	        "exit status: 0 all done (or the plan printed), 1 some entries failed or the\n"
	        "             run was interrupted, 2 refused (nothing changed; with --dry-run:\n"
	        "             the run would be refused)\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

static void human(uint64_t n, char *buf, size_t len)
{
	migrate_human_size(n, buf, len);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double elapsed_s(const struct ui *ui)
{
	long long start = (long long)ui->start.tv_sec * 1000000000LL + ui->start.tv_nsec;
	return (double)(now_ns() - start) / 1e9;
}

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) {
		return ws.ws_col;
	}
	return 80;
}

/* Keep the time spent verifying out of the copy rate. */
static void track_verify(struct ui *ui, const struct migrate_progress *p)
{
	bool v = p->event == MIGRATE_EV_VERIFY;

	if (v && !ui->verifying) {
		ui->verify_since = now_ns();
	} else if (!v && ui->verifying) {
		ui->verify_ns += now_ns() - ui->verify_since;
	}
	ui->verifying = v;
}

static void draw_bar(struct ui *ui, const struct migrate_progress *p)
{
	char out[256];
	double verify_s =
	    (double)(ui->verify_ns + (ui->verifying ? now_ns() - ui->verify_since : 0)) / 1e9;
	double secs = elapsed_s(ui) - verify_s;
	double bps = secs > 0.2 ? (double)p->bytes_done / secs : 0;

	printf("\r%s\033[K", migrate_progress_line(p, bps, term_width(), out, sizeof(out)));
	fflush(stdout);
	ui->bar = true;
	ui->drawn_ns = now_ns();
}

/* A line above the bar (or the only output when stdout is not a terminal). */
static void line(struct ui *ui, FILE *to, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void line(struct ui *ui, FILE *to, const char *fmt, ...)
{
	va_list ap;

	if (ui->bar) {
		printf("\r\033[K");
		fflush(stdout);
		ui->bar = false;
		ui->drawn_ns = 0;
	}
	va_start(ap, fmt);
	vfprintf(to, fmt, ap);
	va_end(ap);
	fputc('\n', to);
	fflush(to);
}

static const char *done_word(const struct migrate_item *it)
{
	switch (it->action) {
	case MIGRATE_COPY:
		return "copied";
	case MIGRATE_REPLACE:
		return "replaced";
	case MIGRATE_MKDIR:
		return "created";
	default:
		return "skipped";
	}
}

static void item_line(struct ui *ui, const struct migrate_item *it)
{
	const char *src = ui->plan->sources[it->source].name;
	bool skip = it->action == MIGRATE_SKIP || it->action == MIGRATE_SHADOWED;
	char what[64] = "";

	if (it->result == MIGRATE_FAILED) {
		line(ui, stderr, "FAILED   %s:%s: %s", src, it->path[0] ? it->path : ".",
		     it->error ? it->error : "?");
		return;
	}
	if (ui->tty || ui->quiet) {
		return; /* the bar says it */
	}
	if (it->kind == MIGRATE_FILE) {
		human((uint64_t)it->st.st_size, what, sizeof(what));
	} else {
		snprintf(what, sizeof(what), "%s", migrate_kind_name(it->kind));
	}
	line(ui, stdout, "%-8s %s%s  (%s%s%s%s)", it->source_removed ? "moved" : done_word(it),
	     it->path[0] ? it->path : ".", it->kind == MIGRATE_FOLDER ? "/" : "", what,
	     skip                                       ? ", already there: "
	     : it->verified && it->kind == MIGRATE_FILE ? ", SHA-256 verified"
	     : it->verified                             ? ", verified"
	                                                : "",
	     skip ? it->reason : "", it->source_removed ? ", source removed" : "");
}

static int on_progress(void *arg, const struct migrate_progress *p)
{
	struct ui *ui = arg;
	bool phase = (p->event == MIGRATE_EV_VERIFY) != ui->verifying;

	track_verify(ui, p);

	if (p->event == MIGRATE_EV_END) {
		item_line(ui, p->item);
	} else if (p->event == MIGRATE_EV_CLEANUP && !ui->quiet) {
		line(ui, stdout, "removed  %s  (a temporary an interrupted run left)", p->text);
	} else if (p->event == MIGRATE_EV_REMOVED && !ui->quiet && !ui->tty) {
		line(ui, stdout, "removed  %s:%s/  (empty source folder)",
		     ui->plan->sources[p->item->source].name, p->item->path);
	} else if (p->event == MIGRATE_EV_NOTE && !ui->quiet) {
		line(ui, stdout, "note: %s", p->text);
	}
	if (ui->tty && !ui->quiet && (p->event != MIGRATE_EV_REMOVED) &&
	    (phase || ui->drawn_ns == 0 || now_ns() - ui->drawn_ns >= REDRAW_NS)) {
		draw_bar(ui, p);
	}
	return migrate_stop != 0;
}

static void print_item(const struct migrate_plan *plan, const struct migrate_item *it)
{
	char size[32] = "-";
	char src[80] = "";

	if (it->action == MIGRATE_DIR) {
		return;
	}
	if (it->kind == MIGRATE_FILE) {
		human((uint64_t)it->st.st_size, size, sizeof(size));
	}
	if (plan->n_sources > 1) {
		snprintf(src, sizeof(src), "%s:", plan->sources[it->source].name);
	}
	printf("%-9s %-10s %s%s%s  (%s)\n", migrate_action_name(it->action), size, src,
	       it->path[0] ? it->path : ".", it->kind == MIGRATE_FOLDER ? "/" : "", it->reason);
}

static void print_totals(const struct migrate_plan *plan)
{
	char bytes[32];
	char need[32];
	char avail[32];

	human(plan->bytes, bytes, sizeof(bytes));
	human(plan->space_needed, need, sizeof(need));
	human(plan->space_available, avail, sizeof(avail));
	printf("to do: %zu to copy (%s), %zu folder%s to create, %zu already on %s, "
	       "%zu conflict%s%s\n",
	       plan->n_copy, bytes, plan->n_mkdir, plan->n_mkdir == 1 ? "" : "s", plan->n_same,
	       plan->target.name, plan->n_conflict, plan->n_conflict == 1 ? "" : "s",
	       plan->move ? "; each source copy removed once verified" : "");
	printf("space: %s needed, %s available on %s\n", need, avail, plan->target.name);
}

static void print_header(const struct migrate_plan *plan)
{
	printf("migrate %s:", plan->move ? "(move)" : "(copy)");
	for (size_t i = 0; i < plan->n_sources; i++) {
		printf("%s %s", i ? "," : "", plan->sources[i].name);
	}
	printf(" -> %s\n", plan->target.name);
	for (size_t i = 0; i < plan->n_sources; i++) {
		printf("  source %s  %s\n", plan->sources[i].name, plan->sources[i].images_dir);
	}
	printf("  target %s  %s%s\n", plan->target.name, plan->target.images_dir,
	       plan->target_has_images ? "" : "  (to be created)");
}

static void print_plan(const struct migrate_plan *plan)
{
	print_header(plan);
	printf("\n");
	for (size_t i = 0; i < plan->n_items; i++) {
		print_item(plan, &plan->items[i]);
	}
	for (size_t i = 0; i < plan->n_stale; i++) {
		printf("%-9s %-10s %s  (left by an interrupted run)\n", "cleanup", "-",
		       plan->stale[i]);
	}
	printf("\n");
	print_totals(plan);
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static const char *result_name(enum migrate_result r, bool dry_run)
{
	if (dry_run) {
		return "planned";
	}
	return r == MIGRATE_DONE ? "done" : r == MIGRATE_FAILED ? "failed" : "pending";
}

static json_object *item_json(const struct migrate_plan *plan, const struct migrate_item *it,
                              bool dry_run)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "path", jstr(it->path));
	json_object_object_add(o, "target", jstr(it->target));
	json_object_object_add(o, "source", jstr(plan->sources[it->source].name));
	json_object_object_add(o, "kind", jstr(migrate_kind_name(it->kind)));
	json_object_object_add(o, "action", jstr(migrate_action_name(it->action)));
	json_object_object_add(o, "reason", jstr(it->reason));
	json_object_object_add(
	    o, "size",
	    it->kind == MIGRATE_FILE ? json_object_new_int64((int64_t)it->st.st_size) : NULL);
	json_object_object_add(o, "result", jstr(result_name(it->result, dry_run)));
	json_object_object_add(o, "verified", json_object_new_boolean(it->verified));
	json_object_object_add(o, "source_removed", json_object_new_boolean(it->source_removed));
	json_object_object_add(o, "error", jstr(it->error));
	return o;
}

static json_object *drive_json(const struct migrate_drive *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "drive", jstr(d->name));
	json_object_object_add(o, "images_dir", jstr(d->images_dir));
	return o;
}

static json_object *plan_head_json(const struct migrate_plan *plan, const char *config,
                                   bool dry_run)
{
	json_object *o = json_object_new_object();
	json_object *t = drive_json(&plan->target);
	json_object *srcs = json_object_new_array();
	json_object *space = json_object_new_object();

	json_object_object_add(o, "schema", json_object_new_int(1));
	json_object_object_add(o, "config", jstr(config));
	json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(o, "move", json_object_new_boolean(plan->move));
	json_object_object_add(o, "verify_existing",
	                       json_object_new_boolean(plan->verify_existing));
	json_object_object_add(t, "has_images", json_object_new_boolean(plan->target_has_images));
	json_object_object_add(o, "target", t);
	for (size_t i = 0; i < plan->n_sources; i++) {
		json_object_array_add(srcs, drive_json(&plan->sources[i]));
	}
	json_object_object_add(o, "sources", srcs);
	json_object_object_add(space, "needed", json_object_new_int64((int64_t)plan->space_needed));
	json_object_object_add(space, "available",
	                       json_object_new_int64((int64_t)plan->space_available));
	json_object_object_add(
	    space, "fits", json_object_new_boolean(plan->space_needed <= plan->space_available));
	json_object_object_add(o, "space", space);
	return o;
}

static json_object *totals_json(const struct migrate_plan *plan)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "copy", json_object_new_int64((int64_t)plan->n_copy));
	json_object_object_add(o, "mkdir", json_object_new_int64((int64_t)plan->n_mkdir));
	json_object_object_add(o, "same", json_object_new_int64((int64_t)plan->n_same));
	json_object_object_add(o, "conflicts", json_object_new_int64((int64_t)plan->n_conflict));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)plan->bytes));
	return o;
}

static json_object *summary_json(const struct migrate_summary *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "copied", json_object_new_int64((int64_t)s->copied));
	json_object_object_add(o, "dirs_created", json_object_new_int64((int64_t)s->dirs_created));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)s->skipped));
	json_object_object_add(o, "verified", json_object_new_int64((int64_t)s->verified));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)s->failed));
	json_object_object_add(o, "removed", json_object_new_int64((int64_t)s->removed));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)s->bytes));
	json_object_object_add(o, "interrupted", json_object_new_boolean(s->interrupted));
	return o;
}

/* The plan (SUM NULL: not run) as JSON on stdout. */
static void print_json(const struct migrate_plan *plan, const struct migrate_summary *sum,
                       const char *config, bool dry_run)
{
	json_object *o = plan_head_json(plan, config, dry_run);
	json_object *items = json_object_new_array();
	json_object *stale = json_object_new_array();

	json_object_object_add(o, "totals", totals_json(plan));
	for (size_t i = 0; i < plan->n_stale; i++) {
		json_object_array_add(stale, jstr(plan->stale[i]));
	}
	json_object_object_add(o, "stale", stale);
	for (size_t i = 0; i < plan->n_items; i++) {
		json_object_array_add(items, item_json(plan, &plan->items[i], dry_run));
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "summary", sum ? summary_json(sum) : NULL);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_summary(const struct ui *ui, const struct migrate_summary *s)
{
	char bytes[32];
	char rate[32];
	double secs = elapsed_s(ui);

	human(s->bytes, bytes, sizeof(bytes));
	human(secs > 0 ? (uint64_t)((double)s->bytes / secs) : 0, rate, sizeof(rate));
	printf("summary: %zu copied, %zu skipped, %zu verified, %zu failed, %s in %.1f s "
	       "(%s/s); %zu folder%s created",
	       s->copied, s->skipped, s->verified, s->failed, bytes, secs, rate, s->dirs_created,
	       s->dirs_created == 1 ? "" : "s");
	if (ui->plan->move) {
		printf("; %zu source entr%s removed", s->removed, s->removed == 1 ? "y" : "ies");
	}
	printf("\n");
}

static void on_signal(int sig)
{
	(void)sig;
	migrate_stop = 1;
}

static void catch_signals(bool on)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on ? on_signal : SIG_DFL;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Carry the plan out; the exit status. */
static int run_plan(struct migrate_plan *plan, const char *config, bool json)
{
	struct ui ui = {.plan = plan, .tty = isatty(STDOUT_FILENO) == 1, .quiet = json};
	struct migrate_summary sum;
	char err[1024];
	int rc = 0;

	if (migrate_check_space(plan, err, sizeof(err)) < 0) {
		fprintf(stderr, "pxeimagesfs migrate: %s (nothing changed)\n", err);
		return 2;
	}
	if (!json) {
		print_header(plan);
		print_totals(plan);
	}
	clock_gettime(CLOCK_MONOTONIC, &ui.start);
	migrate_stop = 0;
	catch_signals(true);
	rc = migrate_run(plan, on_progress, &ui, &sum, err, sizeof(err));
	catch_signals(false);
	if (ui.bar) {
		printf("\r\033[K");
	}
	if (rc < 0) {
		fprintf(stderr, "pxeimagesfs migrate: %s (nothing changed)\n", err);
		return 2;
	}
	if (json) {
		print_json(plan, &sum, config, false);
	} else {
		print_summary(&ui, &sum);
	}
	if (sum.interrupted) {
		fprintf(stderr, "pxeimagesfs migrate: interrupted; no file is left half-copied "
		                "under its name: run the same command again to finish\n");
	} else if (sum.failed) {
		fprintf(stderr, "pxeimagesfs migrate: %zu entr%s failed (see above)%s\n",
		        sum.failed, sum.failed == 1 ? "y" : "ies",
		        plan->move ? "; their source copies are kept" : "");
	}
	return sum.interrupted || sum.failed ? 1 : 0;
}

/* Print the plan only; 2 when carrying it out would be refused for space. */
static int show_plan(struct migrate_plan *plan, const char *config, bool json)
{
	char err[1024];
	int fits = migrate_check_space(plan, err, sizeof(err));

	if (json) {
		print_json(plan, NULL, config, true);
	} else {
		print_plan(plan);
		printf("dry run: nothing was changed\n");
	}
	if (fits < 0) {
		fprintf(stderr, "pxeimagesfs migrate: %s: the run would be refused\n", err);
		return 2;
	}
	return 0;
}

/* Options into O (FROM holds the --from names); the exit status when there is nothing
 * more to do (--help, a usage error), else -1. */
static int parse_args(int argc, char **argv, struct migrate_options *o, const char **from,
                      const char **config, bool *json)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
	                                     {"from", required_argument, NULL, 'f'},
	                                     {"move", no_argument, NULL, 'm'},
	                                     {"dry-run", no_argument, NULL, 'n'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"verify-existing", no_argument, NULL, 'V'},
	                                     {"config", required_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:f:mnjVc:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->to = optarg;
			break;
		case 'f':
			if (o->n_from == MAX_FROM) {
				fprintf(stderr, "pxeimagesfs migrate: at most %d --from\n",
				        MAX_FROM);
				return 2;
			}
			from[o->n_from++] = optarg;
			break;
		case 'm':
			o->move = true;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'V':
			o->verify_existing = true;
			break;
		case 'j':
			*json = true;
			break;
		case 'c':
			*config = optarg;
			break;
		case 'h':
			migrate_usage(stdout);
			return 0;
		default:
			migrate_usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !o->to) {
		fprintf(stderr, "pxeimagesfs migrate: %s%s\n",
		        optind < argc ? "unexpected argument " : "--to DRIVE is required",
		        optind < argc ? argv[optind] : "");
		return 2;
	}
	return -1;
}

int cmd_migrate(int argc, char **argv)
{
	const char *from[MAX_FROM];
	struct migrate_options o = {.from = from};
	const char *path = NULL;
	struct pxe_config *cfg = NULL;
	struct resolver_view *view = NULL;
	struct migrate_plan *plan = NULL;
	char err[1024];
	bool json = false;
	int rc = parse_args(argc, argv, &o, from, &path, &json);

	if (rc >= 0) {
		return rc;
	}
	rc = 2;
	cfg = cli_load_config(path);
	if (!cfg) {
		goto out;
	}
	if (resolver_resolve(cfg, rsv_sys_real(), &view) < 0) {
		fprintf(stderr, "pxeimagesfs migrate: cannot read the mount table\n");
		goto out;
	}
	if (migrate_plan_new(view, &o, &plan, err, sizeof(err)) < 0) {
		fprintf(stderr, "pxeimagesfs migrate: %s (nothing changed)\n", err);
		goto out;
	}
	rc = o.dry_run ? show_plan(plan, cfg->file, json) : run_plan(plan, cfg->file, json);
out:
	migrate_plan_free(plan);
	resolver_view_free(view);
	cfg_free(cfg);
	return rc;
}
