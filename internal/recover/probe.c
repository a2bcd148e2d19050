/* Does a member answer now? One GET /1.0 per member, all at once on a
 * curl multi handle, each given up after its timeout, so that the whole
 * check is bounded by one timeout however many members there are.
 *
 * This member's own certificate is presented (a member admits its peers'
 * certificates); the peer's certificate is not verified: any HTTP answer
 * at that address, from whatever holds it, means that recovering now
 * could split the cluster, so it counts. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "internal/lib/mem.h"
#include "internal/recover/recover.h"

static size_t discard(char *ptr, size_t size, size_t n, void *data)
{
	(void)ptr;
	(void)data;
	return size * n;
}

static CURL *probe_handle(const char *cert, const char *key,
			  struct recover_probe *p, char *url, size_t size,
			  long timeout_ms)
{
	CURL *h = curl_easy_init();
	if (h == NULL) {
		snprintf(p->problem, sizeof p->problem, "curl: out of memory");
		return NULL;
	}
	snprintf(url, size, "https://%s/1.0", p->address);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
	curl_easy_setopt(h, CURLOPT_SSLKEY, key);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_PRIVATE, p);
	return h;
}

void recover_probe_all(const char *dir, struct recover_probe *probes, size_t n,
		       long timeout_ms)
{
	char *cert = tm_asprintf("%s/server.crt", dir);
	char *key = tm_asprintf("%s/server.key", dir);
	CURLM *multi = curl_multi_init();
	CURL **handles = tm_calloc(n + 1, sizeof *handles);
	char(*urls)[300] = tm_calloc(n + 1, sizeof *urls);
	for (size_t i = 0; i < n; i++) {
		probes[i].answers = false;
		snprintf(probes[i].problem, sizeof probes[i].problem,
			 "no answer");
		handles[i] = probe_handle(cert, key, &probes[i], urls[i],
					  sizeof urls[i], timeout_ms);
		if (handles[i] != NULL) {
			curl_multi_add_handle(multi, handles[i]);
		}
	}
	/* Bounded: every transfer ends by its own timeout. */
	int running = 1;
	while (running > 0) {
		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			break;
		}
		if (running > 0) {
			curl_multi_poll(multi, NULL, 0, 100, NULL);
		}
	}
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE) {
			continue;
		}
		struct recover_probe *p;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		long code = 0;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
				  &code);
		if (msg->data.result == CURLE_OK && code > 0) {
			p->answers = true;
			snprintf(p->problem, sizeof p->problem,
				 "answered HTTP %ld", code);
		} else {
			snprintf(p->problem, sizeof p->problem, "%s",
				 curl_easy_strerror(msg->data.result));
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (handles[i] != NULL) {
			curl_multi_remove_handle(multi, handles[i]);
			curl_easy_cleanup(handles[i]);
		}
	}
	curl_multi_cleanup(multi);
	tm_free(urls);
	tm_free(handles);
	tm_free(cert);
	tm_free(key);
}
