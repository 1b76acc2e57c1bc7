/* config.c -- loading pxeimagesfs.conf: from a file or a string to struct pxe_config.
 *
 * Reads the file (a regular file, at most 1 MiB, no NUL byte), runs the line parser
 * (config_parse.c) on it, fills in the defaults and checks the whole (config_check.c);
 * all errors of one file are reported together. Also cfg_free and the default path.
 * No global state; separate calls on separate objects may run in parallel.
 */
#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_MAX_FILE_SIZE ((size_t)1024 * 1024)

__attribute__((format(printf, 3, 4))) static void cfg_msg(char *errbuf, size_t errlen,
                                                          const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static struct pxe_config *cfg_new(const char *file)
{
	struct pxe_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL) {
		return NULL;
	}
	cfg->file = strdup(file);
	if (cfg->file == NULL) {
		free(cfg);
		return NULL;
	}
	cfg->mode = CFG_MODE_UNION;
	cfg->mount_timeout_ms = 30000;
	cfg->rescan_interval_ms = 30000;
	cfg->passthrough = true;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->share.samba = CFG_SAMBA_SYSTEM;
	cfg->share.port = 445;
	return cfg;
}

static void cfg_fill_defaults(struct cfg_parser *p)
{
	static const enum cfg_section secs[] = {CFG_SEC_GLOBAL, CFG_SEC_SHARE};
	const struct cfg_key *k = NULL;
	char **field = NULL;
	size_t i = 0;
	size_t j = 0;

	for (i = 0; i < CFG_N(secs); i++) {
		for (j = 0; j < cfg_sections[secs[i]].n_keys; j++) {
			k = &cfg_sections[secs[i]].keys[j];
			field = (char **)((char *)p->cfg + k->off);
			if (k->def != NULL && *field == NULL) {
				*field = cfg_strdup(p, k->def);
			}
		}
	}
}

/* cfg_load_buffer -- parse TEXT in place (it is modified); FILES: check the filesystem too. */
static int cfg_load_buffer(char *text, const char *name, bool files, struct pxe_config **out,
                           char *errbuf, size_t errlen)
{
	struct cfg_parser p;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.file = name;
	p.cfg = cfg_new(name);
	if (p.cfg == NULL) {
		cfg_msg(errbuf, errlen, "%s: out of memory", name);
		goto out;
	}
	cfg_parse_text(&p, text);
	if (p.errs.n_total == 0) {
		cfg_fill_defaults(&p);
		p.cfg->discover_set = cfg_key_line(&p, "discover") != 0;
	}
	if (p.errs.n_total == 0) {
		cfg_check_config(&p);
	}
	if (p.errs.n_total == 0 && files) {
		cfg_check_run_dir(&p);
	}
	if (p.errs.n_total > 0) {
		if (errbuf != NULL && errlen > 0) {
			cfg_errors_flush(&p.errs, errbuf, errlen);
		}
		goto out;
	}
	*out = p.cfg;
	p.cfg = NULL;
	rc = 0;
out:
	cfg_free(p.cfg);
	cfg_errors_fini(&p.errs);
	return rc;
}

int cfg_load_string(const char *text, const char *name, struct pxe_config **out, char *errbuf,
                    size_t errlen)
{
	char *copy = NULL;
	int rc = -1;

	cfg_msg(errbuf, errlen, "%s", "");
	if (name == NULL) {
		name = "<string>";
	}
	if (out != NULL) {
		*out = NULL;
	}
	if (text == NULL || out == NULL) {
		cfg_msg(errbuf, errlen, "%s: no text or no result pointer given", name);
		return -1; /* nothing to clean up yet */
	}
	copy = strdup(text);
	if (copy == NULL) {
		cfg_msg(errbuf, errlen, "%s: out of memory", name);
		goto out;
	}
	rc = cfg_load_buffer(copy, name, false, out, errbuf, errlen);
out:
	free(copy);
	return rc;
}

/* cfg_read_file -- the whole of FILE, NUL-terminated, at most 1 MiB. */
static int cfg_read_file(const char *file, char **text, size_t *len, char *errbuf, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	ssize_t n = 0;
	int fd = -1;
	int rc = -1;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		cfg_msg(errbuf, errlen, "%s: cannot read: %s", file, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		cfg_msg(errbuf, errlen, "%s: cannot read: %s", file, strerror(EISDIR));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cfg_msg(errbuf, errlen,
		        "%s: not a regular file (a FIFO, device or folder): give the path of a "
		        "configuration file",
		        file);
		goto out;
	}
	buf = malloc(CFG_MAX_FILE_SIZE + 2);
	if (buf == NULL) {
		cfg_msg(errbuf, errlen, "%s: cannot read: %s", file, strerror(ENOMEM));
		goto out;
	}
	while (used <= CFG_MAX_FILE_SIZE) {
		n = read(fd, buf + used, CFG_MAX_FILE_SIZE + 1 - used);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			cfg_msg(errbuf, errlen, "%s: cannot read: %s", file, strerror(errno));
			goto out;
		}
		if (n == 0) {
			break;
		}
		used += (size_t)n;
	}
	if (used > CFG_MAX_FILE_SIZE) {
		cfg_msg(errbuf, errlen, "%s: file is larger than 1 MiB; this is not a config file",
		        file);
		goto out;
	}
	buf[used] = '\0';
	*text = buf;
	*len = used;
	buf = NULL;
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	free(buf);
	return rc;
}

int cfg_load_file(const char *file, struct pxe_config **out, char *errbuf, size_t errlen)
{
	char *text = NULL;
	const char *nul = NULL;
	size_t len = 0;
	size_t i = 0;
	int line = 1;
	int rc = -1;

	cfg_msg(errbuf, errlen, "%s", "");
	if (out != NULL) {
		*out = NULL;
	}
	if (file == NULL || out == NULL) {
		cfg_msg(errbuf, errlen, "no file or no result pointer given");
		goto out;
	}
	if (cfg_read_file(file, &text, &len, errbuf, errlen) < 0) {
		goto out;
	}
	nul = memchr(text, '\0', len);
	if (nul != NULL) {
		for (i = 0; text + i < nul; i++) {
			line += text[i] == '\n';
		}
		cfg_msg(errbuf, errlen, "%s:%d: file contains a NUL byte; this is not a text file",
		        file, line);
		goto out;
	}
	rc = cfg_load_buffer(text, file, true, out, errbuf, errlen);
out:
	free(text);
	return rc;
}

const char *cfg_default_path(void)
{
	const char *env = getenv(CFG_ENV_PATH);

	return env != NULL && *env != '\0' ? env : CFG_DEFAULT_PATH;
}

static void cfg_drive_fini(struct cfg_drive *d)
{
	free(d->name);
	free(d->path);
	free(d->uuid);
	free(d->label);
}

void cfg_free(struct pxe_config *cfg)
{
	size_t i = 0;

	if (cfg == NULL) {
		return;
	}
	for (i = 0; i < cfg->n_drives; i++) {
		cfg_drive_fini(&cfg->drives[i]);
	}
	free(cfg->drives);
	for (i = 0; i < cfg->share.n_params; i++) {
		free(cfg->share.params[i].key);
		free(cfg->share.params[i].value);
	}
	free(cfg->share.params);
	free(cfg->share.name);
	free(cfg->share.interfaces);
	free(cfg->share.valid_users);
	free(cfg->share.write_list);
	free(cfg->share.include_file);
	free(cfg->share.smb_conf);
	free(cfg->file);
	free(cfg->mountpoint);
	free(cfg->images_path);
	free(cfg->state_dir);
	free(cfg->run_dir);
	free(cfg);
}
