/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private interfaces of the hwpoison core (mm/memory-failure/).
 *
 * Only files in this directory and its KUnit tests include this header; the
 * rest of the kernel uses the API in <linux/mm.h> and mm/internal.h.
 */
#ifndef _MM_MEMORY_FAILURE_H
#define _MM_MEMORY_FAILURE_H

#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <kunit/visibility.h>

struct dev_pagemap;
struct vm_area_struct;

/*
 * A vm.* sysctl that switches a behaviour on or off: an int that takes 0
 * or 1, anything else is refused with EINVAL.  For a ctl_table row.
 */
#define MF_SWITCH_SYSCTL(_name, _switch) {				\
	.procname = (_name), .data = &(_switch), .maxlen = sizeof(int),	\
	.mode = 0644, .proc_handler = proc_dointvec_minmax,		\
	.extra1 = SYSCTL_ZERO, .extra2 = SYSCTL_ONE,			\
}

/**
 * struct mf_victim - a process to tell about one poisoned page
 * @tsk: the thread to signal (a reference is held)
 * @mm: the address space it is looked up by; grabbed, so that it stays a
 *	unique key (current's, in &mf_victims.self, needs no grab)
 * @addr: user address of the first mapping of the page found
 * @shift: log2 of the size of that mapping, reported as si_addr_lsb; 0
 *	while no mapping has been found
 */
struct mf_victim {
	struct task_struct *tsk;
	struct mm_struct *mm;
	unsigned long addr;
	short shift;
};

/**
 * struct mf_victims - the processes to tell about one poisoned page
 * @page: the page
 * @pfn: its PFN
 * @self: current, when it consumed the error (MF_ACTION_REQUIRED); kept
 *	here so that no failed allocation can spare it
 * @cand: the other candidates, sorted by @mm (kvmalloc'ed)
 * @nr: entries in @cand
 * @wanted: entries to find: @nr, plus one for @self
 * @found: entries found mapping the page
 * @lost: processes that map the page but could not be recorded
 * @complete: @cand holds every candidate there was
 * @everyone: every process is a candidate, whatever its kill policy
 * @sysctl_early: vm.memory_failure_early_kill, read once
 * @untracked_mm: the last mm reported while @complete is false
 *
 * Filled by mf_collect_victims() or mf_collect_mapping_victims(), used
 * and released by mf_kill_victims(); lives on the caller's stack.
 */
struct mf_victims {
	struct page *page;
	unsigned long pfn;
	struct mf_victim self;
	struct mf_victim *cand;
	unsigned int nr;
	unsigned int wanted;
	unsigned int found;
	unsigned int lost;
	bool complete;
	bool everyone;
	bool sysctl_early;
	struct mm_struct *untracked_mm;
};

/*
 * mf_mutex serialises every state change of a hwpoisoned page: handling an
 * error, marking a soft-offlined page, unpoison and the hugetlb raw-error
 * records.  It also protects the per-node counters (pglist_data::mf_stats
 * and stats.c's soft_offlined and unpoisoned).
 * It is taken under a claim (below): see "DOC: lock order" in core.c.
 */
extern struct mutex mf_mutex;

/**
 * struct mf_claim - PFNs an entry point works on, which no other may touch
 * @node: in claim.c's list of claims
 * @start: first PFN
 * @end: the PFN after the last
 *
 * Lives on the stack of the task that holds it.
 */
struct mf_claim {
	struct list_head node;
	unsigned long start;
	unsigned long end;
};

/* claim.c */
void mf_claim(struct mf_claim *c, unsigned long start, unsigned long nr);
void mf_claim_folio(struct mf_claim *c, unsigned long pfn);
bool mf_claim_widen(struct mf_claim *c, unsigned long start, unsigned long nr);
void mf_unclaim(struct mf_claim *c);
bool mf_pfn_claimed(unsigned long pfn);

/* page.c: the primitives, beneath everything but claims and counters */
void mf_note_hw_error(void);
bool mf_hw_error_seen(void);
int mf_pin_page(struct page *page, unsigned long flags);
bool mf_retire_page(struct page *page, bool take_off, bool release);
int mf_take_off_free_page(struct page *page);
int mf_split_large_folio(struct page *page);
void mf_let_go(unsigned long pfn, int flags);
int mf_pin_again(unsigned long pfn, int flags);
bool mf_pin_hugetlb(struct page *page, bool unpoison, int *ret);
enum mf_result mf_retire_free(struct page *page);
bool mf_page_taken_off(struct page *page);

/**
 * struct mf_page_state - one row of the page-state table
 * @mask: page flags that decide the row
 * @value: what (flags & @mask) must equal for the row to match
 * @type: page type reported to the log and the tracepoint
 * @handle: recovery action for the page
 *
 * @handle is called with the folio of the page locked by the core; it must
 * unlock the folio before it returns (some handlers free the folio, which
 * needs it unlocked first).  It returns an &enum mf_result.
 */
struct mf_page_state {
	unsigned long mask;
	unsigned long value;
	enum mf_action_page_type type;
	enum mf_result (*handle)(const struct mf_page_state *ps,
				 struct page *page);
};

/* handlers.c */
int mf_handle_page_state(unsigned long pfn, struct page *page,
			 unsigned long old_flags);
int mf_unmap_and_classify(struct folio *folio, struct page *page,
			  unsigned long pfn, int flags);

/* victims.c */
void mf_collect_victims(struct mf_victims *vs, struct folio *folio,
			struct page *page, int flags);
void mf_collect_mapping_victims(struct mf_victims *vs,
				struct address_space *mapping, pgoff_t pgoff,
				struct page *page, int flags);
short mf_victims_max_shift(const struct mf_victims *vs);
void mf_kill_victims(struct mf_victims *vs, bool force, int flags);

/* kill.c */
int mf_kill_accessing_task(struct task_struct *tsk, unsigned long pfn,
			   int flags);
bool mf_unmap_user_mappings(struct folio *folio, struct page *page,
			    unsigned long pfn, int flags);

/* filter.c (built with the injector) */
bool mf_filter_vetoes_pfn(unsigned long pfn);

/* stats.c */
const char *mf_page_type_name(enum mf_action_page_type type);
const char *mf_result_name(enum mf_result result);
int mf_report(unsigned long pfn, enum mf_action_page_type type,
	      enum mf_result result);
void mf_count_soft_offline(unsigned long pfn);
void mf_uncount_healed(unsigned long pfn, unsigned long nr);

#ifdef CONFIG_HUGETLB_PAGE
/* hugetlb.c */
int mf_hugetlb_failure(unsigned long pfn, int flags, bool *handled);
unsigned long mf_hugetlb_drop_records(struct folio *folio);
#else
static inline int mf_hugetlb_failure(unsigned long pfn, int flags,
				     bool *handled)
{
	*handled = false;
	return 0;
}

static inline unsigned long mf_hugetlb_drop_records(struct folio *folio)
{
	return 0;
}
#endif

#ifdef CONFIG_ZONE_DEVICE
/* pgmap.c */
int mf_dev_pagemap_failure(unsigned long pfn, int flags,
			   struct dev_pagemap *pgmap);
#else
static inline int mf_dev_pagemap_failure(unsigned long pfn, int flags,
					 struct dev_pagemap *pgmap)
{
	return -ENXIO;
}
#endif

#if IS_ENABLED(CONFIG_KUNIT)
/* Internals that are static unless KUnit is built, for the tests. */
bool mf_is_handlable(struct page *page, unsigned long flags);
const struct mf_page_state *mf_classify(unsigned long flags);
bool mf_has_extra_refs(const struct mf_page_state *ps, struct page *page,
		       bool extra_pins);
struct task_struct *mf_early_kill_thread(struct task_struct *p,
					 bool sysctl_early);
struct mf_victim *mf_victims_alloc(unsigned int nr);
void mf_victim_lost(unsigned long pfn, struct task_struct *tsk);
void mf_node_stats_add(struct memory_failure_stats *stats,
		       enum mf_result result);
unsigned int mf_queue_capacity(void);
unsigned long mf_queue_lost(int cpu);
int mf_queue_dispatch(unsigned long pfn, int flags);
bool mf_recovery_enabled(void);
void mf_kunit_locked(void (*fn)(void *arg), void *arg);
int mf_signal(struct mf_victim *v, unsigned long pfn, int flags);
#endif

#endif /* _MM_MEMORY_FAILURE_H */
