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
 * file stays when the process ends, and with it the page.
 *
 * Output:
 *   HWPT-READY pid=P cpu=C vaddr=0xV pfn=0xF paddr=0xA
 *   HWPT-SIGBUS code=NAME addr_ok=0|1 addr=0xX lsb=N
 * Exit: 0 after SIGBUS, 2 on timeout, 1 on error.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

/* PFN lookup and SIGBUS catching, shared with the mm selftests. */
#include "../../selftests/mm/memory-failure.h"

#define KPF_KSM 21

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
		"                   [--file PATH | --huge-file PATH | --ksm]\n"
		"                   [--timeout SEC]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	const char *kill_mode = NULL, *file = NULL, *huge_file = NULL;
	static int timeout = 60, spin, ksm;
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
	else if (!huge_file)
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
