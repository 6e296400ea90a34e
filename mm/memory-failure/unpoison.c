// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unpoison: return a software-poisoned page to use.  For testing only; a
 * page that real hardware reported bad is never given back.
 */
#define pr_fmt(fmt) "Unpoison: " fmt

#include <linux/hugetlb.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/ratelimit.h>

#include "../internal.h"
#include "memory-failure.h"

static DEFINE_RATELIMIT_STATE(mf_unpoison_rs, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

#define mf_unpoison_info(fmt, ...)				\
	do {							\
		if (__ratelimit(&mf_unpoison_rs))		\
			pr_info(fmt, ##__VA_ARGS__);		\
	} while (0)

/*
 * A reference on a poisoned page for unpoisoning it: 1 when taken, 0 when
 * the page has none (a free hugetlb folio), -EHWPOISON when the page sits
 * taken off the buddy allocator.
 */
static int mf_pin_poisoned(struct page *page)
{
	int ret;

	if (mf_pin_hugetlb(page, true, &ret))
		return ret;
	if (!get_page_unless_zero(page))
		return 0;
	/* After the get: a page kept back publishes its count last. */
	if (mf_page_taken_off(page)) {
		put_page(page);
		return -EHWPOISON;
	}
	return 1;
}

static int mf_pin_poisoned_page(struct page *page)
{
	struct zone *zone = page_zone(page);
	int ret;

	/* Keep free pages from hiding in the per-CPU lists meanwhile. */
	zone_pcp_disable(zone);
	ret = mf_pin_poisoned(page);
	zone_pcp_enable(zone);
	return ret;
}

/* Why @folio cannot be unpoisoned, or NULL if it may be tried. */
static const char *mf_unpoison_refusal(struct folio *folio, struct page *page)
{
	if (!PageHWPoison(page))
		return "page was already unpoisoned";
	if (folio_ref_count(folio) > 1)
		return "someone grabs the hwpoison page";
	/* memory_failure() keeps no THP it could not split: it is in use. */
	if (folio_test_large(folio) && !folio_test_hugetlb(folio) &&
	    folio_ref_count(folio))
		return "someone grabs the hwpoison page";
	if (folio_test_slab(folio) || folio_test_pgtable(folio) ||
	    folio_test_reserved(folio) || folio_test_offline(folio))
		return "";
	if (folio_mapped(folio))
		return "someone maps the hwpoison page";
	if (folio_mapping(folio))
		return "the hwpoison page has non-NULL mapping";
	return NULL;
}

/*
 * Clear the mark of a pinned or free page; mf_mutex held.  *@huge tells
 * that it was a hugetlb folio, uncounted page by page with its records.
 * memory_failure() keeps no reference on a hugetlb folio (whoever else
 * holds it, a pipe or a migration, keeps it): only the pin is ours to
 * drop.  A base page it kept has its reference to give back.
 */
static int mf_unpoison_pinned(struct folio *folio, struct page *page, int pin,
			      bool *huge)
{
	int ret;

	if (folio_test_hugetlb(folio)) {
		*huge = true;
		ret = mf_hugetlb_drop_records(folio) &&
		      folio_test_clear_hwpoison(folio) ? 0 : -EBUSY;
		if (pin > 0)
			folio_put(folio);
		return ret;
	}
	/*
	 * No reference: a free page.  One the buddy allocator does not have
	 * is on its way to being kept back: clearing its mark would lose it.
	 */
	if (!pin)
		return is_free_buddy_page(page) && TestClearPageHWPoison(page) ?
		       0 : -EBUSY;

	/* Ours, then the reference that kept the page out of use. */
	folio_put(folio);
	if (!TestClearPageHWPoison(page))
		return -EBUSY;
	folio_put(folio);
	return 0;
}

/**
 * unpoison_memory() - undo a software-injected memory error
 * @pfn: the page
 *
 * Clears PG_hwpoison of a page poisoned by the injector or madvise() and
 * frees it, if nothing else holds it.
 *
 * Context: Process context; claims the PFNs of @pfn's folio, holds memory
 * hotplug off (get_online_mems()) and takes mf_mutex; may sleep.
 * Return:
 * * 0 - the page is back in the allocator
 * * -EIO - @pfn has no online page
 * * -EOPNOTSUPP - a hardware error was seen since boot, or the huge zero
 *   page
 * * -EBUSY - the page is not poisoned, or is still in use
 */
int unpoison_memory(unsigned long pfn)
{
	const char *refusal;
	struct folio *folio;
	bool huge = false;
	struct mf_claim claim;
	struct page *p;
	int ret, pin;

	/* Looked up under the hotplug lock: an offline block's memmap is junk. */
	mf_claim_folio(&claim, pfn);
	get_online_mems();
	p = pfn_to_online_page(pfn);
	mutex_lock(&mf_mutex);
	if (!p) {
		ret = -EIO;
		goto unlock;
	}
	folio = page_folio(p);
	if (mf_hw_error_seen()) {
		mf_unpoison_info("%#lx: disabled after HW memory failure\n", pfn);
		ret = -EOPNOTSUPP;
		goto unlock;
	}
	if (is_huge_zero_folio(folio)) {
		mf_unpoison_info("%#lx: huge zero page is not supported\n", pfn);
		ret = -EOPNOTSUPP;
		goto unlock;
	}
	refusal = mf_unpoison_refusal(folio, p);
	if (refusal) {
		if (*refusal)
			mf_unpoison_info("%#lx: %s\n", pfn, refusal);
		ret = -EBUSY;
		goto unlock;
	}

	pin = mf_pin_poisoned_page(p);
	if (pin == -EHWPOISON) {
		ret = put_page_back_buddy(p) ? 0 : -EBUSY;
	} else if (pin < 0) {
		mf_unpoison_info("%#lx: failed to grab page\n", pfn);
		ret = pin;
	} else {
		ret = mf_unpoison_pinned(folio, p, pin, &huge);
	}
	if (!ret && !huge)
		mf_uncount_healed(pfn, 1);
unlock:
	mutex_unlock(&mf_mutex);
	put_online_mems();
	mf_unclaim(&claim);
	if (!ret)
		mf_unpoison_info("%#lx: software-unpoisoned page\n",
				 page_to_pfn(p));
	return ret;
}
EXPORT_SYMBOL(unpoison_memory);
