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

/* Migrate an isolated folio away; 0 or a negative errno. */
static int mf_migrate_away(struct list_head *folios)
{
	struct migration_target_control mtc = {
		.nid = NUMA_NO_NODE,
		.gfp_mask = GFP_USER | __GFP_MOVABLE | __GFP_RETRY_MAYFAIL,
		.reason = MR_MEMORY_FAILURE,
	};
	int ret;

	ret = migrate_pages(folios, alloc_migration_target, NULL,
			    (unsigned long)&mtc, MIGRATE_SYNC,
			    MR_MEMORY_FAILURE, NULL);
	if (ret && !list_empty(folios))
		putback_movable_pages(folios);
	return ret > 0 ? -EBUSY : ret;
}

/* Isolate @folio, drop our reference, and migrate it away. */
static int mf_soft_offline_migrate(struct folio *folio, struct page *page,
				   bool huge)
{
	unsigned long pfn = page_to_pfn(page);
	const char *what = huge ? "hugepage" : "page";
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

	ret = mf_migrate_away(&folios);
	if (ret) {
		pr_info("%#lx: %s migration failed %d, type %pGp\n", pfn, what,
			ret, &page->flags);
		return ret;
	}
	/* Migration freed the old folio; a hugetlb one is dissolved here. */
	return mf_retire_page(page, huge, !huge) ? 0 : -EBUSY;
}

/*
 * Soft offline a page we hold a reference on, and consume the reference.
 * Clean page cache is just dropped from its file; anything else moves.
 */
static int mf_soft_offline_in_use(struct page *page)
{
	unsigned long pfn = page_to_pfn(page);
	struct folio *folio = page_folio(page);
	bool huge = folio_test_hugetlb(folio);
	bool poisoned, dropped = false;

	if (folio_test_large(folio) && !huge) {
		if (mf_split_large_folio(page, true)) {
			pr_info("%#lx: thp split failed\n", pfn);
			return -EBUSY;
		}
		folio = page_folio(page);
	}

	folio_lock(folio);
	if (!huge)
		folio_wait_writeback(folio);
	poisoned = PageHWPoison(page);
	if (!poisoned && !huge && folio_test_lru(folio) &&
	    !folio_test_swapcache(folio))
		dropped = mapping_evict_folio(folio_mapping(folio), folio);
	folio_unlock(folio);

	if (poisoned) {
		pr_info("%#lx: page already poisoned\n", pfn);
		folio_put(folio);
	} else if (dropped) {
		pr_info("%#lx: invalidated\n", pfn);
		mf_retire_page(page, false, true);
	} else {
		return mf_soft_offline_migrate(folio, page, huge);
	}
	return 0;
}

/*
 * Soft offline an online page that is not poisoned yet: pin it, then move
 * or drop its contents; a free page is taken off the allocator.  Consumes
 * the caller's reference (MF_COUNT_INCREASED).
 */
static int mf_soft_offline_online(struct page *page, int flags)
{
	bool retried = false;
	int ret;

again:
	ret = mf_pin_page(page, flags | MF_SOFT_OFFLINE);
	if (hwpoison_filter(page)) {
		if (ret > 0)
			put_page(page);
		return -EOPNOTSUPP;
	}
	if (ret > 0)
		return mf_soft_offline_in_use(page);
	if (ret == 0 && !mf_retire_page(page, true, false)) {
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
 * Context: Process context; takes mf_mutex and holds memory hotplug off
 * (get_online_mems()), may sleep.
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
	struct page *page;
	int ret;

	if (!pfn_valid(pfn)) {
		WARN_ON_ONCE(flags & MF_COUNT_INCREASED);
		return -ENXIO;
	}

	mutex_lock(&mf_mutex);
	/* Looked up under the hotplug lock: an offline block's memmap is junk. */
	get_online_mems();
	page = pfn_to_online_page(pfn);
	if (!page) {
		ret = -EIO;
	} else if (!READ_ONCE(sysctl_enable_soft_offline)) {
		pr_info_once("disabled by /proc/sys/vm/enable_soft_offline\n");
		ret = -EOPNOTSUPP;
	} else if (PageHWPoison(page)) {
		pr_info("%#lx: page already poisoned\n", pfn);
		ret = 0;
	} else {
		ret = mf_soft_offline_online(page, flags);
		flags &= ~MF_COUNT_INCREASED;	/* consumed */
	}
	if (flags & MF_COUNT_INCREASED)
		put_page(pfn_to_page(pfn));
	put_online_mems();
	mutex_unlock(&mf_mutex);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(soft_offline_page);

static struct ctl_table mf_soft_offline_sysctls[] = {
	{
		.procname	= "enable_soft_offline",
		.data		= &sysctl_enable_soft_offline,
		.maxlen		= sizeof(sysctl_enable_soft_offline),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
};

static int __init mf_soft_offline_init(void)
{
	register_sysctl_init("vm", mf_soft_offline_sysctls);
	return 0;
}
core_initcall(mf_soft_offline_init);
