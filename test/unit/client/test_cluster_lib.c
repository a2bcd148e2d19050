/* libthermionic's clustering calls against a scripted server: request
 * shapes, name encoding, shape checks, and refused arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkg/thermionic.h"
#include "test/unit/client/fake_server.h"

struct fixture {
	struct fake_server server;
	struct thermionic_client *client;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	fake_server_start_unix(&f->server);
	assert_int_equal(
	    thermionic_connect_unix(f->server.socket_path, &f->client),
	    THERMIONIC_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	thermionic_close(f->client);
	fake_server_stop(&f->server);
	free(f);
	return 0;
}

static void assert_request(struct fake_server *s, size_t i, const char *line,
			   const char *body)
{
	char *got = fake_server_request_line(s, i);
	assert_non_null(got);
	assert_string_equal(got, line);
	free(got);
	got = fake_server_request_body(s, i);
	assert_string_equal(got, body);
	free(got);
}

static void test_cluster_state(void **state)
{
	struct fixture *f = *state;
	cJSON *cluster = (cJSON *)1;

	fake_server_sync(&f->server, "{\"state\":\"joining\",\"extra\":1}",
			 NULL);
	assert_int_equal(
	    thermionic_cluster_join(f->client, "T", NULL, false, &cluster),
	    THERMIONIC_OK);
	assert_string_equal(cJSON_GetObjectItem(cluster, "state")->valuestring,
			    "joining");
	/* Fields the library does not know pass through. */
	assert_non_null(cJSON_GetObjectItem(cluster, "extra"));
	cJSON_Delete(cluster);
	assert_request(&f->server, 0, "PUT /1.0/cluster",
		       "{\"enabled\":true,\"token\":\"T\",\"force\":false}");

	fake_server_sync(&f->server, "{\"enabled\":true}", NULL);
	assert_int_equal(thermionic_cluster_get(f->client, &cluster),
			 THERMIONIC_ERR_PROTO);
	assert_null(cluster);
	assert_non_null(strstr(thermionic_errmsg(f->client),
			       "cluster state without \"state\""));

	fake_server_sync(&f->server, "{\"state\":\"member\"}", NULL);
	assert_int_equal(thermionic_cluster_enable(f->client, "n1", NULL),
			 THERMIONIC_OK);

	/* Refused before anything is sent. */
	assert_int_equal(thermionic_cluster_enable(f->client, "", NULL),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(
	    thermionic_cluster_join(f->client, NULL, NULL, false, NULL),
	    THERMIONIC_ERR_INVALID);
	assert_int_equal(thermionic_cluster_get(NULL, &cluster),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(fake_server_n_requests(&f->server), 3);
}

static void test_members(void **state)
{
	struct fixture *f = *state;
	cJSON *list = (cJSON *)1;
	cJSON *changes;

	fake_server_sync(&f->server, "null", NULL);
	assert_int_equal(thermionic_cluster_member_list(f->client, &list),
			 THERMIONIC_OK);
	assert_true(cJSON_IsArray(list));
	assert_int_equal(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);

	fake_server_sync(&f->server, "{\"name\":\"n1\"}", NULL);
	assert_int_equal(thermionic_cluster_member_list(f->client, &list),
			 THERMIONIC_ERR_PROTO);
	assert_null(list);

	/* Names are percent-encoded: no escaping the path. */
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(
	    thermionic_cluster_member_rename(f->client, "../x?y", "n/2"),
	    THERMIONIC_OK);
	assert_request(&f->server, 2, "POST /1.0/cluster/members/..%2Fx%3Fy",
		       "{\"name\":\"n/2\"}");

	changes = cJSON_CreateObject();
	cJSON_AddStringToObject(changes, "description", "d");
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(
	    thermionic_cluster_member_patch(f->client, "n1", changes),
	    THERMIONIC_OK);
	cJSON_Delete(changes);
	assert_request(&f->server, 3, "PATCH /1.0/cluster/members/n1",
		       "{\"description\":\"d\"}");

	assert_int_equal(thermionic_cluster_member_patch(f->client, "n1", NULL),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(thermionic_cluster_member_remove(f->client, "", true),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(thermionic_cluster_member_rename(f->client, "n1", ""),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(thermionic_cluster_token_revoke(f->client, NULL),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(thermionic_cluster_member_remove(f->client, "..", 0),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(fake_server_n_requests(&f->server), 4);

	fake_server_error(&f->server, 404, "member not found");
	assert_int_equal(thermionic_cluster_member_get(f->client, "n9", &list),
			 THERMIONIC_ERR_HTTP);
	assert_null(list);
	assert_int_equal(thermionic_status(f->client), 404);
	assert_string_equal(thermionic_errmsg(f->client), "member not found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cluster_state, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_members, setup, teardown),
	};
	return cmocka_run_group_tests_name("client-cluster-lib", tests, NULL,
					   NULL);
}
