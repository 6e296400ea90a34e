// SPDX-License-Identifier: GPL-2.0-only
/*
 * Taking a poisoned page away from its users: unmapping it, so that the
 * next access faults on a hwpoison entry, and telling the processes that
 * lost data (victims.c chooses them).  Also finding where a task maps a
 * page that was poisoned before, to signal it when it consumes the error.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <kunit/static_stub.h>
#include <linux/backing-dev.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/pagewalk.h>
#include <linux/rmap.h>
#include <linux/swapops.h>

#include "../internal.h"
#include "memory-failure.h"

/* Where a poisoned PFN is mapped in one address space. */
struct mf_walk {
	unsigned long pfn;
	unsigned long addr;
	short shift;
};

/*
 * Whether an entry mapping @nr pages from @entry_pfn at @addr covers the
 * poisoned PFN; if so, note its address and the @shift to report.
 */
static bool mf_walk_match(struct mf_walk *w, unsigned long entry_pfn,
			  unsigned long nr, unsigned long addr, short shift)
{
	if (!entry_pfn || w->pfn < entry_pfn || w->pfn >= entry_pfn + nr)
		return false;
	w->addr = addr + ((w->pfn - entry_pfn) << PAGE_SHIFT);
	w->shift = shift;
	return true;
}

/* A present entry, or the hwpoison entry left where the page was. */
static unsigned long mf_entry_pfn(pte_t pte)
{
	swp_entry_t swp;

	if (pte_present(pte))
		return pte_pfn(pte);
	swp = pte_to_swp_entry(pte);
	return is_hwpoison_entry(swp) ? swp_offset_pfn(swp) : 0;
}

#ifdef CONFIG_HUGETLB_PAGE
/* A hugetlb entry maps a whole huge page: report its full size. */
static int mf_walk_hugetlb(pte_t *ptep, unsigned long hmask,
			   unsigned long addr, unsigned long end,
			   struct mm_walk *walk)
{
	struct hstate *h = hstate_vma(walk->vma);

	return mf_walk_match(walk->private,
			     mf_entry_pfn(huge_ptep_get(walk->mm, addr, ptep)),
			     pages_per_huge_page(h), addr, huge_page_shift(h));
}
#endif

/*
 * One page table's worth of the range: a PMD that maps a THP whole is one
 * entry for all its pages; otherwise each PTE, the page table locked.
 */
static int mf_walk_pmd(pmd_t *pmdp, unsigned long addr, unsigned long end,
		       struct mm_walk *walk)
{
	unsigned long i, nr = (end - addr) >> PAGE_SHIFT;
	struct mf_walk *w = walk->private;
	spinlock_t *ptl;	/* of the page table being read */
	bool found = false;
	pte_t *ptes;

	cond_resched();		/* a walk of a large mapping is long */
	ptl = pmd_trans_huge_lock(pmdp, walk->vma);
	if (ptl) {
		pmd_t pmd = *pmdp;

		found = pmd_present(pmd) &&
			mf_walk_match(w, pmd_pfn(pmd),
				      1UL << (PMD_SHIFT - PAGE_SHIFT), addr,
				      PAGE_SHIFT);
		spin_unlock(ptl);
	} else {
		ptes = pte_offset_map_lock(walk->mm, pmdp, addr, &ptl);
		for (i = 0; ptes && i < nr && !found; i++)
			found = mf_walk_match(w, mf_entry_pfn(ptep_get(ptes + i)),
					      1, addr + (i << PAGE_SHIFT),
					      PAGE_SHIFT);
		if (ptes)
			pte_unmap_unlock(ptes, ptl);
	}
	return found;
}

static const struct mm_walk_ops mf_walk_ops = {
	.pmd_entry	= mf_walk_pmd,
#ifdef CONFIG_HUGETLB_PAGE
	.hugetlb_entry	= mf_walk_hugetlb,
#endif
	.walk_lock	= PGWALK_RDLOCK,
};

/*
 * Look for @w's PFN in every VMA of @mm, VM_PFNMAP ones included (a poisoned
 * RAM page may be mapped there too): walk_page_vma(), unlike a range walk,
 * does not skip them.  Return: 1 when found, 0 if not, or a negative errno.
 */
static int mf_find_in_mm(struct mm_struct *mm, struct mf_walk *w)
{
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	int ret = 0;

	vma_iter_init(&vmi, mm, 0);
	for_each_vma(vmi, vma) {
		ret = walk_page_vma(vma, &mf_walk_ops, w);
		if (ret)
			break;
	}
	return ret;
}

/**
 * mf_kill_accessing_task() - signal a task that consumed an already
 * poisoned page
 * @tsk: the task, normally current
 * @pfn: the poisoned page
 * @flags: MF_* flags of the error
 *
 * The page is unmapped already or about to be; find where @tsk maps it (or
 * where the hwpoison entry sits) to report the right address.
 *
 * Context: Process context; takes @tsk's mmap_lock.
 * Return: -EHWPOISON when @tsk was signalled, 0 when it does not map the
 * page, -EFAULT when it has no mm.
 */
int mf_kill_accessing_task(struct task_struct *tsk, unsigned long pfn,
			   int flags)
{
	struct mf_walk w = { .pfn = pfn };
	struct mf_victim v = { .tsk = tsk };
	int ret;

	if (!tsk->mm)
		return -EFAULT;
	mmap_read_lock(tsk->mm);
	ret = mf_find_in_mm(tsk->mm, &w);
	if (ret == 1 && w.addr) {
		v.addr = w.addr;
		v.shift = w.shift;
		mf_signal(&v, pfn, flags);
	}
	mmap_read_unlock(tsk->mm);
	if (ret <= 0)
		return 0;
	return -EHWPOISON;
}
EXPORT_SYMBOL_IF_KUNIT(mf_kill_accessing_task);

/*
 * Whether @folio holds file data that its backing store may have too: not
 * dirty as far as the folio knows, in a file that is written back.
 */
static bool mf_may_be_on_disk(struct folio *folio)
{
	struct address_space *mapping = folio_mapping(folio);

	return !folio_test_dirty(folio) && mapping &&
	       mapping_can_writeback(mapping);
}

/* Move the dirty bits of the page tables to @folio before judging it. */
static void mf_pull_dirty_bits(struct folio *folio)
{
	if (folio_mkclean(folio))
		folio_set_dirty(folio);
}

/*
 * Whether the folio's mappings must become hwpoison entries: not for a
 * page in the swap cache (its swap entry stays, and swapin finds the page
 * poisoned), nor for clean page cache whose data is still on disk.
 */
static bool mf_wants_entries(struct folio *folio, unsigned long pfn,
			     bool must_kill)
{
	bool entries = true;

	if (folio_test_swapcache(folio)) {
		pr_err("%#lx: keeping poisoned page in swap cache\n", pfn);
		entries = false;
	}
	if (must_kill || !mf_may_be_on_disk(folio))
		return entries;
	mf_pull_dirty_bits(folio);
	if (folio_test_dirty(folio))
		return entries;
	pr_info("%#lx: corrupted page was clean: dropped without side effects\n",
		pfn);
	return false;
}

/**
 * unmap_poisoned_folio() - remove every user mapping of a poisoned folio
 * @folio: the folio, locked
 * @pfn: the poisoned page
 * @must_kill: the data is lost whatever the page state: install hwpoison
 *	entries even for a clean page-cache page
 *
 * Mappings are replaced by hwpoison entries, so a later access gets SIGBUS.
 * A clean page-cache folio is unmapped without them: its data is still on
 * disk and the next access reads it again.
 *
 * Context: Process context; may sleep.
 * Return: 0 when no mapping is left, -EBUSY otherwise.
 */
int unmap_poisoned_folio(struct folio *folio, unsigned long pfn, bool must_kill)
{
	enum ttu_flags ttu = TTU_IGNORE_MLOCK | TTU_SYNC;
	struct address_space *locked = NULL;

	if (mf_wants_entries(folio, pfn, must_kill))
		ttu |= TTU_HWPOISON;
	/* Unsharing hugetlb page tables needs i_mmap held for write. */
	if (folio_test_hugetlb(folio) && !folio_test_anon(folio)) {
		locked = hugetlb_folio_mapping_lock_write(folio);
		if (!locked) {
			pr_info("%#lx: could not lock mapping for mapped hugetlb folio\n",
				folio_pfn(folio));
			return -EBUSY;
		}
		ttu |= TTU_RMAP_LOCKED;
	}
	try_to_unmap(folio, ttu);
	if (locked)
		i_mmap_unlock_write(locked);
	return folio_mapped(folio) ? -EBUSY : 0;
}

/*
 * Whether user page tables map @folio: kernel pages never are, and only
 * LRU and hugetlb folios can be.  An unmapped page of the swap cache is
 * told late, to whoever swaps it in.
 */
static bool mf_user_mapped(struct folio *folio)
{
	if (folio_test_slab(folio) || folio_test_pgtable(folio) ||
	    folio_test_reserved(folio) || folio_test_offline(folio))
		return false;
	return folio_mapped(folio) &&
	       (folio_test_hugetlb(folio) || folio_test_lru(folio));
}

/**
 * mf_unmap_user_mappings() - unmap a poisoned folio and tell its users
 * @folio: the folio, locked
 * @page: the poisoned page in @folio
 * @pfn: its PFN
 * @flags: MF_* flags of the error
 *
 * Early-kill users are collected before unmapping, while the rmap still
 * knows them.  They are signalled when data was lost: the folio was dirty,
 * the unmap failed, or the caller says MF_MUST_KILL.
 *
 * Context: Process context, mf_mutex held.
 * Return: false when the folio is still mapped.
 */
bool mf_unmap_user_mappings(struct folio *folio, struct page *page,
			    unsigned long pfn, int flags)
{
	bool mlocked = folio_test_mlocked(folio);
	struct mf_victims vs;
	bool unmapped, force;

	lockdep_assert_held(&mf_mutex);
	if (!mf_user_mapped(folio))
		return true;

	mf_collect_victims(&vs, folio, page, flags);

	unmapped = !unmap_poisoned_folio(folio, pfn, flags & MF_MUST_KILL);
	if (!unmapped)
		pr_err("%#lx: failed to unmap page (folio mapcount=%d)\n", pfn,
		       folio_mapcount(folio));

	/* The unmap munlocked the folio: move it off the unevictable list. */
	if (mlocked)
		shake_folio(folio);

	force = folio_test_dirty(folio) || (flags & MF_MUST_KILL) || !unmapped;
	mf_kill_victims(&vs, force, flags);
	return unmapped;
}
