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
 * works on: memory_failure() and unpoison_memory() their PFN, soft offline
 * the PFNs of the page's folio.  A claim overlapping another waits for it,
 * so two entry points are never on the same page at once, and mf_mutex is
 * held for the state changes only.  A task holds at most one claim and
 * waits for none while it does, so claims cannot deadlock among
 * themselves; they are taken under get_online_mems() and before mf_mutex.
 * Claims are few (one per task inside an entry point): a list is searched.
 */

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "memory-failure.h"

static LIST_HEAD(mf_claims);
static DEFINE_SPINLOCK(mf_claims_lock);
static DECLARE_WAIT_QUEUE_HEAD(mf_claims_wq);

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
	wait_event(mf_claims_wq, mf_claim_try(c, start, start + nr));
}
EXPORT_SYMBOL_IF_KUNIT(mf_claim);

/**
 * mf_claim_widen() - widen a claim to the folio its page turned out to be in
 * @c: a claim held by the caller
 * @start: first PFN of the folio
 * @nr: its number of pages
 *
 * Return: true when @c now covers [@start, @start + @nr) (and what it
 * covered before); false when part of it is claimed by someone else: the
 * caller lets go of what it holds, waits with mf_claim_wait() and starts
 * again.
 */
bool mf_claim_widen(struct mf_claim *c, unsigned long start, unsigned long nr)
{
	unsigned long end = start + nr;
	bool ok;

	spin_lock(&mf_claims_lock);
	ok = !mf_claim_overlap(c, start, end);
	if (ok) {
		c->start = min(c->start, start);
		c->end = max(c->end, end);
	}
	spin_unlock(&mf_claims_lock);
	return ok;
}

static bool mf_range_free(unsigned long start, unsigned long end)
{
	bool free;

	spin_lock(&mf_claims_lock);
	free = !mf_claim_overlap(NULL, start, end);
	spin_unlock(&mf_claims_lock);
	return free;
}

/**
 * mf_claim_wait() - wait until nobody claims any of a range of PFNs
 * @start: first PFN
 * @nr: number of PFNs
 *
 * Context: Process context, may sleep; the caller holds no claim.
 */
void mf_claim_wait(unsigned long start, unsigned long nr)
{
	wait_event(mf_claims_wq, mf_range_free(start, start + nr));
}

/**
 * mf_unclaim() - give a claim up, and wake whoever waits for its PFNs
 * @c: a claim held by the caller
 */
void mf_unclaim(struct mf_claim *c)
{
	spin_lock(&mf_claims_lock);
	list_del(&c->node);
	spin_unlock(&mf_claims_lock);
	wake_up_all(&mf_claims_wq);
}
EXPORT_SYMBOL_IF_KUNIT(mf_unclaim);

/**
 * mf_pfn_claimed() - whether someone claims a PFN
 * @pfn: the PFN
 *
 * For assertions: the answer may be stale once returned, unless the
 * caller is the one who claims @pfn.
 */
bool mf_pfn_claimed(unsigned long pfn)
{
	return !mf_range_free(pfn, pfn + 1);
}
