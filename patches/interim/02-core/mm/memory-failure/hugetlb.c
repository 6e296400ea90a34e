// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory errors in hugetlb folios: not handled yet.  Until a later patch
 * handles them, an error in a hugetlb folio is refused without marking the
 * page: -EBUSY, which makes x86 kill a task that consumed it.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <linux/hugetlb.h>
#include <linux/mm.h>

#include "../internal.h"
#include "memory-failure.h"

bool is_raw_hwpoison_page_in_hugepage(struct page *page)
{
	return PageHWPoison(page);
}

unsigned long mf_hugetlb_drop_records(struct folio *folio)
{
	return 0;
}

void folio_clear_hugetlb_hwpoison(struct folio *folio)
{
}

int mf_hugetlb_failure(unsigned long pfn, int flags, bool *handled)
{
	*handled = PageHuge(pfn_to_page(pfn));
	if (!*handled)
		return 0;
	pr_err("%#lx: hugetlb pages are not handled yet\n", pfn);
	return -EBUSY;
}
