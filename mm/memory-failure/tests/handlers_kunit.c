// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the page-state table (handlers.c) and of the core's idea
 * of a page it can handle (page.c).
 *
 * This file also carries the module information of memory_failure_kunit,
 * which links every suite of this directory.
 */
#include <kunit/test.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/page-flags.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "../../internal.h"
#include "../memory-failure.h"
#include "mf_kunit.h"

#define PF(flag)	BIT(PG_##flag)
#define PF_SWAPCACHE	(PF(swapcache) | PF(swapbacked))
#define PF_FIELDS	GENMASK(BITS_PER_LONG - 1, __NR_PAGEFLAGS)

/* One set of page flags and the page type it must be reported as. */
struct mf_classify_case {
	const char *desc;
	unsigned long flags;
	enum mf_action_page_type type;
};

static const struct mf_classify_case mf_classify_cases[] = {
	{ "reserved", PF(reserved), MF_MSG_KERNEL },
	{ "reserved beats lru", PF(reserved) | PF(lru) | PF(dirty),
	  MF_MSG_KERNEL },
	{ "reserved beats head", PF(reserved) | PF(head), MF_MSG_KERNEL },
	{ "head", PF(head), MF_MSG_HUGE },
	{ "head beats lru", PF(head) | PF(lru), MF_MSG_HUGE },
	{ "head beats swapcache", PF(head) | PF_SWAPCACHE | PF(dirty),
	  MF_MSG_HUGE },
	{ "dirty swapcache", PF_SWAPCACHE | PF(dirty), MF_MSG_DIRTY_SWAPCACHE },
	{ "clean swapcache", PF_SWAPCACHE, MF_MSG_CLEAN_SWAPCACHE },
	{ "dirty swapcache on lru", PF_SWAPCACHE | PF(lru) | PF(dirty),
	  MF_MSG_DIRTY_SWAPCACHE },
	{ "clean swapcache on lru", PF_SWAPCACHE | PF(lru),
	  MF_MSG_CLEAN_SWAPCACHE },
	{ "swapcache beats mlocked",
	  PF_SWAPCACHE | PF(mlocked) | PF(unevictable) | PF(lru) | PF(dirty),
	  MF_MSG_DIRTY_SWAPCACHE },
	{ "swapbacked without swapcache is lru",
	  PF(swapbacked) | PF(lru) | PF(dirty), MF_MSG_DIRTY_LRU },
	{ "PG_checked without swapbacked is lru",
	  PF(checked) | PF(lru), MF_MSG_CLEAN_LRU },
	{ "dirty mlocked", PF(mlocked) | PF(unevictable) | PF(lru) | PF(dirty),
	  MF_MSG_DIRTY_MLOCKED_LRU },
	{ "clean mlocked", PF(mlocked) | PF(unevictable) | PF(lru),
	  MF_MSG_CLEAN_MLOCKED_LRU },
	{ "dirty unevictable", PF(unevictable) | PF(lru) | PF(dirty),
	  MF_MSG_DIRTY_UNEVICTABLE_LRU },
	{ "clean unevictable", PF(unevictable) | PF(lru),
	  MF_MSG_CLEAN_UNEVICTABLE_LRU },
	{ "dirty lru", PF(lru) | PF(dirty), MF_MSG_DIRTY_LRU },
	{ "clean lru", PF(lru) | PF(uptodate) | PF(referenced) | PF(active),
	  MF_MSG_CLEAN_LRU },
	{ "lru with node and zone fields", PF(lru) | PF(dirty) | PF_FIELDS,
	  MF_MSG_DIRTY_LRU },
	{ "no flags", 0, MF_MSG_UNKNOWN },
	{ "dirty alone", PF(dirty), MF_MSG_UNKNOWN },
	{ "hwpoison alone", PF(hwpoison), MF_MSG_UNKNOWN },
	{ "uptodate kernel page", PF(uptodate) | PF(referenced),
	  MF_MSG_UNKNOWN },
};

KUNIT_ARRAY_PARAM_DESC(mf_classify, mf_classify_cases, desc);

/* Each combination of page flags is reported as the page type it implies. */
static void mf_classify_flags_pick_type(struct kunit *test)
{
	const struct mf_classify_case *c = test->param_value;
	const struct mf_page_state *ps = mf_classify(c->flags);

	KUNIT_EXPECT_EQ_MSG(test, ps->type, c->type, "flags %#lx", c->flags);
	KUNIT_EXPECT_EQ(test, c->flags & ps->mask, ps->value);
}

/* Flags that say nothing fall to the catch-all row, which has no mask. */
static void mf_classify_no_flags_catch_all(struct kunit *test)
{
	const struct mf_page_state *ps = mf_classify(0);

	KUNIT_EXPECT_EQ(test, ps->mask, 0UL);
	KUNIT_EXPECT_EQ(test, ps->value, 0UL);
	KUNIT_EXPECT_EQ(test, ps->type, MF_MSG_UNKNOWN);
	KUNIT_EXPECT_NOT_NULL(test, ps->handle);
}

/*
 * The table runs from the reserved-page row, which any reserved page
 * picks, to the catch-all row, which no flags at all pick.
 */
#define MF_MAX_ROWS	64

static int mf_table_rows(struct kunit *test, const struct mf_page_state **first)
{
	const struct mf_page_state *last = mf_classify(0);

	*first = mf_classify(PF(reserved));
	KUNIT_ASSERT_EQ_MSG(test, (*first)->type, MF_MSG_KERNEL,
			    "the table must start with the reserved-page row");
	KUNIT_ASSERT_TRUE(test, last >= *first && last - *first < MF_MAX_ROWS);
	return last - *first + 1;
}

/* Every row has a handler, a name of its own and a value its mask allows. */
static void mf_classify_every_row_has_handler(struct kunit *test)
{
	const struct mf_page_state *first;
	int i, rows = mf_table_rows(test, &first);

	for (i = 0; i < rows; i++) {
		const struct mf_page_state *ps = first + i;

		KUNIT_EXPECT_NOT_NULL_MSG(test, ps->handle, "row %d", i);
		KUNIT_EXPECT_EQ_MSG(test, ps->value & ~ps->mask, 0UL,
				    "row %d can never match", i);
		if (i < rows - 1)
			KUNIT_EXPECT_STRNEQ_MSG(test,
						mf_page_type_name(ps->type),
						"unknown page", "row %d", i);
	}
}

/* No row is shadowed by an earlier one: each is picked for its own value. */
static void mf_classify_every_row_reachable(struct kunit *test)
{
	const struct mf_page_state *first;
	int i, rows = mf_table_rows(test, &first);

	for (i = 0; i < rows; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test, mf_classify(first[i].value),
					&first[i], "row %d (%s)", i,
					mf_page_type_name(first[i].type));
}

/* A shmem page-cache page is an LRU page, not a swap-cache one. */
static void mf_classify_shmem_page_is_lru(struct kunit *test)
{
	struct folio *folio = mf_kunit_shmem_page(test)->folio;
	const struct mf_page_state *ps;

	shake_folio(folio);
	if (!folio_test_lru(folio))
		kunit_skip(test, "shmem folio not on the LRU yet");
	ps = mf_classify(folio->flags);
	KUNIT_EXPECT_EQ(test, ps->type, folio_test_dirty(folio) ?
			MF_MSG_DIRTY_LRU : MF_MSG_CLEAN_LRU);
}

/* A page whose only reference is ours has no other users. */
static void mf_has_extra_refs_sole_reference_false(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	KUNIT_EXPECT_EQ(test, page_count(page), 1);
	KUNIT_EXPECT_FALSE(test, mf_has_extra_refs(mf_classify(PF(lru)), page,
						   false));
}

/* A second reference is a user that still holds the page. */
static void mf_has_extra_refs_second_reference_true(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);
	bool extra;

	get_page(page);
	extra = mf_has_extra_refs(mf_classify(PF(lru)), page, false);
	put_page(page);
	KUNIT_EXPECT_TRUE(test, extra);
}

/* The page cache's own reference is not counted as a user. */
static void mf_has_extra_refs_mapping_pin_discounted(struct kunit *test)
{
	const struct mf_page_state *ps = mf_classify(PF(lru));
	struct page *page = mf_kunit_alloc_page(test);
	bool with_mapping, one_more;

	get_page(page);
	with_mapping = mf_has_extra_refs(ps, page, true);
	get_page(page);
	one_more = mf_has_extra_refs(ps, page, true);
	put_page(page);
	put_page(page);
	KUNIT_EXPECT_FALSE(test, with_mapping);
	KUNIT_EXPECT_TRUE(test, one_more);
}

/* A large page-cache folio holds one reference per base page. */
static void mf_has_extra_refs_large_folio_pins(struct kunit *test)
{
	const struct mf_page_state *ps = mf_classify(PF(lru));
	struct folio *folio = mf_kunit_alloc_folio(test, 2);
	long nr = folio_nr_pages(folio);
	bool with_mapping, one_more;

	folio_ref_add(folio, nr);
	with_mapping = mf_has_extra_refs(ps, folio_page(folio, 1), true);
	folio_get(folio);
	one_more = mf_has_extra_refs(ps, folio_page(folio, 1), true);
	folio_ref_sub(folio, nr + 1);
	KUNIT_EXPECT_FALSE(test, with_mapping);
	KUNIT_EXPECT_TRUE(test, one_more);
}

/* Slab pages are never handled, not even by soft offline. */
static void mf_is_handlable_slab_page_false(struct kunit *test)
{
	void *obj = kunit_kmalloc(test, 64, GFP_KERNEL);
	struct page *page;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	page = virt_to_head_page(obj);
	KUNIT_ASSERT_TRUE(test, PageSlab(page));
	KUNIT_EXPECT_FALSE(test, mf_is_handlable(page, 0));
	KUNIT_EXPECT_FALSE(test, mf_is_handlable(page, MF_SOFT_OFFLINE));
}

/* A page the kernel allocated for itself is neither LRU nor free. */
static void mf_is_handlable_kernel_page_false(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	KUNIT_EXPECT_FALSE(test, mf_is_handlable(page, 0));
	KUNIT_EXPECT_FALSE(test, mf_is_handlable(page, MF_SOFT_OFFLINE));
}

static bool mf_kunit_isolate_page(struct page *page, isolate_mode_t mode)
{
	return false;
}

static int mf_kunit_migrate_page(struct page *dst, struct page *src,
				 enum migrate_mode mode)
{
	return -EBUSY;
}

static void mf_kunit_putback_page(struct page *page)
{
}

/* Never isolated, so compaction leaves the test's page alone. */
static const struct movable_operations mf_kunit_movable_ops = {
	.isolate_page	= mf_kunit_isolate_page,
	.migrate_page	= mf_kunit_migrate_page,
	.putback_page	= mf_kunit_putback_page,
};

/* A movable non-LRU page can be soft offlined (migrated), not hard. */
static void mf_is_handlable_movable_soft_offline_only(struct kunit *test)
{
	struct page *page;
	bool hard, soft;

	if (!IS_ENABLED(CONFIG_COMPACTION))
		kunit_skip(test, "movable non-LRU pages need CONFIG_COMPACTION");
	page = mf_kunit_alloc_page(test);
	lock_page(page);
	__SetPageMovable(page, &mf_kunit_movable_ops);
	unlock_page(page);

	hard = mf_is_handlable(page, 0);
	soft = mf_is_handlable(page, MF_SOFT_OFFLINE);

	lock_page(page);
	__ClearPageMovable(page);
	unlock_page(page);

	KUNIT_EXPECT_FALSE(test, hard);
	KUNIT_EXPECT_TRUE(test, soft);
}

/* A page on the LRU is handlable. */
static void mf_is_handlable_lru_page_true(struct kunit *test)
{
	struct folio *folio = mf_kunit_shmem_page(test)->folio;

	shake_folio(folio);
	if (!folio_test_lru(folio))
		kunit_skip(test, "shmem folio not on the LRU yet");
	KUNIT_EXPECT_TRUE(test, mf_is_handlable(&folio->page, 0));
	KUNIT_EXPECT_TRUE(test, mf_is_handlable(&folio->page, MF_SOFT_OFFLINE));
}

static struct kunit_case mf_handlers_cases[] = {
	KUNIT_CASE_PARAM(mf_classify_flags_pick_type, mf_classify_gen_params),
	KUNIT_CASE(mf_classify_no_flags_catch_all),
	KUNIT_CASE(mf_classify_every_row_has_handler),
	KUNIT_CASE(mf_classify_every_row_reachable),
	KUNIT_CASE(mf_classify_shmem_page_is_lru),
	KUNIT_CASE(mf_has_extra_refs_sole_reference_false),
	KUNIT_CASE(mf_has_extra_refs_second_reference_true),
	KUNIT_CASE(mf_has_extra_refs_mapping_pin_discounted),
	KUNIT_CASE(mf_has_extra_refs_large_folio_pins),
	KUNIT_CASE(mf_is_handlable_slab_page_false),
	KUNIT_CASE(mf_is_handlable_kernel_page_false),
	KUNIT_CASE(mf_is_handlable_movable_soft_offline_only),
	KUNIT_CASE(mf_is_handlable_lru_page_true),
	{}
};

static struct kunit_suite mf_handlers_suite = {
	.name = "memory_failure_handlers",
	.test_cases = mf_handlers_cases,
};

kunit_test_suite(mf_handlers_suite);

MODULE_DESCRIPTION("KUnit tests for the memory-failure (hwpoison) core");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
