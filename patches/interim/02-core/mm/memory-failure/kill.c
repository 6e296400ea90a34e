// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unmapping a poisoned page: not yet.  Until it arrives in the next patch,
 * a page that user space maps stays mapped and its error is reported as
 * "unmapping failed page: Failed", and a task that consumes a page that
 * was poisoned before is not looked up (x86 then kills it).
 */
#include "../internal.h"
#include "memory-failure.h"

int mf_kill_accessing_task(struct task_struct *tsk, unsigned long pfn,
			   int flags)
{
	return -EFAULT;
}

int unmap_poisoned_folio(struct folio *folio, unsigned long pfn, bool must_kill)
{
	return folio_mapped(folio) ? -EBUSY : 0;
}

bool mf_unmap_user_mappings(struct folio *folio, struct page *page,
			    unsigned long pfn, int flags)
{
	return !folio_mapped(folio);
}
