// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory errors in hugetlb folios.
 *
 * A hugetlb folio cannot be split, so it is handled whole: PG_hwpoison is
 * set on the head page, and which base pages are actually bad is recorded
 * in a list hung off the folio (folio->_hugetlb_hwpoison).  When the folio
 * is freed or dissolved, the mark moves from the head to exactly those
 * pages, and the healthy rest returns to the allocator.  If a record cannot
 * be allocated the folio is flagged "raw hwp unreliable" and is never
 * dissolved: losing the whole folio is better than reusing a bad page.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <linux/hugetlb.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/page_owner.h>
#include <linux/page_table_check.h>
#include <linux/pgalloc_tag.h>
#include <linux/slab.h>

#include "../internal.h"
#include "memory-failure.h"

/* One known-bad base page of a hugetlb folio. */
struct mf_raw_error {
	struct llist_node node;
	struct page *page;
};

/* The accessor <linux/mm_types.h> names for folio->_hugetlb_hwpoison. */
static struct llist_head *raw_hwp_list_head(struct folio *folio)
{
	return (struct llist_head *)&folio->_hugetlb_hwpoison;
}

/* Whether a record of @folio names @page. */
static bool mf_recorded(struct folio *folio, struct page *page)
{
	struct mf_raw_error *e;

	llist_for_each_entry(e, raw_hwp_list_head(folio)->first, node)
		if (e->page == page)
			return true;
	return false;
}

/**
 * is_raw_hwpoison_page_in_hugepage() - whether a base page is known bad
 * @page: a page, possibly in a hugetlb folio
 *
 * Lets hugetlbfs read around the bad pages of a poisoned folio.
 *
 * Context: Process context; takes mf_mutex for a hugetlb folio.
 * Return: true if @page itself is hwpoisoned (or, for a hugetlb folio
 * whose records are incomplete, if the folio is).
 */
bool is_raw_hwpoison_page_in_hugepage(struct page *page)
{
	struct folio *folio = page_folio(page);
	bool bad;

	/* Only a marked hugetlb folio has records to look at. */
	if (!folio_test_hugetlb(folio) || !folio_test_hwpoison(folio))
		return folio_test_hwpoison(folio) && PageHWPoison(page);
	/* Incomplete records: any page may be bad. */
	bad = folio_test_hugetlb_raw_hwp_unreliable(folio);
	if (!bad) {
		/* mf_mutex keeps the records from being freed under the walk. */
		mutex_lock(&mf_mutex);
		bad = mf_recorded(folio, page);
		mutex_unlock(&mf_mutex);
	}
	return bad;
}
EXPORT_SYMBOL_IF_KUNIT(is_raw_hwpoison_page_in_hugepage);

/* What becomes of the recorded pages when their records are freed. */
enum mf_records_end {
	MF_RECORDS_TO_PAGES,	/* the mark moves from the head to each page */
	MF_RECORDS_HEALED,	/* unpoison: the pages are good, uncount them */
	MF_RECORDS_DROP,	/* forget them: nothing is marked or uncounted */
};

/* Free the records of @folio; returns how many there were. */
static unsigned long mf_free_records(struct folio *folio,
				     enum mf_records_end end)
{
	struct mf_raw_error *e, *next;
	struct llist_node *head;
	unsigned long nr = 0;

	head = llist_del_all(raw_hwp_list_head(folio));
	/* The mark moves: off the head first, which may be a bad page too. */
	if (end == MF_RECORDS_TO_PAGES)
		folio_clear_hwpoison(folio);
	llist_for_each_entry_safe(e, next, head, node) {
		if (end == MF_RECORDS_TO_PAGES)
			SetPageHWPoison(e->page);
		else if (end == MF_RECORDS_HEALED)
			mf_uncount_healed(page_to_pfn(e->page), 1);
		kfree(e);
		nr++;
	}
	return nr;
}

/**
 * mf_hugetlb_drop_records() - forget the bad pages of a hugetlb folio
 * @folio: the folio being unpoisoned
 *
 * Context: mf_mutex held.
 * Return: the number of records dropped (and uncounted); 0 when the
 * records are incomplete and the folio must stay poisoned.
 */
unsigned long mf_hugetlb_drop_records(struct folio *folio)
{
	lockdep_assert_held(&mf_mutex);
	/* Incomplete records: which pages are bad is not known. */
	return folio_test_hugetlb_raw_hwp_unreliable(folio) ? 0 :
	       mf_free_records(folio, MF_RECORDS_HEALED);
}

/*
 * Make a tail of a folio being broken up a page of its own.  Only its
 * position bits (section, node, zone) are its own for sure: a struct page
 * restored from a shared vmemmap page (HugeTLB vmemmap optimisation) may
 * hold a copy of the head's fields, PG_hwpoison included.
 */
static void mf_reset_tail(struct page *page)
{
	page->flags &= ~PAGEFLAGS_MASK;
	page->mapping = NULL;
	clear_compound_head(page);
	atomic_set(&page->_mapcount, -1);
	set_page_private(page, 0);
}

/*
 * A bad page of a folio being broken up, with no reference: do what the
 * page allocator does to a hwpoisoned page freed to it, which it keeps
 * back, then give it the reference and the mark of a page taken off the
 * buddy allocator.  It never passes through a count of 1 on the way, for
 * unpoison to see: the count is published last (a release, paired with
 * mf_pin_poisoned()'s get), when the page is as unpoison expects it.
 */
static void mf_keep_bad_page(struct page *page)
{
	reset_page_owner(page, 0);
	page_table_check_free(page, 0);
	pgalloc_tag_sub(page, 1);
	clear_page_tag_ref(page);
	page->flags &= ~PAGE_FLAGS_CHECK_AT_PREP;
	page_cpupid_reset_last(page);
	SetPageHWPoisonTakenOff(page);
	page_ref_unfreeze(page, 1);
}

/**
 * hugetlb_free_poisoned_folio() - free a poisoned folio but its bad pages
 * @folio: a folio that was hugetlb, out of the pool, with a frozen count
 *	and its vmemmap restored, and complete raw error records
 *
 * Called by mm/hugetlb.c instead of freeing the folio whole, which would
 * hand its bad pages to the buddy allocator with the rest.  The folio is
 * broken into base pages, as split_page() does for a block that is not
 * compound, the recorded pages are marked, and each healthy page is freed
 * on its own.  A bad page is kept back as the page allocator would, and
 * gets a reference of its own and the mark of a page taken off the buddy
 * allocator, as a free page that memory_failure() retires has, so that
 * unpoison gives it back the same way (mf_keep_bad_page()).
 *
 * Context: Process context; may sleep.
 */
void hugetlb_free_poisoned_folio(struct folio *folio)
{
	unsigned int order = folio_order(folio);
	struct page *head = &folio->page;
	unsigned long i, nr = 1UL << order;
	struct mf_raw_error *e, *next;
	struct llist_node *bad;

	/* First: the list hangs off a tail page, which is reset below. */
	bad = llist_del_all(raw_hwp_list_head(folio));
	folio_clear_hwpoison(folio);

	/* Undo prep_compound_page(), as the compound free path would. */
	split_page_owner(head, order, 0);
	pgalloc_tag_split(folio, order, 0);
	for (i = 1; i < nr; i++)
		mf_reset_tail(nth_page(head, i));
	__ClearPageHead(head);

	llist_for_each_entry(e, bad, node)
		SetPageHWPoison(e->page);

	for (i = 0; i < nr; i++) {
		struct page *page = nth_page(head, i);

		if (PageHWPoison(page)) {
			mf_keep_bad_page(page);
		} else {
			set_page_refcounted(page);
			__free_page(page);
		}
		if (!(i % 4096))
			cond_resched();
	}

	llist_for_each_entry_safe(e, next, bad, node)
		kfree(e);
}

/**
 * folio_clear_hugetlb_hwpoison() - move a hugetlb folio's mark to its pages
 * @folio: a hwpoisoned folio of hugetlb's CMA area, about to go back whole
 *
 * Called by mm/hugetlb.c once the folio's vmemmap is restored; a folio
 * without complete records never gets here (it is never freed), and any
 * other poisoned folio is broken up by hugetlb_free_poisoned_folio().
 *
 * Context: Any context that may sleep.
 */
void folio_clear_hugetlb_hwpoison(struct folio *folio)
{
	mf_free_records(folio, MF_RECORDS_TO_PAGES);
}

/**
 * hugetlb_retire_freed_hwpoison() - take back the bad pages of a freed folio
 * @pfn: the first PFN of a poisoned folio just freed whole
 * @nr: the number of pages it had
 *
 * A folio from hugetlb's CMA area goes back to CMA whole; its bad pages,
 * marked by folio_clear_hugetlb_hwpoison(), are taken off the buddy
 * allocator right after, each with a reference of its own.  Until then an
 * allocation may get one: memory from hugetlb_cma= is the one case where
 * a freed poisoned folio passes through the allocator.
 *
 * Context: Process context; may sleep.
 */
void hugetlb_retire_freed_hwpoison(unsigned long pfn, unsigned long nr)
{
	unsigned long end = pfn + nr;
	bool drained = false;

	for (; pfn < end; pfn++) {
		struct page *page = pfn_to_page(pfn);

		if (!PageHWPoison(page))
			continue;
		/* The folio may sit in a per-CPU list, out of the buddy's view. */
		if (!drained) {
			drain_all_pages(page_zone(page));
			drained = true;
		}
		if (take_page_off_buddy(page))
			page_ref_inc(page);
		else if (!mf_page_taken_off(page))
			pr_err("%#lx: bad page of a freed hugetlb page in use\n",
			       pfn);
	}
}

/* What mf_hugetlb_grab() found. */
enum mf_huge_state {
	MF_HUGE_NONE,		/* not a hugetlb page */
	MF_HUGE_FREE,		/* a free hugetlb folio */
	MF_HUGE_IN_USE,		/* in use; we hold a reference */
	MF_HUGE_FOLIO_MARKED,	/* the folio was poisoned before */
	MF_HUGE_PAGE_MARKED,	/* this very page was poisoned before */
	MF_HUGE_BUSY,		/* in transition (being allocated or freed) */
};

/*
 * Where @folio stands for an error.  A folio in use gets a reference of
 * ours, unless the caller's (MF_COUNT_INCREASED) keeps it in use.
 */
static enum mf_huge_state mf_huge_standing(struct folio *folio, int flags)
{
	lockdep_assert_held(&hugetlb_lock);
	if (!folio_test_hugetlb(folio))
		return MF_HUGE_NONE;
	if (flags & MF_COUNT_INCREASED)
		return MF_HUGE_IN_USE;
	if (folio_test_hugetlb_freed(folio))
		return MF_HUGE_FREE;
	/* Neither free nor migratable: being allocated or freed just now. */
	if (!folio_test_hugetlb_migratable(folio))
		return MF_HUGE_BUSY;
	return folio_try_get(folio) ? MF_HUGE_IN_USE : MF_HUGE_FREE;
}

/*
 * Note the error of @page: mark @folio and record the page.  Returns how
 * much of it was known: MF_HUGE_PAGE_MARKED, MF_HUGE_FOLIO_MARKED (another
 * page was bad), or MF_HUGE_NONE for a new error in a clean folio.
 */
static enum mf_huge_state mf_note_error(struct folio *folio, struct page *page)
{
	bool folio_was_marked = folio_test_set_hwpoison(folio);
	struct mf_raw_error *e;

	lockdep_assert_held(&hugetlb_lock);
	/* Without records every page counts as known: it was reported. */
	if (folio_test_hugetlb_raw_hwp_unreliable(folio) ||
	    mf_recorded(folio, page))
		return MF_HUGE_PAGE_MARKED;

	e = kmalloc(sizeof(*e), GFP_ATOMIC);
	if (!e) {
		/*
		 * Without a full record no page of the folio is safe.  The
		 * pages recorded so far stay counted: the folio keeps its
		 * mark for good, and each of its errors was reported.
		 */
		folio_set_hugetlb_raw_hwp_unreliable(folio);
		mf_free_records(folio, MF_RECORDS_DROP);
	} else {
		e->page = page;
		llist_add(&e->node, raw_hwp_list_head(folio));
	}
	return folio_was_marked ? MF_HUGE_FOLIO_MARKED : MF_HUGE_NONE;
}

/*
 * Find out what the hugetlb folio of @page is doing and note the error in
 * it, under hugetlb_lock so that the folio cannot change kind meanwhile.
 * A busy folio is left alone unless MF_NO_RETRY says this is the second
 * look.  A folio in use comes back with a reference (the caller's or ours)
 * unless the error was known, which changes nothing.
 */
static enum mf_huge_state mf_hugetlb_grab(struct page *page, int flags,
					  bool *stopped_migration)
{
	enum mf_huge_state state, known = MF_HUGE_NONE;
	struct folio *folio;

	spin_lock_irq(&hugetlb_lock);
	folio = page_folio(page);
	state = mf_huge_standing(folio, flags);
	if (state != MF_HUGE_NONE &&
	    (state != MF_HUGE_BUSY || (flags & MF_NO_RETRY)))
		known = mf_note_error(folio, page);
	/* Keep memory hot-remove from migrating the poisoned folio. */
	if (known == MF_HUGE_NONE && state == MF_HUGE_IN_USE &&
	    folio_test_hugetlb_migratable(folio)) {
		folio_clear_hugetlb_migratable(folio);
		*stopped_migration = true;
	}
	spin_unlock_irq(&hugetlb_lock);

	if (known == MF_HUGE_NONE)
		return state;
	if (state == MF_HUGE_IN_USE)
		folio_put(folio);
	return known;
}

/* The error was poisoned before: report it, and signal the reader. */
static int mf_hugetlb_marked(unsigned long pfn, int flags,
			     enum mf_huge_state known)
{
	int ret = flags & MF_ACTION_REQUIRED ?
		mf_kill_accessing_task(current, pfn, flags) : -EHWPOISON;

	mf_report(pfn, known == MF_HUGE_PAGE_MARKED ?
		  MF_MSG_ALREADY_POISONED : MF_MSG_HUGE, MF_FAILED);
	return ret;
}

/*
 * The filter vetoed the error: undo what mf_hugetlb_grab() did (the mark,
 * the record, the pin, the migration stop) and unlock the folio.  The
 * folio was not marked before (else the error was not filtered), so its
 * one record is this error's: nothing is marked or counted.
 */
static int mf_hugetlb_vetoed(struct folio *folio, bool pinned,
			     bool stopped_migration)
{
	mf_free_records(folio, MF_RECORDS_DROP);
	folio_clear_hugetlb_raw_hwp_unreliable(folio);
	folio_clear_hwpoison(folio);
	if (stopped_migration)
		folio_set_hugetlb_migratable(folio);
	folio_unlock(folio);
	if (pinned)
		folio_put(folio);
	return -EOPNOTSUPP;
}

/**
 * mf_hugetlb_failure() - handle an error in a hugetlb folio
 * @pfn: the corrupted page
 * @flags: MF_* flags
 * @handled: set to false when @pfn is not in a hugetlb folio, and the
 *	caller handles it as a base page
 *
 * Context: Process context, mf_mutex held.
 * Return: as memory_failure().
 */
int mf_hugetlb_failure(unsigned long pfn, int flags, bool *handled)
{
	struct page *page = pfn_to_page(pfn);
	bool stopped_migration = false;
	enum mf_huge_state state;
	struct folio *folio;

	lockdep_assert_held(&mf_mutex);
	*handled = true;

	state = mf_hugetlb_grab(page, flags, &stopped_migration);
	if (state == MF_HUGE_BUSY && !(flags & MF_NO_RETRY))
		state = mf_hugetlb_grab(page, flags | MF_NO_RETRY,
					&stopped_migration);

	switch (state) {
	case MF_HUGE_NONE:
		*handled = false;
		return 0;
	case MF_HUGE_BUSY:
		return mf_report(pfn, MF_MSG_GET_HWPOISON, MF_IGNORED);
	case MF_HUGE_FOLIO_MARKED:
	case MF_HUGE_PAGE_MARKED:
		return mf_hugetlb_marked(pfn, flags, state);
	case MF_HUGE_FREE:
	case MF_HUGE_IN_USE:
		break;
	}

	folio = page_folio(page);
	folio_lock(folio);
	if (hwpoison_filter(page))
		return mf_hugetlb_vetoed(folio, state == MF_HUGE_IN_USE,
					 stopped_migration);
	if (state == MF_HUGE_IN_USE)
		return mf_unmap_and_classify(folio, page, pfn, flags);

	folio_unlock(folio);
	return mf_report(pfn, MF_MSG_FREE_HUGE, mf_retire_free(page));
}
EXPORT_SYMBOL_IF_KUNIT(mf_hugetlb_failure);
