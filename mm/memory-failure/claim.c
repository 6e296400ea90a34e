// SPDX-License-Identifier: GPL-2.0-only
/*
 * PFN claims: which entry point may change the hwpoison state of a page.
 */

/**
 * DOC: PFN claims
 *
 * Soft offline migrates a page for as long as migration takes: holding
 * mf_mutex meanwhile would stall every hard error, the queue worker and
 * unpoison behind it.  Instead every entry point first claims the PFNs it
 * works on: those of the folio its page is in.  A claim overlapping
 * another waits for it, so two entry points are never on the same folio
 * at once, and mf_mutex is held for the state changes only.  A task holds
 * at most one claim and waits for none while it does, so claims cannot
 * deadlock among themselves (lockdep sees a claim as mf_claim_map); they
 * are taken before get_online_mems() and mf_mutex, so that whoever waits
 * for a claim holds nothing a hotplug writer needs.  Claims are few
 * (one per task inside an entry point): a list is searched.
 */

#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "memory-failure.h"

static LIST_HEAD(mf_claims);
static DEFINE_SPINLOCK(mf_claims_lock);
static DECLARE_WAIT_QUEUE_HEAD(mf_claims_wq);
#ifdef CONFIG_LOCKDEP
/* For lockdep, holding a claim is holding this: no nesting, one order. */
static struct lockdep_map mf_claim_map =
	STATIC_LOCKDEP_MAP_INIT("mf_claim", &mf_claim_map);
#endif

/* The claim other than @self that overlaps [@start, @end), if any. */
static struct mf_claim *mf_claim_overlap(struct mf_claim *self,
					 unsigned long start, unsigned long end)
{
	struct mf_claim *c;

	lockdep_assert_held(&mf_claims_lock);
	list_for_each_entry(c, &mf_claims, node)
		if (c != self && c->start < end && start < c->end)
			return c;
	return NULL;
}

/* Claim [@start, @end) for @c (unlisted), unless someone holds part of it. */
static bool mf_claim_try(struct mf_claim *c, unsigned long start,
			 unsigned long end)
{
	bool ok;

	spin_lock(&mf_claims_lock);
	ok = !mf_claim_overlap(NULL, start, end);
	if (ok) {
		c->start = start;
		c->end = end;
		list_add(&c->node, &mf_claims);
	}
	spin_unlock(&mf_claims_lock);
	return ok;
}

/**
 * mf_claim() - claim a range of PFNs, waiting for whoever holds part of it
 * @c: the claim, on the caller's stack
 * @start: first PFN
 * @nr: number of PFNs
 *
 * Context: Process context, may sleep; the caller holds no claim (a claim
 * is never waited for by the holder of another) and not mf_mutex.
 */
void mf_claim(struct mf_claim *c, unsigned long start, unsigned long nr)
{
	might_sleep();
	lockdep_assert_not_held(&mf_mutex);
	lock_map_acquire(&mf_claim_map);
	wait_event(mf_claims_wq, mf_claim_try(c, start, start + nr));
}
EXPORT_SYMBOL_IF_KUNIT(mf_claim);

/**
 * mf_claim_folio() - claim the PFNs of the folio a PFN seems to be in
 * @c: the claim, on the caller's stack
 * @pfn: the PFN
 *
 * The folio is read without a reference, so its size is a guess (a large
 * folio is naturally aligned, which bounds what a stale read can claim);
 * once the caller has pinned the page, mf_claim_widen() makes it good.
 * Claiming the folio, not the page, keeps two entry points from holding
 * references on one folio, which would make each other fail to split,
 * migrate or dissolve it.  A PFN without an online page is claimed alone.
 *
 * Context: as mf_claim(); the caller does not hold get_online_mems().
 */
void mf_claim_folio(struct mf_claim *c, unsigned long pfn)
{
	unsigned long nr = 1;
	struct page *page;

	/* The memmap of an offline block is junk: look under the lock. */
	get_online_mems();
	page = pfn_to_online_page(pfn);
	if (page)
		nr = 1UL << compound_order(compound_head(page));
	put_online_mems();
	if (nr > MAX_FOLIO_NR_PAGES)
		nr = 1;
	mf_claim(c, ALIGN_DOWN(pfn, nr), nr);
}

/* Tell lockdep, and whoever waits, that @c (already unlisted) is gone. */
static void mf_claim_released(struct mf_claim *c)
{
	lock_map_release(&mf_claim_map);
	/* A waiter queues itself before it looks at the list (barrier). */
	if (wq_has_sleeper(&mf_claims_wq))
		wake_up_all(&mf_claims_wq);
}

/**
 * mf_claim_widen() - widen a claim to the folio its page turned out to be in
 * @c: a claim held by the caller
 * @start: first PFN of the folio
 * @nr: its number of pages
 *
 * Return: true when @c now covers [@start, @start + @nr) (and what it
 * covered before).  False when part of that is claimed by someone else:
 * then @c is given up, and keeps the whole range, for the caller to let go
 * of what it holds and wait for it with mf_claim(@c, @c->start,
 * @c->end - @c->start).
 *
 * Context: Process context; does not wait.
 */
bool mf_claim_widen(struct mf_claim *c, unsigned long start, unsigned long nr)
{
	unsigned long end = max(c->end, start + nr);
	bool ok;

	start = min(c->start, start);
	spin_lock(&mf_claims_lock);
	ok = !mf_claim_overlap(c, start, end);
	if (!ok)
		list_del(&c->node);
	c->start = start;
	c->end = end;
	spin_unlock(&mf_claims_lock);
	if (!ok)
		mf_claim_released(c);
	return ok;
}

/**
 * mf_unclaim() - give a claim up, and wake whoever waits for its PFNs
 * @c: a claim held by the caller
 *
 * Context: Process context.
 */
void mf_unclaim(struct mf_claim *c)
{
	spin_lock(&mf_claims_lock);
	list_del(&c->node);
	spin_unlock(&mf_claims_lock);
	mf_claim_released(c);
}
EXPORT_SYMBOL_IF_KUNIT(mf_unclaim);

/**
 * mf_pfn_claimed() - whether someone claims a PFN
 * @pfn: the PFN
 *
 * For assertions: the answer may be stale once returned, unless the
 * caller is the one who claims @pfn.
 *
 * Return: true when a claim covers @pfn.
 */
bool mf_pfn_claimed(unsigned long pfn)
{
	bool claimed;

	spin_lock(&mf_claims_lock);
	claimed = mf_claim_overlap(NULL, pfn, pfn + 1);
	spin_unlock(&mf_claims_lock);
	return claimed;
}
