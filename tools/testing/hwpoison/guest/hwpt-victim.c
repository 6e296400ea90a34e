// SPDX-License-Identifier: GPL-2.0
/*
 * hwpt-victim - a process for the host to aim machine checks at.
 *
 * It maps one page (anonymous, or of a file), touches it, prints where it
 * lives in physical memory and waits for SIGBUS: asleep (early kill takes it
 * while it sleeps) or busy-reading the page on one CPU (the host injects an
 * action-required machine check on that CPU).  What the signal carried is
 * printed on one line for the host to check.  With --ksm it maps two pages
 * of the same content, MADV_MERGEABLE, and gets ready once ksmd merged
 * them into one KSM page (ksm/run must be 1).  With --huge-file it creates
 * a 2 MiB file on hugetlbfs and maps and fills its page (MAP_SHARED); the
 * file stays when the process ends, and with it the page.  With --hugetlb
 * it maps and fills one private anonymous 2 MiB hugetlb page instead
 * (MAP_HUGETLB); the PFN printed is its head's.
 *
 * With --hugetlb --migrate N it does not wait for a signal but races
 * migration with poisoning: one thread, on CPU 1, moves the page between
 * nodes 0 and 1 with move_pages(2) over and over, while another, on CPU 0,
 * takes N turns (at most --timeout SEC) at: poisoning one base page of it
 * (offset 0, 1, 64, 67 or 511 in turn, at a random moment), through
 * MADV_HWPOISON and hard_offline_page in turn; unpoisoning that page and
 * the head; setting each node's 2 MiB pool back to its size at the start;
 * and mapping a fresh page in place of the old one and touching it.
 *
 * Output:
 *   HWPT-READY pid=P cpu=C vaddr=0xV pfn=0xF paddr=0xA
 *   HWPT-SIGBUS code=NAME addr_ok=0|1 addr=0xX lsb=N
 * Exit: 0 after SIGBUS, 2 on timeout, 1 on error.
 * With --migrate, after READY, per turn that found the page mapped:
 *   HWPT-POISON route=madv|sysfs pfn=0xF head=0xH err=NAME sigbus=NAME|none
 *   HWPT-UNPOISON pfn=0xF err=NAME head_err=NAME
 * one line per unexpected event (a SIGBUS other than the MADV_HWPOISON
 * caller's BUS_MCEERR_AR, or no fresh page to map):
 *   HWPT-RACE-ERROR TEXT
 * and at the end
 *   HWPT-MIGRATE turns=T poisoned=P moved=M sigbus_ar=A errors=E
 *   HWPT-MOVE-STATUS [ERRNO=COUNT ...]  (failed move_pages(2) per page status)
 * Exit: 0 when errors=0, else 1.
 *
 * With --hugetlb --pinned N every migration fails: each turn a pipe holds
 * a fresh page (vmsplice(2)), so the mover's move_pages(2) isolates it,
 * fails and puts it back, over and over, while the main thread poisons a
 * base page of it through hard_offline_page at a random moment.  The error
 * finds the page in place (0, or EBUSY for the pipe's pin; the page is
 * unmapped) or isolated (EBUSY).  The migration's next pass then unmaps a
 * page poisoned while isolated; when no pass came after the error, the
 * page stays mapped (a "hit").  The mover stops, the pipe lets go, and a
 * hit must not be migratable again: move_pages(2) must report EBUSY for
 * it rather than migrate it.  Then the page is unmapped and
 * unpoisoned (the host checks that nothing stays marked), and a fresh one
 * mapped.  The run ends after N hits, 200 * N turns or the timeout.  Per
 * turn and at the end:
 *   HWPT-PINNED pfn=0xF err=NAME after=NAME|-  (after: status of the move
 *                                             after a hit; "moved" if it moved)
 *   HWPT-PINNED-END turns=T hits=H moved=M isolations=I errors=E
 * Exit: 0 when moved=0 and errors=0, else 1.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>

/* PFN lookup and SIGBUS catching, shared with the mm selftests. */
#include "../../selftests/mm/memory-failure.h"

#define KPF_KSM 21
#define HUGE_SIZE (2L << 20)
#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE (1 << 1)
#endif

static const char *bus_code_name(int code)
{
	switch (code) {
	case BUS_MCEERR_AR:
		return "BUS_MCEERR_AR";
	case BUS_MCEERR_AO:
		return "BUS_MCEERR_AO";
	case BUS_ADRERR:
		return "BUS_ADRERR";
	case BUS_OBJERR:
		return "BUS_OBJERR";
	default:
		return "OTHER";
	}
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: hwpt-victim [--kill early|late|default] [--spin] [--cpu N]\n"
		"                   [--file PATH | --huge-file PATH | --ksm |\n"
		"                    --hugetlb [--migrate N | --pinned N]]\n"
		"                   [--timeout SEC]\n");
	exit(1);
}

/* --migrate: the page, at a fixed address, and what the threads count. */
static char *race_page;
static int race_done;
static long race_moved, race_unmoved, race_status[256];
static long race_pool[2] = { -1, -1 };
static sigjmp_buf race_env;
static int race_code, race_errors;
static pid_t race_tid;

static const char *race_pool_path(int node)
{
	static char path[96];

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages",
		 node);
	return path;
}

/* Only the poisoner touches the page or injects: the mover must not fault. */
static void race_sigbus(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "HWPT-RACE-ERROR SIGBUS in the mover\n";

	if (gettid() != race_tid) {
		if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
			_exit(1);
		_exit(1);
	}
	race_code = si->si_code;
	siglongjmp(race_env, 1);
}

static void race_pin(int cpu)
{
	cpu_set_t set;

	/* Best effort: on one CPU the race is only less likely. */
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Moves the page to the node it is not on, for as long as the race runs. */
static void *race_mover(void *arg)
{
	void *addr = race_page;
	int status, node;

	race_pin(1);
	while (!__atomic_load_n(&race_done, __ATOMIC_RELAXED)) {
		if (syscall(SYS_move_pages, 0, 1UL, &addr, NULL, &status, 0))
			status = -errno;
		if (status >= 0) {
			node = !status;
			if (syscall(SYS_move_pages, 0, 1UL, &addr, &node,
				    &status, MPOL_MF_MOVE))
				status = -errno;
			if (status == node) {
				race_moved++;
				continue;
			}
		}
		if (status < 0 && -status < 256)
			race_status[-status]++;
	}
	return NULL;
}

/*
 * A fresh hugetlb page in place of the old one, touched, once the pools
 * are back to their size: 0, an errno when none could be mapped, or -1
 * when touching it raised SIGBUS.
 */
static int race_remap(void)
{
	void *p = MAP_FAILED;
	int node, try;

	for (try = 0; try < 50 && p == MAP_FAILED; try++) {
		for (node = 0; node < 2; node++)
			if (race_pool[node] >= 0)
				mf_write_long(race_pool_path(node), race_pool[node]);
		p = mmap(race_page, HUGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED,
			 -1, 0);
		if (p == MAP_FAILED)
			usleep(20000);
	}
	if (p == MAP_FAILED)
		return errno;
	race_code = 0;
	if (!sigsetjmp(race_env, 1)) {
		race_page[0] = 1;
		return 0;
	}
	return -1;
}

static const char *err_name(int err)
{
	return err ? strerrorname_np(err) : "OK";
}

/* race_remap(), an error counted and printed: returns race_remap()'s. */
static int race_fresh_page(void)
{
	int err = race_remap();

	if (err) {
		printf("HWPT-RACE-ERROR no fresh page: %s\n",
		       err < 0 ? bus_code_name(race_code) : err_name(err));
		race_errors++;
	}
	return err;
}

/* The base pages poisoned in turn: head, first tails, middle, last. */
static const int race_offsets[] = { 0, 1, 64, 67, 511 };

/*
 * What both races need first: the pools to restore before each fresh
 * page, the SIGBUS catcher, a seed.  The caller's thread is the poisoner.
 */
static int race_prepare(void)
{
	struct sigaction sa = { .sa_sigaction = race_sigbus,
				.sa_flags = SA_SIGINFO };
	int node;

	for (node = 0; node < 2; node++)
		race_pool[node] = mf_read_long(race_pool_path(node));
	race_tid = gettid();
	srand(getpid());
	return sigaction(SIGBUS, &sa, NULL);
}

static int race(int turns, int timeout)
{
	long psize = sysconf(_SC_PAGESIZE);
	time_t end = time(NULL) + timeout;
	/* Static: they must survive the SIGBUS handler's siglongjmp(). */
	static int turn, poisoned, ar, err, tries;
	pthread_t mover;

	if (race_prepare() ||
	    pthread_create(&mover, NULL, race_mover, NULL)) {
		perror("hwpt-victim: --migrate");
		return 1;
	}
	race_pin(0);
	for (turn = 0; turn < turns && time(NULL) < end; turn++) {
		int off = race_offsets[turn % 5];
		char *sub = race_page + off * psize;
		uint64_t pfn;

		usleep(rand() % 4000);
		/* Mid-migration the page is not present: wait for it a little. */
		for (tries = 0; !(pfn = mf_virt_to_pfn(sub)) && tries < 200;
		     tries++)
			usleep(500);
		if (pfn) {
			err = 0;
			race_code = 0;
			if (!sigsetjmp(race_env, 1))
				err = turn & 1 ?
				      mf_inject_hard_offline(NULL, psize, pfn) :
				      mf_inject_madv_hard(sub, psize, pfn);
			if (race_code == BUS_MCEERR_AR && !(turn & 1)) {
				ar++;
			} else if (race_code) {
				printf("HWPT-RACE-ERROR %s on %s\n",
				       bus_code_name(race_code),
				       turn & 1 ? "hard_offline_page" :
				       "MADV_HWPOISON");
				race_errors++;
			}
			poisoned += !err;
			printf("HWPT-POISON route=%s pfn=%#llx head=%#llx err=%s sigbus=%s\n",
			       turn & 1 ? "sysfs" : "madv",
			       (unsigned long long)pfn,
			       (unsigned long long)(pfn - off), err_name(err),
			       race_code ? bus_code_name(race_code) : "none");
			usleep(rand() % 2000);
			err = mf_unpoison_pfn(pfn);
			printf("HWPT-UNPOISON pfn=%#llx err=%s head_err=%s\n",
			       (unsigned long long)pfn, err_name(err),
			       err_name(mf_unpoison_pfn(pfn - off)));
			fflush(stdout);
		}
		/* A SIGBUS on the fresh page is counted; go on. */
		if (race_fresh_page() > 0)
			break;
	}
	__atomic_store_n(&race_done, 1, __ATOMIC_RELAXED);
	pthread_join(mover, NULL);
	printf("HWPT-MIGRATE turns=%d poisoned=%d moved=%ld sigbus_ar=%d errors=%d\n",
	       turn, poisoned, race_moved, ar, race_errors);
	printf("HWPT-MOVE-STATUS");
	for (err = 1; err < 256; err++)
		if (race_status[err])
			printf(" %s=%ld", err_name(err), race_status[err]);
	printf("\n");
	return race_errors ? 1 : 0;
}

/*
 * --pinned: tries to move the pinned page to node *@arg, each try a failed
 * migration, with as little else as possible between the tries.
 */
static void *pinned_mover(void *arg)
{
	void *addr = race_page;
	int node = *(int *)arg, status;

	race_pin(1);
	while (!__atomic_load_n(&race_done, __ATOMIC_RELAXED))
		if (syscall(SYS_move_pages, 0, 1UL, &addr, &node, &status,
			    MPOL_MF_MOVE) > 0)
			race_unmoved++;
	return NULL;
}

/*
 * --pinned: poisons base page @pfn of the page while a pipe pins the page
 * and a mover keeps failing to migrate it.  Returns the injection's errno,
 * or -1 when the race could not be set up; the pin is gone on return.
 */
static int pinned_poison(uint64_t pfn, int *node)
{
	long psize = sysconf(_SC_PAGESIZE);
	struct iovec iov = { .iov_base = race_page, .iov_len = psize };
	void *addr = race_page;
	int pfd[2], status, err = -1;
	pthread_t mover;

	if (pipe(pfd)) {
		printf("HWPT-RACE-ERROR no pipe\n");
		return -1;
	}
	if (vmsplice(pfd[1], &iov, 1, 0) != psize) {
		printf("HWPT-RACE-ERROR vmsplice: %s\n", err_name(errno));
		goto out;
	}
	if (syscall(SYS_move_pages, 0, 1UL, &addr, NULL, &status, 0) ||
	    status < 0) {
		printf("HWPT-RACE-ERROR no node for the page\n");
		goto out;
	}
	*node = !status;
	__atomic_store_n(&race_done, 0, __ATOMIC_RELAXED);
	if (pthread_create(&mover, NULL, pinned_mover, node)) {
		printf("HWPT-RACE-ERROR no mover thread\n");
		goto out;
	}
	usleep(2000 + rand() % 20000);
	err = mf_inject_hard_offline(NULL, psize, pfn);
	__atomic_store_n(&race_done, 1, __ATOMIC_RELAXED);
	pthread_join(mover, NULL);
out:
	close(pfd[0]);
	close(pfd[1]);
	return err;
}

/*
 * --pinned: one turn.  Returns 1 on a hit, 0 otherwise, and counts in
 * *moved a poisoned page that migrated anyway.  Cleaning up, the unpoison
 * of the page may be refused while the freed folio awaits its break-up;
 * then the head's clears the whole folio.
 */
static int pinned_turn(int off, int *moved)
{
	char *sub = race_page + off * sysconf(_SC_PAGESIZE);
	uint64_t pfn = mf_virt_to_pfn(sub);
	int err, status = 0, node, hit = 0;
	void *addr = race_page;

	if (!pfn)
		printf("HWPT-RACE-ERROR the page is not mapped\n");
	err = pfn ? pinned_poison(pfn, &node) : -1;
	if (err < 0) {
		race_errors++;
		return 0;
	}
	if (err == EBUSY && mf_virt_to_pfn(sub) == pfn) {
		hit = 1;
		if (syscall(SYS_move_pages, 0, 1UL, &addr, &node, &status,
			    MPOL_MF_MOVE))
			status = -errno;
		if (status == node)
			++*moved;
	} else if (err && err != EBUSY) {
		printf("HWPT-RACE-ERROR hard_offline_page %#llx: %s\n",
		       (unsigned long long)pfn, err_name(err));
		race_errors++;
	}
	printf("HWPT-PINNED pfn=%#llx err=%s after=%s\n",
	       (unsigned long long)pfn, err_name(err),
	       !hit ? "-" : status == node ? "moved" :
	       status < 0 ? err_name(-status) : "OTHER");
	munmap(race_page, HUGE_SIZE);
	if (mf_unpoison_pfn(pfn))
		mf_unpoison_pfn(pfn - off);
	return hit;
}

static int pinned(int turns, int timeout)
{
	time_t end = time(NULL) + timeout;
	int turn, hits = 0, moved = 0;

	if (race_prepare())
		return 1;
	race_pin(0);
	for (turn = 0; hits < turns && turn < 200 * turns &&
	     time(NULL) < end; turn++) {
		hits += pinned_turn(race_offsets[turn % 5], &moved);
		fflush(stdout);
		if (race_fresh_page())
			break;
	}
	printf("HWPT-PINNED-END turns=%d hits=%d moved=%d isolations=%ld errors=%d\n",
	       turn, hits, moved, race_unmoved, race_errors);
	return moved || race_errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *kill_mode = NULL, *file = NULL, *huge_file = NULL;
	static int timeout = 60, spin, ksm, hugetlb, migrate, pin_turns;
	int cpu = -1, i;
	long psize = sysconf(_SC_PAGESIZE);
	volatile char *page;
	uint64_t pfn;
	time_t end;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--kill") && i + 1 < argc)
			kill_mode = argv[++i];
		else if (!strcmp(argv[i], "--spin"))
			spin = 1;
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--file") && i + 1 < argc)
			file = argv[++i];
		else if (!strcmp(argv[i], "--huge-file") && i + 1 < argc)
			huge_file = argv[++i];
		else if (!strcmp(argv[i], "--ksm"))
			ksm = 1;
		else if (!strcmp(argv[i], "--hugetlb"))
			hugetlb = 1;
		else if (!strcmp(argv[i], "--migrate") && i + 1 < argc)
			migrate = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--pinned") && i + 1 < argc)
			pin_turns = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atoi(argv[++i]);
		else
			print_usage();
	}
	if ((hugetlb && (file || huge_file || ksm)) ||
	    ((migrate || pin_turns) && !hugetlb) || (migrate && pin_turns))
		print_usage();

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("sched_setaffinity");
			return 1;
		}
	}
	if (kill_mode) {
		unsigned long how;

		if (!strcmp(kill_mode, "early"))
			how = PR_MCE_KILL_EARLY;
		else if (!strcmp(kill_mode, "late"))
			how = PR_MCE_KILL_LATE;
		else if (!strcmp(kill_mode, "default"))
			how = PR_MCE_KILL_DEFAULT;
		else
			print_usage();
		if (how == PR_MCE_KILL_DEFAULT ?
		    prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0) :
		    prctl(PR_MCE_KILL, PR_MCE_KILL_SET, how, 0, 0)) {
			perror("prctl(PR_MCE_KILL)");
			return 1;
		}
	}

	if (huge_file) {
		const long hsize = 2 << 20;
		int fd = open(huge_file, O_RDWR | O_CREAT, 0600);

		if (fd < 0 || ftruncate(fd, hsize)) {
			perror(huge_file);
			return 1;
		}
		page = mmap(NULL, hsize, PROT_READ | PROT_WRITE, MAP_SHARED,
			    fd, 0);
		close(fd);
		if (page != MAP_FAILED)
			memset((char *)page, 0x5a, hsize);
	} else if (hugetlb) {
		page = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (page != MAP_FAILED)
			memset((char *)page, 0x5a, HUGE_SIZE);
	} else if (file) {
		int fd = open(file, O_RDONLY);

		if (fd < 0) {
			perror(file);
			return 1;
		}
		page = mmap(NULL, psize, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
	} else {
		page = mmap(NULL, 2 * psize, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (page == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (file)
		(void)page[0];
	else if (!huge_file && !hugetlb)
		memset((char *)page, 0x5a, 2 * psize);

	pfn = mf_virt_to_pfn((void *)page);
	if (!pfn) {
		fprintf(stderr, "no PFN for the page (not root?)\n");
		return 1;
	}
	if (ksm) {
		end = time(NULL) + timeout;
		if (madvise((void *)page, 2 * psize, MADV_MERGEABLE)) {
			perror("madvise(MADV_MERGEABLE)");
			return 1;
		}
		/* Merged for good: both pages map the one KSM page. */
		while (!((pfn = mf_virt_to_pfn((void *)page)) &&
			 pfn == mf_virt_to_pfn((void *)(page + psize)) &&
			 mf_kpageflags(pfn) & (1ULL << KPF_KSM))) {
			if (time(NULL) > end) {
				printf("HWPT-TIMEOUT not merged by ksmd\n");
				return 2;
			}
			usleep(20000);
		}
	}

	if (migrate || pin_turns) {
		race_page = (char *)page;
		printf("HWPT-READY pid=%d cpu=%d vaddr=%p pfn=%#llx paddr=%#llx\n",
		       getpid(), sched_getcpu(), (void *)page,
		       (unsigned long long)pfn,
		       (unsigned long long)pfn * psize);
		fflush(stdout);
		return migrate ? race(migrate, timeout) :
				 pinned(pin_turns, timeout);
	}
	if (mf_catch_sigbus()) {
		perror("sigaction");
		return 1;
	}

	end = time(NULL) + timeout;
	if (!sigsetjmp(mf_sigbus_env, 1)) {
		printf("HWPT-READY pid=%d cpu=%d vaddr=%p pfn=%#llx paddr=%#llx\n",
		       getpid(), sched_getcpu(), (void *)page,
		       (unsigned long long)pfn,
		       (unsigned long long)pfn * psize);
		fflush(stdout);
		if (spin) {
			unsigned long n = 0;

			while (time(NULL) < end)
				for (n = 0; n < 100000; n++)
					(void)page[n % psize];
		} else {
			while (time(NULL) < end)
				usleep(10000);
		}
	}
	if (!mf_sigbus_seen()) {
		printf("HWPT-TIMEOUT no SIGBUS after %d s\n", timeout);
		return 2;
	}
	printf("HWPT-SIGBUS code=%s addr_ok=%d addr=%p lsb=%d\n",
	       bus_code_name(mf_sigbus_info.si_code),
	       mf_sigbus_info.si_addr == (void *)page ||
	       (ksm && mf_sigbus_info.si_addr == (void *)(page + psize)),
	       mf_sigbus_info.si_addr,
	       (int)mf_sigbus_info.si_addr_lsb);
	return 0;
}
