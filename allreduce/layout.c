/*
 * layout.c - the data and rank layouts the algorithms share: ar_block (near-equal contiguous
 * partition of a buffer) and ar_dtree (NCCL's double binary tree).
 */
#include "allreduce/internal.h"

size_t ar_block(size_t count, int nblocks, int i, size_t *len)
{
	size_t q = count / (size_t)nblocks, r = count % (size_t)nblocks, ui = (size_t)i;

	*len = q + (ui < r);
	return ui * q + (ui < r ? ui : r);
}

/*
 * NCCL's binary tree over ranks 0..n-1 (ncclGetBtree): rank r's level is its lowest set bit;
 * its parent clears that bit and sets the next one up (or just clears it when that is out of
 * range); its children are r -/+ half the lowest bit (the + child shrinks until it is in
 * range).  Rank 0 is the root with a single child, the highest power of two below n.
 */
static void btree(int n, int r, int *parent, int *child0, int *child1)
{
	int bit, up, lowbit, down1;

	for (bit = 1; bit < n; bit <<= 1)
		if (bit & r)
			break;
	if (r == 0) {
		*parent = -1;
		*child0 = -1;
		*child1 = n > 1 ? bit >> 1 : -1;
		return;
	}
	up = (r ^ bit) | (bit << 1);
	if (up >= n)
		up = r ^ bit;
	*parent = up;
	lowbit = bit >> 1;
	*child0 = lowbit == 0 ? -1 : r - lowbit;
	down1 = lowbit == 0 ? -1 : r + lowbit;
	while (down1 >= n) {
		lowbit >>= 1;
		down1 = lowbit == 0 ? -1 : r + lowbit;
	}
	*child1 = down1;
}

/* Map a rank through f (mirror or shift) keeping -1 as -1. */
static int remap(int x, int n, bool mirror)
{
	if (x < 0)
		return -1;
	return mirror ? n - 1 - x : (x + 1) % n;
}

void ar_dtree(int n, int r, int t, int *parent, int *child0, int *child1)
{
	bool mirror = n % 2 == 0;
	int u, d0, d1;

	if (t == 0) {
		btree(n, r, parent, child0, child1);
		return;
	}
	/* tree 1: NCCL's ncclGetDtree, mirrored when n is even, shifted by one when odd */
	btree(n, mirror ? n - 1 - r : (r - 1 + n) % n, &u, &d0, &d1);
	*parent = remap(u, n, mirror);
	*child0 = remap(d0, n, mirror);
	*child1 = remap(d1, n, mirror);
}
