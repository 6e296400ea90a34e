// SPDX-License-Identifier: GPL-2.0-only
/*
 * Victims of a memory error: finding the tasks that map a poisoned page,
 * unmapping it and signalling them.
 *
 * Collection walks the reverse map of the page first and records the mms
 * that map it, with the address in each.  Only when it found some does it
 * go over the task list, once, looking each task's mm up in that sorted
 * record: O(tasks * log(mappings) + mappings) instead of a scan of every
 * task for every mapping.  A page that is not mapped costs no task scan.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <kunit/static_stub.h>
#include <linux/backing-dev.h>
#include <linux/hugetlb.h>
#include <linux/ksm.h>
#include <linux/mm.h>
#include <linux/pagewalk.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/sysctl.h>

#include "../internal.h"
#include "memory-failure.h"

static int sysctl_memory_failure_early_kill __read_mostly;

/*
 * mf_early_kill_thread - the thread of @tsk's process that wants to hear
 * about errors as soon as they happen (early kill), or NULL
 *
 * A thread that asked for early kill with prctl(PR_MCE_KILL) is preferred,
 * as it is the process's designated handler.  Otherwise the first thread
 * that did not choose a policy is taken if vm.memory_failure_early_kill
 * (@sysctl_early) is set.
 *
 * Context: rcu_read_lock() or tasklist_lock held.
 */
VISIBLE_IF_KUNIT struct task_struct *mf_early_kill_thread(struct task_struct *tsk,
							  bool sysctl_early)
{
	struct task_struct *t;

	for_each_thread(tsk, t)
		if ((t->flags & PF_MCE_PROCESS) && (t->flags & PF_MCE_EARLY))
			return t;
	if (!sysctl_early)
		return NULL;
	for_each_thread(tsk, t)
		if (!(t->flags & PF_MCE_PROCESS))
			return t;
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mf_early_kill_thread);

/**
 * task_early_kill() - the thread of a process to signal at error time
 * @tsk: a task of the process
 * @force_early: the error is being consumed by current (action required):
 *	signal current if it shares @tsk's mm, whatever the policy
 *
 * Context: rcu_read_lock() or tasklist_lock held.
 * Return: the thread to signal now, or NULL when the process has no mm or
 * asked to be told late (when it touches the page).
 */
struct task_struct *task_early_kill(struct task_struct *tsk, int force_early)
{
	if (!tsk->mm)
		return NULL;
	if (force_early && tsk->mm == current->mm)
		return current;
	return mf_early_kill_thread(tsk,
				    READ_ONCE(sysctl_memory_failure_early_kill));
}
EXPORT_SYMBOL_IF_KUNIT(task_early_kill);

static int mf_victim_add_shift(struct list_head *victims,
			       struct task_struct *tsk, unsigned long addr,
			       short shift)
{
	struct mf_victim *v;

	v = kmalloc(sizeof(*v), GFP_ATOMIC);
	if (!v)
		return -ENOMEM;
	get_task_struct(tsk);
	v->tsk = tsk;
	v->addr = addr;
	v->shift = shift;
	list_add_tail(&v->node, victims);
	return 0;
}

static short mf_mapping_shift(struct page *page, struct vm_area_struct *vma,
			      unsigned long addr)
{
	if (is_zone_device_page(page))
		return mf_devmap_shift(vma, addr);
	return page_shift(compound_head(page));
}

/**
 * mf_victim_add() - put a task on a victim list
 * @victims: the list
 * @tsk: the task to signal
 * @page: the poisoned page
 * @vma: the mapping of @page in @tsk
 * @addr: the address of @page in @vma, or -EFAULT if unknown
 *
 * A task whose address is unknown is still added: it gets SIGKILL if it
 * must be killed.  A ZONE_DEVICE page that turns out not to be mapped at
 * @addr is skipped.
 *
 * Context: Any context that may allocate with GFP_ATOMIC.
 * Return: 0, or -ENOMEM.
 */
int mf_victim_add(struct list_head *victims, struct task_struct *tsk,
		  struct page *page, struct vm_area_struct *vma,
		  unsigned long addr)
{
	short shift = mf_mapping_shift(page, vma, addr);

	if (addr == -EFAULT)
		pr_info("Unable to find user space address %lx in %s\n",
			page_to_pfn(page), tsk->comm);
	else if (!shift)
		return 0;
	return mf_victim_add_shift(victims, tsk, addr, shift);
}
EXPORT_SYMBOL_IF_KUNIT(mf_victim_add);

#ifdef CONFIG_KSM
/**
 * add_to_kill_ksm() - add a task that maps a KSM page to a victim list
 * @tsk: the task
 * @page: the poisoned KSM page
 * @vma: a mapping of @page in @tsk
 * @to_kill: the victim list (of &struct mf_victim)
 * @addr: the address of @page in @vma
 *
 * A task that maps the page several times is signalled once.
 *
 * Context: As mm/ksm.c's collect_procs_ksm(): rcu_read_lock() held.
 */
void add_to_kill_ksm(struct task_struct *tsk, struct page *page,
		     struct vm_area_struct *vma, struct list_head *to_kill,
		     unsigned long addr)
{
	struct mf_victim *v;

	list_for_each_entry(v, to_kill, node)
		if (v->tsk == tsk)
			return;
	mf_victim_add(to_kill, tsk, page, vma, addr);
}
EXPORT_SYMBOL_IF_KUNIT(add_to_kill_ksm);
#endif

/* One mapping of the poisoned page, found by the rmap walk. */
struct mf_hit {
	struct mm_struct *mm;
	unsigned long addr;
	short shift;
};

struct mf_hits {
	struct mf_hit *hit;
	unsigned int nr;
	unsigned int cap;
};

/* Record a mapping; the mm is grabbed so its address stays unique. */
static void mf_hits_add(struct mf_hits *hits, struct mm_struct *mm,
			unsigned long addr, short shift)
{
	if (hits->nr == hits->cap) {
		unsigned int cap = hits->cap ? 2 * hits->cap : 8;
		struct mf_hit *n;

		n = krealloc_array(hits->hit, cap, sizeof(*n), GFP_ATOMIC);
		if (!n)
			return;
		hits->hit = n;
		hits->cap = cap;
	}
	mmgrab(mm);
	hits->hit[hits->nr++] = (struct mf_hit){ mm, addr, shift };
}

static int mf_hit_cmp(const void *a, const void *b)
{
	const struct mf_hit *x = a, *y = b;

	if (x->mm != y->mm)
		return x->mm < y->mm ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/* Index of the first hit of @mm in the sorted @hits, or -1. */
static int mf_hits_find(const struct mf_hits *hits, struct mm_struct *mm)
{
	int lo = 0, hi = hits->nr;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (hits->hit[mid].mm < mm)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < hits->nr && hits->hit[lo].mm == mm ? lo : -1;
}

/*
 * Turn the recorded mappings into victims: one pass over the processes.
 * With @any_task every process that maps the page is taken, whatever its
 * kill policy (the memory is going away); otherwise the policy decides.
 */
static void mf_hits_to_victims(struct mf_hits *hits, struct list_head *victims,
			       bool force_early, bool any_task)
{
	struct task_struct *tsk;
	unsigned int i;

	if (!hits->nr)
		return;
	sort(hits->hit, hits->nr, sizeof(*hits->hit), mf_hit_cmp, NULL);

	rcu_read_lock();
	for_each_process(tsk) {
		struct task_struct *t;
		int first;

		t = any_task ? tsk : task_early_kill(tsk, force_early);
		if (!t || !t->mm)
			continue;
		first = mf_hits_find(hits, t->mm);
		if (first < 0)
			continue;
		for (i = first; i < hits->nr && hits->hit[i].mm == t->mm; i++)
			mf_victim_add_shift(victims, t, hits->hit[i].addr,
					    hits->hit[i].shift);
	}
	rcu_read_unlock();

	for (i = 0; i < hits->nr; i++)
		mmdrop(hits->hit[i].mm);
	kfree(hits->hit);
}

static void mf_collect_anon(struct folio *folio, struct page *page,
			    struct mf_hits *hits)
{
	struct anon_vma_chain *avc;
	struct anon_vma *av;
	pgoff_t pgoff;

	av = folio_lock_anon_vma_read(folio, NULL);
	if (!av)
		return;
	pgoff = page_to_pgoff(page);
	anon_vma_interval_tree_foreach(avc, &av->rb_root, pgoff, pgoff) {
		struct vm_area_struct *vma = avc->vma;
		unsigned long addr = page_mapped_in_vma(page, vma);

		if (addr != -EFAULT)
			mf_hits_add(hits, vma->vm_mm, addr,
				    mf_mapping_shift(page, vma, addr));
	}
	anon_vma_unlock_read(av);
}

static void mf_collect_file(struct address_space *mapping, pgoff_t pgoff,
			    struct page *page, bool by_pgoff,
			    struct mf_hits *hits)
{
	struct vm_area_struct *vma;

	i_mmap_lock_read(mapping);
	vma_interval_tree_foreach(vma, &mapping->i_mmap, pgoff, pgoff) {
		unsigned long addr;
		short shift;

		addr = by_pgoff ? vma_address(vma, pgoff, 1) :
				  page_address_in_vma(page, vma);
		if (addr == -EFAULT)
			continue;
		shift = mf_mapping_shift(page, vma, addr);
		if (shift)
			mf_hits_add(hits, vma->vm_mm, addr, shift);
	}
	i_mmap_unlock_read(mapping);
}

/**
 * mf_collect_victims() - find the tasks to tell about a poisoned page
 * @folio: the folio of @page, locked
 * @page: the poisoned page
 * @victims: list to add &struct mf_victim entries to
 * @force_early: current consumed the error; include it whatever its policy
 *
 * Only tasks whose kill policy is early are collected (and current with
 * @force_early); the others learn of the error when they touch the page.
 *
 * Context: Process context, mf_mutex held.
 */
void mf_collect_victims(struct folio *folio, struct page *page,
			struct list_head *victims, bool force_early)
{
	struct mf_hits hits = { };

	lockdep_assert_held(&mf_mutex);
	if (!folio->mapping)
		return;
	if (unlikely(folio_test_ksm(folio))) {
		collect_procs_ksm(folio, page, victims, force_early);
		return;
	}
	if (folio_test_anon(folio))
		mf_collect_anon(folio, page, &hits);
	else
		mf_collect_file(folio->mapping, page_to_pgoff(page), page,
				false, &hits);
	mf_hits_to_victims(&hits, victims, force_early, false);
}

/**
 * mf_collect_mapping_victims() - find the tasks that map a file offset
 * @mapping: the file
 * @pgoff: the page offset in @mapping
 * @page: the poisoned page at @pgoff
 * @victims: list to add &struct mf_victim entries to
 * @all_tasks: take every task that maps @pgoff, whatever its kill policy
 *	(the memory is being removed); otherwise as for action required
 *
 * For file systems on device memory (fsdax), where the page is not in the
 * page cache.
 *
 * Context: Process context.
 */
void mf_collect_mapping_victims(struct address_space *mapping, pgoff_t pgoff,
				struct page *page, struct list_head *victims,
				bool all_tasks)
{
	struct mf_hits hits = { };

	mf_collect_file(mapping, pgoff, page, true, &hits);
	mf_hits_to_victims(&hits, victims, true, all_tasks);
}

VISIBLE_IF_KUNIT int mf_signal(struct mf_victim *v, unsigned long pfn,
			       int flags)
{
	struct task_struct *t = v->tsk;
	void __user *addr = (void __user *)v->addr;
	int ret;

	KUNIT_STATIC_STUB_REDIRECT(mf_signal, v, pfn, flags);
	pr_err("%#lx: Sending SIGBUS to %s:%d due to hardware memory corruption\n",
	       pfn, t->comm, task_pid_nr(t));
	/* Only the task that consumed the data gets an action-required kill. */
	if ((flags & MF_ACTION_REQUIRED) && t == current)
		ret = force_sig_mceerr(BUS_MCEERR_AR, addr, v->shift);
	else
		ret = send_sig_mceerr(BUS_MCEERR_AO, addr, v->shift, t);
	if (ret < 0)
		pr_info("Error sending signal to %s:%d: %d\n", t->comm,
			task_pid_nr(t), ret);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(mf_signal);

/**
 * mf_kill_victims() - signal the tasks on a victim list and free it
 * @victims: the list, emptied on return
 * @force: signal them; otherwise only release the list (the page was
 *	unmapped cleanly and nobody lost data)
 * @pfn: the poisoned page
 * @flags: MF_* flags; MF_ACTION_REQUIRED makes current's signal AR
 *
 * A task whose address of the page is unknown gets SIGKILL: SIGBUS
 * without an address would be of no use to it.
 *
 * Context: Process context.
 */
void mf_kill_victims(struct list_head *victims, bool force, unsigned long pfn,
		     int flags)
{
	struct mf_victim *v, *next;

	list_for_each_entry_safe(v, next, victims, node) {
		if (force && v->addr == -EFAULT) {
			pr_err("%#lx: forcibly killing %s:%d because of failure to unmap corrupted page\n",
			       pfn, v->tsk->comm, task_pid_nr(v->tsk));
			do_send_sig_info(SIGKILL, SEND_SIG_PRIV, v->tsk,
					 PIDTYPE_PID);
		} else if (force && mf_signal(v, pfn, flags) < 0) {
			pr_err("%#lx: Cannot send advisory machine check signal to %s:%d\n",
			       pfn, v->tsk->comm, task_pid_nr(v->tsk));
		}
		list_del(&v->node);
		put_task_struct(v->tsk);
		kfree(v);
	}
}
EXPORT_SYMBOL_IF_KUNIT(mf_kill_victims);

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

static int mf_walk_pmd(pmd_t *pmdp, unsigned long addr, unsigned long end,
		       struct mm_walk *walk)
{
	struct mf_walk *w = walk->private;
	pte_t *start, *pte;
	spinlock_t *ptl;	/* of the page table being read */
	bool found = false;

	ptl = pmd_trans_huge_lock(pmdp, walk->vma);
	if (ptl) {
		pmd_t pmd = *pmdp;

		if (pmd_present(pmd))
			found = mf_walk_match(w, pmd_pfn(pmd),
					      1UL << (PMD_SHIFT - PAGE_SHIFT),
					      addr, PAGE_SHIFT);
		spin_unlock(ptl);
		goto out;
	}

	start = pte_offset_map_lock(walk->mm, pmdp, addr, &ptl);
	if (!start)
		goto out;
	for (pte = start; addr != end; pte++, addr += PAGE_SIZE) {
		found = mf_walk_match(w, mf_entry_pfn(ptep_get(pte)), 1, addr,
				      PAGE_SHIFT);
		if (found)
			break;
	}
	pte_unmap_unlock(start, ptl);
out:
	cond_resched();
	return found;
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
 * Without a test_walk callback the walker skips VM_PFNMAP VMAs, but a
 * poisoned RAM page may be mapped there too: accept every VMA.
 */
static int mf_walk_any_vma(unsigned long start, unsigned long end,
			   struct mm_walk *walk)
{
	return 0;
}

static const struct mm_walk_ops mf_walk_ops = {
	.test_walk	= mf_walk_any_vma,
	.pmd_entry	= mf_walk_pmd,
#ifdef CONFIG_HUGETLB_PAGE
	.hugetlb_entry	= mf_walk_hugetlb,
#endif
	.walk_lock	= PGWALK_RDLOCK,
};

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
	ret = walk_page_range(tsk->mm, 0, TASK_SIZE, &mf_walk_ops, &w);
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
 * Whether @folio holds file data that is also on its backing store, so a
 * later access can read it again.  The page tables may hold dirty bits the
 * folio does not have yet: move them over first.
 */
static bool mf_is_clean_file_data(struct folio *folio)
{
	struct address_space *mapping = folio_mapping(folio);

	if (folio_test_dirty(folio) || !mapping ||
	    !mapping_can_writeback(mapping))
		return false;
	if (folio_mkclean(folio)) {
		folio_set_dirty(folio);
		return false;
	}
	return true;
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
	struct address_space *mapping;
	bool leave_entries = true;

	/* The swap entry stays; swapin finds the page poisoned. */
	if (folio_test_swapcache(folio)) {
		pr_err("%#lx: keeping poisoned page in swap cache\n", pfn);
		leave_entries = false;
	}
	if (!must_kill && mf_is_clean_file_data(folio)) {
		pr_info("%#lx: corrupted page was clean: dropped without side effects\n",
			pfn);
		leave_entries = false;
	}
	if (leave_entries)
		ttu |= TTU_HWPOISON;

	if (folio_test_hugetlb(folio) && !folio_test_anon(folio)) {
		/* Shared hugetlb page tables need i_mmap held for write. */
		mapping = hugetlb_folio_mapping_lock_write(folio);
		if (!mapping) {
			pr_info("%#lx: could not lock mapping for mapped hugetlb folio\n",
				folio_pfn(folio));
			return -EBUSY;
		}
		try_to_unmap(folio, ttu | TTU_RMAP_LOCKED);
		i_mmap_unlock_write(mapping);
	} else {
		try_to_unmap(folio, ttu);
	}
	return folio_mapped(folio) ? -EBUSY : 0;
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
	LIST_HEAD(victims);
	bool unmapped, force;

	lockdep_assert_held(&mf_mutex);
	if (folio_test_reserved(folio) || folio_test_slab(folio) ||
	    folio_test_pgtable(folio) || folio_test_offline(folio))
		return true;
	if (!(folio_test_lru(folio) || folio_test_hugetlb(folio)))
		return true;
	if (!folio_mapped(folio))
		return true;

	mf_collect_victims(folio, page, &victims, flags & MF_ACTION_REQUIRED);

	unmapped = !unmap_poisoned_folio(folio, pfn, flags & MF_MUST_KILL);
	if (!unmapped)
		pr_err("%#lx: failed to unmap page (folio mapcount=%d)\n", pfn,
		       folio_mapcount(folio));

	/* The unmap munlocked the folio: move it off the unevictable list. */
	if (mlocked)
		shake_folio(folio);

	force = folio_test_dirty(folio) || (flags & MF_MUST_KILL) || !unmapped;
	mf_kill_victims(&victims, force, pfn, flags);
	return unmapped;
}

static struct ctl_table mf_kill_sysctls[] = {
	{
		.procname	= "memory_failure_early_kill",
		.data		= &sysctl_memory_failure_early_kill,
		.maxlen		= sizeof(sysctl_memory_failure_early_kill),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
};

static int __init mf_kill_init(void)
{
	register_sysctl_init("vm", mf_kill_sysctls);
	return 0;
}
core_initcall(mf_kill_init);
