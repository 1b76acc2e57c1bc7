/* log.h -- the one logger every module uses (log.c): stderr, syslog or the journal.
 *
 * stderr ("pxeimagesfs: message") until log_init(true, ...) switches to syslog; under
 * systemd (stderr is the journal stream) straight to the journal with each message's
 * priority. log_warn appends strerror(errno), log_warnx does not. Never exits.
 * Thread-safe. In common/ (below config/) so that every module may log.
 */
#ifndef PXE_LOG_H
#define PXE_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_init(bool to_syslog, enum log_level level);
void log_set_level(enum log_level level);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* PXE_LOG_H */
