// SPDX-License-Identifier: GPL-2.0-only
/*
 * The injector's filter: lets a test poison only the pages it means to
 * (those of one block device, one memory cgroup, or with given page
 * flags), while it injects errors at random PFNs.
 *
 * The settings are written through debugfs hwpoison/corrupt-filter-*
 * (inject.c) and read here without a lock: a test sets them up before it
 * injects.
 */
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/memcontrol.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/page-flags.h>

#include "../internal.h"
#include "memory-failure.h"

/* Filtering is off until hwpoison/corrupt-filter-enable is set. */
u32 hwpoison_filter_enable;
EXPORT_SYMBOL_GPL(hwpoison_filter_enable);

/* ~0U means "any major" and "any minor". */
u32 hwpoison_filter_dev_major = ~0U;
EXPORT_SYMBOL_GPL(hwpoison_filter_dev_major);
u32 hwpoison_filter_dev_minor = ~0U;
EXPORT_SYMBOL_GPL(hwpoison_filter_dev_minor);

/* A page passes when (its stable_page_flags() & mask) == value. */
u64 hwpoison_filter_flags_mask;
EXPORT_SYMBOL_GPL(hwpoison_filter_flags_mask);
u64 hwpoison_filter_flags_value;
EXPORT_SYMBOL_GPL(hwpoison_filter_flags_value);

/* Inode number of the memory cgroup's directory; 0 means any. */
u64 hwpoison_filter_memcg;
EXPORT_SYMBOL_GPL(hwpoison_filter_memcg);

/* Pages not backed by a block device never pass a device filter. */
static bool mf_filter_dev_passes(struct page *page)
{
	u32 major = READ_ONCE(hwpoison_filter_dev_major);
	u32 minor = READ_ONCE(hwpoison_filter_dev_minor);
	struct address_space *mapping;
	dev_t dev;

	if (major == ~0U && minor == ~0U)
		return true;
	mapping = folio_mapping(page_folio(page));
	if (!mapping || !mapping->host)
		return false;
	dev = mapping->host->i_sb->s_dev;
	return (major == ~0U || major == MAJOR(dev)) &&
	       (minor == ~0U || minor == MINOR(dev));
}

static bool mf_filter_flags_pass(struct page *page)
{
	u64 mask = READ_ONCE(hwpoison_filter_flags_mask);

	if (!mask)
		return true;
	return (stable_page_flags(page) & mask) ==
	       READ_ONCE(hwpoison_filter_flags_value);
}

static bool mf_filter_memcg_passes(struct page *page)
{
#ifdef CONFIG_MEMCG
	u64 ino = READ_ONCE(hwpoison_filter_memcg);

	return !ino || page_cgroup_ino(page) == ino;
#else
	return true;
#endif
}

/**
 * hwpoison_filter() - whether the injector's filter vetoes an error
 * @p: the page the error is for
 *
 * Context: Any context; the page should be locked or pinned so that its
 * owner does not change meanwhile.
 * Return: 0 when the error may proceed (or filtering is off), -EINVAL when
 * the page does not match the filter.
 */
int hwpoison_filter(struct page *p)
{
	if (!READ_ONCE(hwpoison_filter_enable))
		return 0;
	if (!mf_filter_dev_passes(p) || !mf_filter_flags_pass(p) ||
	    !mf_filter_memcg_passes(p))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_GPL(hwpoison_filter);

/**
 * mf_filter_vetoes_pfn() - the injector's early look at the filter
 * @pfn: the PFN about to be injected
 *
 * The filter only understands LRU, hugetlb and free pages, and a page it
 * vetoes must never carry PG_hwpoison, even briefly: the injector asks
 * here before memory_failure() marks the page.  Racy by nature; the page
 * is looked up under the memory hotplug lock, as an offline block's struct
 * pages are junk.
 *
 * Context: Process context; may sleep.
 * Return: true when the error is to be dropped; false when it may go on
 * (memory_failure() then refuses a PFN that is not online memory).
 */
bool mf_filter_vetoes_pfn(unsigned long pfn)
{
	struct folio *folio;
	struct page *page;
	bool veto = false;

	get_online_mems();
	page = pfn_to_online_page(pfn);
	if (page) {
		folio = page_folio(page);
		shake_folio(folio);
		veto = (!folio_test_lru(folio) && !folio_test_hugetlb(folio) &&
			!is_free_buddy_page(page)) ||
		       hwpoison_filter(&folio->page);
	}
	put_online_mems();
	return veto;
}
EXPORT_SYMBOL_GPL(mf_filter_vetoes_pfn);
