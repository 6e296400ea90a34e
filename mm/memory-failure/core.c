// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hwpoison core: what the kernel does when hardware reports that a page
 * of memory holds corrupted data.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <linux/hugetlb.h>
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

static int sysctl_memory_failure_recovery __read_mostly = 1;

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
	if (mf_split_large_folio(mc->page) < 0) {
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
	struct mf_call mc = { .pfn = pfn };
	struct mf_claim claim;
	int ret;

	if (!READ_ONCE(sysctl_memory_failure_recovery))
		panic("Memory failure on page %lx", pfn);

	mf_let_go(pfn, flags);
	/* A soft offline migrating the page's folio finishes first. */
	mf_claim_folio(&claim, pfn);
	/*
	 * Memory hotplug may not offline the page's block meanwhile: its
	 * struct pages would be poisoned under us.
	 */
	get_online_mems();
	mc.flags = mf_pin_again(pfn, flags);
	mutex_lock(&mf_mutex);
	if (!(flags & MF_SW_SIMULATED))
		mf_note_hw_error();
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
	MF_SWITCH_SYSCTL("memory_failure_recovery",
			 sysctl_memory_failure_recovery),
};

static int __init memory_failure_init(void)
{
	register_sysctl_init("vm", mf_core_sysctls);
	return 0;
}
core_initcall(memory_failure_init);
