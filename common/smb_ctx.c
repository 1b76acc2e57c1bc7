/* smb_ctx.c -- one libsmbclient context setup and its credentials (smb_ctx.h). */
#include "smb_ctx.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#if defined(__SANITIZE_ADDRESS__)
#define PXE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PXE_LSAN 1
#endif
#endif
#ifdef PXE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

void smb_creds_user(struct smb_creds *c, const char *user)
{
	const char *sep = user ? strpbrk(user, "\\/") : NULL;

	c->guest = !user;
	c->domain[0] = c->user[0] = '\0';
	if (!user) {
		return;
	}
	if (sep) {
		snprintf(c->domain, sizeof(c->domain), "%.*s", (int)(sep - user), user);
		user = sep + 1;
	}
	snprintf(c->user, sizeof(c->user), "%s", user);
}

int smb_password_file(const char *file, char *out, size_t len)
{
	FILE *f = fopen(file, "re");

	out[0] = '\0';
	if (!f) {
		return -errno;
	}
	if (!fgets(out, (int)len, f)) {
		out[0] = '\0';
	}
	out[strcspn(out, "\r\n")] = '\0';
	fclose(f);
	return 0;
}

void smb_creds_wipe(struct smb_creds *c)
{
	explicit_bzero(c->password, sizeof(c->password));
}

static void auth(SMBCCTX *ctx, const char *srv, const char *shr, char *wg, int wglen, char *un,
                 int unlen, char *pw, int pwlen)
{
	const struct smb_creds *c = smbc_getOptionUserData(ctx);

	(void)srv;
	(void)shr;
	if (c->domain[0]) {
		snprintf(wg, (size_t)wglen, "%s", c->domain);
	}
	snprintf(un, (size_t)unlen, "%s", c->guest ? "" : c->user);
	snprintf(pw, (size_t)pwlen, "%s", c->guest ? "" : c->password);
}

static void log_cb(void *priv, int level, const char *msg)
{
	(void)priv;
	log_debug("libsmbclient[%d]: %.*s", level, (int)strcspn(msg, "\n"), msg);
}

SMBCCTX *smb_ctx_new(const struct smb_creds *c, int port, int timeout_ms,
                     smbc_smb_encrypt_level level)
{
	SMBCCTX *ctx = NULL;

#ifdef PXE_LSAN
	__lsan_disable(); /* libsmbclient 4.17 leaks one talloc chunk per context: not ours */
#endif
	ctx = smbc_new_context();
#ifdef PXE_LSAN
	__lsan_enable();
#endif
	if (!ctx) {
		errno = errno ? errno : ENOMEM;
		return NULL;
	}
	smbc_setDebug(ctx, 0);
	smbc_setOptionDebugToStderr(ctx, 1);
	smbc_setLogCallback(ctx, NULL, log_cb);
	smbc_setOptionUserData(ctx, (void *)c);
	smbc_setFunctionAuthDataWithContext(ctx, auth);
	smbc_setPort(ctx, (uint16_t)port);
	smbc_setTimeout(ctx, timeout_ms);
	smbc_setOptionUseKerberos(ctx, 0);
	smbc_setOptionFallbackAfterKerberos(ctx, 0);
	smbc_setOptionNoAutoAnonymousLogin(ctx, 1);
	smbc_setOptionUseCCache(ctx, 0);
	if (level != SMBC_ENCRYPTLEVEL_DEFAULT) {
		smbc_setOptionSmbEncryptionLevel(ctx, level);
	}
	if (!smbc_init_context(ctx)) {
		int e = errno;
		smbc_free_context(ctx, 0);
		errno = e ? e : ENOMEM;
		return NULL;
	}
	smbc_setOptionProtocols(ctx, "SMB2_02", "SMB3");
	return ctx;
}
