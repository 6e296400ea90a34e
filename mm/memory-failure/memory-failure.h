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

/**
 * struct mf_victim - a task to signal about one corrupted page
 * @node: entry in the caller's victim list
 * @tsk: the task (a reference is held while on the list)
 * @addr: user address of the corrupted page in @tsk, or -EFAULT when the
 *	page is mapped but its address could not be computed
 * @shift: log2 of the mapping size, reported as si_addr_lsb
 *
 * The list type that mm/ksm.c fills through add_to_kill_ksm() and that
 * mf_kill_victims() consumes.
 */
struct mf_victim {
	struct list_head node;
	struct task_struct *tsk;
	unsigned long addr;
	short shift;
};

/*
 * mf_mutex serialises every state change of a hwpoisoned page: handling an
 * error, soft offline, unpoison and the hugetlb raw-error records.  It also
 * protects the per-node counters in pglist_data::mf_stats.
 */
extern struct mutex mf_mutex;

/* core.c */
bool mf_hw_error_seen(void);
int mf_pin_page(struct page *page, unsigned long flags);
bool mf_retire_page(struct page *page, bool take_off, bool release);
int mf_take_off_free_page(struct page *page);
int mf_split_large_folio(struct page *page, bool release);
bool mf_pin_hugetlb(struct page *page, bool unpoison, int *ret);
enum mf_result mf_retire_free(struct page *page);
int mf_unmap_and_classify(struct folio *folio, struct page *page,
			  unsigned long pfn, int flags);

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

/* kill.c */
int mf_victim_add(struct list_head *victims, struct task_struct *tsk,
		  struct page *page, struct vm_area_struct *vma,
		  unsigned long addr);
void mf_collect_victims(struct folio *folio, struct page *page,
			struct list_head *victims, bool force_early);
void mf_collect_mapping_victims(struct address_space *mapping, pgoff_t pgoff,
				struct page *page, struct list_head *victims,
				bool all_tasks);
void mf_kill_victims(struct list_head *victims, bool force, unsigned long pfn,
		     int flags);
int mf_kill_accessing_task(struct task_struct *tsk, unsigned long pfn,
			   int flags);
bool mf_unmap_user_mappings(struct folio *folio, struct page *page,
			    unsigned long pfn, int flags);

/* stats.c */
const char *mf_page_type_name(enum mf_action_page_type type);
const char *mf_result_name(enum mf_result result);
int mf_report(unsigned long pfn, enum mf_action_page_type type,
	      enum mf_result result);

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
short mf_devmap_shift(struct vm_area_struct *vma, unsigned long addr);
#else
static inline int mf_dev_pagemap_failure(unsigned long pfn, int flags,
					 struct dev_pagemap *pgmap)
{
	return -ENXIO;
}

static inline short mf_devmap_shift(struct vm_area_struct *vma,
				    unsigned long addr)
{
	return PAGE_SHIFT;
}
#endif

#if IS_ENABLED(CONFIG_KUNIT)
/* Internals that are static unless KUnit is built, for the tests. */
bool mf_is_handlable(struct page *page, unsigned long flags);
const struct mf_page_state *mf_classify(unsigned long flags);
bool mf_has_extra_refs(const struct mf_page_state *ps, struct page *page,
		       bool extra_pins);
struct task_struct *mf_early_kill_thread(struct task_struct *tsk,
					 bool sysctl_early);
void mf_node_stats_add(struct memory_failure_stats *stats,
		       enum mf_result result);
unsigned int mf_queue_capacity(void);
int mf_queue_dispatch(unsigned long pfn, int flags);
bool mf_recovery_enabled(void);
int mf_signal(struct mf_victim *v, unsigned long pfn, int flags);
#endif

#endif /* _MM_MEMORY_FAILURE_H */
