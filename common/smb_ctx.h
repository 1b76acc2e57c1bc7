/* smb_ctx.h -- a libsmbclient context set up one way for every SMB client here (`check` reading
 * a share back, `migrate --from smb://` pulling from an old server), and the credentials it
 * logs on with.
 *
 * Each context: the credentials of a struct smb_creds (borrowed: it must outlive the context),
 * no Kerberos, no credential cache, no anonymous fallback, an explicit port, SMB2_02..SMB3, a
 * request timeout, libsmbclient's log at debug level in ours. What a context is then used for
 * is the caller's. Not thread-safe: libsmbclient's settings and logging are process-wide.
 */
#ifndef PXE_SMB_CTX_H
#define PXE_SMB_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include <libsmbclient.h>

struct smb_creds {
	char domain[128]; /* "" for none */
	char user[256];
	char password[512];
	bool guest; /* log on as guest: user and password sent empty */
};

/* smb_creds_user -- USER ("[DOMAIN\]NAME" or "DOMAIN/NAME"; NULL: guest) into C; the
 * password is left as it is. */
void smb_creds_user(struct smb_creds *c, const char *user);

/* smb_password_file -- the first line of FILE (at most LEN - 1 bytes, no line end) into OUT.
 * 0, or -errno (OUT empty) when FILE cannot be read. */
int smb_password_file(const char *file, char *out, size_t len);

/* smb_creds_wipe -- the password forgotten (explicit_bzero). */
void smb_creds_wipe(struct smb_creds *c);

/* smb_ctx_new -- a new initialised context logging on with C (borrowed) to PORT, each request
 * bounded by TIMEOUT_MS, with the encryption LEVEL (SMBC_ENCRYPTLEVEL_DEFAULT: libsmbclient's
 * own; _REQUIRE makes libsmbclient insist on a session keyed by the password, which a guest
 * session cannot give). NULL with errno set. Free with smbc_free_context(ctx, 1). */
SMBCCTX *smb_ctx_new(const struct smb_creds *c, int port, int timeout_ms,
                     smbc_smb_encrypt_level level);

#endif /* PXE_SMB_CTX_H */
