// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the per-CPU queue of memory errors (queue.c):
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

/* What the mf_queue_dispatch() stub was handed, in order. */
struct mf_queue_log {
	unsigned int nr;
	unsigned int max;
	unsigned long *pfn;
	int *flags;
	/* Queue the error numbered @requeue while this one is dispatched. */
	unsigned int requeue_at;
	unsigned int requeue;
};

/* Errors that fill the queue's ring (upstream's whole queue), no more. */
#define MF_QUEUE_TEST_RING	16

static void mf_queue_errors_from(unsigned int first, unsigned int nr);

static int mf_queue_stub_dispatch(unsigned long pfn, int flags)
{
	struct kunit *test = kunit_get_current_test();
	struct mf_queue_log *log = test->priv;
	unsigned int i = log->nr++;

	if (i < log->max) {
		log->pfn[i] = pfn;
		log->flags[i] = flags;
	}
	if (log->requeue && i == log->requeue_at)
		mf_queue_errors_from(log->requeue, 1);
	return 0;
}

static int mf_queue_test_init(struct kunit *test)
{
	struct mf_queue_log *log;

	log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	if (!log)
		return -ENOMEM;
	log->max = mf_queue_capacity() + 8;
	log->pfn = kunit_kcalloc(test, log->max, sizeof(*log->pfn), GFP_KERNEL);
	log->flags = kunit_kcalloc(test, log->max, sizeof(*log->flags),
				   GFP_KERNEL);
	if (!log->pfn || !log->flags)
		return -ENOMEM;
	test->priv = log;
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

static void mf_queue_errors_from(unsigned int first, unsigned int nr)
{
	unsigned int i;

	for (i = first; i < first + nr; i++)
		memory_failure_queue(mf_queue_pfn(i), mf_queue_flags(i));
}

static void mf_queue_errors(unsigned int nr)
{
	mf_queue_errors_from(0, nr);
}

/* The stub saw exactly the first @nr test errors, in queueing order. */
static void mf_queue_expect_dispatched(struct kunit *test, unsigned int nr)
{
	struct mf_queue_log *log = test->priv;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, log->nr, nr);
	for (i = 0; i < nr; i++) {
		/* One message for the first entry out of place, not 4096. */
		if (log->pfn[i] != mf_queue_pfn(i) ||
		    log->flags[i] != mf_queue_flags(i)) {
			KUNIT_FAIL(test, "entry %u is pfn %#lx flags %#x, not %#lx %#x",
				   i, log->pfn[i], log->flags[i],
				   mf_queue_pfn(i), mf_queue_flags(i));
			return;
		}
	}
}

/* A CPU queues at least 4096 errors (upstream held 16). */
static void mf_queue_capacity_holds_a_burst(struct kunit *test)
{
	KUNIT_EXPECT_GE(test, mf_queue_capacity(), 4096U);
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
	unsigned int nr = MF_QUEUE_TEST_RING + 4;
	int cpu = mf_queue_pin();

	mf_queue_errors(nr);
	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	mf_queue_expect_dispatched(test, nr);
}

/* A burst that fills the queue gets through whole, in order. */
static void memory_failure_queue_burst_keeps_all_in_order(struct kunit *test)
{
	unsigned int nr = mf_queue_capacity();
	int cpu = mf_queue_pin();

	mf_queue_errors(nr);
	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	mf_queue_expect_dispatched(test, nr);
}

/* An error beyond the queue's capacity is lost, and counted. */
static void memory_failure_queue_over_capacity_counted(struct kunit *test)
{
	unsigned int nr = mf_queue_capacity();
	unsigned long before, after;
	int cpu = mf_queue_pin();

	before = mf_queue_lost(cpu);
	mf_queue_errors(nr + 1);
	after = mf_queue_lost(cpu);
	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	KUNIT_EXPECT_EQ(test, after - before, 1UL);
	mf_queue_expect_dispatched(test, nr);
}

/*
 * An error that arrives while the worker drains a queue that spilled goes
 * behind the spilled ones, even though the ring has room again.
 */
static void memory_failure_queue_arrival_during_drain_keeps_order(struct kunit *test)
{
	struct mf_queue_log *log = test->priv;
	unsigned int nr = 20;
	int cpu = mf_queue_pin();

	log->requeue_at = 0;
	log->requeue = nr;
	mf_queue_errors(nr);
	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	mf_queue_expect_dispatched(test, nr + 1);
}

/* A kick empties the queue: a second one finds nothing. */
static void memory_failure_queue_kick_twice_dispatches_once(struct kunit *test)
{
	struct mf_queue_log *log = test->priv;
	unsigned int first, second;
	int cpu = mf_queue_pin();

	mf_queue_errors(MF_QUEUE_TEST_RING + 2);
	memory_failure_queue_kick(cpu);
	first = log->nr;
	memory_failure_queue_kick(cpu);
	second = log->nr - first;
	mf_queue_unpin();
	KUNIT_EXPECT_EQ(test, first, MF_QUEUE_TEST_RING + 2);
	KUNIT_EXPECT_EQ(test, second, 0U);
}

/* The ring is reused after a drain, and the order still holds. */
static void memory_failure_queue_refill_after_kick(struct kunit *test)
{
	struct mf_queue_log *log = test->priv;
	int cpu = mf_queue_pin();

	mf_queue_errors(MF_QUEUE_TEST_RING);
	memory_failure_queue_kick(cpu);
	log->nr = 0;
	mf_queue_errors(MF_QUEUE_TEST_RING + 1);
	memory_failure_queue_kick(cpu);
	mf_queue_unpin();
	mf_queue_expect_dispatched(test, MF_QUEUE_TEST_RING + 1);
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
	KUNIT_CASE(mf_queue_capacity_holds_a_burst),
	KUNIT_CASE(memory_failure_queue_kick_empty_dispatches_nothing),
	KUNIT_CASE(memory_failure_queue_kick_dispatches_in_order),
	KUNIT_CASE(memory_failure_queue_overflow_keeps_all),
	KUNIT_CASE(memory_failure_queue_burst_keeps_all_in_order),
	KUNIT_CASE(memory_failure_queue_over_capacity_counted),
	KUNIT_CASE(memory_failure_queue_arrival_during_drain_keeps_order),
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
