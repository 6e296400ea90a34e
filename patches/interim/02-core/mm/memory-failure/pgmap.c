// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory errors in device memory (ZONE_DEVICE): not handled yet.  Until a
 * later patch handles them, such an error is refused as memory outside the
 * kernel's control, as for any PFN without an online struct page.
 */
#include <linux/memremap.h>
#include <linux/mm.h>

#include "memory-failure.h"

int mf_dev_pagemap_failure(unsigned long pfn, int flags,
			   struct dev_pagemap *pgmap)
{
	put_dev_pagemap(pgmap);
	return -ENXIO;
}

#ifdef CONFIG_FS_DAX
int mf_dax_kill_procs(struct address_space *mapping, pgoff_t index,
		      unsigned long count, int mf_flags)
{
	return -EOPNOTSUPP;
}
#endif
