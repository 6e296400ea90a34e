// SPDX-License-Identifier: GPL-2.0-only
/*
 * The page-state table: which recovery action each kind of page gets, and
 * the last phases of an error on a pinned, locked folio (unmap, kill,
 * classify, handle), shared by memory_failure() and hugetlb.c.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <linux/ksm.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/swap.h>

#include "../internal.h"
#include "../swap.h"
#include "memory-failure.h"

/*
 * mf_has_extra_refs - whether someone besides us still holds the page
 *
 * We hold one reference; a page-cache folio of shmem holds one per page
 * for its mapping (@extra_pins), which the caller could not drop.
 */
VISIBLE_IF_KUNIT bool mf_has_extra_refs(const struct mf_page_state *ps,
					struct page *page, bool extra_pins)
{
	int users = page_count(page) - 1;

	if (extra_pins)
		users -= folio_nr_pages(page_folio(page));
	if (users <= 0)
		return false;
	pr_err("%#lx: %s still referenced by %d users\n", page_to_pfn(page),
	       mf_page_type_name(ps->type), users);
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(mf_has_extra_refs);

/*
 * Take a folio off its LRU list for good.  It will never be freed (we keep
 * it), so its memcg is uncharged now, and it loses the LRU flags that the
 * page allocator would complain about if unpoison freed it.
 */
static bool mf_isolate_from_lru(struct folio *folio)
{
	bool isolated = folio_isolate_lru(folio);

	if (isolated) {
		mem_cgroup_uncharge(folio);
		folio_clear_unevictable(folio);
		folio_clear_active(folio);
		folio_put(folio);	/* folio_isolate_lru()'s reference */
	}
	return isolated;
}

/* Remove a page-cache folio from its file, so the file forgets the data. */
static enum mf_result mf_truncate(struct folio *folio, unsigned long pfn,
				  struct address_space *mapping)
{
	int err;

	if (!mapping->a_ops->error_remove_folio) {
		if (mapping_evict_folio(mapping, folio))
			return MF_RECOVERED;
		pr_info("%#lx: Failed to invalidate\n", pfn);
		return MF_FAILED;
	}

	err = mapping->a_ops->error_remove_folio(mapping, folio);
	if (err) {
		pr_info("%#lx: Failed to punch page: %d\n", pfn, err);
		return MF_FAILED;
	}
	if (!filemap_release_folio(folio, GFP_NOIO)) {
		pr_info("%#lx: failed to release buffers\n", pfn);
		return MF_FAILED;
	}
	return MF_RECOVERED;
}

static void mf_check_locked(struct folio *folio)
{
	VM_WARN_ON_ONCE_FOLIO(!folio_test_locked(folio), folio);
}

/*
 * Take the data of the locked page-cache folio of @page out of @mapping,
 * then unlock the folio.  shmem and hugetlbfs keep the folio in the file,
 * marked, with the file's references: only other references than those
 * (and ours) make it fail.
 */
static enum mf_result mf_leave_file(const struct mf_page_state *ps,
				    struct page *page,
				    struct address_space *mapping)
{
	struct folio *folio = page_folio(page);
	/* Read before the truncation, which may free the mapping. */
	bool kept = shmem_mapping(mapping) || folio_test_hugetlb(folio);
	enum mf_result result = mf_truncate(folio, page_to_pfn(page), mapping);

	if (mf_has_extra_refs(ps, page, kept))
		result = MF_FAILED;
	folio_unlock(folio);
	return result;
}

/* Kernel-owned pages: nothing we can take away from their owner. */
static enum mf_result mf_handle_kernel(const struct mf_page_state *ps,
				       struct page *page)
{
	struct folio *folio = page_folio(page);

	mf_check_locked(folio);
	folio_unlock(folio);
	return MF_IGNORED;
}

static enum mf_result mf_handle_unknown(const struct mf_page_state *ps,
					struct page *page)
{
	struct folio *folio = page_folio(page);

	mf_check_locked(folio);
	pr_err("%#lx: Unknown page state\n", page_to_pfn(page));
	folio_unlock(folio);
	return MF_IGNORED;
}

/*
 * A clean page: anonymous memory is already unmapped and its users
 * signalled; page cache is dropped, so the next read comes from disk.
 */
static enum mf_result mf_handle_clean(const struct mf_page_state *ps,
				      struct page *page)
{
	struct folio *folio = page_folio(page);
	struct address_space *mapping;

	mf_check_locked(folio);
	mf_isolate_from_lru(folio);

	if (folio_test_anon(folio)) {
		folio_unlock(folio);
		return MF_RECOVERED;
	}

	mapping = folio_mapping(folio);
	if (!mapping) {
		/* Truncated already, or something we do not understand. */
		folio_unlock(folio);
		return MF_FAILED;
	}

	return mf_leave_file(ps, page, mapping);
}

/*
 * A dirty page-cache page: the data is lost.  Record -EIO on the mapping,
 * so that fsync() and friends report the loss, then drop the page.
 */
static enum mf_result mf_handle_dirty(const struct mf_page_state *ps,
				      struct page *page)
{
	struct address_space *mapping = folio_mapping(page_folio(page));

	if (mapping)
		mapping_set_error(mapping, -EIO);
	return mf_handle_clean(ps, page);
}

/*
 * A page of the swap cache.  Dirty, it is the only copy of the data: it
 * stays in the swap cache, poisoned and not up to date, so that whoever
 * swaps it in gets SIGBUS (a delayed kill), and the swap cache keeps its
 * references while the entry lives.  Clean, the swap device has the data:
 * the page leaves the swap cache.
 */
static enum mf_result mf_handle_swapcache(const struct mf_page_state *ps,
					  struct page *page)
{
	bool only_copy = ps->type == MF_MSG_DIRTY_SWAPCACHE;
	enum mf_result done = only_copy ? MF_DELAYED : MF_RECOVERED;
	struct folio *folio = page_folio(page);

	mf_check_locked(folio);
	if (only_copy) {
		folio_clear_dirty(folio);
		folio_clear_uptodate(folio);
	} else {
		delete_from_swap_cache(folio);
	}
	if (!mf_isolate_from_lru(folio))
		done = MF_FAILED;
	folio_unlock(folio);
	if (mf_has_extra_refs(ps, page, done == MF_DELAYED))
		done = MF_FAILED;
	return done;
}

/*
 * A hugetlb folio (the only large folio left after splitting).  We keep no
 * reference on it: its bad pages are known from its records, and the free
 * path breaks a poisoned folio up (hugetlb_free_poisoned_folio()), so the
 * healthy base pages around the bad one go back to the allocator as soon
 * as the last user lets go.  An anonymous one goes now.  One in a file
 * stays there, marked, so that every access to it gets SIGBUS, until the
 * file is truncated or removed; then its memory block can go offline.
 */
static enum mf_result mf_handle_huge(const struct mf_page_state *ps,
				     struct page *page)
{
	struct folio *folio = page_folio(page);
	struct address_space *mapping;
	enum mf_result result;

	mf_check_locked(folio);
	mapping = folio_mapping(folio);
	if (mapping) {
		result = mf_leave_file(ps, page, mapping);
		folio_put(folio);
		return result;
	}
	folio_unlock(folio);
	folio_put(folio);
	result = mf_retire_free(page);
	return mf_has_extra_refs(ps, page, false) ? MF_FAILED : result;
}

#define MF_DIRTY	BIT(PG_dirty)
#define MF_SWAPCACHE	(BIT(PG_swapcache) | BIT(PG_swapbacked))
#define MF_UNEVICTABLE	BIT(PG_unevictable)
#define MF_MLOCKED	BIT(PG_mlocked)
#define MF_LRU		BIT(PG_lru)
#define MF_HEAD		BIT(PG_head)
#define MF_RESERVED	BIT(PG_reserved)

/*
 * The first row whose mask matches wins, so specific kinds come before
 * general ones; the last row matches everything.
 */
static const struct mf_page_state mf_page_states[] = {
	{ MF_RESERVED, MF_RESERVED, MF_MSG_KERNEL, mf_handle_kernel },
	{ MF_HEAD, MF_HEAD, MF_MSG_HUGE, mf_handle_huge },
	{ MF_SWAPCACHE | MF_DIRTY, MF_SWAPCACHE | MF_DIRTY,
	  MF_MSG_DIRTY_SWAPCACHE, mf_handle_swapcache },
	{ MF_SWAPCACHE | MF_DIRTY, MF_SWAPCACHE,
	  MF_MSG_CLEAN_SWAPCACHE, mf_handle_swapcache },
	{ MF_MLOCKED | MF_DIRTY, MF_MLOCKED | MF_DIRTY,
	  MF_MSG_DIRTY_MLOCKED_LRU, mf_handle_dirty },
	{ MF_MLOCKED | MF_DIRTY, MF_MLOCKED,
	  MF_MSG_CLEAN_MLOCKED_LRU, mf_handle_clean },
	{ MF_UNEVICTABLE | MF_DIRTY, MF_UNEVICTABLE | MF_DIRTY,
	  MF_MSG_DIRTY_UNEVICTABLE_LRU, mf_handle_dirty },
	{ MF_UNEVICTABLE | MF_DIRTY, MF_UNEVICTABLE,
	  MF_MSG_CLEAN_UNEVICTABLE_LRU, mf_handle_clean },
	{ MF_LRU | MF_DIRTY, MF_LRU | MF_DIRTY, MF_MSG_DIRTY_LRU,
	  mf_handle_dirty },
	{ MF_LRU | MF_DIRTY, MF_LRU, MF_MSG_CLEAN_LRU, mf_handle_clean },
	{ 0, 0, MF_MSG_UNKNOWN, mf_handle_unknown },
};

/*
 * mf_classify - the page-state row for a set of page flags
 *
 * Return: the first matching row; the last row matches any flags.
 */
VISIBLE_IF_KUNIT const struct mf_page_state *mf_classify(unsigned long flags)
{
	const struct mf_page_state *ps = mf_page_states;

	while ((flags & ps->mask) != ps->value)
		ps++;
	return ps;
}
EXPORT_SYMBOL_IF_KUNIT(mf_classify);

/**
 * mf_handle_page_state() - classify a poisoned page, recover it, report
 * @pfn: the page's PFN
 * @page: the page, pinned, with its folio locked
 * @old_flags: the folio's flags before it was unmapped
 *
 * Unmapping munlocks the page and may move it off the unevictable list,
 * so the page is classified by its current flags plus the mlocked and
 * unevictable bits it had before; if that matches no row, by @old_flags
 * plus the current dirty bit.
 *
 * Context: Process context, mf_mutex held.  The folio lock is released
 * before return.
 * Return: as mf_report().
 */
int mf_handle_page_state(unsigned long pfn, struct page *page,
			 unsigned long old_flags)
{
	unsigned long kept = old_flags & (MF_MLOCKED | MF_UNEVICTABLE);
	const struct mf_page_state *ps;

	lockdep_assert_held(&mf_mutex);
	ps = mf_classify(page->flags | kept);
	if (!ps->mask)
		ps = mf_classify(old_flags | (page->flags & MF_DIRTY));
	return mf_report(pfn, ps->type, ps->handle(ps, page));
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
			/* We keep no hugetlb folio: its users free it. */
			if (folio_test_hugetlb(folio))
				folio_put(folio);
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
