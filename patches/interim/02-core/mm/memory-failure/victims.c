// SPDX-License-Identifier: GPL-2.0-only
/*
 * Victims of a memory error: none yet.  Until victim collection arrives in
 * the next patch, nobody is collected or signalled; kill.c leaves a mapped
 * page mapped, so its error is reported as not recovered.
 */
#include "memory-failure.h"

static void mf_victims_none(struct mf_victims *vs, struct page *page)
{
	*vs = (struct mf_victims){
		.page = page,
		.pfn = page_to_pfn(page),
		.complete = true,
	};
}

void mf_collect_victims(struct mf_victims *vs, struct folio *folio,
			struct page *page, int flags)
{
	mf_victims_none(vs, page);
}

void mf_collect_mapping_victims(struct mf_victims *vs,
				struct address_space *mapping, pgoff_t pgoff,
				struct page *page, int flags)
{
	mf_victims_none(vs, page);
}

short mf_victims_max_shift(const struct mf_victims *vs)
{
	return 0;
}

void mf_kill_victims(struct mf_victims *vs, bool force, int flags)
{
}
