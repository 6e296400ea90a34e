// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to the hwpoison interfaces: garbage and out-of-range values for
 * the vm.memory_failure_* sysctls, the debugfs injector and the memory/
 * offline files, PFNs that are not RAM, callers without CAP_SYS_ADMIN, and
 * madvise ranges that are unaligned, empty or not mapped.  Each case checks
 * the errno and that nothing was poisoned or counted.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <grp.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include "../kselftest_harness.h"
#include "memory-failure.h"

#define SYSCTL_EARLY_KILL	"/proc/sys/vm/memory_failure_early_kill"
#define SYSCTL_RECOVERY		"/proc/sys/vm/memory_failure_recovery"
#define SYSCTL_SOFT_OFFLINE	"/proc/sys/vm/enable_soft_offline"
#define FILTER_ENABLE		HWPOISON_DEBUGFS "/corrupt-filter-enable"
#define FILTER_DEV_MAJOR	HWPOISON_DEBUGFS "/corrupt-filter-dev-major"
#define FILTER_FLAGS_MASK	HWPOISON_DEBUGFS "/corrupt-filter-flags-mask"
#define KPF_RESERVED		32
#define NOBODY			65534
#define APIC_PFN		0xfee00ULL

static const char * const sysctls[] = {
	SYSCTL_EARLY_KILL, SYSCTL_RECOVERY, SYSCTL_SOFT_OFFLINE,
};

FIXTURE(memory_failure_errors)
{
	long psize;
	long saved_sysctl[3];
	long saved_enable, saved_major, saved_mask;
	long corrupted_kb;
	long total;
	char *addr;
	size_t len;
};

/* One write(2) of @buf to @path: the byte count, or -errno. */
static long write_str(const char *path, const char *buf)
{
	int fd = open(path, O_WRONLY);
	long ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, buf, strlen(buf));
	if (ret < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The first PFN above the last memory block: a hole, not RAM. */
static uint64_t pfn_past_ram(void)
{
	long block = 0, max = -1, n;
	struct dirent *de;
	DIR *dir;
	FILE *f = fopen("/sys/devices/system/memory/block_size_bytes", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lx", &block) != 1)
		block = 0;
	fclose(f);
	dir = opendir("/sys/devices/system/memory");
	if (!dir)
		return 0;
	while ((de = readdir(dir)))
		if (sscanf(de->d_name, "memory%ld", &n) == 1 && n > max)
			max = n;
	closedir(dir);
	if (max < 0 || !block)
		return 0;
	return (uint64_t)(max + 1) * block / sysconf(_SC_PAGESIZE);
}

FIXTURE_SETUP(memory_failure_errors)
{
	int i;

	if (geteuid())
		SKIP(return, "needs root");
	if (access(UNPOISON_PFN, W_OK))
		SKIP(return, "no hwpoison injector in debugfs");
	self->psize = sysconf(_SC_PAGESIZE);
	for (i = 0; i < 3; i++) {
		self->saved_sysctl[i] = mf_read_long(sysctls[i]);
		ASSERT_GE(self->saved_sysctl[i], 0);
	}
	ASSERT_EQ(self->saved_sysctl[1], 1);
	self->saved_enable = mf_read_long(FILTER_ENABLE);
	self->saved_major = mf_read_long(FILTER_DEV_MAJOR);
	self->saved_mask = mf_read_long(FILTER_FLAGS_MASK);
	self->corrupted_kb = mf_meminfo_kb("HardwareCorrupted");
	self->total = mf_stat_sum("total");
	ASSERT_EQ(mf_catch_sigbus(), 0);
}

FIXTURE_TEARDOWN(memory_failure_errors)
{
	int i;

	/* Recovery first: it must never stay 0. */
	for (i = 2; i >= 0; i--)
		EXPECT_EQ(mf_write_long(sysctls[i], self->saved_sysctl[i]), 0);
	EXPECT_EQ(mf_write_long(FILTER_FLAGS_MASK, self->saved_mask), 0);
	EXPECT_EQ(mf_write_ull(FILTER_DEV_MAJOR, (unsigned long)self->saved_major), 0);
	EXPECT_EQ(mf_write_long(FILTER_ENABLE, self->saved_enable), 0);
	if (self->addr)
		munmap(self->addr, self->len);
}

/* The first PFN of a PCI bus window in /proc/iomem (MMIO), or 0. */
static uint64_t pfn_pci_window(void)
{
	unsigned long long start, end;
	char line[256];
	uint64_t pfn = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return 0;
	while (!pfn && fgets(line, sizeof(line), f))
		if (strstr(line, "PCI Bus") &&
		    sscanf(line, " %llx-%llx", &start, &end) == 2 &&
		    start >= (1ULL << 20) && end > start)
			pfn = start / sysconf(_SC_PAGESIZE);
	fclose(f);
	return pfn;
}

/* Nothing was poisoned or counted since the setup. */
static void expect_nothing_counted(struct __test_metadata *_metadata,
				   FIXTURE_DATA(memory_failure_errors) *self)
{
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"), self->corrupted_kb);
	EXPECT_EQ(mf_stat_sum("total"), self->total);
}

/*
 * The three vm sysctls are integers clamped to 0..1 (proc_dointvec_minmax):
 * a non-number, a negative or too large number, or an overflowing one is
 * EINVAL and leaves the value; an empty write is a no-op returning 0; "1 2"
 * takes the first number and reports the rest as not written; 0 and 1 work.
 */
TEST_F(memory_failure_errors, sysctl_values)
{
	static const char * const bad[] = {
		"abc", "-1", "2", "99999999999999999999", "1abc",
	};
	unsigned int i, j;

	for (i = 0; i < 3; i++) {
		long old = mf_read_long(sysctls[i]);

		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			EXPECT_EQ(write_str(sysctls[i], bad[j]), -EINVAL)
				TH_LOG("%s <- \"%s\"", sysctls[i], bad[j]);
			EXPECT_EQ(mf_read_long(sysctls[i]), old);
		}
		EXPECT_EQ(write_str(sysctls[i], ""), 0);
		EXPECT_EQ(mf_read_long(sysctls[i]), old);
		EXPECT_EQ(write_str(sysctls[i], "1 2"), 2);
		EXPECT_EQ(mf_read_long(sysctls[i]), 1);
		/* Recovery is never set to 0: the next failure would panic. */
		if (i != 1) {
			EXPECT_EQ(write_str(sysctls[i], "0\n"), 2);
			EXPECT_EQ(mf_read_long(sysctls[i]), 0);
		}
		EXPECT_EQ(write_str(sysctls[i], "1\n"), 2);
		EXPECT_EQ(mf_read_long(sysctls[i]), 1);
	}
	expect_nothing_counted(_metadata, self);
}

/*
 * The debugfs injector files parse an unsigned 64-bit number (any base):
 * garbage, a sign, several numbers or nothing is EINVAL, more than 64 bits
 * is ERANGE, and so is more than 32 bits for a u32 filter file, which
 * keeps its value.
 */
TEST_F(memory_failure_errors, debugfs_values)
{
	static const char * const files[] = {
		CORRUPT_PFN, UNPOISON_PFN, FILTER_ENABLE, FILTER_DEV_MAJOR,
		FILTER_FLAGS_MASK,
	};
	static const struct {
		const char *buf;
		long ret;
	} bad[] = {
		{ "abc", -EINVAL }, { "-1", -EINVAL }, { "", -EINVAL },
		{ "1 2", -EINVAL }, { "99999999999999999999", -ERANGE },
	};
	unsigned int i, j;

	/*
	 * EXPECT_*() ... TH_LOG() is two statements (the check, then a loop
	 * that logs after a failure): a loop around it needs braces, or the
	 * TH_LOG() runs after the loop, with the index past the array.
	 */
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			EXPECT_EQ(write_str(files[i], bad[j].buf), bad[j].ret)
				TH_LOG("%s <- \"%s\"", files[i], bad[j].buf);
		}
	}
	EXPECT_EQ(mf_read_long(FILTER_ENABLE), self->saved_enable);
	EXPECT_EQ(mf_read_long(FILTER_FLAGS_MASK), self->saved_mask);

	/*
	 * Stock 6.12 (weakness, a known failure there) takes 2^32 + 1 in a
	 * u32 filter file and stores 1, without an error.
	 */
	EXPECT_EQ(write_str(FILTER_DEV_MAJOR, "4294967297"), -ERANGE);
	EXPECT_EQ(mf_read_long(FILTER_DEV_MAJOR), self->saved_major);
	EXPECT_EQ(write_str(FILTER_DEV_MAJOR, "4294967295"), 10);
	EXPECT_EQ(mf_read_long(FILTER_DEV_MAJOR), 4294967295L);
	expect_nothing_counted(_metadata, self);
}

/*
 * hard_offline_page and soft_offline_page take a physical address: any
 * parse error, overflow included, is EINVAL; an empty write is a no-op.
 */
TEST_F(memory_failure_errors, offline_values)
{
	static const char * const files[] = {
		HARD_OFFLINE_PAGE, SOFT_OFFLINE_PAGE,
	};
	static const char * const bad[] = {
		"abc", "-1", "1 2", "99999999999999999999",
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			EXPECT_EQ(write_str(files[i], bad[j]), -EINVAL)
				TH_LOG("%s <- \"%s\"", files[i], bad[j]);
		}
		EXPECT_EQ(write_str(files[i], ""), 0);
	}
	expect_nothing_counted(_metadata, self);
}

/*
 * PFNs that are not RAM: past the last memory block, the local APIC MMIO
 * page, the start of a PCI bus window and all-ones.  corrupt-pfn and both
 * offline files refuse them with ENXIO (no struct page), unpoison-pfn with
 * EIO (no online page), and nothing is counted.
 */
TEST_F(memory_failure_errors, not_ram)
{
	uint64_t pfns[] = {
		pfn_past_ram(), APIC_PFN, pfn_pci_window(), (1ULL << 52) - 1,
	};
	unsigned int i;

	ASSERT_NE(pfns[0], 0);
	ASSERT_NE(pfns[2], 0);
	for (i = 0; i < ARRAY_SIZE(pfns); i++) {
		EXPECT_EQ(mf_write_pfn(CORRUPT_PFN, pfns[i]), ENXIO)
			TH_LOG("pfn %#llx", (unsigned long long)pfns[i]);
		EXPECT_EQ(mf_write_pfn(UNPOISON_PFN, pfns[i]), EIO);
		EXPECT_EQ(mf_write_paddr(HARD_OFFLINE_PAGE, pfns[i]), ENXIO);
		EXPECT_EQ(mf_write_paddr(SOFT_OFFLINE_PAGE, pfns[i]), ENXIO);
	}
	EXPECT_EQ(write_str(CORRUPT_PFN, "0xffffffffffffffff"), -ENXIO);
	EXPECT_EQ(write_str(UNPOISON_PFN, "0xffffffffffffffff"), -EIO);
	expect_nothing_counted(_metadata, self);
}

/* A reserved, not poisoned PFN in the low 1 MiB (firmware area), or -1. */
static int64_t low_reserved_pfn(void)
{
	uint64_t flags;
	int64_t pfn;

	for (pfn = 0; pfn < 256; pfn++) {
		flags = mf_kpageflags(pfn);
		if ((flags & (1ULL << KPF_RESERVED)) &&
		    !(flags & (1ULL << KPF_HWPOISON)))
			return pfn;
	}
	return -1;
}

/*
 * A reserved page of the firmware area, never given to the page allocator:
 * unpoison refuses it as not poisoned (EBUSY), soft offline cannot take it
 * (EIO), and corrupt-pfn with the filter switched on leaves a page that is
 * neither on an LRU nor free alone while reporting success.  Nothing is
 * poisoned or counted.
 */
TEST_F(memory_failure_errors, reserved)
{
	int64_t pfn = low_reserved_pfn();

	ASSERT_GE(pfn, 0);
	EXPECT_EQ(mf_unpoison_pfn(pfn), EBUSY);
	EXPECT_EQ(mf_write_paddr(SOFT_OFFLINE_PAGE, pfn), EIO);
	ASSERT_EQ(mf_write_file(FILTER_ENABLE, "1"), 0);
	EXPECT_EQ(mf_write_pfn(CORRUPT_PFN, pfn), 0);
	EXPECT_FALSE(mf_pfn_is_hwpoison(pfn));
	expect_nothing_counted(_metadata, self);
}

/*
 * Stock 6.12 behaviour (weakness): hard-poisoning a reserved page is
 * reported as EBUSY and accounted as "Ignored", yet the page keeps
 * KPF_HWPOISON and stays in HardwareCorrupted for good: unpoison refuses a
 * reserved page (EBUSY), and soft offline then calls it already poisoned.
 *
 * This poisons for real and permanently, so it uses PFN 1: inside the low
 * 64 KiB that x86 keeps reserved for the firmware and that the kernel never
 * maps or allocates after boot; the poison is only a page flag there, no
 * access to that memory checks it.  In a second run in the same boot the
 * page is found already poisoned and only that path is checked.
 */
TEST_F(memory_failure_errors, reserved_poison)
{
	const uint64_t pfn = 1;
	long ignored = mf_node_stat(0, "ignored");

	ASSERT_TRUE(mf_kpageflags(pfn) & (1ULL << KPF_RESERVED));
	if (!mf_pfn_is_hwpoison(pfn)) {
		EXPECT_EQ(mf_write_pfn(CORRUPT_PFN, pfn), EBUSY);
		EXPECT_TRUE(mf_pfn_is_hwpoison(pfn));
		EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
			  self->corrupted_kb + self->psize / 1024);
		EXPECT_EQ(mf_stat_sum("total"), self->total + 1);
		EXPECT_EQ(mf_node_stat(0, "ignored"), ignored + 1);
		self->corrupted_kb = mf_meminfo_kb("HardwareCorrupted");
		self->total = mf_stat_sum("total");
	}
	EXPECT_EQ(mf_write_pfn(CORRUPT_PFN, pfn), EHWPOISON);
	EXPECT_EQ(mf_unpoison_pfn(pfn), EBUSY);
	EXPECT_EQ(mf_write_paddr(SOFT_OFFLINE_PAGE, pfn), 0);
	EXPECT_TRUE(mf_pfn_is_hwpoison(pfn));
	expect_nothing_counted(_metadata, self);
}

/*
 * corrupt-pfn on a page that is already poisoned fails with EHWPOISON and
 * is not counted a second time.
 */
TEST_F(memory_failure_errors, already_poisoned)
{
	uint64_t pfn;
	int err;

	self->len = self->psize;
	self->addr = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->addr, MAP_FAILED);
	memset(self->addr, 1, self->len);
	pfn = mf_virt_to_pfn(self->addr);
	ASSERT_NE(pfn, 0);
	ASSERT_EQ(mf_write_pfn(CORRUPT_PFN, pfn), 0);
	EXPECT_EQ(mf_write_pfn(CORRUPT_PFN, pfn), EHWPOISON);
	EXPECT_EQ(mf_write_paddr(HARD_OFFLINE_PAGE, pfn), EHWPOISON);
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->corrupted_kb + self->psize / 1024);
	EXPECT_EQ(mf_stat_sum("total"), self->total + 1);
	munmap(self->addr, self->len);
	self->addr = NULL;
	err = mf_unpoison_retry(pfn);
	if (err != EOPNOTSUPP)
		EXPECT_EQ(err, 0);
}

/* Results a dropped-privilege child reports back. */
struct unpriv_result {
	int setup;
	int madv_hwpoison;
	int madv_soft;
	int madv_empty;
	int madv_unaligned;
	int hard_offline;
	int soft_offline;
	int corrupt;
	int unpoison;
	int poisoned;
};

static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_SYS_ADMIN / 32].effective &= ~(1U << (CAP_SYS_ADMIN % 32));
	data[CAP_SYS_ADMIN / 32].permitted &= ~(1U << (CAP_SYS_ADMIN % 32));
	return syscall(SYS_capset, &hdr, data);
}

static int err_of(int ret)
{
	return ret < 0 ? errno : 0;
}

/*
 * In a child: drop to uid/gid 65534 (which clears every capability) or, with
 * @keep_root, only drop CAP_SYS_ADMIN; then try every route on a page of its
 * own and report the errnos.
 */
static struct unpriv_result run_unprivileged(bool keep_root, long psize)
{
	struct unpriv_result r = { .setup = -1 };
	int pipefd[2], status;
	pid_t pid;

	if (pipe(pipefd))
		return r;
	pid = fork();
	if (pid < 0)
		return r;
	if (!pid) {
		char *addr = mmap(NULL, psize, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t pfn;

		memset(addr, 7, psize);
		pfn = mf_virt_to_pfn(addr);
		if (keep_root)
			r.setup = drop_sys_admin();
		else
			r.setup = setgroups(0, NULL) ||
				  setresgid(NOBODY, NOBODY, NOBODY) ||
				  setresuid(NOBODY, NOBODY, NOBODY);
		r.madv_hwpoison = err_of(madvise(addr, psize, MADV_HWPOISON));
		r.madv_soft = err_of(madvise(addr, psize, MADV_SOFT_OFFLINE));
		r.madv_empty = err_of(madvise(addr, 0, MADV_HWPOISON));
		r.madv_unaligned = err_of(madvise(addr + 1, psize, MADV_HWPOISON));
		r.hard_offline = mf_write_paddr(HARD_OFFLINE_PAGE, pfn);
		r.soft_offline = mf_write_paddr(SOFT_OFFLINE_PAGE, pfn);
		r.corrupt = mf_write_pfn(CORRUPT_PFN, pfn);
		r.unpoison = mf_write_pfn(UNPOISON_PFN, pfn);
		r.poisoned = mf_pfn_is_hwpoison(pfn) || addr[0] != 7 || !pfn;
		if (write(pipefd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &r, sizeof(r)) != sizeof(r))
		r.setup = -1;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		r.setup = -1;
	return r;
}

/*
 * Without CAP_SYS_ADMIN, MADV_HWPOISON and MADV_SOFT_OFFLINE are EPERM,
 * after the argument checks (an unaligned start is still EINVAL, an empty
 * range still 0).  As uid 65534 the offline files (0200 root) and the
 * debugfs injector are closed by their file mode: EACCES.
 */
TEST_F(memory_failure_errors, unprivileged_user)
{
	struct unpriv_result r = run_unprivileged(false, self->psize);

	ASSERT_EQ(r.setup, 0);
	EXPECT_EQ(r.madv_hwpoison, EPERM);
	EXPECT_EQ(r.madv_soft, EPERM);
	EXPECT_EQ(r.madv_empty, 0);
	EXPECT_EQ(r.madv_unaligned, EINVAL);
	EXPECT_EQ(r.hard_offline, EACCES);
	EXPECT_EQ(r.soft_offline, EACCES);
	EXPECT_EQ(r.corrupt, EACCES);
	EXPECT_EQ(r.unpoison, EACCES);
	EXPECT_EQ(r.poisoned, 0);
	expect_nothing_counted(_metadata, self);
}

/*
 * Root without CAP_SYS_ADMIN gets past the file modes and is refused by
 * the capability check in each write handler: EPERM everywhere.
 */
TEST_F(memory_failure_errors, root_without_sys_admin)
{
	struct unpriv_result r = run_unprivileged(true, self->psize);

	ASSERT_EQ(r.setup, 0);
	EXPECT_EQ(r.madv_hwpoison, EPERM);
	EXPECT_EQ(r.madv_soft, EPERM);
	EXPECT_EQ(r.madv_empty, 0);
	EXPECT_EQ(r.madv_unaligned, EINVAL);
	EXPECT_EQ(r.hard_offline, EPERM);
	EXPECT_EQ(r.soft_offline, EPERM);
	EXPECT_EQ(r.corrupt, EPERM);
	EXPECT_EQ(r.unpoison, EPERM);
	EXPECT_EQ(r.poisoned, 0);
	expect_nothing_counted(_metadata, self);
}

/*
 * madvise argument checks for the injection advice: an unaligned start is
 * EINVAL, a zero length is a successful no-op, and a range that is not
 * mapped is EFAULT (the page lookup fails), all without poisoning anything.
 */
TEST_F(memory_failure_errors, madvise_ranges)
{
	self->len = 2 * self->psize;
	self->addr = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->addr, MAP_FAILED);
	memset(self->addr, 3, self->len);

	EXPECT_EQ(err_of(madvise(self->addr + 8, self->psize, MADV_HWPOISON)),
		  EINVAL);
	EXPECT_EQ(err_of(madvise(self->addr + 8, self->psize,
				 MADV_SOFT_OFFLINE)), EINVAL);
	EXPECT_EQ(err_of(madvise(self->addr, 0, MADV_HWPOISON)), 0);
	EXPECT_EQ(err_of(madvise(self->addr, 0, MADV_SOFT_OFFLINE)), 0);
	EXPECT_EQ(err_of(madvise(self->addr, (size_t)-self->psize,
				 MADV_HWPOISON)), EINVAL);

	ASSERT_EQ(munmap(self->addr + self->psize, self->psize), 0);
	EXPECT_EQ(err_of(madvise(self->addr + self->psize, self->psize,
				 MADV_HWPOISON)), EFAULT);
	EXPECT_EQ(err_of(madvise(self->addr + self->psize, self->psize,
				 MADV_SOFT_OFFLINE)), EFAULT);
	EXPECT_EQ(mf_sigbus_seen(), 0);
	EXPECT_EQ(self->addr[0], 3);
	expect_nothing_counted(_metadata, self);
}

/*
 * A range spanning a hole is handled page by page up to the hole: soft
 * offline migrates the first page (its old frame becomes poisoned, the
 * content stays) and then fails with EFAULT on the hole.
 */
TEST_F(memory_failure_errors, madvise_hole)
{
	uint64_t old_pfn, new_pfn;
	int err;

	self->len = 3 * self->psize;
	self->addr = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->addr, MAP_FAILED);
	memset(self->addr, 9, self->len);
	ASSERT_EQ(munmap(self->addr + self->psize, self->psize), 0);
	old_pfn = mf_virt_to_pfn(self->addr);
	ASSERT_NE(old_pfn, 0);

	err = err_of(madvise(self->addr, self->len, MADV_SOFT_OFFLINE));
	new_pfn = mf_virt_to_pfn(self->addr);
	EXPECT_EQ(err, EFAULT);
	EXPECT_NE(new_pfn, old_pfn);
	EXPECT_TRUE(mf_pfn_is_hwpoison(old_pfn));
	EXPECT_FALSE(mf_pfn_is_hwpoison(new_pfn));
	EXPECT_EQ(self->addr[0], 9);
	EXPECT_EQ(self->addr[2 * self->psize], 9);
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->corrupted_kb + self->psize / 1024);
	EXPECT_EQ(mf_sigbus_seen(), 0);
	if (mf_pfn_is_hwpoison(old_pfn)) {
		err = mf_unpoison_retry(old_pfn);
		if (err != EOPNOTSUPP)
			EXPECT_EQ(err, 0);
	}
}

TEST_HARNESS_MAIN
