// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the hugetlb side of the hwpoison core (hugetlb.c) on the
 * pages it must leave to the base-page path: pages outside any hugetlb
 * folio.  Real hugetlb folios need a pool; the kselftests cover them.
 */
#include <kunit/test.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/page-flags.h>

#include "../memory-failure.h"
#include "mf_kunit.h"

/* A page nobody poisoned is not a known-bad page. */
static void is_raw_hwpoison_page_in_hugepage_clean_page_false(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	KUNIT_EXPECT_FALSE(test, is_raw_hwpoison_page_in_hugepage(page));
}

/* Outside hugetlb, a base page is bad exactly when it carries the mark. */
static void is_raw_hwpoison_page_in_hugepage_marked_page_true(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);
	bool bad;

	/* The mark is ours alone and gone before the page is freed. */
	SetPageHWPoison(page);
	bad = is_raw_hwpoison_page_in_hugepage(page);
	ClearPageHWPoison(page);
	KUNIT_EXPECT_TRUE(test, bad);
}

/* In a large non-hugetlb folio only the marked page itself is bad. */
static void is_raw_hwpoison_page_in_hugepage_large_folio_own_mark(struct kunit *test)
{
	struct folio *folio = mf_kunit_alloc_folio(test, 2);
	bool head_bad, tail_bad;

	KUNIT_ASSERT_FALSE(test, folio_test_hugetlb(folio));
	SetPageHWPoison(&folio->page);
	head_bad = is_raw_hwpoison_page_in_hugepage(&folio->page);
	tail_bad = is_raw_hwpoison_page_in_hugepage(folio_page(folio, 1));
	ClearPageHWPoison(&folio->page);
	KUNIT_EXPECT_TRUE(test, head_bad);
	KUNIT_EXPECT_FALSE(test, tail_bad);
}

struct mf_hugetlb_call {
	struct page *page;
	bool *handled;
	int ret;
};

static void mf_hugetlb_call(void *arg)
{
	struct mf_hugetlb_call *c = arg;

	c->ret = mf_hugetlb_failure(page_to_pfn(c->page), MF_SW_SIMULATED,
				    c->handled);
}

/* mf_hugetlb_failure() on @page, as memory_failure() calls it. */
static int mf_hugetlb_failure_on(struct page *page, bool *handled)
{
	struct mf_hugetlb_call c = { .page = page, .handled = handled };

	mf_kunit_locked(mf_hugetlb_call, &c);
	return c.ret;
}

/* A base page is handed back to the caller, untouched. */
static void mf_hugetlb_failure_base_page_not_handled(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);
	bool handled = true;

	KUNIT_EXPECT_EQ(test, mf_hugetlb_failure_on(page, &handled), 0);
	KUNIT_EXPECT_FALSE(test, handled);
	KUNIT_EXPECT_FALSE(test, PageHWPoison(page));
	KUNIT_EXPECT_EQ(test, page_count(page), 1);
}

/* A page of a large folio that is not hugetlb is not handled here either. */
static void mf_hugetlb_failure_large_folio_not_handled(struct kunit *test)
{
	struct folio *folio = mf_kunit_alloc_folio(test, 2);
	bool handled = true;

	KUNIT_EXPECT_EQ(test, mf_hugetlb_failure_on(folio_page(folio, 2),
						    &handled), 0);
	KUNIT_EXPECT_FALSE(test, handled);
	KUNIT_EXPECT_FALSE(test, folio_test_hwpoison(folio));
	KUNIT_EXPECT_FALSE(test, PageHWPoison(folio_page(folio, 2)));
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), 1);
}

static struct kunit_case mf_hugetlb_cases[] = {
	KUNIT_CASE(is_raw_hwpoison_page_in_hugepage_clean_page_false),
	KUNIT_CASE(is_raw_hwpoison_page_in_hugepage_marked_page_true),
	KUNIT_CASE(is_raw_hwpoison_page_in_hugepage_large_folio_own_mark),
	KUNIT_CASE(mf_hugetlb_failure_base_page_not_handled),
	KUNIT_CASE(mf_hugetlb_failure_large_folio_not_handled),
	{}
};

static struct kunit_suite mf_hugetlb_suite = {
	.name = "memory_failure_hugetlb",
	.test_cases = mf_hugetlb_cases,
};

kunit_test_suite(mf_hugetlb_suite);
