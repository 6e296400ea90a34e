// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the per-CPU queue of memory errors (core.c):
 * memory_failure_queue() and memory_failure_queue_kick().
 *
 * A static stub takes the place of mf_queue_dispatch() and records what
 * would have been handled.  It only sees what is drained in the test's
 * thread, so the test queues and kicks before the queue's worker can run:
 * it runs as a SCHED_FIFO task pinned to its CPU, where the CPU-bound
 * (normal-priority) worker waits until the test sleeps, and the kick
 * cancels the pending work before it drains the queue itself.
 *
 * The queued PFNs have no struct page, so an entry that escaped the stub
 * would only be refused (-ENXIO); they are all soft-offline requests, so
 * not even vm.memory_failure_recovery=0 could turn one into a panic.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/smp.h>

#include "../memory-failure.h"
#include "mf_kunit.h"

#define MF_QUEUE_LOG_MAX	64

/* What the mf_queue_dispatch() stub was handed, in order. */
struct mf_queue_log {
	unsigned int nr;
	unsigned long pfn[MF_QUEUE_LOG_MAX];
	int flags[MF_QUEUE_LOG_MAX];
};

static int mf_queue_stub_dispatch(unsigned long pfn, int flags)
{
	struct kunit *test = kunit_get_current_test();
	struct mf_queue_log *log = test->priv;
	unsigned int i = log->nr++;

	if (i < MF_QUEUE_LOG_MAX) {
		log->pfn[i] = pfn;
		log->flags[i] = flags;
	}
	return 0;
}

static int mf_queue_test_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct mf_queue_log),
				   GFP_KERNEL);
	if (!test->priv)
		return -ENOMEM;
	/* Anything left over from before is a real error: handle it. */
	memory_failure_queue_kick(raw_smp_processor_id());
	kunit_activate_static_stub(test, mf_queue_dispatch,
				   mf_queue_stub_dispatch);
	return 0;
}

/*
 * Keep the queue's worker off this CPU until mf_queue_unpin(), and return
 * the CPU.  No KUNIT_ASSERT in between: the thread must not end pinned.
 */
static int mf_queue_pin(void)
{
	sched_set_fifo_low(current);
	migrate_disable();
	return smp_processor_id();
}

static void mf_queue_unpin(void)
{
	migrate_enable();
	sched_set_normal(current, 0);
}

/* The @i-th test error: no struct page behind it, a soft offline. */
static unsigned long mf_queue_pfn(unsigned int i)
{
	return mf_kunit_bad_pfn() + i;
}

static int mf_queue_flags(unsigned int i)
{
	return MF_SOFT_OFFLINE | (i & 1 ? MF_SW_SIMULATED : 0);
}

static void mf_queue_errors(unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		memory_failure_queue(mf_queue_pfn(i), mf_queue_flags(i));
}

/* The stub saw exactly the first @nr test errors, in queueing order. */
static void mf_queue_expect_dispatched(struct kunit *test, unsigned int nr)
{
	struct mf_queue_log *log = test->priv;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, log->nr, nr);
	for (i = 0; i < nr; i++) {
		KUNIT_EXPECT_EQ_MSG(test, log->pfn[i], mf_queue_pfn(i),
				    "entry %u", i);
		KUNIT_EXPECT_EQ_MSG(test, log->flags[i], mf_queue_flags(i),
				    "entry %u", i);
	}
}

/* The ring holds 16 errors, as MEMORY_FAILURE_FIFO_SIZE did. */
static void mf_queue_capacity_is_sixteen(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, mf_queue_capacity(), 16U);
}

/* Kicking an empty queue hands nothing on. */
static void memory_failure_queue_kick_empty_dispatches_nothing(struct kunit *test)
{
	int cpu = mf_queue_pin();

	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	mf_queue_expect_dispatched(test, 0);
}

/* A kick hands on every queued error of its CPU, oldest first. */
static void memory_failure_queue_kick_dispatches_in_order(struct kunit *test)
{
	int cpu = mf_queue_pin();

	mf_queue_errors(5);
	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	mf_queue_expect_dispatched(test, 5);
}

/* A full ring is no limit: nothing is lost and the order is kept. */
static void memory_failure_queue_overflow_keeps_all(struct kunit *test)
{
	unsigned int nr = mf_queue_capacity() + 4;
	int cpu = mf_queue_pin();

	mf_queue_errors(nr);
	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	mf_queue_expect_dispatched(test, nr);
}

/* Far beyond the ring, every error still gets through, in order. */
static void memory_failure_queue_overflow_many_keeps_all(struct kunit *test)
{
	unsigned int nr = MF_QUEUE_LOG_MAX;
	int cpu = mf_queue_pin();

	mf_queue_errors(nr);
	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	mf_queue_expect_dispatched(test, nr);
}

/* A kick empties the queue: a second one finds nothing. */
static void memory_failure_queue_kick_twice_dispatches_once(struct kunit *test)
{
	struct mf_queue_log *log = test->priv;
	unsigned int first, second;
	int cpu = mf_queue_pin();

	mf_queue_errors(mf_queue_capacity() + 2);
	memory_failure_queue_kick(cpu);
	first = log->nr;
	memory_failure_queue_kick(cpu);
	second = log->nr - first;
	mf_queue_unpin();
	KUNIT_EXPECT_EQ(test, first, mf_queue_capacity() + 2);
	KUNIT_EXPECT_EQ(test, second, 0U);
}

/* The ring is reused after a drain, and the order still holds. */
static void memory_failure_queue_refill_after_kick(struct kunit *test)
{
	struct mf_queue_log *log = test->priv;
	int cpu = mf_queue_pin();

	mf_queue_errors(mf_queue_capacity());
	memory_failure_queue_kick(cpu);
	log->nr = 0;
	mf_queue_errors(mf_queue_capacity() + 1);
	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	mf_queue_expect_dispatched(test, mf_queue_capacity() + 1);
}

/* A kick drains only its own CPU's queue. */
static void memory_failure_queue_kick_other_cpu_leaves_queue(struct kunit *test)
{
	struct mf_queue_log *log = test->priv;
	unsigned int other, other_nr = 0;
	int cpu;

	cpu = mf_queue_pin();
	other = cpumask_any_but(cpu_online_mask, cpu);
	if (other < nr_cpu_ids) {
		mf_queue_errors(3);
		memory_failure_queue_kick(other);
		other_nr = log->nr;
		memory_failure_queue_kick(cpu);
	}
	mf_queue_unpin();

	if (other >= nr_cpu_ids)
		kunit_skip(test, "needs a second online CPU");
	KUNIT_EXPECT_EQ(test, other_nr, 0U);
	mf_queue_expect_dispatched(test, 3);
}

static struct kunit_case mf_queue_cases[] = {
	KUNIT_CASE(mf_queue_capacity_is_sixteen),
	KUNIT_CASE(memory_failure_queue_kick_empty_dispatches_nothing),
	KUNIT_CASE(memory_failure_queue_kick_dispatches_in_order),
	KUNIT_CASE(memory_failure_queue_overflow_keeps_all),
	KUNIT_CASE(memory_failure_queue_overflow_many_keeps_all),
	KUNIT_CASE(memory_failure_queue_kick_twice_dispatches_once),
	KUNIT_CASE(memory_failure_queue_refill_after_kick),
	KUNIT_CASE(memory_failure_queue_kick_other_cpu_leaves_queue),
	{}
};

static struct kunit_suite mf_queue_suite = {
	.name = "memory_failure_queue",
	.init = mf_queue_test_init,
	.test_cases = mf_queue_cases,
};

kunit_test_suite(mf_queue_suite);
