// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory errors in device memory (ZONE_DEVICE): persistent memory mapped
 * through DAX, and other pages whose struct page belongs to a dev_pagemap.
 *
 * Such pages are not in the page cache nor on the LRU; their owner (the
 * pagemap's memory_failure operation, usually a file system) knows who
 * uses them.  Without an owner's handler we unmap the page and kill its
 * users, as the data cannot be recovered.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <linux/dax.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "../internal.h"
#include "memory-failure.h"

/*
 * Zap every mapping of the file range the victims map, sized by the
 * largest mapping among them, then signal them.
 */
static void mf_unmap_range_and_kill(struct mf_victims *vs,
				    struct address_space *mapping,
				    pgoff_t index, int flags)
{
	short shift = mf_victims_max_shift(vs);
	unsigned long size = shift ? 1UL << shift : 0;

	/* The whole naturally aligned block that holds @index. */
	if (size)
		unmap_mapping_range(mapping,
				    round_down((loff_t)index << PAGE_SHIFT, size),
				    size, 0);
	mf_kill_victims(vs, flags & MF_MUST_KILL, flags);
}

/*
 * Mark a page of device memory and kill whoever maps it: the access cannot
 * be retried.  Device-private and coherent memory is not CPU-addressable
 * the usual way: not ours to handle (-ENXIO).
 */
static int mf_kill_device_page_users(struct folio *folio, int flags,
				     struct dev_pagemap *pgmap)
{
	struct mf_victims vs;

	if (pgmap->type == MEMORY_DEVICE_PRIVATE ||
	    pgmap->type == MEMORY_DEVICE_COHERENT)
		return -ENXIO;
	SetPageHWPoison(&folio->page);
	flags |= MF_ACTION_REQUIRED | MF_MUST_KILL;
	mf_collect_victims(&vs, folio, &folio->page, flags);
	mf_unmap_range_and_kill(&vs, folio->mapping, folio->index, flags);
	return 0;
}

/*
 * The common handler <linux/memremap.h> names, for pagemaps without an
 * owner handler: poison, unmap and kill whoever maps the page.
 */
static int mf_generic_kill_procs(unsigned long pfn, int flags,
				 struct dev_pagemap *pgmap)
{
	struct folio *folio = pfn_folio(pfn);
	dax_entry_t cookie;
	int ret;

	/* Pins the page's file mapping while we look at it. */
	cookie = dax_lock_folio(folio);
	if (!cookie)
		return -EBUSY;
	ret = hwpoison_filter(&folio->page) ? -EOPNOTSUPP :
	      mf_kill_device_page_users(folio, flags, pgmap);
	dax_unlock_folio(folio, cookie);
	return ret;
}

/*
 * The owner of the memory (a driver, or the file system on it) handles the
 * error if it has a way; if it has none, or declines, the generic way does.
 * The pagemap's own metadata cannot be recovered: -ENXIO.
 */
static int mf_pgmap_handle(struct dev_pagemap *pgmap, unsigned long pfn,
			   int flags)
{
	int ret = -EOPNOTSUPP;

	if (!pgmap_pfn_valid(pgmap, pfn))
		return -ENXIO;
	if (pgmap_has_memory_failure(pgmap))
		ret = pgmap->ops->memory_failure(pgmap, pfn, 1, flags);
	if (ret != -EOPNOTSUPP)
		return ret;
	return mf_generic_kill_procs(pfn, flags, pgmap);
}

/**
 * mf_dev_pagemap_failure() - handle an error in device memory
 * @pfn: the corrupted page
 * @flags: MF_* flags
 * @pgmap: the page's pagemap, referenced; the reference is dropped
 *
 * Context: Process context, mf_mutex held.
 * Return: 0 when handled, -EOPNOTSUPP when the filter vetoed it, another
 * negative errno when it could not be handled.
 */
int mf_dev_pagemap_failure(unsigned long pfn, int flags,
			   struct dev_pagemap *pgmap)
{
	int ret;

	lockdep_assert_held(&mf_mutex);
	ret = mf_pgmap_handle(pgmap, pfn, flags);
	put_dev_pagemap(pgmap);
	if (ret != -EOPNOTSUPP)
		mf_report(pfn, MF_MSG_DAX, ret ? MF_FAILED : MF_RECOVERED);
	return ret;
}

#ifdef CONFIG_FS_DAX
/*
 * Page @index of an fsdax file: mark it (unless the device is only going
 * away: its memory is fine) and kill whoever maps it.  The DAX entry lock
 * keeps the page in the file meanwhile; a hole has no users.
 */
static int mf_dax_kill_one(struct address_space *mapping, pgoff_t index,
			   int mf_flags)
{
	struct page *page = NULL;
	struct mf_victims vs;
	dax_entry_t cookie;

	cookie = dax_lock_mapping_entry(mapping, index, &page);
	if (!cookie)
		return -EBUSY;
	if (page) {
		if (!(mf_flags & MF_MEM_PRE_REMOVE))
			SetPageHWPoison(page);
		mf_collect_mapping_victims(&vs, mapping, index, page, mf_flags);
		mf_unmap_range_and_kill(&vs, mapping, index, mf_flags);
	}
	dax_unlock_mapping_entry(mapping, index, cookie);
	return 0;
}

/**
 * mf_dax_kill_procs() - tell the users of a damaged fsdax range
 * @mapping: the file
 * @index: the page offset in @mapping where the damage starts
 * @count: how many pages it covers
 * @mf_flags: MF_* flags; with MF_MEM_PRE_REMOVE the device is going away:
 *	every user is killed, and the pages are left unmarked
 *
 * A file system calls this from its notify_failure operation.  Users are
 * always killed: the access cannot be retried.
 *
 * Context: Process context.
 * Return: 0, or -EBUSY when the DAX entry of a page could not be locked;
 * the pages before it were handled.
 */
int mf_dax_kill_procs(struct address_space *mapping, pgoff_t index,
		      unsigned long count, int mf_flags)
{
	int ret = 0;

	mf_flags |= MF_ACTION_REQUIRED | MF_MUST_KILL;
	while (count-- && !ret)
		ret = mf_dax_kill_one(mapping, index++, mf_flags);
	return ret;
}
EXPORT_SYMBOL_GPL(mf_dax_kill_procs);
#endif
