/* LD_PRELOAD helper: write TLS secrets of an OpenSSL 3 program to $SSLKEYLOGFILE */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/ssl.h>
static void cb(const SSL *s, const char *line) {
	(void)s;
	const char *f = getenv("SSLKEYLOGFILE");
	FILE *fp;
	if (!f || !(fp = fopen(f, "a"))) return;
	fprintf(fp, "%s\n", line);
	fclose(fp);
}
SSL *SSL_new(SSL_CTX *ctx) {
	static SSL *(*real)(SSL_CTX *);
	if (!real) real = (SSL *(*)(SSL_CTX *))dlsym(RTLD_NEXT, "SSL_new");
	if (ctx) SSL_CTX_set_keylog_callback(ctx, cb);
	return real(ctx);
}
