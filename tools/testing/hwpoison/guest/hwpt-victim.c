// SPDX-License-Identifier: GPL-2.0
/*
 * hwpt-victim - a process for the host to aim machine checks at.
 *
 * It maps one page (anonymous, or of a file), touches it, prints where it
 * lives in physical memory and waits for SIGBUS: asleep (early kill takes it
 * while it sleeps) or busy-reading the page on one CPU (the host injects an
 * action-required machine check on that CPU).  What the signal carried is
 * printed on one line for the host to check.
 *
 * Output:
 *   HWPT-READY pid=P cpu=C vaddr=0xV pfn=0xF paddr=0xA
 *   HWPT-SIGBUS code=NAME addr_ok=0|1 addr=0xX lsb=N
 * Exit: 0 after SIGBUS, 2 on timeout, 1 on error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf sigbus_env;
static volatile sig_atomic_t got_sigbus;
static siginfo_t sigbus_info;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	sigbus_info = *si;
	got_sigbus = 1;
	siglongjmp(sigbus_env, 1);
}

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

static uint64_t virt_to_pfn(void *addr)
{
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  ((uintptr_t)addr / psize) * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	if (!(entry & (1ULL << 63)))
		return 0;
	return entry & ((1ULL << 55) - 1);
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: hwpt-victim [--kill early|late|default] [--spin] [--cpu N]\n"
		"                   [--file PATH] [--timeout SEC]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	const char *kill_mode = NULL, *file = NULL;
	static int timeout = 60, spin;
	int cpu = -1, i;
	long psize = sysconf(_SC_PAGESIZE);
	struct sigaction sa = { 0 };
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
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atoi(argv[++i]);
		else
			print_usage();
	}

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

	if (file) {
		int fd = open(file, O_RDONLY);

		if (fd < 0) {
			perror(file);
			return 1;
		}
		page = mmap(NULL, psize, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
	} else {
		page = mmap(NULL, psize, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (page == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (file)
		(void)page[0];
	else
		memset((char *)page, 0x5a, psize);

	pfn = virt_to_pfn((void *)page);
	if (!pfn) {
		fprintf(stderr, "no PFN for the page (not root?)\n");
		return 1;
	}

	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);

	end = time(NULL) + timeout;
	if (!sigsetjmp(sigbus_env, 1)) {
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
	if (!got_sigbus) {
		printf("HWPT-TIMEOUT no SIGBUS after %d s\n", timeout);
		return 2;
	}
	printf("HWPT-SIGBUS code=%s addr_ok=%d addr=%p lsb=%d\n",
	       bus_code_name(sigbus_info.si_code),
	       sigbus_info.si_addr == (void *)page, sigbus_info.si_addr,
	       (int)sigbus_info.si_addr_lsb);
	return 0;
}
