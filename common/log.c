/* log.c -- one small logger: stderr in the foreground, syslog as a daemon,
 * the journal (with each message's priority) under systemd.
 *
 * log_warn adds strerror(errno), log_warnx does not (OpenBSD style). Never
 * exits. Thread-safe: every message is formatted first and written in one
 * call; the level is an atomic. When stderr is systemd's journal stream
 * ($JOURNAL_STREAM names its device and inode), messages go to the journal
 * directly, with PRIORITY= and without repeating the program name: an
 * offline drive is a warning there, not info.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

static atomic_int log_level = LOG_LEVEL_INFO;
static atomic_bool log_syslog;
static atomic_int log_journal = -1; /* -1: not decided yet, 0 stderr, 1 the journal */

/* stderr_is_journal -- stderr is the stream systemd connected to the journal. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev = 0;
	unsigned long long ino = 0;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0) {
		return false;
	}
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(bool to_syslog, enum log_level level)
{
	atomic_store(&log_syslog, to_syslog);
	atomic_store(&log_level, (int)level);
	if (to_syslog) {
		openlog("pxeimagesfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

static void vlog(enum log_level level, const char *errstr, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char msg[2048];
	int n = 0;

	if ((int)level > atomic_load(&log_level)) {
		return;
	}
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errstr && n >= 0 && (size_t)n < sizeof(msg)) {
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", errstr);
	}
	if (atomic_load(&log_journal) < 0) {
		atomic_store(&log_journal, stderr_is_journal() ? 1 : 0);
	}
	if (atomic_load(&log_syslog)) {
		syslog(prio[level], "%s", msg);
	} else if (atomic_load(&log_journal) == 1) {
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio[level],
		                "SYSLOG_IDENTIFIER=pxeimagesfs", NULL);
	} else {
		fprintf(stderr, "pxeimagesfs: %s\n", msg);
	}
}

#define LOG_BODY(level, err)                                                                       \
	va_list ap;                                                                                \
	va_start(ap, fmt);                                                                         \
	vlog(level, err, fmt, ap);                                                                 \
	va_end(ap)

void log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);
	LOG_BODY(LOG_LEVEL_WARNING, err);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARNING, NULL);
}

void log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, NULL);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, NULL);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, NULL);
}
