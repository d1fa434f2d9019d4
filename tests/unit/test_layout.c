/*
 * test_layout.c - the data and rank layouts the algorithms rely on: ar_block partitions a
 * buffer exactly, and ar_dtree builds NCCL's double binary tree (consistent parent/child
 * links, one root, everyone reachable, at most two children, the two trees complementary).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "allreduce/allreduce.h"

/* Sum of lengths = count, blocks contiguous from 0, sizes differ by at most one and the
 * first count % nblocks blocks are the larger ones. */
static void check_block(size_t count, int nblocks)
{
	size_t expect_off = 0, q = count / (size_t)nblocks, r = count % (size_t)nblocks;

	for (int i = 0; i < nblocks; i++) {
		size_t len, off = ar_block(count, nblocks, i, &len);

		assert_int_equal(off, expect_off);
		assert_int_equal(len, q + ((size_t)i < r ? 1 : 0));
		expect_off += len;
	}
	assert_int_equal(expect_off, count);
}

static void test_block_partitions(void **state)
{
	static const size_t big[] = {1000003, 1u << 20, ((size_t)1 << 33) + 7};

	for (size_t count = 0; count <= 130; count++)
		for (int nb = 1; nb <= 70; nb++)
			check_block(count, nb);
	for (size_t k = 0; k < sizeof(big) / sizeof(big[0]); k++)
		for (int nb = 1; nb <= 1024; nb += nb < 16 ? 1 : 37)
			check_block(big[k], nb);
}

struct node {
	int parent, child[2];
};

static void get_tree(int n, int t, struct node *nodes)
{
	for (int r = 0; r < n; r++)
		ar_dtree(n, r, t, &nodes[r].parent, &nodes[r].child[0], &nodes[r].child[1]);
}

static bool is_inner(const struct node *x)
{
	return x->child[0] >= 0 || x->child[1] >= 0;
}

/* One tree over n ranks: links consistent both ways, one root, all reachable, <= 2 kids. */
static void check_tree(int n, const struct node *nodes)
{
	int roots = 0, seen[64] = {0}, queue[64], head = 0, tail = 0;

	for (int r = 0; r < n; r++) {
		const struct node *x = &nodes[r];

		assert_true(x->parent >= -1 && x->parent < n);
		assert_int_not_equal(x->parent, r);
		if (x->parent < 0) {
			roots++;
			queue[tail++] = r;
			seen[r] = 1;
		} else {
			const struct node *pa = &nodes[x->parent];

			/* r is a child of its parent */
			assert_true(pa->child[0] == r || pa->child[1] == r);
		}
		for (int j = 0; j < 2; j++) {
			int c = x->child[j];

			assert_true(c >= -1 && c < n);
			if (c >= 0) {
				assert_int_equal(nodes[c].parent, r); /* c's parent is r */
				assert_int_not_equal(c, x->child[1 - j]);
			}
		}
	}
	assert_int_equal(roots, 1);
	while (head < tail) {
		int r = queue[head++];

		for (int j = 0; j < 2; j++) {
			int c = nodes[r].child[j];

			if (c < 0)
				continue;
			assert_int_equal(seen[c], 0); /* a tree: no node reached twice */
			seen[c] = 1;
			queue[tail++] = c;
		}
	}
	assert_int_equal(tail, n);
}

static void test_dtree(void **state)
{
	struct node t0[64], t1[64];

	for (int n = 1; n <= 64; n++) {
		int both = 0;

		get_tree(n, 0, t0);
		get_tree(n, 1, t1);
		check_tree(n, t0);
		check_tree(n, t1);
		for (int r = 0; r < n; r++)
			both += is_inner(&t0[r]) && is_inner(&t1[r]);
		/*
		 * NCCL's guarantee: with n even the second tree is the mirror image and no rank is
		 * an inner node of both; with n odd it is the first tree shifted by one, which
		 * leaves exactly one rank inner in both.
		 */
		if (n % 2 == 0)
			assert_int_equal(both, 0);
		else if (n >= 3)
			assert_int_equal(both, 1);
	}
}

/* Tree 0 is NCCL's ncclGetBtree: rank 0 roots it with one child, the bit trick below it. */
static void test_dtree_matches_nccl(void **state)
{
	/* n = 12, from NCCL's own diagram in src/graph/trees.cc */
	static const struct node expect0[12] = {
		{-1, {-1, 8}}, {2, {-1, -1}},  {4, {1, 3}},  {2, {-1, -1}},
		{8, {2, 6}},   {6, {-1, -1}},  {4, {5, 7}},  {6, {-1, -1}},
		{0, {4, 10}},  {10, {-1, -1}}, {8, {9, 11}}, {10, {-1, -1}},
	};
	struct node t0[13], t1[13];

	get_tree(12, 0, t0);
	get_tree(12, 1, t1);
	for (int r = 0; r < 12; r++) {
		assert_int_equal(t0[r].parent, expect0[r].parent);
		assert_int_equal(t0[r].child[0], expect0[r].child[0]);
		assert_int_equal(t0[r].child[1], expect0[r].child[1]);
		/* mirror: rank r in tree 1 plays 11 - r in tree 0 */
		assert_int_equal(t1[r].parent,
				 expect0[11 - r].parent < 0 ? -1 : 11 - expect0[11 - r].parent);
	}
	/* n = 13 (odd): tree 1 is tree 0 shifted by one rank */
	get_tree(13, 0, t0);
	get_tree(13, 1, t1);
	for (int r = 0; r < 13; r++) {
		int s = (r + 12) % 13;

		assert_int_equal(t1[r].parent, t0[s].parent < 0 ? -1 : (t0[s].parent + 1) % 13);
	}
	assert_int_equal(t1[1].parent, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_partitions),
		cmocka_unit_test(test_dtree),
		cmocka_unit_test(test_dtree_matches_nccl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
