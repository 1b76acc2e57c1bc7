/* fuzz_config.c -- libFuzzer harness of the configuration parser (config/) and of the smb.conf
 * text generated from what it accepts (export/share.c).
 *
 * The input is a pxeimagesfs.conf. Whatever is accepted must generate smb.conf text that
 * Samba reads as we mean it: no line ending in '\' (a continuation would swallow the next
 * generated line), no control character, section headers only where we write them, and one
 * definition of the share with the view's path. A violation aborts (a finding). No I/O.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "export.h"
#include "smbconf.h"

static void check_lines(const char *text, const char *share, int want_sections)
{
	const char *line = NULL;
	const char *p = NULL;
	const char *end = NULL;
	char want[256];
	size_t pos = 0;
	size_t n = 0;
	int sections = 0;

	snprintf(want, sizeof(want), "[%s]", share);
	while (samba_next_line(text, &pos, &line, &n)) {
		end = samba_trim_end(line, line + n);
		p = samba_skip_ws(line, end);
		for (const char *c = line; c < line + n; c++) {
			if (*c != '\t' && (unsigned char)*c < 0x20) {
				abort(); /* a control character in a generated line */
			}
		}
		if (end > p && end[-1] == '\\' && *p != '#') {
			abort(); /* a line continuation in generated text */
		}
		if (p < end && *p == '[') {
			sections++;
			if (!((size_t)(end - p) == strlen(want) &&
			      !memcmp(p, want, strlen(want))) &&
			    !((size_t)(end - p) == 8 && !memcmp(p, "[global]", 8))) {
				abort(); /* a section we did not mean to write */
			}
		}
	}
	if (sections != want_sections) {
		abort();
	}
}

static void check_share(const struct pxe_config *cfg, const char *text)
{
	struct samba_conf_facts f;
	char path[8192];

	if (samba_share_path(cfg, cfg->mountpoint, path, sizeof(path)) < 0) {
		return;
	}
	if (samba_conf_scan(text, cfg->share.name, true, &f) < 0) {
		return; /* out of memory */
	}
	if (f.n_defs != 1 || !f.defs[0].path || strcmp(f.defs[0].path, path) != 0 ||
	    f.n_incs != 0) {
		abort(); /* the share is not the one generated, with the view's path */
	}
	samba_conf_facts_fini(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pxe_config *cfg = NULL;
	char err[4096];
	char *text = malloc(size + 1);
	char *block = NULL;
	char *priv = NULL;

	if (!text) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (cfg_load_string(text, "fuzz.conf", &cfg, err, sizeof(err)) == 0) {
		block = samba_share_block(cfg, cfg->mountpoint);
		priv = samba_private_conf(cfg, cfg->mountpoint);
		if (block) {
			check_lines(block, cfg->share.name, 1);
			check_share(cfg, block);
		}
		if (priv) {
			check_lines(priv, cfg->share.name, 2);
			check_share(cfg, priv);
			if (cfg->share.interfaces &&
			    !strstr(priv, "\n\tbind interfaces only = yes\n")) {
				abort();
			}
		}
		free(block);
		free(priv);
		cfg_free(cfg);
	} else if (strlen(err) >= sizeof(err) || (err[0] == '\0')) {
		abort(); /* a rejection must say why */
	}
	free(text);
	return 0;
}
