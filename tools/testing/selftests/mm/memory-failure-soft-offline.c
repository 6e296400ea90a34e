// SPDX-License-Identifier: GPL-2.0
/*
 * Soft offline: a page that is still good but suspect (too many corrected
 * errors) is taken out of use by moving its content elsewhere.  Nobody is
 * signalled and no data is lost: the virtual address reads the same bytes
 * from a new PFN, the old PFN is marked KPF_HWPOISON and counted in
 * HardwareCorrupted.  It is not a memory failure: the per-node
 * memory_failure counters do not move.  Routes: MADV_SOFT_OFFLINE and
 * /sys/devices/system/memory/soft_offline_page; vm.enable_soft_offline=0
 * turns both off.  Every soft-offlined PFN is unpoisoned again through
 * debugfs.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include "../kselftest_harness.h"
#include "memory-failure.h"

#define ENABLE_SOFT_OFFLINE	"/proc/sys/vm/enable_soft_offline"
#define NR_HUGEPAGES		"/proc/sys/vm/nr_hugepages"
#define THP_ENABLED		"/sys/kernel/mm/transparent_hugepage/enabled"
#define KPF_HUGE		17
#define KPF_THP			22
#define MAX_NODES		8
#define MAX_POISONED		8
#define NSTATS			5

static const char * const stat_names[NSTATS] = {
	"total", "recovered", "ignored", "failed", "delayed",
};

FIXTURE(memory_failure_soft)
{
	long psize;
	long corrupted_kb;
	int nnodes;
	long stats[MAX_NODES][NSTATS];
	long enable;		/* saved vm.enable_soft_offline */
	long soft_offlined;	/* the nodes' soft_offlined, -1 without it */
	long nr_hugepages;	/* saved vm.nr_hugepages, -1: untouched */
	uint64_t poisoned[MAX_POISONED];
	int npoisoned;
	char file[64];		/* a file of ours in the cwd, or "" */
};

static void snap_stats(FIXTURE_DATA(memory_failure_soft) *self,
		       long stats[MAX_NODES][NSTATS])
{
	int n, i;

	for (n = 0; n < self->nnodes; n++)
		for (i = 0; i < NSTATS; i++)
			stats[n][i] = mf_node_stat(n, stat_names[i]);
}

/* Nothing is a memory failure: no per-node counter moved. */
static void check_stats_unchanged(struct __test_metadata *_metadata,
				  FIXTURE_DATA(memory_failure_soft) *self)
{
	long now[MAX_NODES][NSTATS];
	int n, i;

	snap_stats(self, now);
	for (n = 0; n < self->nnodes; n++)
		for (i = 0; i < NSTATS; i++) {
			if (now[n][i] != self->stats[n][i])
				TH_LOG("node%d %s moved", n, stat_names[i]);
			EXPECT_EQ(now[n][i], self->stats[n][i]);
		}
}

/*
 * HardwareCorrupted counts the @pages retired, and so do the per-node
 * soft_offlined counters where they exist (not in stock 6.12).
 */
static void check_corrupted_kb(struct __test_metadata *_metadata,
			       FIXTURE_DATA(memory_failure_soft) *self,
			       long pages)
{
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->corrupted_kb + pages * self->psize / 1024);
	if (self->soft_offlined >= 0)
		EXPECT_EQ(mf_stat_sum("soft_offlined"),
			  self->soft_offlined + pages);
}

static void remember_poisoned(struct __test_metadata *_metadata,
			      FIXTURE_DATA(memory_failure_soft) *self,
			      uint64_t pfn)
{
	ASSERT_LT(self->npoisoned, MAX_POISONED);
	self->poisoned[self->npoisoned++] = pfn;
}

/*
 * MADV_SOFT_OFFLINE on the @len bytes at @addr, which must succeed, and
 * remember @old (the PFN at @addr) for the unpoison in the teardown.
 * Returns false when the advice is refused (EINVAL, EPERM): the test is
 * skipped.
 */
static bool madv_soft_offline(struct __test_metadata *_metadata,
			      FIXTURE_DATA(memory_failure_soft) *self,
			      void *addr, size_t len, uint64_t old)
{
	if (madvise(addr, len, MADV_SOFT_OFFLINE)) {
		if (errno == EINVAL || errno == EPERM)
			SKIP(return false, "MADV_SOFT_OFFLINE: %s", strerror(errno));
		ASSERT_EQ(errno, 0);
	}
	remember_poisoned(_metadata, self, old);
	return true;
}

FIXTURE_SETUP(memory_failure_soft)
{
	char path[64];

	self->nr_hugepages = -1;
	self->enable = -1;
	if (geteuid())
		SKIP(return, "needs root");
	if (access(UNPOISON_PFN, W_OK))
		SKIP(return, "no hwpoison injector in debugfs");
	if (access(SOFT_OFFLINE_PAGE, W_OK))
		SKIP(return, "no %s", SOFT_OFFLINE_PAGE);
	self->psize = sysconf(_SC_PAGESIZE);
	self->enable = mf_read_long(ENABLE_SOFT_OFFLINE);
	ASSERT_GE(self->enable, 0);
	/* Other tests may have left it off: these tests need it on. */
	ASSERT_EQ(mf_write_long(ENABLE_SOFT_OFFLINE, 1), 0);
	for (self->nnodes = 0; self->nnodes < MAX_NODES; self->nnodes++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/memory_failure",
			 self->nnodes);
		if (access(path, F_OK))
			break;
	}
	ASSERT_GT(self->nnodes, 0);
	snap_stats(self, self->stats);
	self->corrupted_kb = mf_meminfo_kb("HardwareCorrupted");
	self->soft_offlined = mf_stat_sum("soft_offlined");
	ASSERT_GE(self->corrupted_kb, 0);
	ASSERT_EQ(mf_catch_sigbus(), 0);
}

/*
 * Runs in the parent of the test process: the test's mappings are gone, so
 * the old PFNs are free-but-poisoned and can be unpoisoned.
 */
FIXTURE_TEARDOWN_PARENT(memory_failure_soft)
{
	int i, j, err;

	for (i = 0; i < self->npoisoned; i++) {
		for (j = 0; j < 50; j++) {
			err = mf_unpoison_pfn(self->poisoned[i]);
			if (err != EBUSY)
				break;
			usleep(20000);
		}
		EXPECT_EQ(err, 0);
		EXPECT_FALSE(mf_pfn_is_hwpoison(self->poisoned[i]));
	}
	if (self->npoisoned)
		EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"), self->corrupted_kb);
	if (self->file[0])
		unlink(self->file);
	if (self->nr_hugepages >= 0)
		EXPECT_EQ(mf_write_long(NR_HUGEPAGES, self->nr_hugepages), 0);
	if (self->enable >= 0)
		EXPECT_EQ(mf_write_long(ENABLE_SOFT_OFFLINE, self->enable), 0);
}

static void fill(char *buf, long len, int seed)
{
	long i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 7 + seed);
}

static bool same(const char *buf, long len, int seed)
{
	long i;

	for (i = 0; i < len; i++)
		if (buf[i] != (char)(i * 7 + seed))
			return false;
	return true;
}

/*
 * The common outcome of soft-offlining the page at @addr (of @len bytes,
 * filled with @seed) that sat at @old: same content, new PFN, old PFN
 * poisoned and counted as one page, no signal, no failure counted.
 */
static void check_moved(struct __test_metadata *_metadata,
			FIXTURE_DATA(memory_failure_soft) *self,
			char *addr, long len, int seed, uint64_t old)
{
	uint64_t pfn;

	EXPECT_EQ(mf_sigbus_seen(), 0);
	EXPECT_TRUE(same(addr, len, seed));
	pfn = mf_virt_to_pfn(addr);
	EXPECT_NE(pfn, 0);
	EXPECT_NE(pfn, old);
	EXPECT_FALSE(mf_pfn_is_hwpoison(pfn));
	EXPECT_TRUE(mf_pfn_is_hwpoison(old));
	check_corrupted_kb(_metadata, self, 1);
	check_stats_unchanged(_metadata, self);
}

static char *map_anon(struct __test_metadata *_metadata,
		      FIXTURE_DATA(memory_failure_soft) *self, uint64_t *pfn)
{
	char *addr = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (addr == MAP_FAILED)
		return NULL;
	fill(addr, self->psize, 1);
	*pfn = mf_virt_to_pfn(addr);
	return addr;
}

/*
 * Writing the physical address of an in-use anonymous page to
 * soft_offline_page migrates it: the process keeps reading its data at the
 * same address from a new PFN and is never signalled; the old PFN is
 * poisoned, +1 page in HardwareCorrupted, no memory_failure counter moves.
 * Soft-offlining the old, already poisoned PFN again succeeds and changes
 * nothing.
 */
TEST_F(memory_failure_soft, sysfs_anon)
{
	uint64_t old;
	char *addr = map_anon(_metadata, self, &old);

	ASSERT_NE(addr, NULL);
	ASSERT_NE(old, 0);
	ASSERT_EQ(mf_write_paddr(SOFT_OFFLINE_PAGE, old), 0);
	remember_poisoned(_metadata, self, old);
	check_moved(_metadata, self, addr, self->psize, 1, old);

	ASSERT_EQ(mf_write_paddr(SOFT_OFFLINE_PAGE, old), 0);
	check_corrupted_kb(_metadata, self, 1);
	check_stats_unchanged(_metadata, self);
	ASSERT_EQ(munmap(addr, self->psize), 0);
}

/* MADV_SOFT_OFFLINE on an anonymous page: the same outcome. */
TEST_F(memory_failure_soft, madv_anon)
{
	uint64_t old;
	char *addr = map_anon(_metadata, self, &old);

	ASSERT_NE(addr, NULL);
	ASSERT_NE(old, 0);
	if (!madv_soft_offline(_metadata, self, addr, self->psize, old))
		return;
	check_moved(_metadata, self, addr, self->psize, 1, old);
	ASSERT_EQ(munmap(addr, self->psize), 0);
}

/*
 * A file of @pages pages in the cwd, written back: its descriptor, or -1
 * when its filesystem is not a disk filesystem with writeback and the test
 * is skipped (see mf_require_disk_fs()).
 */
static int make_file(struct __test_metadata *_metadata,
		     FIXTURE_DATA(memory_failure_soft) *self, long pages)
{
	long len = pages * self->psize;
	char *buf;
	int fd;

	snprintf(self->file, sizeof(self->file), "mf-soft-%d", getpid());
	fd = open(self->file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	if (!mf_require_disk_fs(_metadata, fd, self->file)) {
		close(fd);
		return -1;
	}
	buf = malloc(len);
	ASSERT_NE(buf, NULL);
	fill(buf, len, 3);
	ASSERT_EQ(write(fd, buf, len), len);
	ASSERT_EQ(fsync(fd), 0);
	free(buf);
	return fd;
}

static bool file_same(FIXTURE_DATA(memory_failure_soft) *self, int fd,
		      long pages)
{
	char *buf = malloc(pages * self->psize);
	bool ok;

	if (!buf)
		return false;
	ok = pread(fd, buf, pages * self->psize, 0) == pages * self->psize &&
	     same(buf, pages * self->psize, 3);
	free(buf);
	return ok;
}

/*
 * MADV_SOFT_OFFLINE on a mapped page-cache page (a file on the disk
 * filesystem in the cwd): the page cache page is migrated, the mapping and
 * read(2) both see the same data, the old PFN is poisoned.
 */
TEST_F(memory_failure_soft, madv_pagecache)
{
	uint64_t old;
	char *addr;
	int fd;

	fd = make_file(_metadata, self, 1);
	if (fd < 0)
		return;
	addr = mmap(NULL, self->psize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(addr, MAP_FAILED);
	ASSERT_TRUE(same(addr, self->psize, 3));
	old = mf_virt_to_pfn(addr);
	ASSERT_NE(old, 0);
	if (!madv_soft_offline(_metadata, self, addr, self->psize, old))
		return;
	check_moved(_metadata, self, addr, self->psize, 3, old);
	EXPECT_TRUE(file_same(self, fd, 1));
	ASSERT_EQ(munmap(addr, self->psize), 0);
	close(fd);
}

/*
 * soft_offline_page on a clean page-cache page that nobody maps: the page
 * is simply dropped from the page cache (not migrated), its PFN poisoned;
 * reading the file again gets the data back from the disk.
 */
TEST_F(memory_failure_soft, sysfs_clean_pagecache)
{
	uint64_t old;
	char *addr;
	int fd;

	fd = make_file(_metadata, self, 1);
	if (fd < 0)
		return;
	addr = mmap(NULL, self->psize, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(addr, MAP_FAILED);
	ASSERT_TRUE(same(addr, self->psize, 3));
	old = mf_virt_to_pfn(addr);
	ASSERT_NE(old, 0);
	ASSERT_EQ(munmap(addr, self->psize), 0);

	ASSERT_EQ(mf_write_paddr(SOFT_OFFLINE_PAGE, old), 0);
	remember_poisoned(_metadata, self, old);
	EXPECT_TRUE(mf_pfn_is_hwpoison(old));
	check_corrupted_kb(_metadata, self, 1);
	check_stats_unchanged(_metadata, self);
	EXPECT_TRUE(file_same(self, fd, 1));
	addr = mmap(NULL, self->psize, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(addr, MAP_FAILED);
	EXPECT_TRUE(same(addr, self->psize, 3));
	EXPECT_NE(mf_virt_to_pfn(addr), old);
	ASSERT_EQ(munmap(addr, self->psize), 0);
	EXPECT_EQ(mf_sigbus_seen(), 0);
	close(fd);
}

/*
 * MADV_SOFT_OFFLINE on one 4 kB page inside a transparent huge page: the
 * THP is split and only that page moves; the other pages stay where they
 * were, no longer part of a THP; all the data is intact and one page is
 * poisoned.
 */
TEST_F(memory_failure_soft, madv_thp)
{
	long hsize = 2L << 20;
	char *map, *thp, *target, *other;
	uint64_t head, old, other_pfn;
	char mode[128] = "";
	FILE *f;

	f = fopen(THP_ENABLED, "r");
	if (!f)
		SKIP(return, "no THP");
	if (!fgets(mode, sizeof(mode), f))
		mode[0] = 0;
	fclose(f);
	if (strstr(mode, "[never]"))
		SKIP(return, "THP disabled");
	map = mmap(NULL, 2 * hsize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(map, MAP_FAILED);
	thp = (char *)(((uintptr_t)map + hsize - 1) & ~(hsize - 1));
	madvise(thp, hsize, MADV_HUGEPAGE);
	fill(thp, hsize, 5);
	head = mf_virt_to_pfn(thp);
	ASSERT_NE(head, 0);
	if (!(mf_kpageflags(head) & (1ULL << KPF_THP)))
		SKIP(return, "no THP allocated");
	target = thp + 3 * self->psize;
	other = thp + 9 * self->psize;
	old = mf_virt_to_pfn(target);
	other_pfn = mf_virt_to_pfn(other);
	ASSERT_EQ(old, head + 3);
	ASSERT_EQ(other_pfn, head + 9);

	if (!madv_soft_offline(_metadata, self, target, self->psize, old))
		return;
	check_moved(_metadata, self, thp, hsize, 5, old);
	EXPECT_NE(mf_virt_to_pfn(target), old);
	EXPECT_EQ(mf_virt_to_pfn(other), other_pfn);
	EXPECT_FALSE(mf_kpageflags(other_pfn) & (1ULL << KPF_THP));
	EXPECT_FALSE(mf_pfn_is_hwpoison(other_pfn));
	ASSERT_EQ(munmap(map, 2 * hsize), 0);
}

/*
 * Soft-offlines a hugetlb page with @spare free huge pages left in the pool
 * (the pool is sized for that, and restored by the teardown).  The whole
 * huge page moves to a new huge page (every 4 kB part at a new PFN,
 * contiguous), the data is intact; only the one 4 kB PFN that was named is
 * poisoned (+4 kB, not +2 MB), not the rest of the old huge page.
 */
static void hugetlb_soft_offline(struct __test_metadata *_metadata,
				 FIXTURE_DATA(memory_failure_soft) *self,
				 long spare)
{
	long hsize = mf_meminfo_kb("Hugepagesize") * 1024;
	long nr, total, free_huge;
	uint64_t old, old_tail, pfn;
	char *addr;

	if (hsize <= 0)
		SKIP(return, "no hugetlb");
	nr = mf_read_long(NR_HUGEPAGES);
	total = mf_meminfo_kb("HugePages_Total");
	free_huge = mf_meminfo_kb("HugePages_Free");
	ASSERT_GE(nr, 0);
	ASSERT_GE(free_huge, 0);
	self->nr_hugepages = nr;
	/* One for the test, @spare left free. */
	nr = total - free_huge + 1 + spare;
	ASSERT_EQ(mf_write_long(NR_HUGEPAGES, nr), 0);
	if (mf_read_long(NR_HUGEPAGES) != nr)
		SKIP(return, "cannot allocate %ld huge pages", nr);
	addr = mmap(NULL, hsize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_NE(addr, MAP_FAILED);
	fill(addr, hsize, 7);
	ASSERT_EQ(mf_meminfo_kb("HugePages_Free"), spare);
	old = mf_virt_to_pfn(addr);
	old_tail = mf_virt_to_pfn(addr + 5 * self->psize);
	ASSERT_NE(old, 0);
	ASSERT_EQ(old_tail, old + 5);

	if (!madv_soft_offline(_metadata, self, addr, hsize, old))
		return;
	check_moved(_metadata, self, addr, hsize, 7, old);
	pfn = mf_virt_to_pfn(addr);
	EXPECT_EQ(pfn % (hsize / self->psize), 0);
	EXPECT_TRUE(mf_kpageflags(pfn) & (1ULL << KPF_HUGE));
	EXPECT_EQ(mf_virt_to_pfn(addr + 5 * self->psize), pfn + 5);
	EXPECT_FALSE(mf_pfn_is_hwpoison(old_tail));
	/* A spare huge page is the target, and the old one is not given back. */
	EXPECT_EQ(mf_read_long(NR_HUGEPAGES), spare ? nr - 1 : nr);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Free"), spare ? spare - 1 : 0);
	ASSERT_EQ(munmap(addr, hsize), 0);
}

/*
 * MADV_SOFT_OFFLINE on a hugetlb page, no free huge page in the pool: the
 * target is a huge page allocated for the purpose, and the pool keeps its
 * size.
 */
TEST_F(memory_failure_soft, madv_hugetlb)
{
	hugetlb_soft_offline(_metadata, self, 0);
}

/*
 * MADV_SOFT_OFFLINE on a hugetlb page with a free huge page in the pool:
 * that free page is the target and the old huge page is dissolved, so the
 * pool shrinks by one (as Documentation/admin-guide/sysctl/vm.rst says).
 */
TEST_F(memory_failure_soft, madv_hugetlb_spare)
{
	hugetlb_soft_offline(_metadata, self, 1);
}

/* One past the highest PFN of any zone, from /proc/zoneinfo, or -1. */
static long end_pfn(void)
{
	long start = -1, spanned = -1, end = -1, val;
	char line[256];
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " spanned %ld", &val) == 1)
			spanned = val;
		else if (sscanf(line, " start_pfn: %ld", &val) == 1)
			start = val;
		else
			continue;
		if (start >= 0 && spanned >= 0) {
			if (start + spanned > end)
				end = start + spanned;
			start = -1;
			spanned = -1;
		}
	}
	fclose(f);
	return end;
}

/*
 * A free PFN (a KPF_BUDDY block head found through /proc/kpageflags),
 * written to soft_offline_page: it is taken out of the page allocator and
 * poisoned at once: success, +1 page in HardwareCorrupted, no per-node
 * counter moves.
 */
TEST_F(memory_failure_soft, sysfs_free_page)
{
	uint64_t flags[512], pfn, found = 0;
	long max_pfn, base, i;
	int fd, tries, err = -1;

	max_pfn = end_pfn();
	ASSERT_GT(max_pfn, 512);
	fd = open("/proc/kpageflags", O_RDONLY);
	ASSERT_GE(fd, 0);
	/* Search downwards from the top of memory: the quietest part. */
	for (tries = 0; tries < 5 && err; tries++) {
		found = 0;
		for (base = (max_pfn & ~511L) - 512; base >= 0 && !found;
		     base -= 512) {
			ASSERT_EQ(pread(fd, flags, sizeof(flags),
					base * sizeof(uint64_t)), sizeof(flags));
			for (i = 511; i >= 0; i--)
				if ((flags[i] & (1ULL << KPF_BUDDY)) &&
				    !(flags[i] & (1ULL << KPF_HWPOISON |
						  1ULL << KPF_NOPAGE))) {
					found = base + i;
					break;
				}
			max_pfn = base;
		}
		ASSERT_NE(found, 0);
		err = mf_write_paddr(SOFT_OFFLINE_PAGE, found);
		if (!err)
			break;
		TH_LOG("PFN %#llx: %s, trying another", (unsigned long long)found,
		       strerror(err));
	}
	close(fd);
	ASSERT_EQ(err, 0);
	pfn = found;
	remember_poisoned(_metadata, self, pfn);
	EXPECT_TRUE(mf_pfn_is_hwpoison(pfn));
	EXPECT_FALSE(mf_kpageflags(pfn) & (1ULL << KPF_BUDDY));
	check_corrupted_kb(_metadata, self, 1);
	check_stats_unchanged(_metadata, self);
}

/*
 * vm.enable_soft_offline=0: MADV_SOFT_OFFLINE and soft_offline_page both
 * fail with EOPNOTSUPP and change nothing (PFN, content, flags, counters).
 * The knob takes only 0 or 1: anything else fails with EINVAL and leaves it
 * as it was.
 */
TEST_F(memory_failure_soft, disabled)
{
	static const char * const bad[] = { "2", "-1", "abc", "1x" };
	uint64_t old;
	char *addr;
	int i;

	ASSERT_EQ(mf_write_long(ENABLE_SOFT_OFFLINE, 0), 0);
	ASSERT_EQ(mf_read_long(ENABLE_SOFT_OFFLINE), 0);
	addr = map_anon(_metadata, self, &old);
	ASSERT_NE(addr, NULL);
	ASSERT_NE(old, 0);

	EXPECT_EQ(madvise(addr, self->psize, MADV_SOFT_OFFLINE), -1);
	EXPECT_EQ(errno, EOPNOTSUPP);
	EXPECT_EQ(mf_write_paddr(SOFT_OFFLINE_PAGE, old), EOPNOTSUPP);
	EXPECT_EQ(mf_virt_to_pfn(addr), old);
	EXPECT_TRUE(same(addr, self->psize, 1));
	EXPECT_FALSE(mf_pfn_is_hwpoison(old));
	check_corrupted_kb(_metadata, self, 0);
	check_stats_unchanged(_metadata, self);
	EXPECT_EQ(mf_sigbus_seen(), 0);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(mf_write_file(ENABLE_SOFT_OFFLINE, bad[i]), EINVAL);
		EXPECT_EQ(mf_read_long(ENABLE_SOFT_OFFLINE), 0);
	}
	ASSERT_EQ(mf_write_long(ENABLE_SOFT_OFFLINE, 1), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(mf_write_file(ENABLE_SOFT_OFFLINE, bad[i]), EINVAL);
		EXPECT_EQ(mf_read_long(ENABLE_SOFT_OFFLINE), 1);
	}
	ASSERT_EQ(munmap(addr, self->psize), 0);
}

TEST_HARNESS_MAIN
