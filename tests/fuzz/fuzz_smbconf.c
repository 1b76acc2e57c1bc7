/* fuzz_smbconf.c -- libFuzzer harness of the smb.conf scanner and editor (export/smbconf.c).
 *
 * The input is an smb.conf (text without NUL, as sys_file_read admits). The editor must keep
 * its promises on any text: adding our include is idempotent and leaves it as the last line,
 * stripping undoes adding, commenting out a section keeps the number of lines, and the
 * scanner, testparm readers and the other helpers never read out of bounds. A broken promise
 * aborts (a finding). No I/O.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smbconf.h"

#define INC  "/etc/samba/pxeimagesfs.conf"
#define NAME "SMSPXEIMAGES$"

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		n += *s == '\n';
	}
	return n;
}

static void check_edits(const char *text)
{
	char *added = samba_conf_add_include(text, INC, INC);
	char *twice = added ? samba_conf_add_include(added, INC, INC) : NULL;
	char *strip = samba_conf_strip_include(text, INC, NULL);
	char *undone = added ? samba_conf_strip_include(added, INC, NULL) : NULL;
	static const char tail[] = "\ninclude = " INC "\n";
	size_t len = added ? strlen(added) : 0;

	if (added && (len < sizeof(tail) - 1 || strcmp(added + len - (sizeof(tail) - 1), tail))) {
		abort(); /* our include is not the last line */
	}
	if (added && twice && strcmp(added, twice) != 0) {
		abort(); /* adding is not idempotent */
	}
	/* stripping undoes adding, but for the newline added to a last line without one */
	if (strip && undone && strcmp(strip, undone) != 0 &&
	    !(strlen(undone) == strlen(strip) + 1 && !strncmp(strip, undone, strlen(strip)) &&
	      undone[strlen(strip)] == '\n')) {
		abort();
	}
	free(added);
	free(twice);
	free(strip);
	free(undone);
}

static void check_scan(const char *text)
{
	struct samba_conf_facts f;
	char *out = NULL;
	int last = 0;

	if (samba_conf_scan(text, NAME, true, &f) < 0) {
		return;
	}
	for (size_t i = 0; i < f.n_defs && i < 4; i++) {
		out = samba_conf_comment_section(text, f.defs[i].line, INC, &last);
		if (!out || lines(out) != lines(text) || last < f.defs[i].line) {
			abort(); /* a definition the editor cannot comment out, or lines lost */
		}
		free(out);
	}
	samba_conf_facts_fini(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = NULL;
	char *s = NULL;
	char name[64];
	char value[256];
	char first[128];

	if (memchr(data, '\0', size)) {
		return 0; /* sys_file_read refuses it */
	}
	text = malloc(size + 1);
	if (!text) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	check_edits(text);
	check_scan(text);
	(void)samba_conf_line(text, size, name, sizeof(name), value, sizeof(value));
	samba_first_line(text, first, sizeof(first));
	free(samba_testparm_unknown(text));
	free(samba_testparm_errors(text));
	(void)samba_text_bad(text);
	s = malloc(size + 1);
	if (s) {
		samba_comment_safe(text, s, size + 1);
		free(s);
	}
	free(text);
	return 0;
}
