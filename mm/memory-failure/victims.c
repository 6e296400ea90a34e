// SPDX-License-Identifier: GPL-2.0-only
/*
 * Victims of a memory error: the processes to tell that a page they map
 * lost its data, and the SIGBUS that tells them.
 */

/**
 * DOC: choosing the victims
 *
 * Who is told is settled before the page's reverse map is looked at.  A
 * process is a candidate when one of its live threads wants to hear early
 * (prctl(PR_MCE_KILL) or vm.memory_failure_early_kill), and current is one
 * when it consumed the error itself (MF_ACTION_REQUIRED).  The candidates,
 * one entry per process, go into an array sorted by mm.  Only then is the
 * reverse map walked: each mapping's mm is looked up in the array, and the
 * walk ends as soon as every candidate has been found.  A process is told
 * once, at the address of the first of its mappings the walk met.
 *
 * With P processes, C candidates and M mappings of the page this costs
 * O(P + C log C) to choose the candidates and O(M log C) for the walk, and
 * memory for C entries, whatever M is.  A machine where nobody asked for
 * early kill does not walk the reverse map at all.  Current's entry is
 * part of &struct mf_victims itself: no failed allocation can spare the
 * task that must die (MF_MUST_KILL).  A candidate that could not be
 * recorded is reported by name when its mapping is met ("cannot tell
 * COMM:PID of the corruption: out of memory", rate-limited), and the
 * number of them is logged once per error.
 */

#define pr_fmt(fmt) "Memory failure: " fmt

#include <kunit/static_stub.h>
#include <linux/ksm.h>
#include <linux/mm.h>
#include <linux/ratelimit.h>
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

/* How often the candidates are counted again when processes keep coming. */
#define MF_SCAN_TRIES	3

/*
 * mf_early_kill_thread - the thread of process @p to tell at error time
 *
 * A live thread that chose early kill with prctl(PR_MCE_KILL) is preferred:
 * it is the process's designated handler.  Otherwise, with
 * vm.memory_failure_early_kill (@sysctl_early), the first live thread that
 * chose no policy of its own.  Threads that exited (no mm) are passed over,
 * so a process whose group leader is gone is still found.
 *
 * Context: rcu_read_lock() held.
 * Return: the thread, or NULL when the process is to hear late.
 */
VISIBLE_IF_KUNIT struct task_struct *mf_early_kill_thread(struct task_struct *p,
							  bool sysctl_early)
{
	struct task_struct *t, *first = NULL;

	for_each_thread(p, t) {
		if (!READ_ONCE(t->mm))
			continue;
		if (t->flags & PF_MCE_PROCESS) {
			if (t->flags & PF_MCE_EARLY)
				return t;
		} else if (sysctl_early && !first) {
			first = t;
		}
	}
	return first;
}
EXPORT_SYMBOL_IF_KUNIT(mf_early_kill_thread);

/* The thread of process @p to record as a candidate, or NULL. */
static struct task_struct *mf_candidate_thread(const struct mf_victims *vs,
					       struct task_struct *p)
{
	struct task_struct *t;

	if (!vs->everyone)
		return mf_early_kill_thread(p, vs->sysctl_early);
	for_each_thread(p, t)
		if (READ_ONCE(t->mm))
			return t;
	return NULL;
}

/*
 * mf_victims_alloc - room for @nr candidates; a static stub lets the KUnit
 * tests make it fail
 */
VISIBLE_IF_KUNIT struct mf_victim *mf_victims_alloc(unsigned int nr)
{
	KUNIT_STATIC_STUB_REDIRECT(mf_victims_alloc, nr);
	return kvmalloc_array(nr, sizeof(struct mf_victim), GFP_KERNEL);
}
EXPORT_SYMBOL_IF_KUNIT(mf_victims_alloc);

/*
 * Count the candidates, and record the first @cap of them in vs->cand.
 * The mm is read under the task lock so that it cannot be freed before it
 * is grabbed; grabbed, it stays a unique key for the whole walk.
 * Processes that share current's mm are told through vs->self.
 */
static unsigned int mf_scan_candidates(struct mf_victims *vs, unsigned int cap)
{
	struct task_struct *p, *t;
	unsigned int n = 0;

	rcu_read_lock();
	for_each_process(p) {
		struct mf_victim *v;

		t = mf_candidate_thread(vs, p);
		if (!t || READ_ONCE(t->mm) == vs->self.mm)
			continue;
		if (n >= cap) {
			n++;
			continue;
		}
		v = &vs->cand[n];
		task_lock(t);
		v->mm = t->mm;
		if (v->mm)
			mmgrab(v->mm);
		task_unlock(t);
		if (!v->mm)
			continue;
		get_task_struct(t);
		v->tsk = t;
		v->addr = 0;
		v->shift = 0;
		n++;
	}
	rcu_read_unlock();
	return n;
}

static void mf_put_candidates(struct mf_victims *vs)
{
	unsigned int i;

	for (i = 0; i < vs->nr; i++) {
		put_task_struct(vs->cand[i].tsk);
		mmdrop(vs->cand[i].mm);
	}
	kvfree(vs->cand);
	vs->cand = NULL;
	vs->nr = 0;
}

static int mf_victim_cmp(const void *a, const void *b)
{
	const struct mf_victim *x = a, *y = b;

	if (x->mm == y->mm)
		return 0;
	return x->mm < y->mm ? -1 : 1;
}

/*
 * Fill vs->cand, sized by a first count.  Processes forked meanwhile may
 * not fit; then count again, a few times.  What never fits (or all of it,
 * when there is no memory) leaves the set incomplete.
 */
static void mf_find_candidates(struct mf_victims *vs)
{
	unsigned int n, cap;
	int tries;

	n = mf_scan_candidates(vs, 0);
	vs->complete = !n;
	for (tries = 0; n && tries < MF_SCAN_TRIES; tries++) {
		cap = n + n / 8 + 8;
		vs->cand = mf_victims_alloc(cap);
		if (!vs->cand)
			break;
		n = mf_scan_candidates(vs, cap);
		vs->nr = min(n, cap);
		vs->complete = n <= cap;
		if (vs->complete || tries == MF_SCAN_TRIES - 1)
			break;
		mf_put_candidates(vs);
	}
	if (vs->nr)
		sort(vs->cand, vs->nr, sizeof(*vs->cand), mf_victim_cmp, NULL);
	vs->wanted += vs->nr;
}

/* The first entry of @mm (in vs->cand, or vs->self), or NULL. */
static struct mf_victim *mf_victim_of(struct mf_victims *vs,
				      struct mm_struct *mm)
{
	unsigned int lo = 0, hi = vs->nr;

	if (vs->self.tsk && mm == vs->self.mm)
		return &vs->self;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (vs->cand[mid].mm < mm)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < vs->nr && vs->cand[lo].mm == mm ? &vs->cand[lo] : NULL;
}

/*
 * Whether a mapping in @mm is worth its address: it belongs to a candidate
 * not found yet, or, with candidates missing from the set, to nobody known.
 */
static bool mf_wanted(struct mf_victims *vs, struct mm_struct *mm)
{
	struct mf_victim *v = mf_victim_of(vs, mm);

	if (v)
		return !v->shift;
	return !vs->complete && mm != vs->untracked_mm;
}

/*
 * mf_victim_lost - report a process that will not be told of an error
 *
 * It learns of the error only when it touches the page (late kill).  A
 * static stub lets the KUnit tests see each report.
 */
VISIBLE_IF_KUNIT void mf_victim_lost(unsigned long pfn, struct task_struct *tsk)
{
	KUNIT_STATIC_STUB_REDIRECT(mf_victim_lost, pfn, tsk);
	pr_err_ratelimited("%#lx: cannot tell %s:%d of the corruption: out of memory\n",
			   pfn, tsk->comm, task_pid_nr(tsk));
}
EXPORT_SYMBOL_IF_KUNIT(mf_victim_lost);

/*
 * A mapping by an mm that has no entry while the set is incomplete: report
 * the candidates it belongs to.  Consecutive mappings of one mm are looked
 * at once.
 */
static void mf_report_untracked(struct mf_victims *vs, struct mm_struct *mm)
{
	struct task_struct *p, *t;

	vs->untracked_mm = mm;
	rcu_read_lock();
	for_each_process(p) {
		t = mf_candidate_thread(vs, p);
		if (t && READ_ONCE(t->mm) == mm) {
			mf_victim_lost(vs->pfn, t);
			vs->lost++;
		}
	}
	rcu_read_unlock();
}

/* Whether a leaf entry of @shift, for PFNs from @first, covers @pfn. */
static bool mf_leaf_covers(unsigned long first, short shift, unsigned long pfn)
{
	return pfn - first < 1UL << (shift - PAGE_SHIFT);
}

/*
 * The level of the page table entry that maps @pfn at @addr in @vma, as a
 * shift; 0 when @addr maps something else (a private copy of a device
 * page, made on write) or nothing.  Read without the page table lock: the
 * rmap lock our caller holds keeps the tables, and a racing change of the
 * entry only makes the answer stale.
 */
static short mf_entry_shift(struct vm_area_struct *vma, unsigned long addr,
			    unsigned long pfn)
{
	pgd_t *pgd = pgd_offset(vma->vm_mm, addr);
	short shift = 0;
	pte_t *ptep;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t pmd;
	pte_t pte;

	if (!pgd_present(*pgd))
		return 0;
	p4d = p4d_offset(pgd, addr);
	if (!p4d_present(*p4d))
		return 0;
	pud = pud_offset(p4d, addr);
	if (!pud_present(*pud))
		return 0;
	if (pud_leaf(*pud))
		return mf_leaf_covers(pud_pfn(*pud), PUD_SHIFT, pfn) ?
		       PUD_SHIFT : 0;
	pmd = pmdp_get_lockless(pmd_offset(pud, addr));
	if (!pmd_present(pmd))
		return 0;
	if (pmd_leaf(pmd))
		return mf_leaf_covers(pmd_pfn(pmd), PMD_SHIFT, pfn) ?
		       PMD_SHIFT : 0;
	ptep = pte_offset_map(pmd_offset(pud, addr), addr);
	if (!ptep)
		return 0;
	pte = ptep_get(ptep);
	if (pte_present(pte) && pte_pfn(pte) == pfn)
		shift = PAGE_SHIFT;
	pte_unmap(ptep);
	return shift;
}

/*
 * How much of @vma's memory at @addr the error takes (si_addr_lsb): the
 * whole compound page, except for device memory, whose pages are not
 * compound but which may be mapped by PUD or PMD.
 */
static short mf_mapping_shift(struct page *page, struct vm_area_struct *vma,
			      unsigned long addr)
{
	if (is_zone_device_page(page))
		return mf_entry_shift(vma, addr, page_to_pfn(page));
	return page_shift(compound_head(page));
}

/*
 * @vma maps the page at @addr: record it for every candidate of its mm
 * that has no mapping yet.  Returns true when the walk may stop, every
 * candidate having been found.
 */
static bool mf_found(struct mf_victims *vs, struct vm_area_struct *vma,
		     unsigned long addr)
{
	struct mm_struct *mm = vma->vm_mm;
	struct mf_victim *v = mf_victim_of(vs, mm);
	short shift;

	if (!v) {
		if (!vs->complete && mm != vs->untracked_mm)
			mf_report_untracked(vs, mm);
		return false;
	}
	shift = mf_mapping_shift(vs->page, vma, addr);
	if (!shift || v->shift)
		return false;
	/* Processes that share an mm (CLONE_VM) sit side by side in cand. */
	for (;;) {
		v->addr = addr;
		v->shift = shift;
		vs->found++;
		if (v == &vs->self || ++v == vs->cand + vs->nr || v->mm != mm)
			break;
	}
	return vs->complete && vs->found == vs->wanted;
}

static void mf_walk_anon(struct mf_victims *vs, struct folio *folio)
{
	pgoff_t pgoff = page_to_pgoff(vs->page);
	struct anon_vma_chain *avc;
	struct anon_vma *av;

	av = folio_lock_anon_vma_read(folio, NULL);
	if (!av)
		return;
	anon_vma_interval_tree_foreach(avc, &av->rb_root, pgoff, pgoff) {
		struct vm_area_struct *vma = avc->vma;
		unsigned long addr;

		if (!mf_wanted(vs, vma->vm_mm))
			continue;
		/* A forked child may have copied the page away: check. */
		addr = page_mapped_in_vma(vs->page, vma);
		if (addr != -EFAULT && mf_found(vs, vma, addr))
			break;
	}
	anon_vma_unlock_read(av);
}

static void mf_walk_file(struct mf_victims *vs, struct address_space *mapping,
			 pgoff_t pgoff)
{
	struct vm_area_struct *vma;

	i_mmap_lock_read(mapping);
	vma_interval_tree_foreach(vma, &mapping->i_mmap, pgoff, pgoff) {
		unsigned long addr;

		if (!mf_wanted(vs, vma->vm_mm))
			continue;
		addr = vma_address(vma, pgoff, 1);
		if (addr != -EFAULT && mf_found(vs, vma, addr))
			break;
	}
	i_mmap_unlock_read(mapping);
}

static bool mf_ksm_one(struct folio *folio, struct vm_area_struct *vma,
		       unsigned long addr, void *arg)
{
	struct mf_victims *vs = arg;

	return !(mf_wanted(vs, vma->vm_mm) && mf_found(vs, vma, addr));
}

/* KSM keeps its own reverse map; rmap_walk() knows it.  Folio locked. */
static void mf_walk_ksm(struct mf_victims *vs, struct folio *folio)
{
	struct rmap_walk_control rwc = {
		.arg = vs,
		.rmap_one = mf_ksm_one,
	};

	rmap_walk(folio, &rwc);
}

static void mf_victims_init(struct mf_victims *vs, struct page *page)
{
	*vs = (struct mf_victims){
		.page = page,
		.pfn = page_to_pfn(page),
		.complete = true,
	};
}

/*
 * Set up @vs for the page @page and choose the candidates.  Returns false
 * when there is nobody to look for.
 */
static bool mf_victims_begin(struct mf_victims *vs, struct page *page,
			     int flags, bool everyone)
{
	mf_victims_init(vs, page);
	vs->everyone = everyone;
	vs->sysctl_early = READ_ONCE(sysctl_memory_failure_early_kill);
	if ((flags & MF_ACTION_REQUIRED) && current->mm) {
		get_task_struct(current);
		vs->self.tsk = current;
		vs->self.mm = current->mm;
		vs->wanted = 1;
	}
	mf_find_candidates(vs);
	return vs->wanted || !vs->complete;
}

static void mf_victims_end(struct mf_victims *vs)
{
	if (vs->lost)
		pr_err("%#lx: %u processes that map the page were not told: out of memory\n",
		       vs->pfn, vs->lost);
}

/**
 * mf_collect_victims() - find the processes to tell about a poisoned page
 * @vs: the set to fill; mf_kill_victims() releases it
 * @folio: the folio of @page, locked
 * @page: the poisoned page
 * @flags: MF_* flags of the error; with MF_ACTION_REQUIRED current is told
 *	whatever its kill policy
 *
 * Only processes whose kill policy is early are collected (and current
 * with MF_ACTION_REQUIRED); the others learn of the error when they touch
 * the page.  The folio lock keeps a KSM folio's reverse map stable.
 *
 * Context: Process context, may sleep; mf_mutex held.
 */
void mf_collect_victims(struct mf_victims *vs, struct folio *folio,
			struct page *page, int flags)
{
	lockdep_assert_held(&mf_mutex);
	if (!folio->mapping) {
		mf_victims_init(vs, page);
		return;
	}
	if (!mf_victims_begin(vs, page, flags, false))
		return;
	if (unlikely(folio_test_ksm(folio)))
		mf_walk_ksm(vs, folio);
	else if (folio_test_anon(folio))
		mf_walk_anon(vs, folio);
	else
		mf_walk_file(vs, folio->mapping, page_to_pgoff(page));
	mf_victims_end(vs);
}
EXPORT_SYMBOL_IF_KUNIT(mf_collect_victims);

/**
 * mf_collect_mapping_victims() - find the processes that map a file offset
 * @vs: the set to fill; mf_kill_victims() releases it
 * @mapping: the file
 * @pgoff: the page offset in @mapping
 * @page: the poisoned page at @pgoff
 * @flags: MF_* flags; MF_MEM_PRE_REMOVE takes every process that maps
 *	@pgoff, whatever its kill policy (the memory is being removed)
 *
 * For file systems on device memory (fsdax), whose pages are not in the
 * page cache.
 *
 * Context: Process context, may sleep.
 */
void mf_collect_mapping_victims(struct mf_victims *vs,
				struct address_space *mapping, pgoff_t pgoff,
				struct page *page, int flags)
{
	if (!mf_victims_begin(vs, page, flags, flags & MF_MEM_PRE_REMOVE))
		return;
	mf_walk_file(vs, mapping, pgoff);
	mf_victims_end(vs);
}

/**
 * mf_victims_max_shift() - the size of the largest mapping found
 * @vs: a collected set
 *
 * Return: log2 of the largest mapping size among the victims found, or 0
 * when none was found.
 */
short mf_victims_max_shift(const struct mf_victims *vs)
{
	short shift = vs->self.shift;
	unsigned int i;

	for (i = 0; i < vs->nr; i++)
		shift = max(shift, vs->cand[i].shift);
	return shift;
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

static void mf_tell(struct mf_victim *v, bool force, unsigned long pfn,
		    int flags)
{
	if (force && v->shift && mf_signal(v, pfn, flags) < 0)
		pr_err("%#lx: Cannot send advisory machine check signal to %s:%d\n",
		       pfn, v->tsk->comm, task_pid_nr(v->tsk));
	put_task_struct(v->tsk);
}

/**
 * mf_kill_victims() - signal the processes found and release the set
 * @vs: the set from mf_collect_victims() or mf_collect_mapping_victims()
 * @force: signal them; otherwise only release the set (the page was
 *	unmapped cleanly and nobody lost data)
 * @flags: MF_* flags of the error; MF_ACTION_REQUIRED makes current's
 *	signal BUS_MCEERR_AR
 *
 * Context: Process context.
 */
void mf_kill_victims(struct mf_victims *vs, bool force, int flags)
{
	unsigned int i;

	if (vs->self.tsk)
		mf_tell(&vs->self, force, vs->pfn, flags);
	for (i = 0; i < vs->nr; i++) {
		mf_tell(&vs->cand[i], force, vs->pfn, flags);
		mmdrop(vs->cand[i].mm);
	}
	kvfree(vs->cand);
	vs->cand = NULL;
	vs->nr = 0;
	vs->self.tsk = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mf_kill_victims);

static struct ctl_table mf_victims_sysctls[] = {
	MF_SWITCH_SYSCTL("memory_failure_early_kill",
			 sysctl_memory_failure_early_kill),
};

static int __init mf_victims_sysctl_init(void)
{
	register_sysctl_init("vm", mf_victims_sysctls);
	return 0;
}
core_initcall(mf_victims_sysctl_init);
