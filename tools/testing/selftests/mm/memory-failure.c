// SPDX-License-Identifier: GPL-2.0
/*
 * Hard offline of user pages: what a process and an administrator see when
 * a page is declared hardware-poisoned.  Each test poisons a page through
 * one injection route, checks the signal (si_code, si_addr, si_addr_lsb),
 * /proc/kpageflags, HardwareCorrupted and the per-node memory_failure
 * counters, and unpoisons the page again through debugfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest_harness.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MPOL_F_NODE
#define MPOL_F_NODE (1 << 0)
#define MPOL_F_ADDR (1 << 1)
#endif
#define KPF_HWPOISON 19
#define UNPOISON_PFN "/sys/kernel/debug/hwpoison/unpoison-pfn"

static sigjmp_buf sigbus_env;
static volatile sig_atomic_t sigbus_count;
static siginfo_t sigbus_info;

static void sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	sigbus_info = *si;
	sigbus_count++;
	siglongjmp(sigbus_env, 1);
}

static long meminfo_kb(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			val = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

static long node_mf_stat(int node, const char *name)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/memory_failure/%s", node, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

static uint64_t virt_to_pfn(void *addr, long psize)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  ((uintptr_t)addr / psize) * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	return (entry & (1ULL << 63)) ? entry & ((1ULL << 55) - 1) : 0;
}

static int page_node(void *addr)
{
	int node = -1;

	if (syscall(SYS_get_mempolicy, &node, NULL, 0, addr,
		    MPOL_F_NODE | MPOL_F_ADDR))
		return -1;
	return node;
}

/* Returns the KPF_* flags of @pfn, or 0 when they cannot be read. */
static uint64_t kpageflags(uint64_t pfn)
{
	uint64_t flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) != sizeof(flags))
		flags = 0;
	close(fd);
	return flags;
}

/* Writes @pfn to the injector's unpoison-pfn; returns 0 or an errno. */
static int unpoison_pfn(uint64_t pfn)
{
	char buf[32];
	int fd, len, err = 0;

	fd = open(UNPOISON_PFN, O_WRONLY);
	if (fd < 0)
		return errno;
	len = snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)pfn);
	if (write(fd, buf, len) != len)
		err = errno;
	close(fd);
	return err;
}

FIXTURE(memory_failure)
{
	long psize;
	char *addr;
	uint64_t pfn;
	int node;
	long corrupted_kb;
	long node_total;
	long node_recovered;
};

FIXTURE_VARIANT(memory_failure)
{
	/* Sends the page at @addr to hard offline; returns 0 or an errno. */
	int (*inject)(void *addr, long psize);
};

static int inject_madvise(void *addr, long psize)
{
	return madvise(addr, psize, MADV_HWPOISON) ? errno : 0;
}

FIXTURE_VARIANT_ADD(memory_failure, madv_hard)
{
	.inject = inject_madvise,
};

FIXTURE_SETUP(memory_failure)
{
	struct sigaction sa = {
		.sa_sigaction = sigbus_handler,
		.sa_flags = SA_SIGINFO,
	};

	if (geteuid())
		SKIP(return, "needs root");
	if (access(UNPOISON_PFN, W_OK))
		SKIP(return, "no hwpoison injector in debugfs");
	self->psize = sysconf(_SC_PAGESIZE);
	ASSERT_EQ(sigaction(SIGBUS, &sa, NULL), 0);
	sigbus_count = 0;
}

FIXTURE_TEARDOWN(memory_failure)
{
}

/* Take the baseline: the page's PFN and node, and the counters. */
static void snapshot(struct __test_metadata *_metadata,
		     FIXTURE_DATA(memory_failure) *self)
{
	self->pfn = virt_to_pfn(self->addr, self->psize);
	ASSERT_NE(self->pfn, 0);
	self->node = page_node(self->addr);
	ASSERT_GE(self->node, 0);
	self->corrupted_kb = meminfo_kb("HardwareCorrupted");
	ASSERT_GE(self->corrupted_kb, 0);
	self->node_total = node_mf_stat(self->node, "total");
	self->node_recovered = node_mf_stat(self->node, "recovered");
	ASSERT_GE(self->node_total, 0);
	ASSERT_EQ(kpageflags(self->pfn) & (1ULL << KPF_HWPOISON), 0);
}

/*
 * Unpoison through debugfs and check the page and HardwareCorrupted are back;
 * after a real machine check the kernel refuses, which is not a failure here.
 */
static void unpoison_and_check(struct __test_metadata *_metadata,
			       FIXTURE_DATA(memory_failure) *self)
{
	int err = unpoison_pfn(self->pfn);

	if (err == EOPNOTSUPP) {
		TH_LOG("unpoison refused after a real machine check");
		return;
	}
	ASSERT_EQ(err, 0);
	EXPECT_EQ(kpageflags(self->pfn) & (1ULL << KPF_HWPOISON), 0);
	EXPECT_EQ(meminfo_kb("HardwareCorrupted"), self->corrupted_kb);
}

/*
 * A private anonymous page: the caller of MADV_HWPOISON is the one consuming
 * the page, so it gets SIGBUS BUS_MCEERR_AR for the page's address at once,
 * and again on a later access; the page is accounted as one recovered
 * failure on its node.
 */
TEST_F(memory_failure, anon)
{
	int err;

	self->addr = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->addr, MAP_FAILED);
	memset(self->addr, 0xa5, self->psize);
	snapshot(_metadata, self);

	if (!sigsetjmp(sigbus_env, 1)) {
		err = variant->inject(self->addr, self->psize);
		if (err == EPERM || err == EINVAL)
			SKIP(return, "injection refused: %s", strerror(err));
		ASSERT_EQ(err, 0);
	}
	ASSERT_EQ(sigbus_count, 1);
	EXPECT_EQ(sigbus_info.si_code, BUS_MCEERR_AR);
	EXPECT_EQ(sigbus_info.si_addr, self->addr);
	EXPECT_EQ(1L << sigbus_info.si_addr_lsb, self->psize);

	if (!sigsetjmp(sigbus_env, 1))
		*(volatile char *)self->addr;
	ASSERT_EQ(sigbus_count, 2);
	EXPECT_EQ(sigbus_info.si_code, BUS_MCEERR_AR);
	EXPECT_EQ(sigbus_info.si_addr, self->addr);

	EXPECT_NE(kpageflags(self->pfn) & (1ULL << KPF_HWPOISON), 0);
	EXPECT_EQ(meminfo_kb("HardwareCorrupted"),
		  self->corrupted_kb + self->psize / 1024);
	EXPECT_EQ(node_mf_stat(self->node, "total"), self->node_total + 1);
	EXPECT_EQ(node_mf_stat(self->node, "recovered"),
		  self->node_recovered + 1);

	ASSERT_EQ(munmap(self->addr, self->psize), 0);
	unpoison_and_check(_metadata, self);
}

TEST_HARNESS_MAIN
