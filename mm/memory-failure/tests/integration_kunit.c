// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit integration tests of the hwpoison entry points: memory_failure(),
 * soft_offline_page() and unpoison_memory() on real pages.
 *
 * The outcome of each error is read from the memory_failure_event
 * tracepoint, through a probe that lives as long as each case.  Every page
 * poisoned here is unpoisoned again, also when a case fails; that is only
 * possible while no real hardware error has been handled, so the cases
 * that poison skip after one.  They all skip unless
 * vm.memory_failure_recovery is on (with it off, an error panics).
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/pagemap.h>
#include <linux/sched/task.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <ras/ras_event.h>

#include "../../internal.h"
#include "../memory-failure.h"
#include "mf_kunit.h"

/* The events reported for the PFN a case watches. */
struct mf_itest_events {
	unsigned long pfn;
	unsigned int nr;
	int type;
	int result;
};

/* Raw: the probe runs inside the tracepoint, with preemption off. */
static DEFINE_RAW_SPINLOCK(mf_itest_lock);
static struct mf_itest_events mf_itest_events = { .pfn = ULONG_MAX };

static void mf_itest_probe(void *data, unsigned long pfn, int type, int result)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&mf_itest_lock, flags);
	if (pfn == mf_itest_events.pfn) {
		mf_itest_events.nr++;
		mf_itest_events.type = type;
		mf_itest_events.result = result;
	}
	raw_spin_unlock_irqrestore(&mf_itest_lock, flags);
}

/* Start watching @pfn, forgetting what was seen before. */
static void mf_itest_watch(unsigned long pfn)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&mf_itest_lock, flags);
	mf_itest_events = (struct mf_itest_events){ .pfn = pfn };
	raw_spin_unlock_irqrestore(&mf_itest_lock, flags);
}

/* What was seen since the last mf_itest_watch() or mf_itest_seen(). */
static struct mf_itest_events mf_itest_seen(void)
{
	struct mf_itest_events seen;
	unsigned long flags;

	raw_spin_lock_irqsave(&mf_itest_lock, flags);
	seen = mf_itest_events;
	mf_itest_events.nr = 0;
	raw_spin_unlock_irqrestore(&mf_itest_lock, flags);
	return seen;
}

/* Exactly one event was reported, of @type and @result. */
static void mf_itest_expect_event(struct kunit *test, int type, int result)
{
	struct mf_itest_events seen = mf_itest_seen();

	KUNIT_EXPECT_EQ(test, seen.nr, 1U);
	KUNIT_EXPECT_EQ_MSG(test, seen.type, type, "reported as %s",
			    mf_page_type_name(seen.type));
	KUNIT_EXPECT_EQ_MSG(test, seen.result, result, "result %s",
			    mf_result_name(seen.result));
}

static void mf_itest_expect_no_event(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, mf_itest_seen().nr, 0U);
}

static long mf_itest_poisoned(void)
{
	return atomic_long_read(&num_poisoned_pages);
}

static bool mf_itest_filtering(void)
{
#if IS_ENABLED(CONFIG_HWPOISON_INJECT)
	return READ_ONCE(hwpoison_filter_enable);
#else
	return false;
#endif
}

/* Each case owns the probe: it goes when the case ends, however it ends. */
static void mf_itest_unprobe(void *unused)
{
	unregister_trace_memory_failure_event(mf_itest_probe, NULL);
	tracepoint_synchronize_unregister();
}

static int mf_itest_init(struct kunit *test)
{
	int ret;

	if (!mf_recovery_enabled())
		kunit_skip(test, "vm.memory_failure_recovery is off");
	mf_itest_watch(ULONG_MAX);
	ret = register_trace_memory_failure_event(mf_itest_probe, NULL);
	if (ret)
		return ret;
	return kunit_add_action_or_reset(test, mf_itest_unprobe, NULL);
}

/* A case that poisons must be able to unpoison, and see its errors land. */
static void mf_itest_require_unpoison(struct kunit *test)
{
	if (mf_hw_error_seen())
		kunit_skip(test, "unpoison is off after a hardware error");
	if (mf_itest_filtering())
		kunit_skip(test, "the injector's filter is on");
}

/* Last resort for a failed case: give a poisoned page back. */
static void mf_itest_unpoison_action(void *data)
{
	unsigned long pfn = (unsigned long)data;
	struct page *page = pfn_to_online_page(pfn);

	if (page && PageHWPoison(page))
		unpoison_memory(pfn);
}

/*
 * A free page for the case to poison: the middle of an order-5 block, which
 * goes back to the buddy lists (not to a per-CPU list, which would hand
 * it out again at once).  It is unpoisoned at the end of the case.
 */
static unsigned long mf_itest_free_pfn(struct kunit *test)
{
	struct page *block = alloc_pages(GFP_KERNEL, 5);
	unsigned long pfn;

	KUNIT_ASSERT_NOT_NULL(test, block);
	pfn = page_to_pfn(block) + 16;
	__free_pages(block, 5);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							mf_itest_unpoison_action,
							(void *)pfn), 0);
	if (!is_free_buddy_page(pfn_to_page(pfn)))
		kunit_skip(test, "the page was taken again");
	mf_itest_watch(pfn);
	return pfn;
}

/*
 * A free page is taken off the allocator and reported as a recovered free
 * buddy page, in the counters too; unpoison gives it back.
 */
static void memory_failure_free_page_recovered(struct kunit *test)
{
	struct memory_failure_stats *stats, before;
	unsigned long pfn;
	long poisoned;

	mf_itest_require_unpoison(test);
	pfn = mf_itest_free_pfn(test);
	stats = &NODE_DATA(page_to_nid(pfn_to_page(pfn)))->mf_stats;
	/* Nobody else reports errors meanwhile: a plain copy will do. */
	before = *stats;
	poisoned = mf_itest_poisoned();

	KUNIT_ASSERT_EQ(test, memory_failure(pfn, MF_SW_SIMULATED), 0);
	mf_itest_expect_event(test, MF_MSG_BUDDY, MF_RECOVERED);
	KUNIT_EXPECT_TRUE(test, PageHWPoison(pfn_to_page(pfn)));
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned + 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(stats->total), before.total + 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(stats->recovered),
			before.recovered + 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(stats->failed), before.failed);

	KUNIT_EXPECT_EQ(test, unpoison_memory(pfn), 0);
	KUNIT_EXPECT_FALSE(test, PageHWPoison(pfn_to_page(pfn)));
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned);
	/* Unpoison takes nothing back from the event counts. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(stats->total), before.total + 1);
}

/* A second error on a poisoned page is only reported, not counted. */
static void memory_failure_twice_already_poisoned(struct kunit *test)
{
	struct memory_failure_stats *stats;
	unsigned long pfn, total;
	long poisoned;

	mf_itest_require_unpoison(test);
	pfn = mf_itest_free_pfn(test);
	stats = &NODE_DATA(page_to_nid(pfn_to_page(pfn)))->mf_stats;
	poisoned = mf_itest_poisoned();

	KUNIT_ASSERT_EQ(test, memory_failure(pfn, MF_SW_SIMULATED), 0);
	mf_itest_expect_event(test, MF_MSG_BUDDY, MF_RECOVERED);
	total = READ_ONCE(stats->total);

	KUNIT_EXPECT_EQ(test, memory_failure(pfn, MF_SW_SIMULATED), -EHWPOISON);
	mf_itest_expect_event(test, MF_MSG_ALREADY_POISONED, MF_FAILED);
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned + 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(stats->total), total);

	KUNIT_EXPECT_EQ(test, unpoison_memory(pfn), 0);
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned);
}

/* A PFN without an online page is refused, and nothing is reported. */
static void memory_failure_no_online_page_enxio(struct kunit *test)
{
	unsigned long pfn = mf_kunit_bad_pfn();
	long poisoned = mf_itest_poisoned();

	mf_itest_watch(pfn);
	KUNIT_EXPECT_EQ(test, memory_failure(pfn, MF_SW_SIMULATED), -ENXIO);
	mf_itest_expect_no_event(test);
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned);
}

/* A shmem file whose poisoned page is dropped and unpoisoned at the end. */
struct mf_itest_shmem {
	struct file *file;
	unsigned long pfn;
};

static void mf_itest_shmem_cleanup(void *data)
{
	struct mf_itest_shmem *c = data;

	shmem_truncate_range(file_inode(c->file), 0, (loff_t)-1);
	mf_itest_unpoison_action((void *)c->pfn);
}

/*
 * A shmem page-cache page is recovered as an LRU page, but stays in its
 * file, poisoned: it holds the only copy of the data, and a reader must
 * get an error rather than a fresh page of zeros.
 */
static void memory_failure_shmem_page_kept_poisoned(struct kunit *test)
{
	struct mf_itest_events seen;
	struct mf_kunit_shmem *s;
	struct mf_itest_shmem *c;
	struct folio *folio;
	long poisoned;

	mf_itest_require_unpoison(test);
	s = mf_kunit_shmem_page(test);
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->file = s->file;
	c->pfn = folio_pfn(s->folio);
	/* From here on, only the page cache holds the page. */
	folio_put(s->folio);
	s->folio = NULL;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							mf_itest_shmem_cleanup,
							c), 0);
	mf_itest_watch(c->pfn);
	poisoned = mf_itest_poisoned();

	KUNIT_ASSERT_EQ(test, memory_failure(c->pfn, MF_SW_SIMULATED), 0);
	seen = mf_itest_seen();
	KUNIT_EXPECT_EQ(test, seen.nr, 1U);
	KUNIT_EXPECT_TRUE_MSG(test, seen.type == MF_MSG_CLEAN_LRU ||
			      seen.type == MF_MSG_DIRTY_LRU,
			      "reported as %s", mf_page_type_name(seen.type));
	KUNIT_EXPECT_EQ(test, seen.result, MF_RECOVERED);
	KUNIT_EXPECT_TRUE(test, PageHWPoison(pfn_to_page(c->pfn)));
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned + 1);

	folio = filemap_get_folio(c->file->f_mapping, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, folio_pfn(folio), c->pfn);
	folio_put(folio);

	/* Once the file lets go of the page, it can be unpoisoned. */
	shmem_truncate_range(file_inode(c->file), 0, (loff_t)-1);
	KUNIT_EXPECT_EQ(test, unpoison_memory(c->pfn), 0);
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned);
}

/* Unpoisoning a page that is not poisoned is refused. */
static void unpoison_memory_clean_page_ebusy(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	if (mf_hw_error_seen())
		kunit_skip(test, "unpoison is off after a hardware error");
	KUNIT_EXPECT_EQ(test, unpoison_memory(page_to_pfn(page)), -EBUSY);
	KUNIT_EXPECT_EQ(test, page_count(page), 1);
}

/* Unpoisoning a PFN without an online page fails with -EIO. */
static void unpoison_memory_no_online_page_eio(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, unpoison_memory(mf_kunit_bad_pfn()), -EIO);
}

/*
 * Soft offline a free page (skipping the case when that cannot be undone
 * or is switched off); returns its PFN, and in @poisoned the count before.
 */
static unsigned long mf_itest_soft_offline_free_page(struct kunit *test,
						     long *poisoned)
{
	unsigned long pfn;
	int ret;

	mf_itest_require_unpoison(test);
	pfn = mf_itest_free_pfn(test);
	*poisoned = mf_itest_poisoned();

	ret = soft_offline_page(pfn, 0);
	if (ret == -EOPNOTSUPP)
		kunit_skip(test, "vm.enable_soft_offline is off");
	KUNIT_ASSERT_EQ(test, ret, 0);
	return pfn;
}

/* Soft offline takes a free page off the allocator, without an event. */
static void soft_offline_page_free_page_retired(struct kunit *test)
{
	unsigned long pfn;
	long poisoned;

	pfn = mf_itest_soft_offline_free_page(test, &poisoned);
	KUNIT_EXPECT_TRUE(test, PageHWPoison(pfn_to_page(pfn)));
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned + 1);
	mf_itest_expect_no_event(test);

	KUNIT_EXPECT_EQ(test, unpoison_memory(pfn), 0);
	KUNIT_EXPECT_FALSE(test, PageHWPoison(pfn_to_page(pfn)));
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned);
}

/* Soft offlining a page that is already poisoned succeeds at no cost. */
static void soft_offline_page_twice_counted_once(struct kunit *test)
{
	unsigned long pfn;
	long poisoned;

	pfn = mf_itest_soft_offline_free_page(test, &poisoned);
	KUNIT_EXPECT_EQ(test, soft_offline_page(pfn, 0), 0);
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned + 1);

	KUNIT_EXPECT_EQ(test, unpoison_memory(pfn), 0);
	KUNIT_EXPECT_EQ(test, mf_itest_poisoned(), poisoned);
}

/* Soft offlining a PFN without a struct page fails with -ENXIO. */
static void soft_offline_page_no_page_enxio(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, soft_offline_page(mf_kunit_bad_pfn(), 0),
			-ENXIO);
}

/* memory_failure() of one PFN, in a thread of its own. */
struct mf_itest_call {
	unsigned long pfn;
	int ret;
	struct completion done;
};

static int mf_itest_call_fn(void *data)
{
	struct mf_itest_call *call = data;

	call->ret = memory_failure(call->pfn, MF_SW_SIMULATED);
	complete_all(&call->done);
	return 0;
}

/*
 * Start memory_failure(@pfn) in a thread; NULL if there is no thread.
 * With @blocks, return once the thread sleeps (or has returned).
 */
static struct mf_itest_call *mf_itest_call_start(unsigned long pfn,
						 bool blocks)
{
	struct mf_itest_call *call = kzalloc(sizeof(*call), GFP_KERNEL);
	struct task_struct *t;
	int i;

	if (!call)
		return NULL;
	call->pfn = pfn;
	init_completion(&call->done);
	t = kthread_create(mf_itest_call_fn, call, "mf_itest");
	if (IS_ERR(t)) {
		kfree(call);
		return NULL;
	}
	get_task_struct(t);
	wake_up_process(t);
	for (i = 0; blocks && i < 500 && !completion_done(&call->done); i++) {
		if (READ_ONCE(t->__state) == TASK_UNINTERRUPTIBLE)
			break;
		msleep(20);
	}
	put_task_struct(t);
	return call;
}

/*
 * Wait for @call.  After a minute the case has failed, but the thread
 * must still end before the case does: it would poison the page later.
 */
static bool mf_itest_call_wait(struct mf_itest_call *call, int *ret)
{
	bool timely = wait_for_completion_timeout(&call->done, 60 * HZ);

	if (!timely)
		wait_for_completion(&call->done);
	*ret = call->ret;
	kfree(call);
	return timely;
}

/*
 * An error on a page that someone claims (a soft offline migrating it)
 * waits for the claim, and is then handled as usual.
 */
static void memory_failure_waits_for_claim(struct kunit *test)
{
	struct mf_itest_call *call;
	struct mf_claim claim;
	bool early, waited;
	unsigned long pfn;
	int ret = 0;

	mf_itest_require_unpoison(test);
	pfn = mf_itest_free_pfn(test);

	mf_claim(&claim, pfn, 1);
	call = mf_itest_call_start(pfn, true);
	early = call && completion_done(&call->done);
	early |= PageHWPoison(pfn_to_page(pfn));
	mf_unclaim(&claim);
	KUNIT_ASSERT_NOT_NULL(test, call);

	KUNIT_EXPECT_FALSE_MSG(test, early, "handled while the page was claimed");
	waited = mf_itest_call_wait(call, &ret);
	KUNIT_EXPECT_TRUE_MSG(test, waited, "still waiting 60 s after unclaim");
	KUNIT_EXPECT_EQ(test, ret, 0);
	mf_itest_expect_event(test, MF_MSG_BUDDY, MF_RECOVERED);
	KUNIT_EXPECT_TRUE(test, PageHWPoison(pfn_to_page(pfn)));
	KUNIT_EXPECT_EQ(test, unpoison_memory(pfn), 0);
}

/*
 * While one page is claimed (a soft offline in the middle of its
 * migration), errors on other pages are handled at once: nothing global
 * is held.
 */
static void memory_failure_other_page_not_blocked(struct kunit *test)
{
	unsigned long pfn, busy;
	struct mf_itest_call *call;
	struct mf_claim claim;
	bool waited;
	int ret = 0;

	mf_itest_require_unpoison(test);
	pfn = mf_itest_free_pfn(test);
	busy = pfn + 1;

	mf_claim(&claim, busy, 1);
	call = mf_itest_call_start(pfn, false);
	waited = call && wait_for_completion_timeout(&call->done, 60 * HZ);
	mf_unclaim(&claim);
	KUNIT_ASSERT_NOT_NULL(test, call);
	mf_itest_call_wait(call, &ret);
	KUNIT_EXPECT_TRUE_MSG(test, waited, "blocked by a claim on another page");
	KUNIT_EXPECT_EQ(test, ret, 0);
	mf_itest_expect_event(test, MF_MSG_BUDDY, MF_RECOVERED);
	KUNIT_EXPECT_EQ(test, unpoison_memory(pfn), 0);
}

static struct kunit_case mf_integration_cases[] = {
	KUNIT_CASE_SLOW(memory_failure_free_page_recovered),
	KUNIT_CASE_SLOW(memory_failure_twice_already_poisoned),
	KUNIT_CASE_SLOW(memory_failure_no_online_page_enxio),
	KUNIT_CASE_SLOW(memory_failure_shmem_page_kept_poisoned),
	KUNIT_CASE_SLOW(unpoison_memory_clean_page_ebusy),
	KUNIT_CASE_SLOW(unpoison_memory_no_online_page_eio),
	KUNIT_CASE_SLOW(soft_offline_page_free_page_retired),
	KUNIT_CASE_SLOW(soft_offline_page_twice_counted_once),
	KUNIT_CASE_SLOW(soft_offline_page_no_page_enxio),
	KUNIT_CASE_SLOW(memory_failure_waits_for_claim),
	KUNIT_CASE_SLOW(memory_failure_other_page_not_blocked),
	{}
};

static struct kunit_suite mf_integration_suite = {
	.name = "memory_failure_integration",
	.test_cases = mf_integration_cases,
	.init = mf_itest_init,
};

kunit_test_suite(mf_integration_suite);
