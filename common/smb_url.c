/* smb_url.c -- smb://host[:port]/share[/folder] split and percent-decoded (smb_url.h). */
#include "smb_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Bytes [P, END) with percent escapes decoded into OUT (LEN); its length, -1 when too long. */
static long decode(const char *p, const char *end, char *out, size_t len)
{
	size_t n = 0;

	for (; p < end && n + 1 < len; p++) {
		if (*p == '%' && end - p >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			out[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return p == end ? (long)n : -1;
}

/* The folder below the share from the rest P of the URL: no slash at its end; "." and ".."
 * pieces refused. */
static int url_base(struct smb_url *u, const char *p)
{
	long n = decode(p, p + strlen(p), u->base, sizeof(u->base));

	while (n > 0 && u->base[n - 1] == '/') {
		u->base[--n] = '\0';
	}
	return n < 0 || strstr(u->base, "//") || !strcmp(u->base, ".") ||
	               !strcmp(u->base, "..") || !strncmp(u->base, "../", 3) ||
	               strstr(u->base, "/../") || (n >= 3 && !strcmp(u->base + n - 3, "/.."))
	           ? -1
	           : 0;
}

int smb_url_parse(const char *url, struct smb_url *u)
{
	const char *p = NULL;
	const char *end = NULL;
	char *num = NULL;
	long port = 445;

	if (strncasecmp(url, "smb://", 6) != 0 || strchr(url + 6, '@')) {
		return -1;
	}
	p = url + 6;
	end = p + strcspn(p, *p == '[' ? "]" : ":/");
	end += *p == '[' && *end == ']';
	if (end == p || (size_t)(end - p) >= sizeof(u->host)) {
		return -1;
	}
	snprintf(u->host, sizeof(u->host), "%.*s", (int)(end - p), p);
	p = end;
	if (*p == ':') {
		port = strtol(p + 1, &num, 10);
		if (num == p + 1 || port < 1 || port > 65535) {
			return -1;
		}
		p = num;
	}
	if (*p != '/') {
		return -1;
	}
	end = p + 1 + strcspn(p + 1, "/");
	if (end == p + 1 || decode(p + 1, end, u->share, sizeof(u->share)) <= 0 ||
	    url_base(u, end + strspn(end, "/")) < 0) {
		return -1;
	}
	u->port = (int)port;
	return 0;
}
