// SPDX-License-Identifier: GPL-2.0-only
/*
 * Soft offline: not yet.  Until a later patch brings it back,
 * soft_offline_page() fails cleanly with -EOPNOTSUPP, as it does when
 * vm.enable_soft_offline is 0.
 */
#include <linux/mm.h>

#include "memory-failure.h"

int soft_offline_page(unsigned long pfn, int flags)
{
	if (pfn_valid(pfn) && (flags & MF_COUNT_INCREASED))
		put_page(pfn_to_page(pfn));
	return -EOPNOTSUPP;
}
