// SPDX-License-Identifier: GPL-2.0-only
/*
 * The primitives every entry point builds on: pin a page, split its
 * folio, take a free page off the allocators, retire a page for good.
 * They call nothing else of ours but the counters: the phases of
 * memory_failure() (core.c), the handlers, hugetlb, soft offline and
 * unpoison all sit above them.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/page-flags.h>
#include <linux/swap.h>

#include "../internal.h"
#include "memory-failure.h"

/* Serialises all hwpoison state changes; see memory-failure.h. */
struct mutex mf_mutex = __MUTEX_INITIALIZER(mf_mutex);

/*
 * Set once a real (not software-injected) error was handled.  Unpoison is
 * refused from then on: it would put memory known to be bad back in use.
 */
static bool mf_hw_error __read_mostly;

/**
 * mf_note_hw_error() - remember that a hardware-reported error was handled
 *
 * Context: Any context.
 */
void mf_note_hw_error(void)
{
	WRITE_ONCE(mf_hw_error, true);
}

/**
 * mf_hw_error_seen() - whether a hardware-reported error was handled
 *
 * Return: true once memory_failure() ran without MF_SW_SIMULATED.
 */
bool mf_hw_error_seen(void)
{
	return READ_ONCE(mf_hw_error);
}
EXPORT_SYMBOL_IF_KUNIT(mf_hw_error_seen);

/**
 * shake_folio() - push a folio out of the per-CPU LRU caches
 * @folio: the folio
 *
 * A folio waiting in a per-CPU LRU batch is neither on an LRU list nor
 * free; draining the batches makes its state visible to the handlers.
 *
 * Context: Process context; may sleep.
 */
void shake_folio(struct folio *folio)
{
	if (folio_test_hugetlb(folio) || folio_test_slab(folio))
		return;
	lru_add_drain_all();
}
EXPORT_SYMBOL_GPL(shake_folio);

/*
 * mf_is_handlable - whether we know how to take @page out of use
 *
 * Slab pages are never handlable; movable non-LRU pages only for soft
 * offline, which migrates them.
 */
VISIBLE_IF_KUNIT bool mf_is_handlable(struct page *page, unsigned long flags)
{
	if (PageSlab(page))
		return false;
	if ((flags & MF_SOFT_OFFLINE) && __folio_test_movable(page_folio(page)))
		return true;
	return PageLRU(page) || is_free_buddy_page(page);
}
EXPORT_SYMBOL_IF_KUNIT(mf_is_handlable);

/**
 * mf_pin_hugetlb() - pin the hugetlb folio of a page, if it is in one
 * @page: the page
 * @unpoison: for unpoison, which may pin a folio that is not migratable
 * @ret: set to the result of get_hwpoison_hugetlb_folio() when it applies
 *
 * A folio that stopped being hugetlb (dissolved, split) while we looked
 * is let go: the caller deals with @page as a base page.
 *
 * Context: Process context, get_online_mems() held, and mf_mutex or a
 * claim on the page's PFN.
 * Return: true when @page is in a hugetlb folio and *@ret is the answer.
 */
bool mf_pin_hugetlb(struct page *page, bool unpoison, int *ret)
{
	struct folio *folio = page_folio(page);
	bool hugetlb;
	int got;

	got = get_hwpoison_hugetlb_folio(folio, &hugetlb, unpoison);
	if (hugetlb && folio == page_folio(page)) {
		*ret = got;
		return true;
	}
	if (hugetlb && got > 0)
		folio_put(folio);
	return false;
}

/*
 * One attempt at a reference on @page: 1 when taken, 0 when the page has
 * none to share (free, or being freed), -EBUSY when it is a kind of page we
 * cannot handle.
 */
static int mf_try_pin(struct page *page, unsigned long flags)
{
	struct folio *folio;
	int ret;

	if (mf_pin_hugetlb(page, false, &ret))
		return ret;

	folio = page_folio(page);
	if (!mf_is_handlable(&folio->page, flags))
		return -EBUSY;
	if (!folio_try_get(folio))
		return 0;
	/* Split or freed and reused under us: that is not our folio. */
	if (folio != page_folio(page)) {
		pr_info("%#lx cannot catch tail\n", page_to_pfn(page));
		folio_put(folio);
		return 0;
	}
	return 1;
}

#define MF_PIN_TRIES	4

static int mf_pin_page_locked(struct page *page, unsigned long flags)
{
	bool pinned = flags & MF_COUNT_INCREASED;
	int try, ret;

	for (try = 1; ; try++) {
		bool last = try >= MF_PIN_TRIES;

		if (!pinned) {
			ret = mf_try_pin(page, flags);
			if (ret == 0) {
				/* A transient reference: wait it out. */
				if (page_count(page)) {
					if (!last)
						continue;
					return -EBUSY;
				}
				if (PageHuge(page) || is_free_buddy_page(page))
					return 0;
				if (!last)
					continue;
				break;
			}
			if (ret < 0) {
				if (last)
					break;
				shake_folio(page_folio(page));
				continue;
			}
		}

		if (PageHuge(page) || mf_is_handlable(page, flags))
			return 1;

		/* Maybe it sits in an LRU batch: drain and try again. */
		put_page(page);
		if (last)
			break;
		shake_folio(page_folio(page));
		pinned = false;
	}
	pr_err("%#lx: unhandlable page.\n", page_to_pfn(page));
	return -EIO;
}

/**
 * mf_pin_page() - take a reference on a page about to be retired
 * @page: the page
 * @flags: MF_* flags; MF_COUNT_INCREASED says the caller holds one already
 *
 * Unless the caller holds a reference, the zone's per-CPU free lists are
 * disabled meanwhile, so that a free page is either in the buddy
 * allocator or in use, never in between.
 *
 * Context: Process context, get_online_mems() held, and mf_mutex or a
 * claim on the page's PFN (soft offline pins without mf_mutex).
 * Return:
 * * 1 - the page is pinned and of a kind we can handle
 * * 0 - the page is free (buddy or free hugetlb): nothing to pin
 * * -EBUSY - the page stayed busy with transient users
 * * -EIO - the page is of a kind we cannot handle (slab, kernel)
 */
int mf_pin_page(struct page *page, unsigned long flags)
{
	struct zone *zone = page_zone(page);
	int ret;

	lockdep_assert(lockdep_is_held(&mf_mutex) ||
		       mf_pfn_claimed(page_to_pfn(page)));
	/*
	 * The caller's reference keeps the page from being freed, so the
	 * free lists do not matter, and disabling them drains every CPU's.
	 * A page the caller just faulted in waits in this CPU's LRU batch.
	 */
	if (flags & MF_COUNT_INCREASED) {
		if (PageHuge(page) || mf_is_handlable(page, flags))
			return 1;
		lru_add_drain();
		if (mf_is_handlable(page, flags))
			return 1;
	}
	zone_pcp_disable(zone);
	ret = mf_pin_page_locked(page, flags);
	zone_pcp_enable(zone);
	return ret;
}

/*
 * Dissolve the free hugetlb folio holding @page, into buddy pages.  When
 * every free page of the pool is promised to a reservation, hugetlb will
 * not dissolve one; left in the pool, the poisoned folio is never handed
 * out, and the fault it is reserved for gets SIGBUS.  A fresh folio from
 * the same node takes its place instead, so reservations and the pool's
 * size stay whole.  Gigantic folios cannot be replaced that way.
 */
static int mf_dissolve_free_huge(struct page *page)
{
	struct folio *folio = page_folio(page);
	unsigned long pfn = page_to_pfn(page);
	int ret;

	ret = dissolve_free_hugetlb_folio(folio);
	if (ret != -EBUSY || folio_order(folio) > MAX_PAGE_ORDER)
		return ret;
	ret = replace_free_hugepage_folios(pfn, pfn + 1);
	if (ret)
		return ret;
	/* Taken by a fault meanwhile (then only isolated and put back). */
	return PageHuge(page) ? -EBUSY : 0;
}

/**
 * mf_take_off_free_page() - remove a free page from the allocators
 * @page: a free page, possibly part of a free hugetlb folio
 *
 * Context: Process context, mf_mutex held.
 * Return: 1 when @page was taken off the buddy allocator; 2 when it was
 * already, with a reference of its own (the bad page of a poisoned hugetlb
 * folio, broken up when freed); 0 when it was not found there; or a
 * negative errno when its hugetlb folio would not dissolve.
 */
int mf_take_off_free_page(struct page *page)
{
	int ret;

	lockdep_assert_held(&mf_mutex);
	/*
	 * A hugetlb folio freed from atomic context, as when we dropped the
	 * last reference, is broken up by hugetlb's work item, which takes a
	 * poisoned one's bad pages off: wait for it, also when it is already
	 * running (and the list it takes folios from is empty).
	 */
	hugetlb_flush_freed_folios();
	ret = mf_dissolve_free_huge(page);
	if (ret)
		return ret;
	if (mf_page_taken_off(page))
		return 2;
	drain_all_pages(page_zone(page));
	return take_page_off_buddy(page);
}

/**
 * SetPageHWPoisonTakenOff() - note that a free page was taken off the buddy
 * @page: the hwpoisoned page, just removed from a free list
 *
 * Called by take_page_off_buddy(), so that unpoison knows to give the page
 * back with put_page_back_buddy() rather than by dropping a reference.
 *
 * Context: zone->lock held.
 */
void SetPageHWPoisonTakenOff(struct page *page)
{
	set_page_private(page, MAGIC_HWPOISON);
}

/**
 * mf_page_taken_off() - whether a page is retired off the buddy allocator
 * @page: the page
 *
 * Return: true for a hwpoisoned page that take_page_off_buddy() removed.
 */
bool mf_page_taken_off(struct page *page)
{
	return PageHWPoison(page) && page_private(page) == MAGIC_HWPOISON;
}

/**
 * ClearPageHWPoisonTakenOff() - undo SetPageHWPoisonTakenOff()
 * @page: the page, being returned to the buddy allocator
 *
 * Context: zone->lock held.
 */
void ClearPageHWPoisonTakenOff(struct page *page)
{
	if (PageHWPoison(page))
		set_page_private(page, 0);
}

/**
 * mf_retire_free() - retire a page that nobody holds any more
 * @page: a free page, or a page of a free hugetlb folio
 *
 * Context: Process context, mf_mutex held.
 * Return: MF_RECOVERED when the page is off the allocators for good,
 * MF_FAILED when it could not be taken off.
 */
enum mf_result mf_retire_free(struct page *page)
{
	int ret;

	lockdep_assert_held(&mf_mutex);
	ret = mf_take_off_free_page(page);
	if (ret <= 0)
		return MF_FAILED;
	/* The reference that keeps it from ever being freed again. */
	if (ret == 1)
		page_ref_inc(page);
	return MF_RECOVERED;
}

/**
 * mf_retire_page() - mark a page hwpoisoned and keep it out of use for good
 * @page: the page
 * @take_off: @page is free (or a free hugetlb folio): take it off the
 *	allocators first
 * @release: drop the caller's reference on @page
 *
 * The page keeps one reference of its own, so it is never freed again.
 *
 * Context: Process context, mf_mutex held.
 * Return: true when the page is retired; false when it could not be taken
 * off the allocators.
 */
bool mf_retire_page(struct page *page, bool take_off, bool release)
{
	lockdep_assert_held(&mf_mutex);
	/* 2: someone else retired it, with its error, meanwhile. */
	if (take_off && mf_take_off_free_page(page) != 1)
		return false;

	SetPageHWPoison(page);
	num_poisoned_pages_inc(page_to_pfn(page));
	/*
	 * Then the page's own reference.  Should the caller's be the last,
	 * dropping it first hands the page to the allocator, which sees the
	 * mark and holds the page back for the increment to keep.
	 */
	if (release)
		put_page(page);
	page_ref_inc(page);
	return true;
}

/**
 * mf_split_large_folio() - split the large folio around a page
 * @page: the page; its folio is pinned by the caller
 *
 * On success the caller's reference is on @page's own (order-0) folio; on
 * failure it stays on the whole folio, and is still the caller's.
 *
 * Context: Process context; may sleep.
 * Return: 0 on success, a negative errno from the split.
 */
int mf_split_large_folio(struct page *page)
{
	int err;

	folio_lock(page_folio(page));
	err = split_huge_page_to_list_to_order(page, NULL, 0);
	/* The split leaves the lock on @page's folio alone. */
	unlock_page(page);
	return err;
}

/**
 * mf_let_go() - drop the page reference madvise() passed in, before waiting
 * @pfn: the page
 * @flags: MF_* flags of the call; MF_COUNT_INCREASED says there is one
 *
 * Entry points wait for claims and for memory hotplug; offlining the page's
 * block retries for as long as someone holds a page of it, so waiting for
 * that offline with the page held would never end (an offline from a
 * kernel thread is never interrupted).  mf_pin_again() takes it back.
 *
 * Context: Process context.
 */
void mf_let_go(unsigned long pfn, int flags)
{
	if (flags & MF_COUNT_INCREASED)
		put_page(pfn_to_page(pfn));
}

/**
 * mf_pin_again() - pin again the page mf_let_go() let go of
 * @pfn: the page
 * @flags: MF_* flags as given to mf_let_go()
 *
 * Context: get_online_mems() held, so that no block can go offline.
 * Return: @flags, with MF_COUNT_INCREASED only when the caller holds a
 * reference on the page's folio again (it is still in use): the error
 * then goes on as if the page had stayed pinned.
 */
int mf_pin_again(unsigned long pfn, int flags)
{
	struct page *page = pfn_to_online_page(pfn);
	struct folio *folio;

	if (!(flags & MF_COUNT_INCREASED))
		return flags;
	flags &= ~MF_COUNT_INCREASED;
	if (!page)
		return flags;
	folio = page_folio(page);
	if (!folio_try_get(folio))
		return flags;
	if (folio == page_folio(page))
		return flags | MF_COUNT_INCREASED;
	folio_put(folio);
	return flags;
}
