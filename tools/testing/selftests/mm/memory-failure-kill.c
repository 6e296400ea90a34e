// SPDX-License-Identifier: GPL-2.0
/*
 * Kill policy: who is told, and when, that a page it maps has been declared
 * hardware-poisoned.  The victim page is written by the test and mapped by
 * child processes: a private anonymous page shared copy-on-write, a shmem
 * page, a dirty or a clean page of a file on disk (one fixture variant
 * each).  The injection goes through debugfs corrupt-pfn, which acts for
 * nobody in particular (it is not "action required").  An "early kill" task
 * is sent SIGBUS BUS_MCEERR_AO at injection; a "late kill" task hears
 * nothing until it touches the page, and then gets BUS_MCEERR_AR.  The
 * policy comes from the vm.memory_failure_early_kill sysctl unless the task
 * chose its own with prctl(PR_MCE_KILL).  A clean file page is an exception:
 * it is dropped and read back from the disk, nobody is ever signalled.
 *
 * Each child records the SIGBUS it receives (si_code, si_addr, si_addr_lsb,
 * receiving thread) in memory shared with the parent and answers commands
 * sent over a pipe; a command is acknowledged only after any signal queued
 * before it was handled.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "../kselftest_harness.h"
#include "memory-failure.h"

#define EARLY_KILL	"/proc/sys/vm/memory_failure_early_kill"
#define MAX_KIDS	4
#define MAX_RECS	8
/* Kid policy: no prctl at all, or the PR_MCE_KILL_SET argument. */
#define POLICY_NONE	-1

struct sig_rec {
	int code;
	int lsb;
	void *addr;
	pid_t tid;
};

/* What one child saw; lives in MAP_SHARED memory. */
struct kid_report {
	int slot;		/* records claimed by the handler */
	int n;			/* SIGBUS received (records complete) so far */
	struct sig_rec rec[MAX_RECS];
	void *addr;		/* where the child maps the victim page */
	pid_t main_tid;
	pid_t early_tid;	/* the PR_MCE_KILL_EARLY thread, if any */
	int touched;		/* last touch read the page without SIGBUS */
	int value;		/* ... and the byte it read */
	int get;		/* PR_MCE_KILL_GET after its setup */
	int leader_gone;	/* the main thread had exited by then */
};

struct kid_cfg {
	int policy;		/* POLICY_NONE or PR_MCE_KILL_EARLY/LATE/DEFAULT */
	bool unmap;		/* a bystander: drops the victim mapping */
	bool remap;		/* maps the victim at another address */
	bool thread;		/* a second thread sets PR_MCE_KILL_EARLY */
	/* The main thread exits; a PR_MCE_KILL_EARLY thread takes over. */
	bool leader_exits;
};

struct kid {
	pid_t pid;
	int cmd;
	int ack;
	int seen;		/* signals checked so far */
	struct kid_report *rep;
};

enum victim { ANON, SHMEM, FILE_DIRTY, FILE_CLEAN };

FIXTURE(memory_failure_kill)
{
	long psize;
	char *page;		/* the parent's mapping of the victim */
	uint64_t pfn;
	int node;
	long early_kill;	/* saved sysctl */
	long corrupted_kb;
	long node_total;
	long node_recovered;
	struct kid_report *reps;
	struct kid kids[MAX_KIDS];
	int nkids;
	bool poisoned;
	pid_t owner;		/* the test process, parent of the children */
	char file[64];		/* the victim file in the cwd, or "" */
};

FIXTURE_VARIANT(memory_failure_kill)
{
	enum victim victim;
	/* A clean file page is dropped: no signal, its data comes back. */
	bool dropped;
};

FIXTURE_VARIANT_ADD(memory_failure_kill, anon)
{
	.victim = ANON,
};

FIXTURE_VARIANT_ADD(memory_failure_kill, shmem)
{
	.victim = SHMEM,
};

FIXTURE_VARIANT_ADD(memory_failure_kill, file_dirty)
{
	.victim = FILE_DIRTY,
};

FIXTURE_VARIANT_ADD(memory_failure_kill, file_clean)
{
	.victim = FILE_CLEAN,
	.dropped = true,
};

/* Per-child state, set after fork. */
static struct kid_report *kid_rep;
static sigjmp_buf kid_env;

static void kid_sigbus(int sig, siginfo_t *si, void *uc)
{
	int i = __atomic_fetch_add(&kid_rep->slot, 1, __ATOMIC_SEQ_CST);

	if (i < MAX_RECS) {
		kid_rep->rec[i].code = si->si_code;
		kid_rep->rec[i].lsb = si->si_addr_lsb;
		kid_rep->rec[i].addr = si->si_addr;
		kid_rep->rec[i].tid = gettid();
	}
	__atomic_fetch_add(&kid_rep->n, 1, __ATOMIC_SEQ_CST);
	if (si->si_code == BUS_MCEERR_AR)
		siglongjmp(kid_env, 1);
}

/* Reads @p for real: the access itself is what is tested. */
static char read_byte(const char *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The dedicated thread: asks for early kill, then waits for signals. */
static void *early_thread(void *arg)
{
	int *ready = arg;

	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
	kid_rep->early_tid = gettid();
	__atomic_store_n(ready, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return NULL;
}

/* Waits up to 3 s for a signal to reach another thread. */
static void wait_other_thread(void)
{
	int i;

	for (i = 0; i < 300 && !__atomic_load_n(&kid_rep->n, __ATOMIC_SEQ_CST); i++)
		usleep(10000);
}

/* Reports the child set up, then runs the commands; never returns. */
static void kid_loop(const struct kid_cfg *cfg, char *page, int cmd, int ack)
{
	char c;

	c = 'R';
	if (write(ack, &c, 1) != 1)
		_exit(1);
	while (read(cmd, &c, 1) == 1) {
		switch (c) {
		case 'T':	/* touch the page */
			kid_rep->touched = 0;
			if (!sigsetjmp(kid_env, 1)) {
				kid_rep->value = read_byte(page);
				kid_rep->touched = 1;
			}
			break;
		case 'S':	/* sync: only acknowledge */
			if (cfg->thread)
				wait_other_thread();
			break;
		}
		if (write(ack, &c, 1) != 1)
			_exit(1);
	}
	_exit(0);
}

/* Whether thread @tid of this process has exited (a zombie, or gone). */
static bool thread_exited(pid_t tid)
{
	char path[64], buf[512], *state;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = 0;
	/* "tid (comm) S ...": the comm may hold anything but the last ')'. */
	state = strrchr(buf, ')');
	return state && (state[2] == 'Z' || state[2] == 'X');
}

/* What the thread that outlives the main thread takes over. */
static struct {
	const struct kid_cfg *cfg;
	char *page;
	int cmd;
	int ack;
} kid_heir;

/*
 * Asks for early kill, waits (up to 3 s) for the main thread to be gone,
 * then answers the commands in its place.
 */
static void *heir_thread(void *arg)
{
	int i;

	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
	kid_rep->early_tid = gettid();
	for (i = 0; i < 300 && !thread_exited(kid_rep->main_tid); i++)
		usleep(10000);
	kid_rep->leader_gone = thread_exited(kid_rep->main_tid);
	kid_rep->get = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	kid_loop(kid_heir.cfg, kid_heir.page, kid_heir.cmd, kid_heir.ack);
	return NULL;
}

static void kid_main(const struct kid_cfg *cfg, char *page, long psize,
		     int cmd, int ack)
{
	struct sigaction sa = {
		.sa_sigaction = kid_sigbus,
		.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER,
	};
	pthread_t thr;
	int ready = 0;

	sigaction(SIGBUS, &sa, NULL);
	kid_rep->main_tid = gettid();
	if (cfg->unmap) {
		munmap(page, psize);
		page = NULL;
	} else if (cfg->remap) {
		char *hole = mmap(NULL, 2 * psize, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (hole == MAP_FAILED)
			_exit(1);
		page = mremap(page, psize, psize, MREMAP_MAYMOVE | MREMAP_FIXED,
			      hole + psize);
		if (page == MAP_FAILED)
			_exit(1);
	}
	kid_rep->addr = page;
	/* Map it in this process's page table too. */
	if (page)
		kid_rep->value = read_byte(page);
	if (cfg->thread) {
		if (pthread_create(&thr, NULL, early_thread, &ready))
			_exit(1);
		while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
			usleep(1000);
	}
	if (cfg->policy != POLICY_NONE &&
	    prctl(PR_MCE_KILL, PR_MCE_KILL_SET, cfg->policy, 0, 0))
		_exit(1);
	kid_rep->get = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	if (cfg->leader_exits) {
		kid_heir.cfg = cfg;
		kid_heir.page = page;
		kid_heir.cmd = cmd;
		kid_heir.ack = ack;
		if (pthread_create(&thr, NULL, heir_thread, NULL))
			_exit(1);
		/* The process lives on in the heir; the leader stays a zombie. */
		pthread_exit(NULL);
	}
	kid_loop(cfg, page, cmd, ack);
}

/* Starts the next child with @cfg; returns 0 once it is set up. */
static int kid_start(FIXTURE_DATA(memory_failure_kill) *self,
		     const struct kid_cfg *cfg)
{
	struct kid *k = &self->kids[self->nkids];
	int cmd[2], ack[2];
	pid_t pid;
	char c;

	if (pipe(cmd) || pipe(ack))
		return -1;
	k->rep = &self->reps[self->nkids];
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int i;

		/* Only the parent may hold the other children's pipes. */
		for (i = 0; i < self->nkids; i++) {
			close(self->kids[i].cmd);
			close(self->kids[i].ack);
		}
		close(cmd[1]);
		close(ack[0]);
		kid_rep = k->rep;
		kid_main(cfg, self->page, self->psize, cmd[0], ack[1]);
	}
	/* Not fork()'s return stored straight: self is shared with the child. */
	k->pid = pid;
	self->nkids++;
	close(cmd[0]);
	close(ack[1]);
	k->cmd = cmd[1];
	k->ack = ack[0];
	return read(k->ack, &c, 1) == 1 && c == 'R' ? 0 : -1;
}

/* Sends @c to child @k and waits for the acknowledgment. */
static int kid_cmd(struct kid *k, char c)
{
	char a;

	if (write(k->cmd, &c, 1) != 1)
		return -1;
	return read(k->ack, &a, 1) == 1 && a == c ? 0 : -1;
}

static void kids_stop(FIXTURE_DATA(memory_failure_kill) *self)
{
	int i;

	for (i = 0; i < self->nkids; i++) {
		close(self->kids[i].cmd);
		close(self->kids[i].ack);
		waitpid(self->kids[i].pid, NULL, 0);
	}
	self->nkids = 0;
}

static int set_early_kill(long val)
{
	return mf_write_long(EARLY_KILL, val);
}

/*
 * Maps the victim page, filled with 0x5a: written through the mapping
 * (dirty) except for FILE_CLEAN, written with write(2) and synced.
 */
static char *map_victim(struct __test_metadata *_metadata,
			FIXTURE_DATA(memory_failure_kill) *self,
			enum victim victim)
{
	char *page, *buf;
	int fd;

	if (victim == ANON || victim == SHMEM) {
		page = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
			    (victim == ANON ? MAP_PRIVATE : MAP_SHARED) |
			    MAP_ANONYMOUS, -1, 0);
		if (page != MAP_FAILED)
			memset(page, 0x5a, self->psize);
		return page;
	}
	snprintf(self->file, sizeof(self->file), "mf-kill-%d", getpid());
	fd = open(self->file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return MAP_FAILED;
	if (!mf_require_disk_fs(_metadata, fd, self->file)) {
		close(fd);
		return NULL;
	}
	if (victim == FILE_CLEAN) {
		buf = malloc(self->psize);
		if (!buf)
			goto fail;
		memset(buf, 0x5a, self->psize);
		if (write(fd, buf, self->psize) != self->psize || fsync(fd)) {
			free(buf);
			goto fail;
		}
		free(buf);
	} else if (ftruncate(fd, self->psize)) {
		goto fail;
	}
	page = mmap(NULL, self->psize, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	close(fd);
	if (page != MAP_FAILED && victim == FILE_DIRTY)
		memset(page, 0x5a, self->psize);
	return page;
fail:
	close(fd);
	return MAP_FAILED;
}

FIXTURE_SETUP(memory_failure_kill)
{
	if (geteuid())
		SKIP(return, "needs root");
	if (access(CORRUPT_PFN, W_OK) || access(UNPOISON_PFN, W_OK))
		SKIP(return, "no hwpoison injector in debugfs");
	self->owner = getpid();
	self->early_kill = mf_read_long(EARLY_KILL);
	ASSERT_GE(self->early_kill, 0);
	self->psize = sysconf(_SC_PAGESIZE);
	self->reps = mmap(NULL, sizeof(*self->reps) * MAX_KIDS,
			  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->reps, MAP_FAILED);
	memset(self->reps, 0, sizeof(*self->reps) * MAX_KIDS);
	self->page = map_victim(_metadata, self, variant->victim);
	if (!self->page)
		return;		/* skipped: not a disk filesystem */
	ASSERT_NE(self->page, MAP_FAILED);
	ASSERT_EQ(read_byte(self->page), 0x5a);
	self->pfn = mf_virt_to_pfn(self->page);
	ASSERT_NE(self->pfn, 0);
	self->node = mf_page_node(self->page);
	ASSERT_GE(self->node, 0);
	ASSERT_FALSE(mf_pfn_is_hwpoison(self->pfn));
	self->corrupted_kb = mf_meminfo_kb("HardwareCorrupted");
	self->node_total = mf_node_stat(self->node, "total");
	self->node_recovered = mf_node_stat(self->node, "recovered");
	ASSERT_GE(self->node_total, 0);
}

/*
 * Normally runs in the parent of the test process, after the test process
 * and so its children (EOF on their command pipe) are gone.  After a failed
 * ASSERT the 6.12 harness may run it in the test process itself: then stop
 * the children here, so that the page has no user left.
 */
FIXTURE_TEARDOWN_PARENT(memory_failure_kill)
{
	int err = 0, i;

	if (getpid() == self->owner) {
		kids_stop(self);
		if (self->page && self->page != MAP_FAILED)
			munmap(self->page, self->psize);
	}
	if (self->poisoned) {
		/* A child may still be exiting: retry while the page is busy. */
		for (i = 0; i < 100; i++) {
			err = mf_unpoison_pfn(self->pfn);
			if (err != EBUSY)
				break;
			usleep(20000);
		}
		if (err == EOPNOTSUPP)
			TH_LOG("unpoison refused after a real machine check");
		else
			EXPECT_EQ(err, 0);
		EXPECT_FALSE(mf_pfn_is_hwpoison(self->pfn));
		EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"), self->corrupted_kb);
	}
	if (self->file[0])
		unlink(self->file);
	if (self->early_kill >= 0)
		EXPECT_EQ(set_early_kill(self->early_kill), 0);
}

/*
 * The parent drops its own mapping (only the children map the page) and
 * poisons the page through corrupt-pfn.
 */
static void inject(struct __test_metadata *_metadata,
		   FIXTURE_DATA(memory_failure_kill) *self)
{
	ASSERT_EQ(munmap(self->page, self->psize), 0);
	self->page = NULL;
	ASSERT_EQ(mf_write_pfn(CORRUPT_PFN, self->pfn), 0);
	self->poisoned = true;
	ASSERT_TRUE(mf_pfn_is_hwpoison(self->pfn));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->corrupted_kb + self->psize / 1024);
}

/* Checks that signal @i of child @k is @code for the victim page. */
static void check_sig(struct __test_metadata *_metadata,
		      FIXTURE_DATA(memory_failure_kill) *self,
		      struct kid *k, int i, int code)
{
	ASSERT_GT(k->rep->n, i);
	EXPECT_EQ(k->rep->rec[i].code, code);
	EXPECT_EQ(k->rep->rec[i].addr, k->rep->addr);
	EXPECT_EQ(1L << k->rep->rec[i].lsb, self->psize);
}

/* Child @k got no signal since the last check. */
static void expect_none(struct __test_metadata *_metadata, struct kid *k)
{
	EXPECT_EQ(k->rep->n, k->seen);
}

/*
 * Child @k, early kill, was just synced after the injection: it got
 * BUS_MCEERR_AO in thread @tid (nothing for a dropped page).
 */
static void expect_ao(struct __test_metadata *_metadata,
		      FIXTURE_DATA(memory_failure_kill) *self,
		      const FIXTURE_VARIANT(memory_failure_kill) *variant,
		      struct kid *k, pid_t tid)
{
	if (variant->dropped) {
		expect_none(_metadata, k);
		return;
	}
	ASSERT_EQ(k->rep->n, k->seen + 1);
	check_sig(_metadata, self, k, k->seen, BUS_MCEERR_AO);
	EXPECT_EQ(k->rep->rec[k->seen].tid, tid);
	k->seen++;
}

/*
 * Child @k touches the page: its main thread gets BUS_MCEERR_AR (a dropped
 * page reads back its data from the disk, without signal).
 */
static void touch_expect_ar(struct __test_metadata *_metadata,
			    FIXTURE_DATA(memory_failure_kill) *self,
			    const FIXTURE_VARIANT(memory_failure_kill) *variant,
			    struct kid *k)
{
	ASSERT_EQ(kid_cmd(k, 'T'), 0);
	if (variant->dropped) {
		EXPECT_EQ(k->rep->touched, 1);
		EXPECT_EQ(k->rep->value, 0x5a);
		expect_none(_metadata, k);
		return;
	}
	EXPECT_EQ(k->rep->touched, 0);
	ASSERT_EQ(k->rep->n, k->seen + 1);
	check_sig(_metadata, self, k, k->seen, BUS_MCEERR_AR);
	EXPECT_EQ(k->rep->rec[k->seen].tid, k->rep->main_tid);
	k->seen++;
}

/*
 * Default policy with vm.memory_failure_early_kill=0 is late kill: the
 * mapping process is not disturbed when the page is poisoned, and learns of
 * it only on its next access, as SIGBUS BUS_MCEERR_AR for that page (si_addr
 * the page, si_addr_lsb PAGE_SHIFT), like a process consuming the error,
 * and again on every later access.  Either way the page counts as one
 * recovered failure on its node.
 */
TEST_F(memory_failure_kill, late_kill_default)
{
	struct kid_cfg late = { .policy = POLICY_NONE };
	struct kid *k = &self->kids[0];

	ASSERT_EQ(set_early_kill(0), 0);
	ASSERT_EQ(kid_start(self, &late), 0);
	EXPECT_EQ(k->rep->get, PR_MCE_KILL_DEFAULT);

	inject(_metadata, self);
	ASSERT_EQ(kid_cmd(k, 'S'), 0);
	expect_none(_metadata, k);
	EXPECT_EQ(mf_node_stat(self->node, "total"), self->node_total + 1);
	EXPECT_EQ(mf_node_stat(self->node, "recovered"),
		  self->node_recovered + 1);

	touch_expect_ar(_metadata, self, variant, k);
	touch_expect_ar(_metadata, self, variant, k);
	kids_stop(self);
}

/*
 * vm.memory_failure_early_kill=1 makes early kill the default: a process
 * mapping the page gets SIGBUS BUS_MCEERR_AO for it at injection, in its
 * main thread, without touching it, then BUS_MCEERR_AR if it touches it
 * anyway.
 */
TEST_F(memory_failure_kill, early_kill_sysctl)
{
	struct kid_cfg dflt = { .policy = POLICY_NONE };
	struct kid *k = &self->kids[0];

	ASSERT_EQ(set_early_kill(1), 0);
	ASSERT_EQ(kid_start(self, &dflt), 0);

	inject(_metadata, self);
	ASSERT_EQ(kid_cmd(k, 'S'), 0);
	expect_ao(_metadata, self, variant, k, k->rep->main_tid);
	touch_expect_ar(_metadata, self, variant, k);
	kids_stop(self);
}

/*
 * PR_MCE_KILL_EARLY overrides vm.memory_failure_early_kill=0: that process
 * gets BUS_MCEERR_AO at injection, while a default one next to it does not.
 */
TEST_F(memory_failure_kill, prctl_early_overrides_sysctl)
{
	struct kid_cfg early = { .policy = PR_MCE_KILL_EARLY };
	struct kid_cfg dflt = { .policy = POLICY_NONE };
	struct kid *ke = &self->kids[0], *kd = &self->kids[1];

	ASSERT_EQ(set_early_kill(0), 0);
	ASSERT_EQ(kid_start(self, &early), 0);
	ASSERT_EQ(kid_start(self, &dflt), 0);
	EXPECT_EQ(ke->rep->get, PR_MCE_KILL_EARLY);

	inject(_metadata, self);
	ASSERT_EQ(kid_cmd(ke, 'S'), 0);
	ASSERT_EQ(kid_cmd(kd, 'S'), 0);
	expect_ao(_metadata, self, variant, ke, ke->rep->main_tid);
	expect_none(_metadata, kd);
	kids_stop(self);
}

/*
 * PR_MCE_KILL_LATE overrides vm.memory_failure_early_kill=1: that process
 * is left alone at injection (a default one next to it gets
 * BUS_MCEERR_AO, and so does one that set PR_MCE_KILL_DEFAULT), and gets
 * BUS_MCEERR_AR when it touches the page.
 */
TEST_F(memory_failure_kill, prctl_late_overrides_sysctl)
{
	struct kid_cfg late = { .policy = PR_MCE_KILL_LATE };
	struct kid_cfg dflt = { .policy = POLICY_NONE };
	struct kid_cfg reset = { .policy = PR_MCE_KILL_DEFAULT };
	struct kid *kl = &self->kids[0], *kd = &self->kids[1];
	struct kid *kr = &self->kids[2];

	ASSERT_EQ(set_early_kill(1), 0);
	ASSERT_EQ(kid_start(self, &late), 0);
	ASSERT_EQ(kid_start(self, &dflt), 0);
	ASSERT_EQ(kid_start(self, &reset), 0);
	EXPECT_EQ(kl->rep->get, PR_MCE_KILL_LATE);
	EXPECT_EQ(kr->rep->get, PR_MCE_KILL_DEFAULT);

	inject(_metadata, self);
	ASSERT_EQ(kid_cmd(kl, 'S'), 0);
	ASSERT_EQ(kid_cmd(kd, 'S'), 0);
	ASSERT_EQ(kid_cmd(kr, 'S'), 0);
	expect_none(_metadata, kl);
	expect_ao(_metadata, self, variant, kd, kd->rep->main_tid);
	expect_ao(_metadata, self, variant, kr, kr->rep->main_tid);
	touch_expect_ar(_metadata, self, variant, kl);
	kids_stop(self);
}

/*
 * With vm.memory_failure_early_kill=0, a process whose only early-kill
 * thread is a second thread that set PR_MCE_KILL_EARLY: that thread, and
 * not the main thread, receives BUS_MCEERR_AO.  A touch by the main thread
 * still gets BUS_MCEERR_AR in the main thread.
 */
TEST_F(memory_failure_kill, handler_thread)
{
	struct kid_cfg thr = { .policy = POLICY_NONE, .thread = true };
	struct kid *k = &self->kids[0];

	ASSERT_EQ(set_early_kill(0), 0);
	ASSERT_EQ(kid_start(self, &thr), 0);
	EXPECT_EQ(k->rep->get, PR_MCE_KILL_DEFAULT);
	ASSERT_NE(k->rep->early_tid, 0);
	ASSERT_NE(k->rep->early_tid, k->rep->main_tid);

	inject(_metadata, self);
	ASSERT_EQ(kid_cmd(k, 'S'), 0);
	expect_ao(_metadata, self, variant, k, k->rep->early_tid);
	touch_expect_ar(_metadata, self, variant, k);
	kids_stop(self);
}

/*
 * With vm.memory_failure_early_kill=1 too, the thread that set
 * PR_MCE_KILL_EARLY is the process's handler and gets BUS_MCEERR_AO.
 *
 * Stock 6.12 (weakness, a known failure there) signals the first thread
 * that qualifies, here the main thread through the sysctl.
 */
TEST_F(memory_failure_kill, handler_thread_sysctl_early)
{
	struct kid_cfg thr = { .policy = POLICY_NONE, .thread = true };
	struct kid *k = &self->kids[0];

	ASSERT_EQ(set_early_kill(1), 0);
	ASSERT_EQ(kid_start(self, &thr), 0);

	inject(_metadata, self);
	ASSERT_EQ(kid_cmd(k, 'S'), 0);
	expect_ao(_metadata, self, variant, k, k->rep->early_tid);
	kids_stop(self);
}

/*
 * A process whose main thread has exited with pthread_exit() while a second
 * thread, which set PR_MCE_KILL_EARLY, runs on with the page mapped: the
 * process is still told, through that thread, with BUS_MCEERR_AO at its
 * address, and the thread gets BUS_MCEERR_AR when it touches the page.
 *
 * Stock 6.12 (weakness) looks only at the group leader, whose mm is gone
 * (a zombie until the last thread exits), and tells nobody.
 */
TEST_F(memory_failure_kill, handler_thread_leader_exited)
{
	struct kid_cfg heir = { .policy = POLICY_NONE, .leader_exits = true };
	struct kid *k = &self->kids[0];

	ASSERT_EQ(set_early_kill(0), 0);
	ASSERT_EQ(kid_start(self, &heir), 0);
	ASSERT_TRUE(k->rep->leader_gone);
	ASSERT_NE(k->rep->early_tid, 0);
	ASSERT_NE(k->rep->early_tid, k->rep->main_tid);
	EXPECT_EQ(k->rep->get, PR_MCE_KILL_EARLY);

	inject(_metadata, self);
	ASSERT_EQ(kid_cmd(k, 'S'), 0);
	expect_ao(_metadata, self, variant, k, k->rep->early_tid);

	ASSERT_EQ(kid_cmd(k, 'T'), 0);
	if (variant->dropped) {
		EXPECT_EQ(k->rep->touched, 1);
		EXPECT_EQ(k->rep->value, 0x5a);
		expect_none(_metadata, k);
	} else {
		EXPECT_EQ(k->rep->touched, 0);
		ASSERT_EQ(k->rep->n, k->seen + 1);
		check_sig(_metadata, self, k, k->seen, BUS_MCEERR_AR);
		EXPECT_EQ(k->rep->rec[k->seen].tid, k->rep->early_tid);
		k->seen++;
	}
	kids_stop(self);
}

/*
 * Processes that do not map the page are never signalled, whatever their
 * policy (early by prctl, late by prctl, early by the sysctl), neither at
 * injection nor when a mapping process touches the page.
 */
TEST_F(memory_failure_kill, bystander)
{
	struct kid_cfg mapper = { .policy = POLICY_NONE };
	struct kid_cfg early = { .policy = PR_MCE_KILL_EARLY, .unmap = true };
	struct kid_cfg late = { .policy = PR_MCE_KILL_LATE, .unmap = true };
	struct kid_cfg dflt = { .policy = POLICY_NONE, .unmap = true };
	struct kid *km = &self->kids[0];
	int i;

	ASSERT_EQ(set_early_kill(1), 0);
	ASSERT_EQ(kid_start(self, &mapper), 0);
	ASSERT_EQ(kid_start(self, &early), 0);
	ASSERT_EQ(kid_start(self, &late), 0);
	ASSERT_EQ(kid_start(self, &dflt), 0);

	inject(_metadata, self);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(kid_cmd(&self->kids[i], 'S'), 0);
	/* The mapping process shows the early kill did happen. */
	expect_ao(_metadata, self, variant, km, km->rep->main_tid);
	touch_expect_ar(_metadata, self, variant, km);
	for (i = 1; i < 4; i++) {
		ASSERT_EQ(kid_cmd(&self->kids[i], 'S'), 0);
		expect_none(_metadata, &self->kids[i]);
	}
	kids_stop(self);
}

/*
 * Two processes map the same page at different addresses, one early and
 * one late: the early one gets BUS_MCEERR_AO at injection for its own
 * address, the late one nothing until it touches the page, and then
 * BUS_MCEERR_AR for its own address; the early one gets nothing more.
 */
TEST_F(memory_failure_kill, shared_mappers)
{
	struct kid_cfg early = { .policy = PR_MCE_KILL_EARLY, .remap = true };
	struct kid_cfg late = { .policy = PR_MCE_KILL_LATE };
	struct kid *ke = &self->kids[0], *kl = &self->kids[1];

	ASSERT_EQ(set_early_kill(0), 0);
	ASSERT_EQ(kid_start(self, &early), 0);
	ASSERT_EQ(kid_start(self, &late), 0);
	ASSERT_NE(ke->rep->addr, kl->rep->addr);
	EXPECT_EQ(ke->rep->value, 0x5a);
	EXPECT_EQ(kl->rep->value, 0x5a);

	inject(_metadata, self);
	ASSERT_EQ(kid_cmd(ke, 'S'), 0);
	ASSERT_EQ(kid_cmd(kl, 'S'), 0);
	expect_ao(_metadata, self, variant, ke, ke->rep->main_tid);
	expect_none(_metadata, kl);

	touch_expect_ar(_metadata, self, variant, kl);
	ASSERT_EQ(kid_cmd(ke, 'S'), 0);
	expect_none(_metadata, ke);
	kids_stop(self);
}

/* The PR_MCE_KILL interface alone: no page involved, so no variants. */
FIXTURE(memory_failure_kill_policy)
{
};

FIXTURE_SETUP(memory_failure_kill_policy)
{
}

FIXTURE_TEARDOWN(memory_failure_kill_policy)
{
}

static int mce_get(void)
{
	return prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
}

static int mce_set(unsigned long arg2, unsigned long arg3,
		   unsigned long arg4, unsigned long arg5)
{
	return prctl(PR_MCE_KILL, arg2, arg3, arg4, arg5) ? errno : 0;
}

static void *thread_get(void *arg)
{
	int *ret = arg;

	*ret = mce_get();
	return NULL;
}

/*
 * The PR_MCE_KILL interface: PR_MCE_KILL_GET reports DEFAULT until the task
 * sets a policy, then EARLY or LATE; PR_MCE_KILL_SET DEFAULT and
 * PR_MCE_KILL_CLEAR go back to DEFAULT.  Malformed calls fail with EINVAL.
 * The policy belongs to the task: a new thread and a forked child start with
 * their creator's, and setting it in one thread leaves the others alone.
 *
 * Stock 6.12 behaviour (weakness): PR_MCE_KILL_SET with an unknown policy
 * fails with EINVAL but still marks the task as having chosen a policy, so a
 * DEFAULT task reads back LATE afterwards; and as PR_MCE_KILL_CLEAR forgets
 * only that a policy was chosen, not which, a rejected SET after
 * SET EARLY + CLEAR makes the task EARLY again.
 */
TEST_F(memory_failure_kill_policy, prctl)
{
	pthread_t thr;
	int status, tget = -1;
	pid_t pid;

	ASSERT_EQ(mce_get(), PR_MCE_KILL_DEFAULT);
	ASSERT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0), 0);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_EARLY);
	ASSERT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0), 0);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_LATE);
	ASSERT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_DEFAULT, 0, 0), 0);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_DEFAULT);
	ASSERT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0), 0);
	ASSERT_EQ(mce_set(PR_MCE_KILL_CLEAR, 0, 0, 0), 0);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_DEFAULT);
	ASSERT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0), 0);
	ASSERT_EQ(mce_set(PR_MCE_KILL_CLEAR, 0, 0, 0), 0);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_DEFAULT);

	/* Malformed calls; none of them changes an EARLY policy. */
	ASSERT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0), 0);
	EXPECT_EQ(mce_set(2, 0, 0, 0), EINVAL);		/* no such command */
	EXPECT_EQ(mce_set(~0UL, 0, 0, 0), EINVAL);
	EXPECT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 1, 0), EINVAL);
	EXPECT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 1), EINVAL);
	EXPECT_EQ(mce_set(PR_MCE_KILL_CLEAR, 1, 0, 0), EINVAL);
	EXPECT_EQ(mce_set(PR_MCE_KILL_CLEAR, 0, 1, 0), EINVAL);
	EXPECT_EQ(mce_set(PR_MCE_KILL_SET, 3, 0, 0), EINVAL);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_EARLY);
	errno = 0;
	EXPECT_EQ(prctl(PR_MCE_KILL_GET, 1, 0, 0, 0), -1);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(prctl(PR_MCE_KILL_GET, 0, 0, 0, 1), -1);
	EXPECT_EQ(errno, EINVAL);

	/* The weakness: a rejected SET still leaves DEFAULT... */
	ASSERT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_DEFAULT, 0, 0), 0);
	EXPECT_EQ(mce_set(PR_MCE_KILL_SET, 3, 0, 0), EINVAL);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_LATE);
	/* ... and after CLEAR, it brings back the EARLY set before it. */
	ASSERT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0), 0);
	ASSERT_EQ(mce_set(PR_MCE_KILL_CLEAR, 0, 0, 0), 0);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_DEFAULT);
	EXPECT_EQ(mce_set(PR_MCE_KILL_SET, 3, 0, 0), EINVAL);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_EARLY);

	/* Inherited by threads and children, then per task. */
	ASSERT_EQ(mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0), 0);
	ASSERT_EQ(pthread_create(&thr, NULL, thread_get, &tget), 0);
	ASSERT_EQ(pthread_join(thr, NULL), 0);
	EXPECT_EQ(tget, PR_MCE_KILL_EARLY);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(mce_get());
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), PR_MCE_KILL_EARLY);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		mce_set(PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
		_exit(mce_get());
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), PR_MCE_KILL_LATE);
	EXPECT_EQ(mce_get(), PR_MCE_KILL_EARLY);
	ASSERT_EQ(mce_set(PR_MCE_KILL_CLEAR, 0, 0, 0), 0);
	ASSERT_EQ(pthread_create(&thr, NULL, thread_get, &tget), 0);
	ASSERT_EQ(pthread_join(thr, NULL), 0);
	EXPECT_EQ(tget, PR_MCE_KILL_DEFAULT);
}

TEST_HARNESS_MAIN
