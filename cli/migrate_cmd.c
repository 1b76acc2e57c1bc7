/* migrate_cmd.c -- `pxeimagesfs migrate`: copy or move the images to another drive.
 *
 * Resolves the drives, plans (migrate/migrate.c), prints the plan (--dry-run) or carries
 * it out with a progress bar on a terminal and one line per entry otherwise, then a
 * summary; --json prints the plan or the result as JSON instead. SIGINT and SIGTERM
 * stop the run cleanly (a rerun finishes it). Single-threaded.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "migrate.h"
#include "migrate_json.h"
#include "migrate_smb_args.h"
#include "resolver.h"
#include "smb_dos.h"

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
	        "usage: pxeimagesfs migrate --to DRIVE [--from DRIVE ... | --from smb://...]\n"
	        "                           [--move] [--dry-run]\n"
	        "                           [--overwrite=older|never|always] [--no-backup]\n"
	        "                           [--json] [--verify-existing] [-c FILE]\n\n"
	        "Copy every file and folder of the images tree that a source drive has and the\n"
	        "target lacks (or has with another size or mtime) to the target drive: to a\n"
	        "hidden temporary name, fsynced, checked by SHA-256, then renamed into place.\n"
	        "Safe while the view is mounted; an interrupted run is finished by running it\n"
	        "again. A target copy newer than the source's (or of the same mtime with other\n"
	        "contents) is never replaced by default: it is a conflict, named with the size,\n"
	        "mtime and SHA-256 of both copies, and both are left as they are (--move too).\n"
	        "A replaced copy is kept in %s/<UTC time>/ on the target drive.\n"
	        "  -t, --to DRIVE         the target drive (online, writable)\n"
	        "  -f, --from DRIVE       a source drive (repeatable; default: every other\n"
	        "                         online drive holding the images)\n"
	        "  -m, --move             remove each source copy once its copy is verified\n"
	        "  -n, --dry-run          print the plan; change nothing\n"
	        "  -j, --json             print the plan or the result as JSON\n"
	        "  -V, --verify-existing  compare files of equal size and mtime by SHA-256\n"
	        "  -o, --overwrite=WHEN   which other version on the target may be replaced:\n"
	        "                         older (default: only one with an older mtime),\n"
	        "                         never, or always\n"
	        "  -B, --no-backup        delete a replaced target copy instead of keeping it\n"
	        "  -c, --config FILE      configuration (default: $%s, else %s)\n\n"
	        "exit status: 0 all done (or the plan printed), 1 some entries failed or the\n"
	        "             run was interrupted, 2 refused (nothing changed; with --dry-run:\n"
	        "             the run would be refused), 3 conflicts: everything else is done,\n"
	        "             the conflicting entries are left as they are on both drives\n"
	        "             (with --dry-run: the plan has conflicts)\n",
	        MIGRATE_BACKUP_DIR, CFG_ENV_PATH, CFG_DEFAULT_PATH);
	migrate_smb_usage(out);
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

static void clear_bar(struct ui *ui)
{
	if (ui->bar) {
		printf("\r\033[K");
		fflush(stdout);
		ui->bar = false;
		ui->drawn_ns = 0;
	}
}

static void line(struct ui *ui, FILE *to, const char *fmt, ...)
{
	va_list ap;

	clear_bar(ui);
	va_start(ap, fmt);
	vfprintf(to, fmt, ap);
	va_end(ap);
	fputc('\n', to);
	fflush(to);
}

/* "2026-12-01 10:00:00.123456789 UTC" */
static void mtime_text(const struct timespec *ts, char *out, size_t len)
{
	struct tm tm;
	char sec[32];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, len, "%s.%09ld UTC", sec, ts->tv_nsec);
}

/* One copy of a conflict: "DRIVE: PATH", then "SIZE (N bytes), mtime ..., SHA-256 ...". */
static void copy_line(FILE *to, const char *drive, const char *dir, const char *path,
                      const struct stat *st, const unsigned char *sha)
{
	char what[64];
	char when[64];
	char hex[65] = "";

	mtime_text(&st->st_mtim, when, sizeof(when));
	if (sha) {
		migrate_hex_sha(sha, hex);
	}
	if (S_ISREG(st->st_mode)) {
		char size[32];
		human((uint64_t)st->st_size, size, sizeof(size));
		snprintf(what, sizeof(what), "%s (%lld bytes)", size, (long long)st->st_size);
	} else {
		snprintf(what, sizeof(what), "%s",
		         S_ISDIR(st->st_mode)   ? "a folder"
		         : S_ISLNK(st->st_mode) ? "a symlink"
		                                : "a special file");
	}
	fprintf(to, "    %s: %s/%s\n        %s, mtime %s%s%s\n", drive, dir, path, what, when,
	        sha ? ", SHA-256 " : "", hex);
}

/* A conflict as several lines: what and why, then both copies. */
static void conflict_lines(FILE *to, const struct migrate_plan *plan, const struct migrate_item *it)
{
	const struct migrate_drive *src = &plan->sources[it->source];

	fprintf(to, "CONFLICT %s%s: %s; both copies left as they are\n",
	        it->path[0] ? it->path : ".", it->kind == MIGRATE_FOLDER ? "/" : "", it->reason);
	copy_line(to, src->name, src->images_dir, it->path, &it->st, it->have_sha ? it->sha : NULL);
	if (it->have_tst) {
		copy_line(to, plan->target.name, plan->target.images_dir, it->target, &it->tst,
		          it->have_sha ? it->tsha : NULL);
	}
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

	if (it->action == MIGRATE_CONFLICT) {
		clear_bar(ui);
		conflict_lines(stderr, ui->plan, it);
		fflush(stderr);
		return;
	}
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
	line(ui, stdout, "%-8s %s%s  (%s%s%s%s%s%s)", it->source_removed ? "moved" : done_word(it),
	     it->path[0] ? it->path : ".", it->kind == MIGRATE_FOLDER ? "/" : "", what,
	     skip                                       ? ", already there: "
	     : it->verified && it->kind == MIGRATE_FILE ? ", SHA-256 verified"
	     : it->verified                             ? ", verified"
	                                                : "",
	     skip ? it->reason : "", it->source_removed ? ", source removed" : "",
	     it->backup ? ", the old copy kept in " : "", it->backup ? it->backup : "");
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
	if (it->action == MIGRATE_CONFLICT) {
		conflict_lines(stdout, plan, it);
		return;
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
	       "%zu conflict%s (left alone)%s\n",
	       plan->n_copy, bytes, plan->n_mkdir, plan->n_mkdir == 1 ? "" : "s", plan->n_same,
	       plan->target.name, plan->n_conflict, plan->n_conflict == 1 ? "" : "s",
	       plan->move ? "; each source copy removed once verified" : "");
	printf("replaces: %s%s\n",
	       plan->overwrite == MIGRATE_OVERWRITE_OLDER
	           ? "a target copy only when it is older than the source's"
	       : plan->overwrite == MIGRATE_OVERWRITE_NEVER
	           ? "no target copy (--overwrite=never)"
	           : "any other version on the target (--overwrite=always)",
	       plan->overwrite == MIGRATE_OVERWRITE_NEVER ? ""
	       : plan->backup ? "; each replaced copy kept as a backup on the target"
	                      : "; replaced copies deleted (--no-backup)");
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

/* What the run does with the temporary plan->stale[I] an interrupted run left: continues
 * it (a share file's partial copy) or removes it. */
static void print_leftover(const struct migrate_plan *plan, size_t i)
{
	const struct migrate_item *it = NULL;
	char size[32];
	char done[32];

	if (!plan->stale_resume || plan->stale_resume[i] == 0) {
		printf("%-9s %-10s %s  (left by an interrupted run%s)\n", "cleanup", "-",
		       plan->stale[i],
		       plan->stale_item && plan->stale_item[i] != SIZE_MAX
		           ? "; a partial copy the run does not continue: its record does not fit "
		             "the source, or another partial copy of the file is continued"
		           : "");
		return;
	}
	it = &plan->items[plan->stale_item[i]];
	human((uint64_t)it->st.st_size, size, sizeof(size));
	human(plan->stale_resume[i], done, sizeof(done));
	printf("%-9s %-10s %s  (the partial copy of %s an interrupted run left: %llu of %llu "
	       "bytes done, %s; continued from there once those bytes are verified)\n",
	       "resume", size, plan->stale[i], it->path, (unsigned long long)plan->stale_resume[i],
	       (unsigned long long)it->st.st_size, done);
}

static void print_plan(const struct migrate_plan *plan)
{
	print_header(plan);
	printf("\n");
	for (size_t i = 0; i < plan->n_items; i++) {
		print_item(plan, &plan->items[i]);
	}
	for (size_t i = 0; i < plan->n_stale; i++) {
		print_leftover(plan, i);
	}
	printf("\n");
	print_totals(plan);
}

static void print_summary(const struct ui *ui, const struct migrate_summary *s)
{
	char bytes[32];
	char rate[32];
	double secs = elapsed_s(ui);

	human(s->bytes, bytes, sizeof(bytes));
	human(secs > 0 ? (uint64_t)((double)s->bytes / secs) : 0, rate, sizeof(rate));
	printf("summary: %zu copied, %zu skipped, %zu verified, %zu failed, %zu conflict%s, %s in "
	       "%.1f s (%s/s); %zu folder%s created",
	       s->copied, s->skipped, s->verified, s->failed, s->conflicts,
	       s->conflicts == 1 ? "" : "s", bytes, secs, rate, s->dirs_created,
	       s->dirs_created == 1 ? "" : "s");
	if (ui->plan->move) {
		printf("; %zu source entr%s removed", s->removed, s->removed == 1 ? "y" : "ies");
	}
	printf("\n");
	if (s->dos_kept || s->dos_lost) {
		printf("DOS attributes: kept on %zu entr%s", s->dos_kept,
		       s->dos_kept == 1 ? "y" : "ies");
		if (s->dos_lost) {
			printf(", not kept on %zu (%s)", s->dos_lost,
			       strerror(s->dos_error ? -s->dos_error : ENOTSUP));
		}
		printf("\n");
	}
	if (s->resumed) {
		human(s->bytes_resumed, bytes, sizeof(bytes));
		printf("continued: %zu partial cop%s of an interrupted run (%s not read again)\n",
		       s->resumed, s->resumed == 1 ? "y" : "ies", bytes);
	}
	if (s->backed_up) {
		printf("backup: %zu replaced cop%s kept in %s\n", s->backed_up,
		       s->backed_up == 1 ? "y" : "ies", ui->plan->backup_dir);
	}
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

static void conflict_note(const struct migrate_plan *plan, size_t n)
{
	fprintf(stderr,
	        "pxeimagesfs migrate: %zu conflict%s (see above): left as %s on both drives%s; "
	        "compare the copies, then remove the one not wanted, or run again with "
	        "--overwrite=always to replace the target's (it is kept as a backup)\n",
	        n, n == 1 ? "" : "s", n == 1 ? "it is" : "they are",
	        plan->move ? " (the source copies too)" : "");
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
		migrate_print_json(plan, &sum, config, false);
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
	if (sum.conflicts) {
		conflict_note(plan, sum.conflicts);
	}
	return sum.interrupted || sum.failed ? 1 : sum.conflicts ? 3 : 0;
}

/* Print the plan only; 2 when carrying it out would be refused for space. */
static int show_plan(struct migrate_plan *plan, const char *config, bool json)
{
	char err[1024];
	int fits = migrate_check_space(plan, err, sizeof(err));

	if (json) {
		migrate_print_json(plan, NULL, config, true);
	} else {
		print_plan(plan);
		printf("dry run: nothing was changed\n");
	}
	if (fits < 0) {
		fprintf(stderr, "pxeimagesfs migrate: %s: the run would be refused\n", err);
		return 2;
	}
	if (plan->n_conflict) {
		conflict_note(plan, plan->n_conflict);
		return 3;
	}
	return 0;
}

static const struct option migrate_longopts[] = {{"to", required_argument, NULL, 't'},
                                                 {"from", required_argument, NULL, 'f'},
                                                 {"move", no_argument, NULL, 'm'},
                                                 {"dry-run", no_argument, NULL, 'n'},
                                                 {"json", no_argument, NULL, 'j'},
                                                 {"verify-existing", no_argument, NULL, 'V'},
                                                 {"overwrite", required_argument, NULL, 'o'},
                                                 {"no-backup", no_argument, NULL, 'B'},
                                                 {"config", required_argument, NULL, 'c'},
                                                 {"help", no_argument, NULL, 'h'},
                                                 MIGRATE_SMB_LONGOPTS,
                                                 {NULL, 0, NULL, 0}};

/* migrate_option -- option C (getopt_long's answer, its argument in optarg) into O,
 * FROM, CONFIG or JSON; the exit status when there is nothing more to do, else -1. */
static int migrate_option(int c, struct migrate_options *o, const char **from, const char **config,
                          bool *json, struct migrate_smb_args *sa)
{
	int smb = migrate_smb_option(c, optarg, sa);

	if (smb != 0) {
		return smb < 0 ? 2 : -1;
	}
	switch (c) {
	case 't':
		o->to = optarg;
		break;
	case 'f':
		if (o->n_from == MAX_FROM) {
			fprintf(stderr, "pxeimagesfs migrate: at most %d --from\n", MAX_FROM);
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
	case 'o':
		if (migrate_overwrite_parse(optarg, &o->overwrite) < 0) {
			fprintf(stderr,
			        "pxeimagesfs migrate: --overwrite %s: say older, never or always\n",
			        optarg);
			return 2;
		}
		break;
	case 'B':
		o->no_backup = true;
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
	return -1;
}

/* Options into O (FROM holds the --from names); the exit status when there is nothing
 * more to do (--help, a usage error), else -1. */
static int parse_args(int argc, char **argv, struct migrate_options *o, const char **from,
                      const char **config, bool *json, struct migrate_smb_args *sa)
{
	int c = 0;
	int rc = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:f:mnjVo:Bc:h" MIGRATE_SMB_SHORTOPTS, migrate_longopts,
	                        NULL)) != -1) {
		rc = migrate_option(c, o, from, config, json, sa);
		if (rc >= 0) {
			return rc;
		}
	}
	if (optind < argc || !o->to) {
		fprintf(stderr, "pxeimagesfs migrate: %s%s\n",
		        optind < argc ? "unexpected argument " : "--to DRIVE is required",
		        optind < argc ? argv[optind] : "");
		return 2;
	}
	return migrate_smb_source(o, sa);
}

int cmd_migrate(int argc, char **argv)
{
	const char *from[MAX_FROM];
	struct migrate_options o = {.from = from};
	struct migrate_smb_args sa = MIGRATE_SMB_ARGS_INIT;
	const char *path = NULL;
	struct pxe_config *cfg = NULL;
	struct resolver_view *view = NULL;
	struct migrate_plan *plan = NULL;
	char err[1024];
	bool json = false;
	int rc = parse_args(argc, argv, &o, from, &path, &json, &sa);

	if (rc >= 0) {
		migrate_smb_wipe(&sa);
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
	migrate_smb_wipe(&sa);
	return rc;
}
