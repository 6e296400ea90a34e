// SPDX-License-Identifier: GPL-2.0-only
/*
 * Soft offline: retire a page that is still good but suspected of going
 * bad (too many corrected errors), by moving its contents elsewhere.
 * Nobody is signalled and no data is lost.
 */
#define pr_fmt(fmt) "Soft offline: " fmt

#include <linux/hugetlb.h>
#include <linux/memory_hotplug.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/pagemap.h>
#include <linux/swap.h>
#include <linux/sysctl.h>

#include "../internal.h"
#include "memory-failure.h"

static int sysctl_enable_soft_offline __read_mostly = 1;

/*
 * Where a soft-offlined folio goes: movable user memory, on its own node
 * first (alloc_migration_target() falls back to the others); allocation
 * tries hard but fails rather than invoke the OOM killer.
 */
#define MF_SOFT_TARGET_GFP	(GFP_USER | __GFP_MOVABLE | __GFP_RETRY_MAYFAIL)

/* Migrate the isolated folio of node @nid away; 0 or a negative errno. */
static int mf_migrate_away(struct list_head *folios, int nid)
{
	struct migration_target_control target = {
		.reason = MR_MEMORY_FAILURE,
		.gfp_mask = MF_SOFT_TARGET_GFP,
		.nid = nid,
	};
	int ret;

	ret = migrate_pages(folios, alloc_migration_target, NULL,
			    (unsigned long)&target, MIGRATE_SYNC,
			    MR_MEMORY_FAILURE, NULL);
	if (ret && !list_empty(folios))
		putback_movable_pages(folios);
	return ret > 0 ? -EBUSY : ret;
}

/*
 * The one step under mf_mutex: mark @page, keep it, count it.  Everything
 * before it (pinning, splitting, migration) runs under the claim alone.
 */
static bool mf_soft_retire(struct page *page, bool take_off, bool release)
{
	bool retired;

	mutex_lock(&mf_mutex);
	retired = mf_retire_page(page, take_off, release);
	if (retired)
		mf_count_soft_offline(page_to_pfn(page));
	mutex_unlock(&mf_mutex);
	return retired;
}

/* Isolate @folio, drop our reference, and migrate it away. */
static int mf_soft_offline_migrate(struct folio *folio, struct page *page,
				   bool huge)
{
	unsigned long pfn = page_to_pfn(page);
	const char *what = huge ? "hugepage" : "page";
	int nid = folio_nid(folio);
	LIST_HEAD(folios);
	bool isolated;
	int ret;

	isolated = isolate_folio_to_list(folio, &folios);
	folio_put(folio);
	if (!isolated) {
		pr_info("%#lx: %s isolation failed, page count %d, type %pGp\n",
			pfn, what, page_count(page), &page->flags);
		return -EBUSY;
	}

	ret = mf_migrate_away(&folios, nid);
	if (ret) {
		pr_info("%#lx: %s migration failed %d, type %pGp\n", pfn, what,
			ret, &page->flags);
		return ret;
	}
	/*
	 * Migration left us the old folio's last reference (MR_MEMORY_FAILURE);
	 * a hugetlb one was freed, and is dissolved here: nothing holds its
	 * block online any more, so it is looked up again under the hotplug
	 * lock.
	 */
	if (!huge)
		return mf_soft_retire(page, false, true) ? 0 : -EBUSY;
	get_online_mems();
	ret = pfn_to_online_page(pfn) && mf_soft_retire(page, true, false) ?
	      0 : -EBUSY;
	put_online_mems();
	return ret;
}

/* What becomes of an in-use page, decided under its folio's lock. */
enum mf_soft_way {
	MF_SOFT_MOVE,		/* migrate its contents */
	MF_SOFT_DROPPED,	/* clean page cache, gone from its file */
	MF_SOFT_POISONED,	/* a hard error came first: nothing to do */
};

/*
 * Clean, unmapped page cache need not move: its data is on disk, and it
 * can leave its file at once.  A page under writeback is waited for, so
 * that it is judged clean or dirty for good.
 */
static enum mf_soft_way mf_soft_choose(struct folio *folio, struct page *page)
{
	enum mf_soft_way way = MF_SOFT_MOVE;
	bool cache;

	folio_lock(folio);
	cache = !folio_test_hugetlb(folio);
	if (cache)
		folio_wait_writeback(folio);
	cache = cache && folio_test_lru(folio) && !folio_test_swapcache(folio);
	if (PageHWPoison(page))
		way = MF_SOFT_POISONED;
	else if (cache && mapping_evict_folio(folio_mapping(folio), folio))
		way = MF_SOFT_DROPPED;
	folio_unlock(folio);
	return way;
}

/*
 * Soft offline a page of a small or hugetlb folio we hold a reference on,
 * and consume the reference.  Returns 1 when the page turned out to be
 * poisoned meanwhile.
 */
static int mf_soft_offline_in_use(struct page *page)
{
	struct folio *folio = page_folio(page);

	switch (mf_soft_choose(folio, page)) {
	case MF_SOFT_POISONED:
		pr_info("%#lx: page already poisoned\n", page_to_pfn(page));
		folio_put(folio);
		return 1;
	case MF_SOFT_DROPPED:
		pr_info("%#lx: invalidated\n", page_to_pfn(page));
		mf_soft_retire(page, false, true);
		return 0;
	case MF_SOFT_MOVE:
		break;
	}
	return mf_soft_offline_migrate(folio, page, folio_test_hugetlb(folio));
}

/*
 * A THP is split first: only the suspect page is retired, the others stay
 * where they are.  Consumes the reference on failure.
 */
static int mf_soft_split(struct page *page)
{
	struct folio *folio = page_folio(page);

	if (!folio_test_large(folio) || folio_test_hugetlb(folio) ||
	    !mf_split_large_folio(page))
		return 0;
	pr_info("%#lx: thp split failed\n", page_to_pfn(page));
	folio_put(folio);
	return -EBUSY;
}

/*
 * Soft offline a page of @claim that is not poisoned: pin it, then move or
 * drop its contents; a free page is taken off the allocator.  Consumes the
 * caller's reference (MF_COUNT_INCREASED).  Returns 0 when the page is
 * retired, 1 when it was poisoned meanwhile, -EAGAIN when its folio is
 * partly claimed by someone else (@claim is then given up), or a negative
 * errno.
 */
static int mf_soft_offline_online(struct mf_claim *claim, struct page *page,
				  int flags)
{
	bool retried = false;
	struct folio *folio;
	int ret;

again:
	ret = mf_pin_page(page, flags | MF_SOFT_OFFLINE);
	if (hwpoison_filter(page)) {
		if (ret > 0)
			put_page(page);
		return -EOPNOTSUPP;
	}
	if (ret > 0) {
		/* Pinned, the folio cannot change: claim all of it. */
		folio = page_folio(page);
		if (!mf_claim_widen(claim, folio_pfn(folio),
				    folio_nr_pages(folio))) {
			folio_put(folio);
			return -EAGAIN;
		}
		/*
		 * Our reference keeps the memory block online: no hotplug
		 * lock across migration, which a hotplug writer (and every
		 * entry point behind it) would wait for.
		 */
		put_online_mems();
		ret = mf_soft_split(page);
		if (!ret)
			ret = mf_soft_offline_in_use(page);
		get_online_mems();
		return ret;
	}
	if (ret == 0 && !mf_soft_retire(page, true, false)) {
		/* Allocated under us: go again, as an in-use page. */
		if (!retried) {
			retried = true;
			flags &= ~MF_COUNT_INCREASED;
			goto again;
		}
		return -EBUSY;
	}
	return ret;
}

/*
 * Soft offline @pfn under @claim, a claim on its folio: look the page up,
 * and retire it unless it is poisoned already.  With MF_COUNT_INCREASED
 * (a reference mf_let_go() dropped), the page is pinned again first, and
 * that reference consumed.  Returns as soft_offline_page(), or
 * -EAGAIN when the folio turned out to be wider than the claim and partly
 * claimed by someone else.
 */
static int mf_soft_offline_claimed(struct mf_claim *claim, unsigned long pfn,
				   int flags)
{
	struct page *page;
	int ret;

	/* Looked up under the hotplug lock: an offline block's memmap is junk. */
	get_online_mems();
	page = pfn_to_online_page(pfn);
	flags = mf_pin_again(pfn, flags);
	if (!page) {
		ret = -EIO;
	} else if (!READ_ONCE(sysctl_enable_soft_offline)) {
		pr_info_once("disabled by /proc/sys/vm/enable_soft_offline\n");
		ret = -EOPNOTSUPP;
	} else if (PageHWPoison(page)) {
		/* Nobody else can mark or unmark it while we hold the claim. */
		pr_info("%#lx: page already poisoned\n", pfn);
		ret = 0;
	} else {
		ret = mf_soft_offline_online(claim, page, flags);
		/* Poisoned meanwhile: retired all the same. */
		if (ret > 0)
			ret = 0;
		flags &= ~MF_COUNT_INCREASED;	/* consumed */
	}
	if (flags & MF_COUNT_INCREASED)
		put_page(pfn_to_page(pfn));
	put_online_mems();
	return ret;
}

/**
 * soft_offline_page() - retire a page without losing its contents
 * @pfn: the page
 * @flags: MF_* flags; MF_COUNT_INCREASED says the caller holds a
 *	reference, which is consumed
 *
 * The page's contents move to another page (migration), or are dropped
 * when they are clean page cache; the page itself is marked hwpoisoned
 * and taken out of use.  A free page is just taken off the allocator.
 *
 * mf_mutex is not held across pinning, splitting or migration, only for
 * marking the page at the end: a claim on the page's folio (claim.c)
 * keeps memory_failure(), unpoison and other soft offlines of its pages
 * waiting meanwhile, and them only.
 *
 * Context: Process context; claims the PFNs of the page's folio, holds
 * memory hotplug off (get_online_mems()) except while it migrates a page
 * it holds, takes mf_mutex briefly; may sleep.
 * Return:
 * * 0 - the page is retired (or was poisoned already)
 * * -ENXIO - @pfn has no struct page
 * * -EIO - the page is not online memory, or of a kind we cannot move
 * * -EOPNOTSUPP - vm.enable_soft_offline is 0, or the injector's filter
 *   vetoed it
 * * -EBUSY - the page could not be isolated, migrated or taken off
 */
int soft_offline_page(unsigned long pfn, int flags)
{
	struct mf_claim claim;
	int ret;

	if (!pfn_valid(pfn)) {
		WARN_ON_ONCE(flags & MF_COUNT_INCREASED);
		return -ENXIO;
	}

	/* MF_COUNT_INCREASED stays: mf_pin_again() takes the page back. */
	mf_let_go(pfn, flags);
	mf_claim_folio(&claim, pfn);
	while ((ret = mf_soft_offline_claimed(&claim, pfn, flags)) == -EAGAIN)
		/* Given up for the whole folio, our reference gone: wait. */
		mf_claim(&claim, claim.start, claim.end - claim.start);
	mf_unclaim(&claim);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(soft_offline_page);

static struct ctl_table mf_soft_offline_sysctls[] = {
	MF_SWITCH_SYSCTL("enable_soft_offline", sysctl_enable_soft_offline),
};

static int __init mf_soft_offline_init(void)
{
	register_sysctl_init("vm", mf_soft_offline_sysctls);
	return 0;
}
core_initcall(mf_soft_offline_init);
