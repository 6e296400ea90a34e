// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hwpoison core: what the kernel does when hardware reports that a page
 * of memory holds corrupted data.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <kunit/static_stub.h>
#include <linux/hugetlb.h>
#include <linux/ksm.h>
#include <linux/memremap.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/page-flags.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/swap.h>
#include <linux/sysctl.h>

#include "../internal.h"
#include "memory-failure.h"

/**
 * DOC: phases of memory_failure()
 *
 * memory_failure() handles one corrupted base page in a fixed order:
 *
 * 1. Intake: a PFN without an online struct page goes to the architecture
 *    (SGX EPC) or to the owner of its ZONE_DEVICE pagemap, or is refused.
 * 2. Hugetlb: a page of a hugetlb folio is handled whole by hugetlb.c.
 * 3. Mark: PG_hwpoison is set first, so that nobody allocates or maps the
 *    page again while we work; a page already marked is only reported.
 * 4. Pin: take a reference, or take a free page off the buddy allocator.
 * 5. Filter: the injector's filter may veto the error (clears the mark).
 * 6. Split: a large folio is split so that only the bad page is lost.
 * 7. Unmap and kill: user mappings are removed and their tasks signalled.
 * 8. Classify and handle: the page-state table of handlers.c picks the
 *    recovery action, and stats.c records its result.
 *
 * Each phase either ends the handling, with a result, or hands the page on.
 */

/**
 * DOC: outcomes
 *
 * Every handled error ends in one of the results of &enum mf_result:
 *
 * - Recovered: the page is out of use, nobody lost data without being told.
 * - Delayed: the page is isolated, and its remaining users learn of the
 *   error when they touch it (dirty swap cache).
 * - Failed: the page could not be isolated, or data was lost (a task was
 *   killed, an unmap or a split failed).
 * - Ignored: the page is in a state we cannot handle (kernel memory).
 *
 * memory_failure() returns 0 for Recovered and Delayed and -EBUSY for the
 * others.  Its other returns are for callers that act on them: -EHWPOISON
 * when the page was poisoned before (for MF_ACTION_REQUIRED: a signal was
 * already sent), -EOPNOTSUPP when the filter vetoed the error, -ENXIO when
 * the PFN is not memory the kernel manages.
 */

/**
 * DOC: lock order
 *
 * Every entry point first claims the PFNs of the folio it works on
 * (claim.c), a sleeping per-folio lock that no holder of a claim ever
 * waits for.  Then mem_hotplug_lock for read (get_online_mems()): the
 * entry points look pages up by PFN, and a memory block that went offline
 * meanwhile has its struct pages poisoned; memory offlining waits for the
 * error being handled (and an error for an offlining that cannot finish).
 * memory_failure() and unpoison hold it throughout; soft offline lets it
 * go while it migrates a page it holds a reference on (which keeps the
 * block online).  Then mf_mutex: memory_failure() and unpoison hold it
 * throughout, soft offline only to mark the page once it is migrated, so
 * a hard error waits for a soft offline of its own
 * folio only.  Under them: the folio lock (taken by
 * core.c, dropped by the page-state handler), then the rmap locks
 * (anon_vma, i_mmap) during victim collection and unmapping, and
 * hugetlb_lock (a spinlock, innermost) in hugetlb.c.  KSM's
 * ksm_thread_mutex is taken with no folio locked, to drop a poisoned KSM
 * page from the stable tree.  mmap_lock is only taken with no folio
 * locked, to find the address of an already poisoned page in the current
 * task.  The per-CPU queue lock (queue.c) nests in nothing of ours and is
 * never held across a call out.
 */

/* Serialises all hwpoison state changes; see memory-failure.h. */
struct mutex mf_mutex = __MUTEX_INITIALIZER(mf_mutex);

static int sysctl_memory_failure_recovery __read_mostly = 1;

/*
 * Set once a real (not software-injected) error was handled.  Unpoison is
 * refused from then on: it would put memory known to be bad back in use.
 */
static bool mf_hw_error __read_mostly;

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
 * The zone's per-CPU free lists are disabled meanwhile, so that a free
 * page is either in the buddy allocator or in use, never in between.
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
	zone_pcp_disable(zone);
	ret = mf_pin_page_locked(page, flags);
	zone_pcp_enable(zone);
	return ret;
}

/**
 * mf_take_off_free_page() - remove a free page from the allocators
 * @page: a free page, possibly part of a free hugetlb folio
 *
 * Context: Process context, mf_mutex held.
 * Return: 1 when @page was taken off the buddy allocator, 0 when it was not
 * found there, or a negative errno when its hugetlb folio would not
 * dissolve.
 */
int mf_take_off_free_page(struct page *page)
{
	int ret;

	lockdep_assert_held(&mf_mutex);
	ret = dissolve_free_hugetlb_folio(page_folio(page));
	if (ret)
		return ret;
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
	lockdep_assert_held(&mf_mutex);
	if (mf_take_off_free_page(page) <= 0)
		return MF_FAILED;
	/* The reference that keeps it from ever being freed again. */
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
	if (take_off && mf_take_off_free_page(page) <= 0)
		return false;

	SetPageHWPoison(page);
	if (release)
		put_page(page);
	page_ref_inc(page);
	num_poisoned_pages_inc(page_to_pfn(page));
	return true;
}

/**
 * mf_split_large_folio() - split the large folio around a page
 * @page: the page; its folio is pinned by the caller
 * @release: drop the caller's reference if the split fails
 *
 * Context: Process context; may sleep.
 * Return: 0 on success, a negative errno from split_huge_page().
 */
int mf_split_large_folio(struct page *page, bool release)
{
	int ret;

	lock_page(page);
	ret = split_huge_page(page);
	unlock_page(page);
	if (ret && release)
		put_page(page);
	return ret;
}

/*
 * Push a pinned folio out of the per-CPU LRU caches before it is locked and
 * classified.  Draining every CPU's caches waits for a worker on each, and
 * a CPU busy in the kernel (a soft offline storm) makes that slow: so this
 * CPU's first, where the folio was most likely just used.  A small mapped
 * anon folio that is then on an LRU list, with no reference but its
 * mappings' and ours, is in no cache: nothing more to drain.
 */
static void mf_shake(struct folio *folio)
{
	if (folio_test_anon(folio) && !folio_test_swapcache(folio) &&
	    !folio_test_large(folio)) {
		lru_add_drain();
		if (folio_test_lru(folio) &&
		    folio_ref_count(folio) == folio_mapcount(folio) + 1)
			return;
	}
	shake_folio(folio);
}

/* State of one memory_failure() call, handed from phase to phase. */
struct mf_call {
	unsigned long pfn;
	int flags;
	struct page *page;
	struct folio *folio;
	bool retried;
};

/* Phase 1: a PFN without an online struct page. */
static int mf_offline_pfn(struct mf_call *mc)
{
	struct dev_pagemap *pgmap;
	int ret;

	ret = arch_memory_failure(mc->pfn, mc->flags);
	if (!ret)
		return 0;

	if (pfn_valid(mc->pfn)) {
		pgmap = get_dev_pagemap(mc->pfn, NULL);
		if (mc->flags & MF_COUNT_INCREASED)
			put_page(pfn_to_page(mc->pfn));
		if (pgmap)
			return mf_dev_pagemap_failure(mc->pfn, mc->flags, pgmap);
	}
	pr_err("%#lx: memory outside kernel control\n", mc->pfn);
	return -ENXIO;
}

/* Phase 3, the page was marked before us: report, and signal the reader. */
static int mf_already_poisoned(struct mf_call *mc)
{
	int ret = -EHWPOISON;

	if (mc->flags & MF_ACTION_REQUIRED)
		ret = mf_kill_accessing_task(current, mc->pfn, mc->flags);
	if (mc->flags & MF_COUNT_INCREASED)
		put_page(mc->page);
	mf_report(mc->pfn, MF_MSG_ALREADY_POISONED, MF_FAILED);
	return ret;
}

/*
 * Phase 4 found nothing to pin.  Returns 1 to restart from phase 2 (the
 * page was reallocated under us), or the reported result.
 */
static int mf_unpinned_page(struct mf_call *mc)
{
	enum mf_result result;

	if (!is_free_buddy_page(mc->page))
		return mf_report(mc->pfn, MF_MSG_KERNEL_HIGH_ORDER, MF_IGNORED);

	if (take_page_off_buddy(mc->page)) {
		page_ref_inc(mc->page);
		result = MF_RECOVERED;
	} else if (mc->retried) {
		result = MF_FAILED;
	} else {
		/* Allocated under us: unmark and start over as in use. */
		ClearPageHWPoison(mc->page);
		mc->retried = true;
		return 1;
	}
	return mf_report(mc->pfn, MF_MSG_BUDDY, result);
}

/* Phase 5: true when the injector's filter vetoes the error. */
static bool mf_filtered(struct mf_call *mc)
{
	bool veto;

	folio_lock(mc->folio);
	veto = hwpoison_filter(mc->page);
	if (veto)
		ClearPageHWPoison(mc->page);
	folio_unlock(mc->folio);
	if (veto)
		folio_put(mc->folio);
	return veto;
}

/*
 * Phase 6: split a large folio.  On failure the whole folio stays in use:
 * its users are told at once, and the error is not recovered.
 */
static int mf_split(struct mf_call *mc)
{
	struct mf_victims vs;

	folio_set_has_hwpoisoned(mc->folio);
	if (mf_split_large_folio(mc->page, false) < 0) {
		folio_lock(mc->folio);
		mf_collect_victims(&vs, mc->folio, mc->page, mc->flags);
		folio_unlock(mc->folio);
		mf_kill_victims(&vs, true, mc->flags);
		put_page(mc->page);
		mf_report(mc->pfn, MF_MSG_UNSPLIT_THP, MF_FAILED);
		return -EHWPOISON;
	}
	VM_WARN_ON_ONCE_PAGE(!page_count(mc->page), mc->page);
	mc->folio = page_folio(mc->page);
	return 0;
}

/**
 * mf_unmap_and_classify() - phases 7 and 8: unmap, kill, classify, handle
 * @folio: the folio of @page, pinned and locked
 * @page: the poisoned page
 * @pfn: its PFN
 * @flags: MF_* flags of the error
 *
 * Only LRU, hugetlb and writeback folios can be mapped by users; others
 * go straight to the page-state table.
 *
 * Context: Process context, mf_mutex held.  The folio lock is released
 * before return.
 * Return: as mf_report().
 */
int mf_unmap_and_classify(struct folio *folio, struct page *page,
			  unsigned long pfn, int flags)
{
	/* Unmapping clears some flags: classify by what the page was. */
	unsigned long old_flags = folio->flags;
	bool user = folio_test_lru(folio) || folio_test_hugetlb(folio) ||
		    folio_test_writeback(folio);
	bool ksm = folio_test_ksm(folio);
	int ret;

	if (user) {
		folio_wait_writeback(folio);
		if (!mf_unmap_user_mappings(folio, page, pfn, flags)) {
			folio_unlock(folio);
			return mf_report(pfn, MF_MSG_UNMAP_FAILED, MF_FAILED);
		}
	}
	/* Truncated while we waited: nothing holds the data now. */
	if (user && folio_test_lru(folio) && !folio_test_swapcache(folio) &&
	    !folio->mapping) {
		folio_unlock(folio);
		return mf_report(pfn, MF_MSG_TRUNCATED_LRU, MF_IGNORED);
	}
	ret = mf_handle_page_state(pfn, page, old_flags);
	/* ksmd must not read the page again to compare others with it. */
	if (ksm)
		ksm_drop_hwpoisoned_folio(folio);
	return ret;
}

static int mf_handle(struct mf_call *mc)
{
	bool handled;
	int ret;

	mc->page = pfn_to_online_page(mc->pfn);
	if (!mc->page)
		return mf_offline_pfn(mc);

again:
	ret = mf_hugetlb_failure(mc->pfn, mc->flags, &handled);
	if (handled)
		return ret;

	if (TestSetPageHWPoison(mc->page))
		return mf_already_poisoned(mc);

	if (!(mc->flags & MF_COUNT_INCREASED)) {
		ret = mf_pin_page(mc->page, mc->flags);
		if (!ret) {
			ret = mf_unpinned_page(mc);
			if (ret == 1)
				goto again;
			return ret;
		}
		if (ret < 0)
			return mf_report(mc->pfn, MF_MSG_GET_HWPOISON,
					 MF_IGNORED);
	}

	mc->folio = page_folio(mc->page);
	if (mf_filtered(mc))
		return -EOPNOTSUPP;

	if (folio_test_large(mc->folio)) {
		ret = mf_split(mc);
		if (ret)
			return ret;
	}

	mf_shake(mc->folio);
	folio_lock(mc->folio);
	WARN_ON_ONCE(folio_test_large(mc->folio));
	return mf_unmap_and_classify(mc->folio, mc->page, mc->pfn, mc->flags);
}

/**
 * memory_failure() - handle a corrupted page of memory
 * @pfn: page frame number of the corrupted page
 * @flags: MF_* flags from &enum mf_flags
 *
 * Marks the page hwpoisoned, takes it out of use and tells the tasks that
 * use it, in the phases of "DOC: phases of memory_failure()".  With
 * vm.memory_failure_recovery off the kernel panics instead.
 *
 * x86's kill_me_maybe() acts on the result for the task that consumed
 * the error: on 0 it lets the task run on, on -EHWPOISON or -EOPNOTSUPP it
 * leaves it to the signal already sent (or to none), and on anything else
 * it kills the task.
 *
 * Context: Process context; claims the PFNs of @pfn's folio (waiting for
 * a soft offline of the folio to finish), holds memory hotplug off
 * (get_online_mems()) and takes mf_mutex; may sleep.
 * Return:
 * * 0 - the error was recovered, or its handling delayed; also, with
 *   MF_ACTION_REQUIRED, when the page was poisoned before and current
 *   does not map it
 * * -EHWPOISON - the page was poisoned before (with MF_ACTION_REQUIRED,
 *   current maps it and has been signalled), or it is in a huge page
 *   that could not be split, whose users were signalled
 * * -EFAULT - the page was poisoned before and current, which consumed
 *   the error (MF_ACTION_REQUIRED), has no address space
 * * -EOPNOTSUPP - the injector's filter vetoed the error
 * * -ENXIO - the PFN is not memory the kernel manages
 * * -EBUSY - the error was ignored or could not be recovered
 * * for device memory whose owner handles errors (a dev_pagemap with a
 *   memory_failure operation, such as fsdax): whatever the owner returns
 */
int memory_failure(unsigned long pfn, int flags)
{
	struct mf_call mc = { .pfn = pfn, .flags = flags };
	struct mf_claim claim;
	int ret;

	if (!READ_ONCE(sysctl_memory_failure_recovery))
		panic("Memory failure on page %lx", pfn);

	/* A soft offline migrating the page's folio finishes first. */
	mf_claim_folio(&claim, pfn);
	/*
	 * Memory hotplug may not offline the page's block meanwhile: its
	 * struct pages would be poisoned under us.
	 */
	get_online_mems();
	mutex_lock(&mf_mutex);
	if (!(flags & MF_SW_SIMULATED))
		WRITE_ONCE(mf_hw_error, true);
	ret = mf_handle(&mc);
	mutex_unlock(&mf_mutex);
	put_online_mems();
	mf_unclaim(&claim);
	return ret;
}
EXPORT_SYMBOL_GPL(memory_failure);

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * mf_kunit_locked() - call a function with mf_mutex held
 * @fn: the function
 * @arg: its argument
 *
 * The KUnit tests' way to call what needs mf_mutex, without exporting the
 * lock to modules.
 *
 * Context: Process context, may sleep; mf_mutex and no claim held.
 */
void mf_kunit_locked(void (*fn)(void *arg), void *arg)
{
	mutex_lock(&mf_mutex);
	fn(arg);
	mutex_unlock(&mf_mutex);
}
EXPORT_SYMBOL_IF_KUNIT(mf_kunit_locked);

bool mf_recovery_enabled(void)
{
	return READ_ONCE(sysctl_memory_failure_recovery);
}
EXPORT_SYMBOL_IF_KUNIT(mf_recovery_enabled);
#endif

static struct ctl_table mf_core_sysctls[] = {
	{
		.procname	= "memory_failure_recovery",
		.data		= &sysctl_memory_failure_recovery,
		.maxlen		= sizeof(sysctl_memory_failure_recovery),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
};

static int __init memory_failure_init(void)
{
	register_sysctl_init("vm", mf_core_sysctls);
	return 0;
}
core_initcall(memory_failure_init);
