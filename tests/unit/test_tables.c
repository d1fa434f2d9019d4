/*
 * test_tables.c - the algorithm and transport tables: every entry complete and findable by
 * its name, and the slots a transport cannot provide are stubs that return -EOPNOTSUPP
 * (so a verbs transport plugs in by filling them, and a caller can tell which it has).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "allreduce/allreduce.h"

static void test_algorithms_complete(void **state)
{
	static const char *const expected[] = {"ring", "tree", "hier", "rhd", "mpi"};

	assert_int_equal(ar_algo_count(), sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < ar_algo_count(); i++) {
		const struct ar_algo *a = ar_algo_at(i);

		assert_non_null(a);
		assert_string_equal(a->name, expected[i]);
		assert_non_null(a->summary);
		assert_true(strlen(a->summary) > 10);
		assert_non_null(a->run);
		assert_non_null(a->supports);
		assert_ptr_equal(ar_algo_find(a->name), a);
	}
	assert_null(ar_algo_at(ar_algo_count()));
	assert_null(ar_algo_find("nccl"));
	assert_null(ar_algo_find(NULL));
}

static void test_transports_complete(void **state)
{
	assert_true(ar_transport_count() >= 1);
	for (size_t i = 0; i < ar_transport_count(); i++) {
		const struct ar_transport_ops *t = ar_transport_at(i);

		assert_non_null(t);
		assert_non_null(t->name);
		assert_ptr_equal(ar_transport_find(t->name), t);
		/* no NULL slot: unsupported ones point at a stub */
		assert_non_null(t->init);
		assert_non_null(t->fini);
		assert_non_null(t->reg_mem);
		assert_non_null(t->dereg_mem);
		assert_non_null(t->isend);
		assert_non_null(t->irecv);
		assert_non_null(t->test);
		assert_non_null(t->wait);
		assert_non_null(t->write_imm);
		assert_non_null(t->recv_imm);
		assert_non_null(t->mem_key);
		assert_non_null(t->last_error);
	}
	assert_null(ar_transport_at(ar_transport_count()));
	assert_null(ar_transport_find("carrier-pigeon"));
}

/* MPI point-to-point is two-sided: its one-sided slots are the stubs. */
static void test_mpi_one_sided_slots_are_stubs(void **state)
{
	const struct ar_transport_ops *t = ar_transport_find("mpi");
	struct ar_request *req = (struct ar_request *)0x1;
	uint64_t key = 42;
	uint32_t imm = 7;
	char buf[8];

	assert_non_null(t);
	assert_false(ar_transport_one_sided(t));
	assert_int_equal(t->write_imm(NULL, buf, sizeof(buf), NULL, 1, 0, 0, 5, &req), -EOPNOTSUPP);
	assert_ptr_equal(req, (struct ar_request *)0x1); /* left untouched */
	assert_int_equal(t->recv_imm(NULL, 1, &imm, &req), -EOPNOTSUPP);
	assert_int_equal(imm, 7);
	assert_int_equal(t->mem_key(NULL, NULL, &key), -EOPNOTSUPP);
	assert_int_equal(key, 42);
}

/* verbs fills every slot, the one-sided ones included, and reports its failures itself. */
static void test_verbs_slots(void **state)
{
	const struct ar_transport_ops *t = ar_transport_find("verbs");

	assert_non_null(t);
	assert_true(ar_transport_one_sided(t));
	assert_non_null(t->last_error);
	assert_ptr_not_equal(t->last_error, ar_transport_find("mpi")->last_error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_algorithms_complete),
		cmocka_unit_test(test_transports_complete),
		cmocka_unit_test(test_mpi_one_sided_slots_are_stubs),
		cmocka_unit_test(test_verbs_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
