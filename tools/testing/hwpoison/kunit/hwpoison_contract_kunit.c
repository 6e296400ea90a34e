// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the contract that the rest of the kernel relies on when it
 * calls the hwpoison entry points.  Built as an external module, so the very
 * same file runs against the stock 6.12 implementation and against ours.
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/page-flags.h>
#include <linux/delay.h>
#include <linux/sched.h>
#include <linux/smp.h>

/* A PFN beyond any physical address the architecture can describe. */
static unsigned long hwpoison_contract_bad_pfn(void)
{
	return (1UL << (MAX_PHYSMEM_BITS - PAGE_SHIFT)) + 1;
}

/* A PFN with no struct page behind it is "outside kernel control". */
static void memory_failure_out_of_range_pfn_is_enxio(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, memory_failure(hwpoison_contract_bad_pfn(),
					     MF_SW_SIMULATED), -ENXIO);
}

/* Unpoisoning a PFN that has no online page fails with -EIO. */
static void unpoison_out_of_range_pfn_is_eio(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, unpoison_memory(hwpoison_contract_bad_pfn()),
			-EIO);
}

/*
 * A free page is taken out of the allocator (0), a second report of the same
 * PFN says it is already poisoned (-EHWPOISON), and unpoison gives it back.
 * MF_SW_SIMULATED keeps unpoison usable for the rest of the boot.
 */
static void memory_failure_free_page_round_trip(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);
	unsigned long pfn;

	KUNIT_ASSERT_NOT_NULL(test, page);
	pfn = page_to_pfn(page);
	__free_page(page);

	KUNIT_ASSERT_EQ(test, memory_failure(pfn, MF_SW_SIMULATED), 0);
	KUNIT_EXPECT_TRUE(test, PageHWPoison(pfn_to_page(pfn)));
	KUNIT_EXPECT_EQ(test, memory_failure(pfn, MF_SW_SIMULATED), -EHWPOISON);
	KUNIT_EXPECT_EQ(test, unpoison_memory(pfn), 0);
	KUNIT_EXPECT_FALSE(test, PageHWPoison(pfn_to_page(pfn)));
}

/* Entries one CPU's queue holds in stock 6.12 (MEMORY_FAILURE_FIFO_SIZE). */
#define HWPOISON_CONTRACT_QUEUED	20

/*
 * memory_failure_queue() never drops an error silently: 20 errors queued on
 * one CPU before its work can run all get handled, though the fast ring
 * holds 16.  Stock 6.12 (weakness, see known-failures) keeps 16 and drops
 * the rest with a log line.  The pages come from a freed order-5 block,
 * which the allocator is unlikely to hand out meanwhile.
 */
static void memory_failure_queue_overflow_keeps_all(struct kunit *test)
{
	struct page *block = alloc_pages(GFP_KERNEL, 5);
	unsigned long pfn, poisoned = 0, before = ~0UL;
	int i, waited;

	KUNIT_ASSERT_NOT_NULL(test, block);
	pfn = page_to_pfn(block);
	__free_pages(block, 5);

	/*
	 * Stay on one CPU, above its (normal-priority) worker, but
	 * preemptible: on PREEMPT_RT the queue's lock sleeps.
	 */
	sched_set_fifo_low(current);
	migrate_disable();
	for (i = 0; i < HWPOISON_CONTRACT_QUEUED; i++)
		memory_failure_queue(pfn + i, MF_SW_SIMULATED);
	migrate_enable();
	sched_set_normal(current, 0);

	/* The queue's work runs on that CPU: wait until it has run and settled. */
	for (waited = 0; waited < 100 && (!poisoned || poisoned != before);
	     waited++) {
		msleep(100);
		before = poisoned;
		poisoned = 0;
		for (i = 0; i < HWPOISON_CONTRACT_QUEUED; i++)
			poisoned += PageHWPoison(pfn_to_page(pfn + i));
	}
	KUNIT_EXPECT_EQ(test, poisoned, HWPOISON_CONTRACT_QUEUED);

	for (i = 0; i < HWPOISON_CONTRACT_QUEUED; i++)
		if (PageHWPoison(pfn_to_page(pfn + i)))
			KUNIT_EXPECT_EQ(test, unpoison_memory(pfn + i), 0);
}

static struct kunit_case hwpoison_contract_cases[] = {
	KUNIT_CASE(memory_failure_out_of_range_pfn_is_enxio),
	KUNIT_CASE(unpoison_out_of_range_pfn_is_eio),
	KUNIT_CASE(memory_failure_free_page_round_trip),
	KUNIT_CASE_SLOW(memory_failure_queue_overflow_keeps_all),
	{}
};

static struct kunit_suite hwpoison_contract_suite = {
	.name = "memory_failure_contract",
	.test_cases = hwpoison_contract_cases,
};

kunit_test_suite(hwpoison_contract_suite);

MODULE_DESCRIPTION("KUnit tests of the hwpoison entry points' contract");
MODULE_LICENSE("GPL");
