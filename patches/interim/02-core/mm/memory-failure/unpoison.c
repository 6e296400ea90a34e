// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unpoison: not yet.  Until a later patch brings it back,
 * unpoison_memory() fails cleanly with -EOPNOTSUPP, as it does once a
 * real hardware error was seen.
 */
#include <linux/mm.h>

#include "memory-failure.h"

int unpoison_memory(unsigned long pfn)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL(unpoison_memory);
