// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the kill policy and the victim list (kill.c).
 *
 * KUnit runs each case in a kernel thread of its own: it has no mm, so it
 * is never a victim of a real error, and its PF_MCE_* flags can be changed
 * without touching any other task.  No signal is sent for real: a static
 * stub takes the place of mf_signal().
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>

#include "../../internal.h"
#include "../memory-failure.h"
#include "mf_kunit.h"

#define PF_MCE_MASK	(PF_MCE_PROCESS | PF_MCE_EARLY)

/*
 * mf_early_kill_thread() on current, with @pf as current's PR_MCE_KILL
 * policy flags and @sysctl_early as vm.memory_failure_early_kill.  The
 * flags are put back before returning (KUnit cleanup runs in another
 * thread).
 */
static struct task_struct *mf_early_kill_current(unsigned int pf,
						 bool sysctl_early)
{
	unsigned int old = current->flags & PF_MCE_MASK;
	struct task_struct *t;

	current->flags = (current->flags & ~PF_MCE_MASK) | pf;
	rcu_read_lock();
	t = mf_early_kill_thread(current, sysctl_early);
	rcu_read_unlock();
	current->flags = (current->flags & ~PF_MCE_MASK) | old;
	return t;
}

/* Without a policy of its own, a task follows the sysctl: late. */
static void mf_early_kill_thread_sysctl_late_null(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, mf_early_kill_current(0, false));
}

/* Without a policy of its own, a task follows the sysctl: early. */
static void mf_early_kill_thread_sysctl_early_current(struct kunit *test)
{
	KUNIT_EXPECT_PTR_EQ(test, mf_early_kill_current(0, true), current);
}

/* prctl(PR_MCE_KILL_EARLY) wins over a late sysctl. */
static void mf_early_kill_thread_prctl_early_current(struct kunit *test)
{
	KUNIT_EXPECT_PTR_EQ(test, mf_early_kill_current(PF_MCE_MASK, false),
			    current);
	KUNIT_EXPECT_PTR_EQ(test, mf_early_kill_current(PF_MCE_MASK, true),
			    current);
}

/* prctl(PR_MCE_KILL_LATE) wins over an early sysctl. */
static void mf_early_kill_thread_prctl_late_null(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, mf_early_kill_current(PF_MCE_PROCESS, true));
	KUNIT_EXPECT_NULL(test, mf_early_kill_current(PF_MCE_PROCESS, false));
}

/* PF_MCE_EARLY means nothing without PF_MCE_PROCESS: the sysctl decides. */
static void mf_early_kill_thread_early_bit_alone_ignored(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, mf_early_kill_current(PF_MCE_EARLY, false));
	KUNIT_EXPECT_PTR_EQ(test, mf_early_kill_current(PF_MCE_EARLY, true),
			    current);
}

/* A task without an mm (a kernel thread) is never signalled early. */
static void task_early_kill_no_mm_null(struct kunit *test)
{
	unsigned int old = current->flags & PF_MCE_MASK;
	struct task_struct *plain, *forced, *early;

	KUNIT_ASSERT_NULL(test, current->mm);
	rcu_read_lock();
	plain = task_early_kill(current, 0);
	forced = task_early_kill(current, 1);
	current->flags |= PF_MCE_MASK;
	early = task_early_kill(current, 0);
	current->flags = (current->flags & ~PF_MCE_MASK) | old;
	rcu_read_unlock();

	KUNIT_EXPECT_NULL(test, plain);
	KUNIT_EXPECT_NULL(test, forced);
	KUNIT_EXPECT_NULL(test, early);
}

/* A task without an mm maps nothing: there is nobody to signal. */
static void mf_kill_accessing_task_no_mm_efault(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);

	KUNIT_EXPECT_EQ(test, mf_kill_accessing_task(current, page_to_pfn(page),
						     MF_ACTION_REQUIRED),
			-EFAULT);
}

#define MF_KILL_MAX	8

/* What the mf_signal() stub was asked to send. */
struct mf_kill_log {
	int ret;			/* what the stub returns */
	unsigned int nr;
	struct task_struct *tsk[MF_KILL_MAX];
	unsigned long addr[MF_KILL_MAX];
	short shift[MF_KILL_MAX];
	unsigned long pfn[MF_KILL_MAX];
	int flags[MF_KILL_MAX];
};

static int mf_kill_stub_signal(struct mf_victim *v, unsigned long pfn,
			       int flags)
{
	struct kunit *test = kunit_get_current_test();
	struct mf_kill_log *log = test->priv;
	unsigned int i = log->nr++;

	if (i < MF_KILL_MAX) {
		log->tsk[i] = v->tsk;
		log->addr[i] = v->addr;
		log->shift[i] = v->shift;
		log->pfn[i] = pfn;
		log->flags[i] = flags;
	}
	return log->ret;
}

static int mf_kill_test_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct mf_kill_log),
				   GFP_KERNEL);
	if (!test->priv)
		return -ENOMEM;
	kunit_activate_static_stub(test, mf_signal, mf_kill_stub_signal);
	return 0;
}

static unsigned int mf_victims_count(struct list_head *victims)
{
	return list_count_nodes(victims);
}

/* The victim records the task, the address and the mapping size. */
static void mf_victim_add_records_task_and_address(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);
	unsigned int usage = refcount_read(&current->usage);
	struct mf_victim *v;
	LIST_HEAD(victims);

	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current, page, NULL,
					    0x7f0000001000UL), 0);
	KUNIT_EXPECT_EQ(test, mf_victims_count(&victims), 1U);
	v = list_first_entry(&victims, struct mf_victim, node);
	KUNIT_EXPECT_PTR_EQ(test, v->tsk, current);
	KUNIT_EXPECT_EQ(test, v->addr, 0x7f0000001000UL);
	KUNIT_EXPECT_EQ(test, v->shift, (short)PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, refcount_read(&current->usage), usage + 1);
	mf_kill_victims(&victims, false, page_to_pfn(page), 0);
}

/* A task whose address of the page is unknown is kept, to be killed. */
static void mf_victim_add_unknown_address_kept(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);
	struct mf_victim *v;
	LIST_HEAD(victims);

	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current, page, NULL,
					    -EFAULT), 0);
	KUNIT_ASSERT_EQ(test, mf_victims_count(&victims), 1U);
	v = list_first_entry(&victims, struct mf_victim, node);
	KUNIT_EXPECT_EQ(test, v->addr, (unsigned long)-EFAULT);
	mf_kill_victims(&victims, false, page_to_pfn(page), 0);
}

/* A page of a large folio is reported with the folio's size. */
static void mf_victim_add_large_folio_shift(struct kunit *test)
{
	struct folio *folio = mf_kunit_alloc_folio(test, 2);
	struct mf_victim *v;
	LIST_HEAD(victims);

	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current,
					    folio_page(folio, 3), NULL,
					    0x7f0000004000UL), 0);
	KUNIT_ASSERT_EQ(test, mf_victims_count(&victims), 1U);
	v = list_first_entry(&victims, struct mf_victim, node);
	KUNIT_EXPECT_EQ(test, v->shift, (short)(PAGE_SHIFT + 2));
	mf_kill_victims(&victims, false, folio_pfn(folio), 0);
}

/* Victims keep the order in which they were found. */
static void mf_victim_add_keeps_order(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);
	struct mf_kill_log *log = test->priv;
	unsigned long i;
	LIST_HEAD(victims);

	for (i = 1; i <= 3; i++)
		KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current, page,
						    NULL, i << PAGE_SHIFT), 0);
	mf_kill_victims(&victims, true, page_to_pfn(page), 0);
	KUNIT_ASSERT_EQ(test, log->nr, 3U);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, log->addr[i], (i + 1) << PAGE_SHIFT);
}

/* Without force the list is released: emptied, task references dropped. */
static void mf_kill_victims_unforced_releases_list(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);
	unsigned int usage = refcount_read(&current->usage);
	LIST_HEAD(victims);

	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current, page, NULL,
					    PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current, page, NULL,
					    -EFAULT), 0);
	mf_kill_victims(&victims, false, page_to_pfn(page), 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&victims));
	KUNIT_EXPECT_EQ(test, refcount_read(&current->usage), usage);
}

/* Without force nobody is signalled: the page went away cleanly. */
static void mf_kill_victims_unforced_sends_nothing(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);
	struct mf_kill_log *log = test->priv;
	LIST_HEAD(victims);

	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current, page, NULL,
					    PAGE_SIZE), 0);
	mf_kill_victims(&victims, false, page_to_pfn(page), MF_ACTION_REQUIRED);
	KUNIT_EXPECT_EQ(test, log->nr, 0U);
}

/* With force each victim gets a signal with its address, size and error. */
static void mf_kill_victims_forced_signals_each(struct kunit *test)
{
	struct folio *folio = mf_kunit_alloc_folio(test, 2);
	unsigned long pfn = folio_pfn(folio) + 1;
	unsigned int usage = refcount_read(&current->usage);
	struct mf_kill_log *log = test->priv;
	LIST_HEAD(victims);

	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current,
					    pfn_to_page(pfn), NULL,
					    0x10000UL), 0);
	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current,
					    pfn_to_page(pfn), NULL,
					    0x20000UL), 0);
	mf_kill_victims(&victims, true, pfn, MF_ACTION_REQUIRED);

	KUNIT_EXPECT_TRUE(test, list_empty(&victims));
	KUNIT_EXPECT_EQ(test, refcount_read(&current->usage), usage);
	KUNIT_ASSERT_EQ(test, log->nr, 2U);
	KUNIT_EXPECT_EQ(test, log->addr[0], 0x10000UL);
	KUNIT_EXPECT_EQ(test, log->addr[1], 0x20000UL);
	KUNIT_EXPECT_PTR_EQ(test, log->tsk[0], current);
	KUNIT_EXPECT_EQ(test, log->shift[0], (short)(PAGE_SHIFT + 2));
	KUNIT_EXPECT_EQ(test, log->pfn[1], pfn);
	KUNIT_EXPECT_EQ(test, log->flags[1], (int)MF_ACTION_REQUIRED);
}

/* A signal that cannot be sent does not stop the others or leak victims. */
static void mf_kill_victims_signal_error_continues(struct kunit *test)
{
	struct page *page = mf_kunit_alloc_page(test);
	unsigned int usage = refcount_read(&current->usage);
	struct mf_kill_log *log = test->priv;
	LIST_HEAD(victims);

	log->ret = -EPERM;
	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current, page, NULL,
					    PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, mf_victim_add(&victims, current, page, NULL,
					    2 * PAGE_SIZE), 0);
	mf_kill_victims(&victims, true, page_to_pfn(page), 0);
	KUNIT_EXPECT_EQ(test, log->nr, 2U);
	KUNIT_EXPECT_TRUE(test, list_empty(&victims));
	KUNIT_EXPECT_EQ(test, refcount_read(&current->usage), usage);
}

/* A task that maps a KSM page several times is listed once. */
static void add_to_kill_ksm_one_entry_per_task(struct kunit *test)
{
#ifdef CONFIG_KSM
	struct page *page = mf_kunit_alloc_page(test);
	struct task_struct *parent;
	struct mf_victim *v;
	LIST_HEAD(victims);

	rcu_read_lock();
	parent = rcu_dereference(current->real_parent);
	get_task_struct(parent);
	add_to_kill_ksm(current, page, NULL, &victims, PAGE_SIZE);
	add_to_kill_ksm(current, page, NULL, &victims, 2 * PAGE_SIZE);
	add_to_kill_ksm(parent, page, NULL, &victims, 3 * PAGE_SIZE);
	add_to_kill_ksm(parent, page, NULL, &victims, 4 * PAGE_SIZE);
	rcu_read_unlock();

	KUNIT_EXPECT_EQ(test, mf_victims_count(&victims), 2U);
	if (!list_empty(&victims)) {
		v = list_first_entry(&victims, struct mf_victim, node);
		KUNIT_EXPECT_PTR_EQ(test, v->tsk, current);
		KUNIT_EXPECT_EQ(test, v->addr, PAGE_SIZE);
		v = list_last_entry(&victims, struct mf_victim, node);
		KUNIT_EXPECT_PTR_EQ(test, v->tsk, parent);
		KUNIT_EXPECT_EQ(test, v->addr, 3 * PAGE_SIZE);
	}
	mf_kill_victims(&victims, false, page_to_pfn(page), 0);
	put_task_struct(parent);
#else
	kunit_skip(test, "needs CONFIG_KSM");
#endif
}

static struct kunit_case mf_kill_cases[] = {
	KUNIT_CASE(mf_early_kill_thread_sysctl_late_null),
	KUNIT_CASE(mf_early_kill_thread_sysctl_early_current),
	KUNIT_CASE(mf_early_kill_thread_prctl_early_current),
	KUNIT_CASE(mf_early_kill_thread_prctl_late_null),
	KUNIT_CASE(mf_early_kill_thread_early_bit_alone_ignored),
	KUNIT_CASE(task_early_kill_no_mm_null),
	KUNIT_CASE(mf_kill_accessing_task_no_mm_efault),
	KUNIT_CASE(mf_victim_add_records_task_and_address),
	KUNIT_CASE(mf_victim_add_unknown_address_kept),
	KUNIT_CASE(mf_victim_add_large_folio_shift),
	KUNIT_CASE(mf_victim_add_keeps_order),
	KUNIT_CASE(mf_kill_victims_unforced_releases_list),
	KUNIT_CASE(mf_kill_victims_unforced_sends_nothing),
	KUNIT_CASE(mf_kill_victims_forced_signals_each),
	KUNIT_CASE(mf_kill_victims_signal_error_continues),
	KUNIT_CASE(add_to_kill_ksm_one_entry_per_task),
	{}
};

static struct kunit_suite mf_kill_suite = {
	.name = "memory_failure_kill",
	.init = mf_kill_test_init,
	.test_cases = mf_kill_cases,
};

kunit_test_suite(mf_kill_suite);
