/* bench-sql's etcd target (bench_etcd.h). */
#include "bench_etcd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

/* TEXT in base64 into OUT, which holds at least 4 * ceil(len / 3) + 1
 * bytes. */
static const char *b64(char *out, const char *text)
{
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text,
			(int)strlen(text));
	return out;
}

void etcd_put_body(char *out, size_t cap, long n)
{
	char key[48];
	char value[32];
	char key64[68];
	char value64[48];
	snprintf(key, sizeof key, "bench-%ld-%ld", (long)getpid(), n);
	snprintf(value, sizeof value, "value-%ld", n);
	snprintf(out, cap, "{\"key\":\"%s\",\"value\":\"%s\"}", b64(key64, key),
		 b64(value64, value));
}

void etcd_range_body(char *out, size_t cap, long n, bool serializable)
{
	char key[32];
	char key64[48];
	snprintf(key, sizeof key, "bench-read-%ld", n);
	snprintf(out, cap, "{\"key\":\"%s\"%s}", b64(key64, key),
		 serializable ? ",\"serializable\":true" : "");
}

int etcd_txn_body(char *out, size_t cap, long first, long count)
{
	size_t len = 0;
	for (long n = first; n < first + count; n++) {
		char key[32];
		char value[32];
		char key64[48];
		char value64[48];
		snprintf(key, sizeof key, "bench-read-%ld", n);
		snprintf(value, sizeof value, "value-%ld", n);
		int w = snprintf(
		    out + len, cap - len,
		    "%s{\"requestPut\":{\"key\":\"%s\",\"value\":\"%s\"}}",
		    n == first ? "{\"success\":[" : ",", b64(key64, key),
		    b64(value64, value));
		if (w < 0 || (size_t)w >= cap - len) {
			return -1;
		}
		len += (size_t)w;
	}
	int w = snprintf(out + len, cap - len, "]}");
	return w < 0 || (size_t)w >= cap - len ? -1 : 0;
}

bool etcd_answer_ok(bool read, const char *body)
{
	if (read) {
		return strstr(body, "\"kvs\":[{\"key\":") != NULL &&
		       strstr(body, "\"count\":\"1\"") != NULL;
	}
	return strstr(body, "\"header\":{") != NULL &&
	       strstr(body, "\"revision\":\"") != NULL;
}
