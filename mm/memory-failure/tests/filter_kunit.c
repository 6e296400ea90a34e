// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the injector's filter (filter.c): which pages an injected
 * error may hit, by page flags, block device and memory cgroup.
 *
 * Every case starts from a neutral filter and puts back the settings it
 * found, so a filter that a test set up through debugfs survives.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/kdev_t.h>
#include <linux/kernel-page-flags.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "../../internal.h"
#include "../memory-failure.h"
#include "mf_kunit.h"

/* The corrupt-filter-* settings. */
struct mf_filter {
	u32 enable;
	u32 dev_major;
	u32 dev_minor;
	u64 flags_mask;
	u64 flags_value;
	u64 memcg;
};

static void mf_filter_set(const struct mf_filter *f)
{
	WRITE_ONCE(hwpoison_filter_enable, f->enable);
	WRITE_ONCE(hwpoison_filter_dev_major, f->dev_major);
	WRITE_ONCE(hwpoison_filter_dev_minor, f->dev_minor);
	WRITE_ONCE(hwpoison_filter_flags_mask, f->flags_mask);
	WRITE_ONCE(hwpoison_filter_flags_value, f->flags_value);
	WRITE_ONCE(hwpoison_filter_memcg, f->memcg);
}

static void mf_filter_restore(void *saved)
{
	mf_filter_set(saved);
}

/* Enabled, and letting every page through until a case narrows it. */
static const struct mf_filter mf_filter_open = {
	.enable = 1,
	.dev_major = ~0U,
	.dev_minor = ~0U,
};

static int mf_filter_test_init(struct kunit *test)
{
	struct mf_filter *saved = kunit_kzalloc(test, sizeof(*saved),
						GFP_KERNEL);

	if (!saved)
		return -ENOMEM;
	saved->enable = READ_ONCE(hwpoison_filter_enable);
	saved->dev_major = READ_ONCE(hwpoison_filter_dev_major);
	saved->dev_minor = READ_ONCE(hwpoison_filter_dev_minor);
	saved->flags_mask = READ_ONCE(hwpoison_filter_flags_mask);
	saved->flags_value = READ_ONCE(hwpoison_filter_flags_value);
	saved->memcg = READ_ONCE(hwpoison_filter_memcg);
	mf_filter_set(&mf_filter_open);
	return kunit_add_action_or_reset(test, mf_filter_restore, saved);
}

/* With the filter off, a page that matches nothing still passes. */
static void hwpoison_filter_disabled_passes_any_page(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	WRITE_ONCE(hwpoison_filter_dev_major, 1);
	WRITE_ONCE(hwpoison_filter_flags_mask, BIT_ULL(KPF_LRU));
	WRITE_ONCE(hwpoison_filter_flags_value, BIT_ULL(KPF_LRU));
	WRITE_ONCE(hwpoison_filter_memcg, ~0ULL);
	WRITE_ONCE(hwpoison_filter_enable, 0);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(page), 0);
}

/* Enabled with every criterion at "any", the filter vetoes nothing. */
static void hwpoison_filter_enabled_defaults_pass(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	KUNIT_EXPECT_EQ(test, hwpoison_filter(page), 0);
}

/* A page whose masked flags equal the value passes. */
static void hwpoison_filter_flags_match_passes(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	WRITE_ONCE(hwpoison_filter_flags_mask, BIT_ULL(KPF_LRU));
	WRITE_ONCE(hwpoison_filter_flags_value, 0);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(page), 0);
}

/* A page whose masked flags differ from the value is vetoed. */
static void hwpoison_filter_flags_mismatch_rejects(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	WRITE_ONCE(hwpoison_filter_flags_mask, BIT_ULL(KPF_LRU));
	WRITE_ONCE(hwpoison_filter_flags_value, BIT_ULL(KPF_LRU));
	KUNIT_EXPECT_EQ(test, hwpoison_filter(page), -EINVAL);
}

/* All masked bits must match, not just one of them. */
static void hwpoison_filter_flags_all_bits_compared(struct kunit *test)
{
	void *obj = kunit_kmalloc(test, 64, GFP_KERNEL);
	struct page *page;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	page = virt_to_head_page(obj);
	WRITE_ONCE(hwpoison_filter_flags_mask,
		   BIT_ULL(KPF_SLAB) | BIT_ULL(KPF_LRU));
	WRITE_ONCE(hwpoison_filter_flags_value, BIT_ULL(KPF_SLAB));
	KUNIT_EXPECT_EQ(test, hwpoison_filter(page), 0);
	WRITE_ONCE(hwpoison_filter_flags_value,
		   BIT_ULL(KPF_SLAB) | BIT_ULL(KPF_LRU));
	KUNIT_EXPECT_EQ(test, hwpoison_filter(page), -EINVAL);
}

/* A device filter vetoes a page that no block device backs. */
static void hwpoison_filter_dev_major_kernel_page_rejects(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	WRITE_ONCE(hwpoison_filter_dev_major, 0);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(page), -EINVAL);
}

/* A minor number alone is a device filter too. */
static void hwpoison_filter_dev_minor_kernel_page_rejects(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	WRITE_ONCE(hwpoison_filter_dev_minor, 0);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(page), -EINVAL);
}

/* A page-cache page passes when its file system's device matches. */
static void hwpoison_filter_dev_match_passes(struct kunit *test)
{
	struct folio *folio = mf_kunit_shmem_page(test)->folio;
	dev_t dev = folio->mapping->host->i_sb->s_dev;

	WRITE_ONCE(hwpoison_filter_dev_major, MAJOR(dev));
	WRITE_ONCE(hwpoison_filter_dev_minor, MINOR(dev));
	KUNIT_EXPECT_EQ(test, hwpoison_filter(&folio->page), 0);
	WRITE_ONCE(hwpoison_filter_dev_minor, ~0U);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(&folio->page), 0);
}

/* A page-cache page of another device is vetoed. */
static void hwpoison_filter_dev_mismatch_rejects(struct kunit *test)
{
	struct folio *folio = mf_kunit_shmem_page(test)->folio;
	dev_t dev = folio->mapping->host->i_sb->s_dev;

	WRITE_ONCE(hwpoison_filter_dev_major, MAJOR(dev));
	WRITE_ONCE(hwpoison_filter_dev_minor, MINOR(dev) + 1);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(&folio->page), -EINVAL);
	WRITE_ONCE(hwpoison_filter_dev_major, MAJOR(dev) + 1);
	WRITE_ONCE(hwpoison_filter_dev_minor, ~0U);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(&folio->page), -EINVAL);
}

/* A memory cgroup that owns no page vetoes an uncharged page. */
static void hwpoison_filter_memcg_no_match_rejects(struct kunit *test)
{
	struct page *page;

	if (!IS_ENABLED(CONFIG_MEMCG))
		kunit_skip(test, "needs CONFIG_MEMCG");
	page = mf_kunit_alloc_page(test);
	WRITE_ONCE(hwpoison_filter_memcg, ~0ULL);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(page), -EINVAL);
}

/* A page charged to the filter's memory cgroup passes; others do not. */
static void hwpoison_filter_memcg_match_passes(struct kunit *test)
{
#ifdef CONFIG_MEMCG
	struct folio *folio = mf_kunit_shmem_page(test)->folio;
	struct mem_cgroup *memcg;
	u64 ino = 0;

	rcu_read_lock();
	memcg = folio_memcg(folio);
	if (memcg && (memcg->css.flags & CSS_ONLINE))
		ino = cgroup_ino(memcg->css.cgroup);
	rcu_read_unlock();
	if (!ino)
		kunit_skip(test, "page not charged to an online memcg");

	WRITE_ONCE(hwpoison_filter_memcg, ino);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(&folio->page), 0);
	WRITE_ONCE(hwpoison_filter_memcg, ino + 1);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(&folio->page), -EINVAL);
#else
	kunit_skip(test, "needs CONFIG_MEMCG");
#endif
}

/* A page must pass every criterion: one that fails vetoes the error. */
static void hwpoison_filter_one_failing_criterion_rejects(struct kunit *test)
{
	struct folio *folio = mf_kunit_shmem_page(test)->folio;
	dev_t dev = folio->mapping->host->i_sb->s_dev;

	WRITE_ONCE(hwpoison_filter_dev_major, MAJOR(dev));
	WRITE_ONCE(hwpoison_filter_dev_minor, MINOR(dev));
	WRITE_ONCE(hwpoison_filter_flags_mask, BIT_ULL(KPF_SLAB));
	WRITE_ONCE(hwpoison_filter_flags_value, 0);
	KUNIT_EXPECT_EQ(test, hwpoison_filter(&folio->page), 0);
	WRITE_ONCE(hwpoison_filter_flags_value, BIT_ULL(KPF_SLAB));
	KUNIT_EXPECT_EQ(test, hwpoison_filter(&folio->page), -EINVAL);
}

static struct kunit_case mf_filter_cases[] = {
	KUNIT_CASE(hwpoison_filter_disabled_passes_any_page),
	KUNIT_CASE(hwpoison_filter_enabled_defaults_pass),
	KUNIT_CASE(hwpoison_filter_flags_match_passes),
	KUNIT_CASE(hwpoison_filter_flags_mismatch_rejects),
	KUNIT_CASE(hwpoison_filter_flags_all_bits_compared),
	KUNIT_CASE(hwpoison_filter_dev_major_kernel_page_rejects),
	KUNIT_CASE(hwpoison_filter_dev_minor_kernel_page_rejects),
	KUNIT_CASE(hwpoison_filter_dev_match_passes),
	KUNIT_CASE(hwpoison_filter_dev_mismatch_rejects),
	KUNIT_CASE(hwpoison_filter_memcg_no_match_rejects),
	KUNIT_CASE(hwpoison_filter_memcg_match_passes),
	KUNIT_CASE(hwpoison_filter_one_failing_criterion_rejects),
	{}
};

static struct kunit_suite mf_filter_suite = {
	.name = "memory_failure_filter",
	.init = mf_filter_test_init,
	.test_cases = mf_filter_cases,
};

kunit_test_suite(mf_filter_suite);
