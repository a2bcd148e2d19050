/* Recovery from a lost quorum: the configuration decoder against raft's
 * own encoder, the plan made from --survivors and --address, and the
 * configuration written by recover_apply read back by recover_log_read on
 * a real raft_uv directory, which reading leaves unchanged. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"
#include "internal/recover/recover.h"

static void three(struct raft_configuration *c)
{
	raft_configuration_init(c);
	assert_int_equal(
	    raft_configuration_add(c, 1, "127.0.46.1:8443", RAFT_VOTER), 0);
	assert_int_equal(raft_configuration_add(
			     c, 4294967297ULL, "127.0.46.2:8443", RAFT_STANDBY),
			 0);
	assert_int_equal(
	    raft_configuration_add(c, 5, "host.example:1", RAFT_SPARE), 0);
}

static void test_conf_decodes_raft_encoding(void **state)
{
	(void)state;
	struct raft_configuration c;
	three(&c);
	struct raft_buffer buf;
	assert_int_equal(raft_configuration_encode(&c, &buf), 0);
	struct raft_configuration d;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(recover_conf_decode(buf.base, buf.len, &d, errmsg), 0);
	assert_int_equal(d.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_true(d.servers[i].id == c.servers[i].id);
		assert_string_equal(d.servers[i].address, c.servers[i].address);
		assert_int_equal(d.servers[i].role, c.servers[i].role);
	}
	raft_configuration_close(&d);
	/* Every cut is refused, never read past. */
	for (size_t len = 0; len < 40; len++) {
		void *cut = tm_malloc(len + 1);
		memcpy(cut, buf.base, len);
		int rv = recover_conf_decode(cut, len, &d, errmsg);
		assert_int_equal(rv, TM_CORRUPT);
		tm_free(cut);
	}
	((unsigned char *)buf.base)[0] = 2;
	assert_int_equal(recover_conf_decode(buf.base, buf.len, &d, errmsg),
			 TM_CORRUPT);
	assert_non_null(strstr(errmsg, "unknown format"));
	raft_free(buf.base);
	raft_configuration_close(&c);
}

static struct nodedb_raft_node list[] = {
    {1, "127.0.46.1:8443", RAFT_VOTER, "n1", "aa"},
    {2, "127.0.46.2:8443", RAFT_VOTER, "n2", "bb"},
    {3, "127.0.46.3:8443", RAFT_VOTER, "n3", "cc"},
};

static void conf_of_list(struct raft_configuration *c)
{
	raft_configuration_init(c);
	for (int i = 0; i < 3; i++) {
		raft_configuration_add(c, list[i].id, list[i].address,
				       RAFT_VOTER);
	}
}

static void test_plan_default_is_this_member_alone(void **state)
{
	(void)state;
	struct raft_configuration c;
	conf_of_list(&c);
	struct recover_plan p;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(
	    recover_plan_make(2, list, 3, &c, NULL, NULL, 0, &p, errmsg), 0);
	assert_int_equal(p.conf.n, 1);
	assert_true(p.conf.servers[0].id == 2);
	assert_int_equal(p.conf.servers[0].role, RAFT_VOTER);
	assert_int_equal(p.n_nodes, 1);
	assert_string_equal(p.nodes[0].fingerprint, "bb");
	assert_int_equal(p.n_lost, 2);
	assert_string_equal(p.lost[0].name, "n1");
	assert_string_equal(p.lost[1].name, "n3");
	assert_null(p.self_address);
	recover_plan_clear(&p);
	raft_configuration_close(&c);
}

static void test_plan_survivors_and_moves(void **state)
{
	(void)state;
	struct raft_configuration c;
	conf_of_list(&c);
	/* A standby only raft knows of (no name): lost. */
	raft_configuration_add(&c, 9, "127.0.46.9:8443", RAFT_STANDBY);
	struct recover_move moves[] = {{"n2", "127.0.46.12"},
				       {"n1", "127.0.46.11:9000"}};
	struct recover_plan p;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(
	    recover_plan_make(1, list, 3, &c, "n2,n1", moves, 2, &p, errmsg),
	    0);
	assert_int_equal(p.conf.n, 2);
	assert_string_equal(p.conf.servers[0].address, "127.0.46.11:9000");
	assert_string_equal(p.conf.servers[1].address, "127.0.46.12:8443");
	assert_string_equal(p.self_address, "127.0.46.11:9000");
	assert_int_equal(p.n_lost, 2);
	assert_string_equal(p.lost[0].name, "n3");
	assert_true(p.lost[1].id == 9);
	recover_plan_clear(&p);
	raft_configuration_close(&c);
}

static void refused(const char *survivors, const struct recover_move *moves,
		    size_t n_moves, const char *want)
{
	struct raft_configuration c;
	conf_of_list(&c);
	struct recover_plan p;
	char errmsg[TM_ERRMSG_SIZE] = "";
	assert_int_equal(recover_plan_make(1, list, 3, &c, survivors, moves,
					   n_moves, &p, errmsg),
			 TM_INVALID);
	if (strstr(errmsg, want) == NULL) {
		fail_msg("\"%s\" does not say \"%s\"", errmsg, want);
	}
	raft_configuration_close(&c);
}

static void test_plan_refusals(void **state)
{
	(void)state;
	refused("n1,n9", NULL, 0,
		"no member named \"n9\" in this member's list (members: n1, "
		"n2, n3)");
	refused("n2,n3", NULL, 0, "this member (n1) must be among");
	refused("n1,n1", NULL, 0, "\"n1\" is named twice");
	struct recover_move to_lost = {"n3", "127.0.46.13:8443"};
	refused("n1,n2", &to_lost, 1, "--address n3: not among the survivors");
	struct recover_move wild = {"n1", "0.0.0.0:8443"};
	refused(NULL, &wild, 1, "wildcard");
	struct recover_move bad = {"n1", "127.0.46.1:0"};
	refused(NULL, &bad, 1, "--address n1=127.0.46.1:0");
	struct recover_move clash = {"n1", "127.0.46.2:8443"};
	refused("n1,n2", &clash, 1, "would both be at 127.0.46.2:8443");
	struct recover_move twice[] = {{"n1", "127.0.46.5"},
				       {"n1", "127.0.46.6"}};
	refused(NULL, twice, 2, "given twice");
}

/* Names, sizes and modification times of DIR's entries, sorted. */
static char *listing(const char *dir, bool times)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	char *out = tm_strdup("");
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] == '.') {
			free(names[i]);
			continue;
		}
		char *path = tm_asprintf("%s/%s", dir, names[i]->d_name);
		struct stat st;
		assert_int_equal(lstat(path, &st), 0);
		char *more =
		    tm_asprintf("%s%s %lld %lld\n", out, names[i]->d_name,
				(long long)st.st_size,
				times ? (long long)st.st_mtim.tv_nsec : 0LL);
		tm_free(out);
		out = more;
		tm_free(path);
		free(names[i]);
	}
	free(names);
	return out;
}

static void test_apply_then_read(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/tm-recover-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char *global = tm_asprintf("%s/global", tmpl);
	assert_int_equal(mkdir(global, 0700), 0);
	char errmsg[TM_ERRMSG_SIZE] = "";
	struct raft_configuration c;
	three(&c);
	assert_int_equal(recover_apply(tmpl, &c, errmsg), 0);
	struct raft_configuration one;
	raft_configuration_init(&one);
	raft_configuration_add(&one, 5, "127.0.46.5:8443", RAFT_VOTER);
	assert_int_equal(recover_apply(tmpl, &one, errmsg), 0);

	char *before = listing(global, true);
	struct recover_log log;
	int rv = recover_log_read(tmpl, &log, errmsg);
	if (rv != 0) {
		fail_msg("%s", errmsg);
	}
	assert_true(log.last_index == 2);
	assert_true(log.last_term == 1);
	assert_true(log.first_index == 1);
	assert_true(log.conf_index == 2);
	assert_int_equal(log.conf.n, 1);
	assert_true(log.conf.servers[0].id == 5);
	recover_log_clear(&log);
	char *after = listing(global, true);
	assert_string_equal(before, after);
	/* No copy left behind. */
	char *top = listing(tmpl, true);
	assert_string_equal(strstr(top, "recover-inspect") == NULL ? "" : top,
			    "");

	char *local = tm_asprintf("%s/local.db", tmpl);
	assert_int_equal(fs_write_atomic(local, "x", 1, 0600, errmsg), 0);
	char *backup = NULL;
	assert_int_equal(recover_backup(tmpl, &backup, errmsg), 0);
	assert_non_null(strstr(backup, "/recover-backup-"));
	char *copied = tm_asprintf("%s/global", backup);
	char *want = listing(global, false);
	char *got = listing(copied, false);
	assert_string_equal(want, got);
	char *local_copy = tm_asprintf("%s/local.db", backup);
	assert_true(fs_exists(local_copy));
	tm_free(local_copy);
	tm_free(want);
	tm_free(got);
	tm_free(copied);
	tm_free(backup);
	tm_free(local);
	tm_free(top);
	tm_free(before);
	tm_free(after);
	raft_configuration_close(&one);
	raft_configuration_close(&c);
	fs_remove_tree(tmpl, errmsg);
	tm_free(global);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conf_decodes_raft_encoding),
	    cmocka_unit_test(test_plan_default_is_this_member_alone),
	    cmocka_unit_test(test_plan_survivors_and_moves),
	    cmocka_unit_test(test_plan_refusals),
	    cmocka_unit_test(test_apply_then_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
