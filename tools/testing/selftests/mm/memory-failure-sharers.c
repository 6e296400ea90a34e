// SPDX-License-Identifier: GPL-2.0
/*
 * A page with very many sharers: one dirty page of a memfd (shmem) mapped
 * SHARERS_MAPPINGS times, by one process or spread over several, then
 * poisoned through debugfs corrupt-pfn by the test process, which does not
 * map it.  Each early-kill mapper must be told once, with BUS_MCEERR_AO for
 * one of its own mappings, each late-kill mapper not at all until it
 * touches the page (BUS_MCEERR_AR for the address it touched), and the
 * kernel must neither warn nor leave a mapping behind.  The wall time of
 * the injection is printed ("# injection took ..."): the number to compare
 * between kernels, not asserted.
 *
 * Every mapping maps file offset 0, so neighbouring mappings cannot merge
 * into one VMA, and is read once, so the page is really mapped that many
 * times (/proc/kpagecount says so).  The mappers keep SIGBUS blocked while
 * the page is poisoned: a kernel that sends one signal per mapping (stock
 * 6.12) would otherwise race with the mapper's handler on the other CPU
 * and be seen a varying number of times; blocked, the signals coalesce
 * into the first one, which is what the mapper then receives.
 */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include "../kselftest_harness.h"
#include "memory-failure.h"

#define EARLY_KILL		"/proc/sys/vm/memory_failure_early_kill"
#define MAX_MAP_COUNT		"/proc/sys/vm/max_map_count"
#define PRINTK			"/proc/sys/kernel/printk"
#define TAINTED			"/proc/sys/kernel/tainted"
#define TAINT_WARN		9
#define KPF_DIRTY		4
#define SHARERS_MAPPINGS	140000
/* Room for the mappers' other VMAs (binary, stack, shared records). */
#define MAP_COUNT_SLACK		1024
#define MAX_SHARERS		8
#define MAX_RECS		4
#define FILL			0x5a
/* Seconds; creating and tearing down the mappings is slow under TCG. */
#define SHARERS_TIMEOUT		300

/* Mapper policy: no prctl, or PR_MCE_KILL_SET EARLY or LATE. */
enum policy { DFLT, EARLY, LATE };

struct sig_rec {
	int code;
	int lsb;
	void *addr;
};

/* What one mapper did and saw; lives in MAP_SHARED memory. */
struct sharer_report {
	int mapped;		/* mappings made and faulted in */
	int map_errno;		/* why the next mmap failed, or 0 */
	int bad;		/* mappings that did not read FILL */
	int node;
	uint64_t pfn_first;	/* the page behind the first mapping ... */
	uint64_t pfn_last;	/* ... and behind the last one */
	int get;		/* PR_MCE_KILL_GET after the setup */
	int pending;		/* SIGBUS was pending at the last sync */
	int slot;		/* records claimed by the handler */
	int n;			/* SIGBUS received so far */
	struct sig_rec rec[MAX_RECS];
	void *touch_addr;	/* the mapping the touch command reads */
	int touched;		/* the last touch read without SIGBUS */
};

struct sharer {
	pid_t pid;
	int cmd;
	int ack;
	bool early;		/* expected to be told at injection */
};

/* The test's state, in the fixture. */
struct sharers {
	long psize;
	int memfd;
	int nprocs;		/* mappers of the variant */
	int per;		/* mappings per mapper */
	int nkids;		/* mappers started */
	struct sharer kids[MAX_SHARERS];
	struct sharer_report *reps;
	void **addrs;		/* SHARERS_MAPPINGS, mapper i at i * per */
	size_t addrs_len;
	uint64_t pfn;
	int node;
	long corrupted_kb;
	long node_total;
	long node_recovered;
	long early_kill;	/* saved sysctls, -1 when not changed */
	long max_map_count;
	long loglevel;
	bool quiet;		/* console loglevel lowered */
	bool poisoned;
	bool unpoisoned;
	pid_t owner;		/* the test process, parent of the mappers */
};

FIXTURE(memory_failure_sharers)
{
	struct sharers s;
};

FIXTURE_VARIANT(memory_failure_sharers)
{
	int nkids;
};

/* All mappings in one process. */
FIXTURE_VARIANT_ADD(memory_failure_sharers, one_process)
{
	.nkids = 1,
};

/* The same number of mappings over MAX_SHARERS processes. */
FIXTURE_VARIANT_ADD(memory_failure_sharers, spread)
{
	.nkids = MAX_SHARERS,
};

static struct sharer_report *kid_rep;
static sigjmp_buf kid_env;

static void kid_sigbus(int sig, siginfo_t *si, void *uc)
{
	int i = __atomic_fetch_add(&kid_rep->slot, 1, __ATOMIC_SEQ_CST);

	if (i < MAX_RECS) {
		kid_rep->rec[i].code = si->si_code;
		kid_rep->rec[i].lsb = si->si_addr_lsb;
		kid_rep->rec[i].addr = si->si_addr;
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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The number of user mappings of @pfn, or -1. */
static long pfn_mapcount(uint64_t pfn)
{
	uint64_t count;
	int fd = open("/proc/kpagecount", O_RDONLY);
	long ret = -1;

	if (fd < 0)
		return -1;
	if (pread(fd, &count, sizeof(count), pfn * sizeof(count)) == sizeof(count))
		ret = count;
	close(fd);
	return ret;
}

/*
 * The mapper: @per mappings of offset 0 of @memfd, each read once, then
 * commands from the test over @cmd, acknowledged on @ack.
 */
static void kid_main(int memfd, long psize, int per, void **addrs,
		     enum policy policy, int cmd, int ack)
{
	struct sigaction sa = {
		.sa_sigaction = kid_sigbus,
		.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER,
	};
	sigset_t bus, pending;
	char c, *p;
	int i;

	sigemptyset(&bus);
	sigaddset(&bus, SIGBUS);
	sigaction(SIGBUS, &sa, NULL);
	sigprocmask(SIG_BLOCK, &bus, NULL);
	if (policy != DFLT &&
	    prctl(PR_MCE_KILL, PR_MCE_KILL_SET,
		  policy == EARLY ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0))
		_exit(1);
	kid_rep->get = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	for (i = 0; i < per; i++) {
		p = mmap(NULL, psize, PROT_READ, MAP_SHARED, memfd, 0);
		if (p == MAP_FAILED) {
			kid_rep->map_errno = errno;
			break;
		}
		addrs[i] = p;
		kid_rep->mapped = i + 1;
	}
	for (i = 0; i < kid_rep->mapped; i++)
		if (read_byte(addrs[i]) != FILL)
			kid_rep->bad++;
	if (kid_rep->mapped) {
		kid_rep->pfn_first = mf_virt_to_pfn(addrs[0]);
		kid_rep->pfn_last = mf_virt_to_pfn(addrs[kid_rep->mapped - 1]);
		kid_rep->node = mf_page_node(addrs[0]);
		kid_rep->touch_addr = addrs[kid_rep->mapped / 2];
	}

	c = 'R';
	if (write(ack, &c, 1) != 1)
		_exit(1);
	while (read(cmd, &c, 1) == 1) {
		switch (c) {
		case 'S':	/* take what was sent at injection */
			sigpending(&pending);
			kid_rep->pending = sigismember(&pending, SIGBUS);
			sigprocmask(SIG_UNBLOCK, &bus, NULL);
			sigprocmask(SIG_BLOCK, &bus, NULL);
			break;
		case 'T':	/* touch one mapping */
			kid_rep->touched = 0;
			sigprocmask(SIG_UNBLOCK, &bus, NULL);
			if (!sigsetjmp(kid_env, 1)) {
				read_byte(kid_rep->touch_addr);
				kid_rep->touched = 1;
			}
			sigprocmask(SIG_BLOCK, &bus, NULL);
			break;
		}
		if (write(ack, &c, 1) != 1)
			_exit(1);
	}
	_exit(0);
}

/* Forks mapper @i; kid_ready() waits for it to be set up. */
static int kid_start(struct sharers *s, int i, enum policy policy)
{
	struct sharer *k = &s->kids[i];
	int cmd[2], ack[2], j;
	pid_t pid;

	if (pipe(cmd) || pipe(ack))
		return -1;
	/* Not k->pid = fork(): the fixture is shared with the children. */
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		/* Only the test may hold the other mappers' pipes. */
		for (j = 0; j < i; j++) {
			close(s->kids[j].cmd);
			close(s->kids[j].ack);
		}
		close(cmd[1]);
		close(ack[0]);
		kid_rep = &s->reps[i];
		kid_main(s->memfd, s->psize, s->per,
			 s->addrs + (size_t)i * s->per, policy, cmd[0],
			 ack[1]);
	}
	k->pid = pid;
	s->nkids = i + 1;
	close(cmd[0]);
	close(ack[1]);
	k->cmd = cmd[1];
	k->ack = ack[0];
	return 0;
}

static int kid_ready(struct sharer *k)
{
	char c;

	return read(k->ack, &c, 1) == 1 && c == 'R' ? 0 : -1;
}

/* Sends @c to mapper @k and waits for the acknowledgment. */
static int kid_cmd(struct sharer *k, char c)
{
	char a;

	if (write(k->cmd, &c, 1) != 1)
		return -1;
	return read(k->ack, &a, 1) == 1 && a == c ? 0 : -1;
}

/* Ends the mappers (EOF on their commands); returns how many failed. */
static int kids_stop(struct sharers *s)
{
	int i, status, bad = 0;

	for (i = 0; i < s->nkids; i++) {
		close(s->kids[i].cmd);
		close(s->kids[i].ack);
		if (waitpid(s->kids[i].pid, &status, 0) != s->kids[i].pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	s->nkids = 0;
	return bad;
}

/* Whether @addr is one of mapper @i's own mappings. */
static bool own_mapping(struct sharers *s, int i, void *addr)
{
	void **a = s->addrs + (size_t)i * s->per;
	int j;

	for (j = 0; j < s->reps[i].mapped; j++)
		if (a[j] == addr)
			return true;
	return false;
}

static bool taint_warn(void)
{
	return mf_read_long(TAINTED) & (1L << TAINT_WARN);
}

/*
 * Reads every record logged since @fd was opened: counts the warnings and
 * the "Sending SIGBUS" lines.  Records overwritten before being read
 * (EPIPE) are skipped; @lost says whether there were any.
 */
static void kmsg_scan(int fd, int *warnings, int *sigbus, bool *lost)
{
	char rec[8192];
	ssize_t got;

	*warnings = *sigbus = 0;
	*lost = false;
	for (;;) {
		got = read(fd, rec, sizeof(rec) - 1);
		if (got < 0 && errno == EPIPE) {
			*lost = true;
			continue;
		}
		if (got <= 0)
			break;
		rec[got] = 0;
		if (strstr(rec, "WARNING:"))
			(*warnings)++;
		if (strstr(rec, "Sending SIGBUS"))
			(*sigbus)++;
	}
}

FIXTURE_SETUP(memory_failure_sharers)
{
	struct sharers *s = &self->s;
	ssize_t len;
	char *buf;

	s->early_kill = -1;
	s->max_map_count = -1;
	s->loglevel = -1;
	s->memfd = -1;
	if (geteuid())
		SKIP(return, "needs root");
	if (access(CORRUPT_PFN, W_OK) || access(UNPOISON_PFN, W_OK))
		SKIP(return, "no hwpoison injector in debugfs");
	s->owner = getpid();
	s->psize = sysconf(_SC_PAGESIZE);
	s->nprocs = variant->nkids;
	s->per = SHARERS_MAPPINGS / s->nprocs;

	s->reps = mmap(NULL, sizeof(*s->reps) * MAX_SHARERS,
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(s->reps, MAP_FAILED);
	memset(s->reps, 0, sizeof(*s->reps) * MAX_SHARERS);
	s->addrs_len = sizeof(void *) * SHARERS_MAPPINGS;
	s->addrs = mmap(NULL, s->addrs_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(s->addrs, MAP_FAILED);

	/* Saved here, changed by the test: a failed setup gets no teardown. */
	s->max_map_count = mf_read_long(MAX_MAP_COUNT);
	ASSERT_GT(s->max_map_count, 0);
	s->early_kill = mf_read_long(EARLY_KILL);
	ASSERT_GE(s->early_kill, 0);
	s->loglevel = mf_read_long(PRINTK);
	ASSERT_GT(s->loglevel, 0);

	/* Written, not mapped, by the test: the page is dirty shmem. */
	s->memfd = memfd_create("mf-sharers", 0);
	ASSERT_GE(s->memfd, 0);
	buf = malloc(s->psize);
	ASSERT_NE(buf, NULL);
	memset(buf, FILL, s->psize);
	len = pwrite(s->memfd, buf, s->psize, 0);
	free(buf);
	ASSERT_EQ(len, s->psize);
	s->corrupted_kb = mf_meminfo_kb("HardwareCorrupted");
	ASSERT_GE(s->corrupted_kb, 0);
}

/*
 * Whatever the test left: mappers, the memfd, the poisoned page.  Returns
 * the errno of a refused unpoison, or 0.
 */
static int cleanup(struct __test_metadata *_metadata, struct sharers *s)
{
	int err = 0, i;

	if (getpid() == s->owner) {
		EXPECT_EQ(kids_stop(s), 0);
		if (s->memfd >= 0)
			close(s->memfd);
		s->memfd = -1;
	}
	if (!s->poisoned || s->unpoisoned)
		return 0;
	/* Mappers that are not ours to wait for may still be exiting. */
	for (i = 0; i < 500; i++) {
		err = mf_unpoison_pfn(s->pfn);
		if (err != EBUSY)
			break;
		usleep(20000);
	}
	s->unpoisoned = true;
	if (err == EOPNOTSUPP || err == EPERM) {
		TH_LOG("unpoison refused after a real hardware error");
		return err;
	}
	EXPECT_EQ(err, 0);
	EXPECT_FALSE(mf_pfn_is_hwpoison(s->pfn));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"), s->corrupted_kb);
	return 0;
}

/*
 * Normally runs in the parent of the test process, once the test cleaned
 * up; after a failed ASSERT it finishes the cleanup (the mappers exit on
 * EOF) and always restores the sysctls.
 */
FIXTURE_TEARDOWN_PARENT(memory_failure_sharers)
{
	struct sharers *s = &self->s;

	cleanup(_metadata, s);
	if (s->quiet)
		EXPECT_EQ(mf_write_long(PRINTK, s->loglevel), 0);
	if (s->early_kill >= 0)
		EXPECT_EQ(mf_write_long(EARLY_KILL, s->early_kill), 0);
	if (s->max_map_count > 0)
		EXPECT_EQ(mf_write_long(MAX_MAP_COUNT, s->max_map_count), 0);
}

/* The mapper's one signal so far: BUS_MCEERR_AO for one of its mappings. */
static void expect_ao(struct __test_metadata *_metadata, struct sharers *s,
		      int i)
{
	struct sharer_report *r = &s->reps[i];

	EXPECT_TRUE(r->pending);
	ASSERT_EQ(r->n, 1);
	EXPECT_EQ(r->rec[0].code, BUS_MCEERR_AO);
	EXPECT_TRUE(own_mapping(s, i, r->rec[0].addr))
		TH_LOG("mapper %d: si_addr %p is not one of its mappings", i,
		       r->rec[0].addr);
	EXPECT_EQ(1L << r->rec[0].lsb, s->psize);
}

/*
 * Maps the page SHARERS_MAPPINGS times over the variant's mappers (mapper
 * i with policy @policy[i % 2]) under vm.memory_failure_early_kill=@sysctl,
 * poisons it from the test process and checks who was told, that touching
 * it gets BUS_MCEERR_AR at the touched address, and that the kernel did
 * not warn.
 */
static void run_sharers(struct __test_metadata *_metadata, struct sharers *s,
			int sysctl, const enum policy policy[2])
{
	static const int prctl_get[] = {
		[DFLT] = PR_MCE_KILL_DEFAULT,
		[EARLY] = PR_MCE_KILL_EARLY,
		[LATE] = PR_MCE_KILL_LATE,
	};
	int i, warnings, sigbus_lines, kmsg, err;
	bool taint_before, lost = false;
	struct sharer_report *r;
	enum policy pol;
	double t0, dt;

	if (s->max_map_count < SHARERS_MAPPINGS + MAP_COUNT_SLACK)
		ASSERT_EQ(mf_write_long(MAX_MAP_COUNT,
					SHARERS_MAPPINGS + MAP_COUNT_SLACK), 0);
	ASSERT_EQ(mf_write_long(EARLY_KILL, sysctl), 0);
	/* One after the other: in parallel they only contend (i_mmap). */
	t0 = now();
	for (i = 0; i < s->nprocs; i++) {
		pol = policy[i % 2];
		s->kids[i].early = pol == EARLY || (pol == DFLT && sysctl);
		ASSERT_EQ(kid_start(s, i, pol), 0);
		ASSERT_EQ(kid_ready(&s->kids[i]), 0);
	}
	ksft_print_msg("%d mappings in %d process(es) took %.1f s\n",
		       SHARERS_MAPPINGS, s->nprocs, now() - t0);

	s->pfn = s->reps[0].pfn_first;
	ASSERT_NE(s->pfn, 0);
	for (i = 0; i < s->nprocs; i++) {
		r = &s->reps[i];
		ASSERT_EQ(r->map_errno, 0)
			TH_LOG("mapper %d: mmap %d: %s", i, r->mapped,
			       strerror(r->map_errno));
		ASSERT_EQ(r->mapped, s->per);
		EXPECT_EQ(r->bad, 0);
		ASSERT_EQ(r->pfn_first, s->pfn);
		ASSERT_EQ(r->pfn_last, s->pfn);
		EXPECT_EQ(r->get, prctl_get[policy[i % 2]]);
	}
	/* Really mapped that many times, and only by the mappers. */
	ASSERT_EQ(pfn_mapcount(s->pfn), SHARERS_MAPPINGS);
	ASSERT_TRUE(mf_kpageflags(s->pfn) & (1ULL << KPF_DIRTY));
	ASSERT_FALSE(mf_pfn_is_hwpoison(s->pfn));
	s->node = s->reps[0].node;
	ASSERT_GE(s->node, 0);
	s->node_total = mf_node_stat(s->node, "total");
	s->node_recovered = mf_node_stat(s->node, "recovered");
	ASSERT_GE(s->node_total, 0);

	taint_before = taint_warn();
	kmsg = mf_kmsg_open();
	ASSERT_GE(kmsg, 0);
	/* A kernel that logs each signal must not flood the serial console. */
	ASSERT_EQ(mf_write_long(PRINTK, 1), 0);
	s->quiet = true;
	t0 = now();
	err = mf_write_pfn(CORRUPT_PFN, s->pfn);
	dt = now() - t0;
	EXPECT_EQ(mf_write_long(PRINTK, s->loglevel), 0);
	s->quiet = false;
	ksft_print_msg("injection took %.3f s\n", dt);
	ASSERT_EQ(err, 0);
	s->poisoned = true;

	ASSERT_TRUE(mf_pfn_is_hwpoison(s->pfn));
	EXPECT_EQ(pfn_mapcount(s->pfn), 0);
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  s->corrupted_kb + s->psize / 1024);
	EXPECT_EQ(mf_node_stat(s->node, "total"), s->node_total + 1);
	EXPECT_EQ(mf_node_stat(s->node, "recovered"),
		  s->node_recovered + 1);

	for (i = 0; i < s->nprocs; i++) {
		r = &s->reps[i];
		ASSERT_EQ(kid_cmd(&s->kids[i], 'S'), 0);
		if (s->kids[i].early) {
			expect_ao(_metadata, s, i);
		} else {
			EXPECT_FALSE(r->pending);
			EXPECT_EQ(r->n, 0);
		}
	}
	for (i = 0; i < s->nprocs; i++) {
		int seen;

		r = &s->reps[i];
		seen = r->n;
		ASSERT_EQ(kid_cmd(&s->kids[i], 'T'), 0);
		EXPECT_EQ(r->touched, 0);
		ASSERT_EQ(r->n, seen + 1);
		ASSERT_LT(seen, MAX_RECS);
		EXPECT_EQ(r->rec[seen].code, BUS_MCEERR_AR);
		EXPECT_EQ(r->rec[seen].addr, r->touch_addr);
		EXPECT_EQ(1L << r->rec[seen].lsb, s->psize);
	}

	kmsg_scan(kmsg, &warnings, &sigbus_lines, &lost);
	close(kmsg);
	ksft_print_msg("kernel log: %d \"Sending SIGBUS\" lines%s\n",
		       sigbus_lines, lost ? " (some records overwritten)" : "");
	EXPECT_EQ(warnings, 0);
	if (taint_before)
		TH_LOG("TAINT_WARN was set before: only the log is checked");
	else
		EXPECT_FALSE(taint_warn());

	t0 = now();
	err = cleanup(_metadata, s);
	ksft_print_msg("exit and unpoison took %.1f s\n", now() - t0);
	/* Nothing to clean after a real hardware error: not this test's fault. */
	if (err && _metadata->exit_code == KSFT_PASS)
		SKIP(return, "unpoison refused: %s", strerror(err));
}

/*
 * vm.memory_failure_early_kill=1 and no prctl: every mapper is told at
 * injection, once, with BUS_MCEERR_AO for one of its own mappings.
 */
TEST_F_TIMEOUT(memory_failure_sharers, early_kill_sysctl, SHARERS_TIMEOUT)
{
	static const enum policy pol[2] = { DFLT, DFLT };

	run_sharers(_metadata, &self->s, 1, pol);
}

/*
 * vm.memory_failure_early_kill=0: the mappers that set PR_MCE_KILL_EARLY
 * are told at injection, those that set PR_MCE_KILL_LATE are not (with one
 * mapper, it is early).
 */
TEST_F_TIMEOUT(memory_failure_sharers, early_kill_prctl, SHARERS_TIMEOUT)
{
	static const enum policy pol[2] = { EARLY, LATE };

	run_sharers(_metadata, &self->s, 0, pol);
}

/*
 * vm.memory_failure_early_kill=1: PR_MCE_KILL_LATE overrides it, those
 * mappers are not told at injection; the PR_MCE_KILL_EARLY ones are (with
 * one mapper, it is late).
 */
TEST_F_TIMEOUT(memory_failure_sharers, late_kill_prctl, SHARERS_TIMEOUT)
{
	static const enum policy pol[2] = { LATE, EARLY };

	run_sharers(_metadata, &self->s, 1, pol);
}

/* Early kill off, no prctl: nobody is told at injection. */
TEST_F_TIMEOUT(memory_failure_sharers, early_kill_off, SHARERS_TIMEOUT)
{
	static const enum policy pol[2] = { DFLT, DFLT };

	run_sharers(_metadata, &self->s, 0, pol);
}

TEST_HARNESS_MAIN
