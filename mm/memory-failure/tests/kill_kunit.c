// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the kill policy and victim collection (victims.c, kill.c).
 *
 * KUnit runs each case in a kernel thread of its own, whose PF_MCE_* flags
 * can be changed without touching any other task.  A case that needs
 * processes mapping a page gives its thread an address space
 * (kunit_vm_mmap()) and starts kernel threads with address spaces of
 * their own, which map the same shmem page.  No signal is sent for real:
 * a static stub takes the place of mf_signal().
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/uaccess.h>

#include "../../internal.h"
#include "../memory-failure.h"
#include "mf_kunit.h"

#define PF_MCE_MASK	(PF_MCE_PROCESS | PF_MCE_EARLY)

/*
 * mf_early_kill_thread() on current, with @pf as current's PR_MCE_KILL
 * policy flags and @sysctl_early as vm.memory_failure_early_kill.  The
 * flags are put back before returning (KUnit cleanup runs in another
 * thread).  Current gets an mm first: threads without one are skipped.
 */
static struct task_struct *mf_early_kill_current(struct kunit *test,
						 unsigned int pf,
						 bool sysctl_early)
{
	unsigned int old = current->flags & PF_MCE_MASK;
	struct task_struct *t;

	if (!current->mm)
		KUNIT_ASSERT_NE(test, kunit_vm_mmap(test, NULL, 0, PAGE_SIZE,
						    PROT_READ,
						    MAP_PRIVATE | MAP_ANONYMOUS,
						    0), 0UL);
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
	KUNIT_EXPECT_NULL(test, mf_early_kill_current(test, 0, false));
}

/* Without a policy of its own, a task follows the sysctl: early. */
static void mf_early_kill_thread_sysctl_early_current(struct kunit *test)
{
	KUNIT_EXPECT_PTR_EQ(test, mf_early_kill_current(test, 0, true), current);
}

/* prctl(PR_MCE_KILL_EARLY) wins over a late sysctl. */
static void mf_early_kill_thread_prctl_early_current(struct kunit *test)
{
	KUNIT_EXPECT_PTR_EQ(test, mf_early_kill_current(test, PF_MCE_MASK, false),
			    current);
	KUNIT_EXPECT_PTR_EQ(test, mf_early_kill_current(test, PF_MCE_MASK, true),
			    current);
}

/* prctl(PR_MCE_KILL_LATE) wins over an early sysctl. */
static void mf_early_kill_thread_prctl_late_null(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, mf_early_kill_current(test, PF_MCE_PROCESS, true));
	KUNIT_EXPECT_NULL(test, mf_early_kill_current(test, PF_MCE_PROCESS, false));
}

/* PF_MCE_EARLY means nothing without PF_MCE_PROCESS: the sysctl decides. */
static void mf_early_kill_thread_early_bit_alone_ignored(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, mf_early_kill_current(test, PF_MCE_EARLY, false));
	KUNIT_EXPECT_PTR_EQ(test, mf_early_kill_current(test, PF_MCE_EARLY, true),
			    current);
}

/* A thread without an mm (exited, or a kernel thread) is passed over. */
static void mf_early_kill_thread_no_mm_null(struct kunit *test)
{
	unsigned int old = current->flags & PF_MCE_MASK;
	struct task_struct *plain, *early;

	KUNIT_ASSERT_NULL(test, current->mm);
	rcu_read_lock();
	plain = mf_early_kill_thread(current, true);
	current->flags |= PF_MCE_MASK;
	early = mf_early_kill_thread(current, false);
	current->flags = (current->flags & ~PF_MCE_MASK) | old;
	rcu_read_unlock();

	KUNIT_EXPECT_NULL(test, plain);
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

/* What the mf_signal() and mf_victim_lost() stubs were asked to do. */
struct mf_kill_log {
	int ret;			/* what the mf_signal() stub returns */
	unsigned int nr;
	struct task_struct *tsk[MF_KILL_MAX];
	unsigned long addr[MF_KILL_MAX];
	short shift[MF_KILL_MAX];
	unsigned long pfn[MF_KILL_MAX];
	int flags[MF_KILL_MAX];
	unsigned int nr_lost;
	struct task_struct *lost[MF_KILL_MAX];
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

static void mf_kill_stub_lost(unsigned long pfn, struct task_struct *tsk)
{
	struct kunit *test = kunit_get_current_test();
	struct mf_kill_log *log = test->priv;
	unsigned int i = log->nr_lost++;

	if (i < MF_KILL_MAX)
		log->lost[i] = tsk;
}

static struct mf_victim *mf_kill_stub_no_memory(unsigned int nr)
{
	return NULL;
}

static int mf_kill_test_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct mf_kill_log),
				   GFP_KERNEL);
	if (!test->priv)
		return -ENOMEM;
	kunit_activate_static_stub(test, mf_signal, mf_kill_stub_signal);
	kunit_activate_static_stub(test, mf_victim_lost, mf_kill_stub_lost);
	return 0;
}

/*
 * A kernel thread with an address space of its own that maps the test's
 * shmem page, with the kill policy @pf: a process for victim collection
 * to find.  It lives until the end of the test.
 */
struct mf_kill_mapper {
	struct kunit *test;
	struct file *file;
	unsigned int pf;
	unsigned long addr;
	struct task_struct *tsk;
	struct completion ready;
	struct completion done;
};

static int mf_kill_mapper_fn(void *data)
{
	struct mf_kill_mapper *m = data;
	char c = 0x5a;

	m->addr = kunit_vm_mmap(m->test, m->file, 0, PAGE_SIZE,
				PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	if (m->addr && copy_to_user((void __user *)m->addr, &c, 1))
		m->addr = 0;
	current->flags = (current->flags & ~PF_MCE_MASK) | m->pf;
	complete(&m->ready);
	wait_for_completion(&m->done);
	return 0;
}

static void mf_kill_mapper_stop(void *data)
{
	struct mf_kill_mapper *m = data;

	complete(&m->done);
	kthread_stop(m->tsk);
	put_task_struct(m->tsk);
}

static struct mf_kill_mapper *mf_kill_mapper_start(struct kunit *test,
						   struct file *file,
						   unsigned int pf)
{
	struct mf_kill_mapper *m;
	struct task_struct *tsk;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	m->test = test;
	m->file = file;
	m->pf = pf;
	init_completion(&m->ready);
	init_completion(&m->done);
	tsk = kthread_run(mf_kill_mapper_fn, m, "mf_kunit_mapper");
	KUNIT_ASSERT_FALSE(test, IS_ERR(tsk));
	/* It waits for m->done: it cannot exit before the reference. */
	get_task_struct(tsk);
	m->tsk = tsk;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							mf_kill_mapper_stop,
							m), 0);
	wait_for_completion(&m->ready);
	KUNIT_ASSERT_NE(test, m->addr, 0UL);
	return m;
}

/*
 * Map @s's page into the test thread itself, and make the thread one that
 * wants to hear late, so that only MF_ACTION_REQUIRED makes it a victim.
 */
static unsigned long mf_kill_map_self(struct kunit *test,
				      struct mf_kunit_shmem *s)
{
	unsigned long addr;
	char c = 0x5a;

	addr = kunit_vm_mmap(test, s->file, 0, PAGE_SIZE,
			     PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	KUNIT_ASSERT_NE(test, addr, 0UL);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr, &c, 1), 0UL);
	return addr;
}

struct mf_kill_collect_call {
	struct mf_victims *vs;
	struct folio *folio;
	int flags;
};

static void mf_kill_collect_locked(void *arg)
{
	struct mf_kill_collect_call *c = arg;

	folio_lock(c->folio);
	mf_collect_victims(c->vs, c->folio, &c->folio->page, c->flags);
	folio_unlock(c->folio);
}

static void mf_kill_collect(struct mf_victims *vs, struct folio *folio,
			    int flags)
{
	struct mf_kill_collect_call c = { vs, folio, flags };
	unsigned int old = current->flags & PF_MCE_MASK;

	current->flags = (current->flags & ~PF_MCE_MASK) | PF_MCE_PROCESS;
	mf_kunit_locked(mf_kill_collect_locked, &c);
	current->flags = (current->flags & ~PF_MCE_MASK) | old;
}

/* Current consumed the error: it is told at its own address. */
static void mf_collect_victims_action_required_finds_current(struct kunit *test)
{
	struct mf_kunit_shmem *s = mf_kunit_shmem_page(test);
	unsigned long addr = mf_kill_map_self(test, s);
	struct mf_kill_log *log = test->priv;
	struct mf_victims vs;

	mf_kill_collect(&vs, s->folio, MF_ACTION_REQUIRED);
	KUNIT_EXPECT_EQ(test, vs.found, 1U);
	mf_kill_victims(&vs, true, MF_ACTION_REQUIRED);
	KUNIT_ASSERT_EQ(test, log->nr, 1U);
	KUNIT_EXPECT_PTR_EQ(test, log->tsk[0], current);
	KUNIT_EXPECT_EQ(test, log->addr[0], addr);
	KUNIT_EXPECT_EQ(test, log->shift[0], (short)PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, log->pfn[0], folio_pfn(s->folio));
	KUNIT_EXPECT_EQ(test, log->flags[0], (int)MF_ACTION_REQUIRED);
}

/* Nobody wants to hear early: nobody is looked for, nobody is told. */
static void mf_collect_victims_all_late_finds_nobody(struct kunit *test)
{
	struct mf_kunit_shmem *s = mf_kunit_shmem_page(test);
	struct mf_kill_log *log = test->priv;
	struct mf_victims vs;

	mf_kill_map_self(test, s);
	mf_kill_mapper_start(test, s->file, PF_MCE_PROCESS);
	mf_kill_collect(&vs, s->folio, 0);
	KUNIT_EXPECT_EQ(test, vs.found, 0U);
	mf_kill_victims(&vs, true, 0);
	KUNIT_EXPECT_EQ(test, log->nr, 0U);
}

/* An early-kill process is told at its own address; a late one is not. */
static void mf_collect_victims_early_process_told(struct kunit *test)
{
	struct mf_kunit_shmem *s = mf_kunit_shmem_page(test);
	struct mf_kill_log *log = test->priv;
	struct mf_kill_mapper *early, *late;
	struct mf_victims vs;

	mf_kill_map_self(test, s);
	late = mf_kill_mapper_start(test, s->file, PF_MCE_PROCESS);
	early = mf_kill_mapper_start(test, s->file, PF_MCE_MASK);
	mf_kill_collect(&vs, s->folio, 0);
	mf_kill_victims(&vs, true, 0);
	KUNIT_ASSERT_EQ(test, log->nr, 1U);
	KUNIT_EXPECT_PTR_EQ(test, log->tsk[0], early->tsk);
	KUNIT_EXPECT_EQ(test, log->addr[0], early->addr);
	KUNIT_EXPECT_PTR_NE(test, log->tsk[0], late->tsk);
}

/* Without force the set is released and nobody is signalled. */
static void mf_kill_victims_unforced_sends_nothing(struct kunit *test)
{
	struct mf_kunit_shmem *s = mf_kunit_shmem_page(test);
	unsigned int usage = refcount_read(&current->usage);
	struct mf_kill_log *log = test->priv;
	struct mf_kill_mapper *early;
	unsigned int early_usage;
	struct mf_victims vs;

	mf_kill_map_self(test, s);
	early = mf_kill_mapper_start(test, s->file, PF_MCE_MASK);
	early_usage = refcount_read(&early->tsk->usage);
	mf_kill_collect(&vs, s->folio, MF_ACTION_REQUIRED);
	KUNIT_EXPECT_EQ(test, vs.found, 2U);
	mf_kill_victims(&vs, false, MF_ACTION_REQUIRED);
	KUNIT_EXPECT_EQ(test, log->nr, 0U);
	KUNIT_EXPECT_EQ(test, refcount_read(&current->usage), usage);
	KUNIT_EXPECT_EQ(test, refcount_read(&early->tsk->usage), early_usage);
}

/* A signal that cannot be sent does not stop the others. */
static void mf_kill_victims_signal_error_continues(struct kunit *test)
{
	struct mf_kunit_shmem *s = mf_kunit_shmem_page(test);
	struct mf_kill_log *log = test->priv;
	struct mf_victims vs;

	log->ret = -EPERM;
	mf_kill_map_self(test, s);
	mf_kill_mapper_start(test, s->file, PF_MCE_MASK);
	mf_kill_collect(&vs, s->folio, MF_ACTION_REQUIRED);
	mf_kill_victims(&vs, true, MF_ACTION_REQUIRED);
	KUNIT_EXPECT_EQ(test, log->nr, 2U);
}

/*
 * No memory for the candidates: current, which consumed the error, is
 * still told, and every process that maps the page and wanted to hear is
 * reported by name and counted.
 */
static void mf_collect_victims_no_memory_reports_each_lost(struct kunit *test)
{
	struct mf_kunit_shmem *s = mf_kunit_shmem_page(test);
	unsigned long addr = mf_kill_map_self(test, s);
	struct mf_kill_log *log = test->priv;
	struct mf_kill_mapper *a, *b;
	struct mf_victims vs;

	a = mf_kill_mapper_start(test, s->file, PF_MCE_MASK);
	b = mf_kill_mapper_start(test, s->file, PF_MCE_MASK);
	mf_kill_mapper_start(test, s->file, PF_MCE_PROCESS);
	kunit_activate_static_stub(test, mf_victims_alloc,
				   mf_kill_stub_no_memory);
	mf_kill_collect(&vs, s->folio, MF_ACTION_REQUIRED | MF_MUST_KILL);
	KUNIT_EXPECT_EQ(test, vs.lost, 2U);
	KUNIT_ASSERT_EQ(test, log->nr_lost, 2U);
	/* In process-list order, whichever that is. */
	if (log->lost[0] != a->tsk)
		swap(a, b);
	KUNIT_EXPECT_PTR_EQ(test, log->lost[0], a->tsk);
	KUNIT_EXPECT_PTR_EQ(test, log->lost[1], b->tsk);
	mf_kill_victims(&vs, true, MF_ACTION_REQUIRED | MF_MUST_KILL);
	KUNIT_ASSERT_EQ(test, log->nr, 1U);
	KUNIT_EXPECT_PTR_EQ(test, log->tsk[0], current);
	KUNIT_EXPECT_EQ(test, log->addr[0], addr);
}

static struct kunit_case mf_kill_cases[] = {
	KUNIT_CASE(mf_early_kill_thread_sysctl_late_null),
	KUNIT_CASE(mf_early_kill_thread_sysctl_early_current),
	KUNIT_CASE(mf_early_kill_thread_prctl_early_current),
	KUNIT_CASE(mf_early_kill_thread_prctl_late_null),
	KUNIT_CASE(mf_early_kill_thread_early_bit_alone_ignored),
	KUNIT_CASE(mf_early_kill_thread_no_mm_null),
	KUNIT_CASE(mf_kill_accessing_task_no_mm_efault),
	KUNIT_CASE(mf_collect_victims_action_required_finds_current),
	KUNIT_CASE(mf_collect_victims_all_late_finds_nobody),
	KUNIT_CASE(mf_collect_victims_early_process_told),
	KUNIT_CASE(mf_kill_victims_unforced_sends_nothing),
	KUNIT_CASE(mf_kill_victims_signal_error_continues),
	KUNIT_CASE(mf_collect_victims_no_memory_reports_each_lost),
	{}
};

static struct kunit_suite mf_kill_suite = {
	.name = "memory_failure_kill",
	.init = mf_kill_test_init,
	.test_cases = mf_kill_cases,
};

kunit_test_suite(mf_kill_suite);
