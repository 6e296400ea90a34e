// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-CPU queue of memory errors: memory_failure_queue() takes errors
 * from contexts that cannot sleep (GHES in interrupt context, the RAS CEC)
 * and a worker on the same CPU hands them to memory_failure() or
 * soft_offline_page().
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <kunit/static_stub.h>
#include <linux/kfifo.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "memory-failure.h"

/**
 * DOC: the error queue
 *
 * Each CPU queues up to MF_QUEUE_MAX errors.  The first MF_QUEUE_RING of
 * them sit in a fixed ring and need no memory; past that, each one is
 * allocated (GFP_ATOMIC) onto a spill list.  An error that finds the queue
 * full, or no memory for its entry, is lost: it is counted, logged at once
 * ("buffer overflow when queuing memory failure at ...", rate-limited) and
 * the worker reports the number lost when it next runs.
 *
 * Errors are handled in the order they arrived on their CPU.  While the
 * spill list holds anything, new errors go to its tail even when the ring
 * has room again, so every ring entry is older than every spill entry; the
 * worker empties the ring first, then the spill list from its head.
 *
 * The queue's lock is a spinlock_t taken with interrupts off: producers
 * may run in hard interrupt context, and on PREEMPT_RT, where it sleeps,
 * they all run in threads (interrupts and irq_work are threaded there), so
 * the GFP_ATOMIC allocation under it is allowed on every kernel.
 */
#define MF_QUEUE_RING	16
#define MF_QUEUE_MAX	4096

struct mf_queue_entry {
	unsigned long pfn;
	int flags;
};

struct mf_queue_spill {
	struct list_head node;
	struct mf_queue_entry entry;
};

/**
 * struct mf_queue - one CPU's queue of errors waiting for process context
 * @lock: guards every field below but @work
 * @ring: the oldest errors, up to MF_QUEUE_RING of them
 * @spill: the errors that arrived after the ring filled, oldest first
 * @nr_spill: entries on @spill
 * @lost: errors dropped since boot
 * @reported: how many of @lost the worker has reported
 * @work: drains the queue on its CPU
 */
struct mf_queue {
	spinlock_t lock;		/* see the kernel-doc above */
	DECLARE_KFIFO(ring, struct mf_queue_entry, MF_QUEUE_RING);
	struct list_head spill;
	unsigned int nr_spill;
	unsigned long lost;
	unsigned long reported;
	struct work_struct work;
};

static DEFINE_PER_CPU(struct mf_queue, mf_queue);

/* Hand one queued error on; a static stub for the KUnit tests. */
VISIBLE_IF_KUNIT int mf_queue_dispatch(unsigned long pfn, int flags)
{
	KUNIT_STATIC_STUB_REDIRECT(mf_queue_dispatch, pfn, flags);
	if (flags & MF_SOFT_OFFLINE)
		return soft_offline_page(pfn, flags);
	return memory_failure(pfn, flags);
}
EXPORT_SYMBOL_IF_KUNIT(mf_queue_dispatch);

/* Add @e at the tail of @q, keeping arrival order; false when lost. */
static bool mf_queue_put(struct mf_queue *q, const struct mf_queue_entry *e)
{
	struct mf_queue_spill *s;

	lockdep_assert_held(&q->lock);
	if (list_empty(&q->spill) && kfifo_put(&q->ring, *e))
		return true;
	if (q->nr_spill >= MF_QUEUE_MAX - MF_QUEUE_RING)
		return false;
	s = kmalloc(sizeof(*s), GFP_ATOMIC | __GFP_NOWARN);
	if (!s)
		return false;
	s->entry = *e;
	list_add_tail(&s->node, &q->spill);
	q->nr_spill++;
	return true;
}

/**
 * memory_failure_queue() - queue a memory error for handling in process
 * context
 * @pfn: the corrupted page
 * @flags: MF_* flags (MF_SOFT_OFFLINE asks for a soft offline)
 *
 * The error is handled by a worker on the current CPU, after the errors
 * queued there before it.  See "DOC: the error queue" for its capacity.
 *
 * Context: Any context but NMI; on PREEMPT_RT, not a raw atomic section.
 */
void memory_failure_queue(unsigned long pfn, int flags)
{
	struct mf_queue_entry e = { .pfn = pfn, .flags = flags };
	struct mf_queue *q;
	unsigned long irqflags;
	bool queued;

	/* Keeps us on the CPU whose queue and worker we use. */
	migrate_disable();
	q = this_cpu_ptr(&mf_queue);
	spin_lock_irqsave(&q->lock, irqflags);
	queued = mf_queue_put(q, &e);
	if (!queued)
		q->lost++;
	spin_unlock_irqrestore(&q->lock, irqflags);
	if (queued)
		schedule_work_on(smp_processor_id(), &q->work);
	migrate_enable();
	if (!queued)
		pr_err_ratelimited("buffer overflow when queuing memory failure at %#lx\n",
				   pfn);
}
EXPORT_SYMBOL_GPL(memory_failure_queue);

/* Take the oldest error off @q; false when it is empty. */
static bool mf_queue_take(struct mf_queue *q, struct mf_queue_entry *e)
{
	struct mf_queue_spill *s;
	unsigned long irqflags;
	bool got;

	spin_lock_irqsave(&q->lock, irqflags);
	got = kfifo_get(&q->ring, e);
	s = got ? NULL : list_first_entry_or_null(&q->spill,
						   struct mf_queue_spill, node);
	if (s) {
		list_del(&s->node);
		q->nr_spill--;
		*e = s->entry;
		got = true;
	}
	spin_unlock_irqrestore(&q->lock, irqflags);
	kfree(s);
	return got;
}

static void mf_queue_drain(struct mf_queue *q)
{
	struct mf_queue_entry e;
	unsigned long irqflags, lost;

	while (mf_queue_take(q, &e))
		mf_queue_dispatch(e.pfn, e.flags);

	spin_lock_irqsave(&q->lock, irqflags);
	lost = q->lost - q->reported;
	q->reported = q->lost;
	spin_unlock_irqrestore(&q->lock, irqflags);
	if (lost)
		pr_err("%lu queued memory errors lost: the queue was full or out of memory\n",
		       lost);
}

static void mf_queue_work(struct work_struct *work)
{
	mf_queue_drain(container_of(work, struct mf_queue, work));
}

/**
 * memory_failure_queue_kick() - handle the queued errors of a CPU now
 * @cpu: the CPU whose queue to drain
 *
 * Used on the way back to user space after a machine check, so that the
 * errors are handled before the task runs again.
 *
 * Context: Process context; may sleep.
 */
void memory_failure_queue_kick(int cpu)
{
	struct mf_queue *q = &per_cpu(mf_queue, cpu);

	cancel_work_sync(&q->work);
	mf_queue_drain(q);
}
EXPORT_SYMBOL_IF_KUNIT(memory_failure_queue_kick);

#if IS_ENABLED(CONFIG_KUNIT)
unsigned int mf_queue_capacity(void)
{
	return MF_QUEUE_MAX;
}
EXPORT_SYMBOL_IF_KUNIT(mf_queue_capacity);

unsigned long mf_queue_lost(int cpu)
{
	struct mf_queue *q = &per_cpu(mf_queue, cpu);
	unsigned long irqflags, lost;

	spin_lock_irqsave(&q->lock, irqflags);
	lost = q->lost;
	spin_unlock_irqrestore(&q->lock, irqflags);
	return lost;
}
EXPORT_SYMBOL_IF_KUNIT(mf_queue_lost);
#endif

static int __init mf_queue_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct mf_queue *q = &per_cpu(mf_queue, cpu);

		spin_lock_init(&q->lock);
		INIT_KFIFO(q->ring);
		INIT_LIST_HEAD(&q->spill);
		INIT_WORK(&q->work, mf_queue_work);
	}
	return 0;
}
core_initcall(mf_queue_init);
