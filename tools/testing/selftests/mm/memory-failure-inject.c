// SPDX-License-Identifier: GPL-2.0
/*
 * The software side of hwpoison for testers: unpoison-pfn, the filters of
 * the debugfs injector (corrupt-filter-*), and page-types listing and
 * unpoisoning poisoned pages.  A filtered injection reports success but
 * poisons nothing, so each filter case checks /proc/kpageflags,
 * HardwareCorrupted and the per-node memory_failure counters for pages that
 * must pass and pages that must be stopped.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include "../kselftest_harness.h"
#include "memory-failure.h"

#define KPF_LRU			5
#define KPF_ANON		12
#define FILTER_ENABLE		HWPOISON_DEBUGFS "/corrupt-filter-enable"
#define FILTER_DEV_MAJOR	HWPOISON_DEBUGFS "/corrupt-filter-dev-major"
#define FILTER_DEV_MINOR	HWPOISON_DEBUGFS "/corrupt-filter-dev-minor"
#define FILTER_FLAGS_MASK	HWPOISON_DEBUGFS "/corrupt-filter-flags-mask"
#define FILTER_FLAGS_VALUE	HWPOISON_DEBUGFS "/corrupt-filter-flags-value"
#define FILTER_MEMCG		HWPOISON_DEBUGFS "/corrupt-filter-memcg"
#define CGROUP_ROOT		"/sys/fs/cgroup"
#define NR_FILTERS		6

/* Restored in reverse order, so the enable switch goes back last. */
static const char * const filter_files[NR_FILTERS] = {
	FILTER_ENABLE, FILTER_DEV_MAJOR, FILTER_DEV_MINOR,
	FILTER_FLAGS_MASK, FILTER_FLAGS_VALUE, FILTER_MEMCG,
};

FIXTURE(memory_failure_inject)
{
	long psize;
	unsigned long long saved[NR_FILTERS];
	bool have[NR_FILTERS];
	/* Pages to unpoison and unmap in the teardown. */
	uint64_t pfns[4];
	int nr_pfns;
	void *maps[4];
	int nr_maps;
	char file[64];
	int fd;
	unsigned int fs_type;	/* the f_type of @file's filesystem */
	char cgroup[64];
	char old_cgroup[256];
	bool added_memory_ctl;
};

static int read_ull(const char *path, unsigned long long *val)
{
	FILE *f = fopen(path, "r");
	int ret;

	if (!f)
		return -1;
	ret = fscanf(f, "%llu", val) == 1 ? 0 : -1;
	fclose(f);
	return ret;
}

struct counters {
	long corrupted_kb;
	long total;
	long recovered;
	long ignored;
	long failed;
	long unpoisoned;	/* -1 without the file (stock 6.12) */
};

static void read_counters(struct counters *c)
{
	c->corrupted_kb = mf_meminfo_kb("HardwareCorrupted");
	c->total = mf_stat_sum("total");
	c->recovered = mf_stat_sum("recovered");
	c->ignored = mf_stat_sum("ignored");
	c->failed = mf_stat_sum("failed");
	c->unpoisoned = mf_stat_sum("unpoisoned");
}

/* The per-node unpoisoned counters, where they exist, counted @pages. */
static void check_unpoisoned(struct __test_metadata *_metadata,
			     const struct counters *before,
			     const struct counters *after, long pages)
{
	if (before->unpoisoned >= 0)
		EXPECT_EQ(after->unpoisoned, before->unpoisoned + pages);
}

FIXTURE_SETUP(memory_failure_inject)
{
	int i;

	self->fd = -1;
	if (geteuid())
		SKIP(return, "needs root");
	if (access(UNPOISON_PFN, W_OK) || access(FILTER_ENABLE, W_OK))
		SKIP(return, "no hwpoison injector in debugfs");
	self->psize = sysconf(_SC_PAGESIZE);
	for (i = 0; i < NR_FILTERS; i++)
		self->have[i] = !read_ull(filter_files[i], &self->saved[i]);
	ASSERT_TRUE(self->have[0]);
	ASSERT_EQ(self->saved[0], 0);
	ASSERT_EQ(mf_catch_sigbus(), 0);
}

FIXTURE_TEARDOWN(memory_failure_inject)
{
	char path[320];
	int i;

	for (i = NR_FILTERS - 1; i >= 0; i--)
		if (self->have[i])
			EXPECT_EQ(mf_write_ull(filter_files[i], self->saved[i]), 0);
	for (i = 0; i < self->nr_maps; i++)
		munmap(self->maps[i], self->psize);
	if (self->fd >= 0)
		close(self->fd);
	for (i = 0; i < self->nr_pfns; i++)
		if (mf_pfn_is_hwpoison(self->pfns[i]))
			EXPECT_EQ(mf_unpoison_retry(self->pfns[i]), 0);
	if (self->file[0])
		unlink(self->file);
	if (self->cgroup[0]) {
		snprintf(path, sizeof(path), CGROUP_ROOT "%s/cgroup.procs",
			 self->old_cgroup);
		EXPECT_EQ(mf_write_file(path, "0"), 0);
		EXPECT_EQ(rmdir(self->cgroup), 0);
	}
	if (self->added_memory_ctl)
		mf_write_file(CGROUP_ROOT "/cgroup.subtree_control", "-memory");
}

/* A dirty private anonymous page, mapped until the teardown. */
static uint64_t anon_page(struct __test_metadata *_metadata,
			  FIXTURE_DATA(memory_failure_inject) *self)
{
	char *addr = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pfn;

	if (addr == MAP_FAILED)
		return 0;
	self->maps[self->nr_maps++] = addr;
	memset(addr, 0x5a, self->psize);
	pfn = mf_virt_to_pfn(addr);
	self->pfns[self->nr_pfns++] = pfn;
	return pfn;
}

/*
 * For the page-types tests: anon_page()'s PFN, or 0 when page-types is
 * missing and the test is skipped.
 */
static uint64_t page_types_anon_page(struct __test_metadata *_metadata,
				     FIXTURE_DATA(memory_failure_inject) *self)
{
	uint64_t pfn;

	if (system("page-types -h >/dev/null 2>&1"))
		SKIP(return 0, "no page-types");
	pfn = anon_page(_metadata, self);
	ASSERT_NE(pfn, 0);
	return pfn;
}

/*
 * A clean page-cache page of a file in the cwd (ext2 on /dev/ram0 under
 * the harness), mapped until the teardown: its PFN, or 0 when the file's
 * filesystem is not a disk filesystem with writeback and the test is
 * skipped (see mf_require_disk_fs()).
 */
static uint64_t file_page(struct __test_metadata *_metadata,
			  FIXTURE_DATA(memory_failure_inject) *self,
			  struct stat *st)
{
	char *buf, *addr;
	uint64_t pfn;

	snprintf(self->file, sizeof(self->file), "mf-inject-XXXXXX");
	self->fd = mkstemp(self->file);
	ASSERT_GE(self->fd, 0);
	self->fs_type = mf_require_disk_fs(_metadata, self->fd, self->file);
	if (!self->fs_type)
		return 0;
	buf = malloc(self->psize);
	ASSERT_NE(buf, NULL);
	memset(buf, 0x3c, self->psize);
	ASSERT_EQ(write(self->fd, buf, self->psize), self->psize);
	free(buf);
	ASSERT_EQ(fsync(self->fd), 0);
	ASSERT_EQ(fstat(self->fd, st), 0);
	addr = mmap(NULL, self->psize, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(addr, MAP_FAILED);
	self->maps[self->nr_maps++] = addr;
	ASSERT_EQ(addr[self->psize - 1], 0x3c);
	pfn = mf_virt_to_pfn(addr);
	ASSERT_NE(pfn, 0);
	self->pfns[self->nr_pfns++] = pfn;
	return pfn;
}

/*
 * Inject at @pfn through corrupt-pfn, which must report success either
 * way; then the page is poisoned and counted once (@passes) or untouched.
 */
static void inject_expect(struct __test_metadata *_metadata, long psize,
			  uint64_t pfn, bool passes)
{
	struct counters before, after;

	ASSERT_NE(pfn, 0);
	ASSERT_FALSE(mf_pfn_is_hwpoison(pfn));
	read_counters(&before);
	ASSERT_EQ(mf_write_pfn(CORRUPT_PFN, pfn), 0);
	read_counters(&after);
	EXPECT_EQ(mf_pfn_is_hwpoison(pfn), passes);
	EXPECT_EQ(after.corrupted_kb,
		  before.corrupted_kb + (passes ? psize / 1024 : 0));
	EXPECT_EQ(after.total, before.total + (passes ? 1 : 0));
	EXPECT_EQ(mf_sigbus_seen(), 0);
}

/*
 * Unpoisoning an anonymous page that corrupt-pfn poisoned (and that its
 * owner then unmapped) clears KPF_HWPOISON and gives HardwareCorrupted back,
 * but the per-node memory_failure counters only ever count up: total and
 * recovered keep the failure.
 */
TEST_F(memory_failure_inject, unpoison_anon)
{
	struct counters before, poisoned, after;
	uint64_t pfn = anon_page(_metadata, self);

	ASSERT_NE(pfn, 0);
	read_counters(&before);
	ASSERT_EQ(mf_write_pfn(CORRUPT_PFN, pfn), 0);
	read_counters(&poisoned);
	ASSERT_TRUE(mf_pfn_is_hwpoison(pfn));
	EXPECT_EQ(poisoned.corrupted_kb, before.corrupted_kb + self->psize / 1024);
	EXPECT_EQ(poisoned.total, before.total + 1);
	EXPECT_EQ(poisoned.recovered, before.recovered + 1);

	/* memory_failure() unmapped the page; drop the VMA too. */
	ASSERT_EQ(munmap(self->maps[0], self->psize), 0);
	self->nr_maps = 0;
	ASSERT_EQ(mf_unpoison_retry(pfn), 0);
	read_counters(&after);
	EXPECT_FALSE(mf_pfn_is_hwpoison(pfn));
	EXPECT_EQ(after.corrupted_kb, before.corrupted_kb);
	EXPECT_EQ(after.total, poisoned.total);
	EXPECT_EQ(after.recovered, poisoned.recovered);
	EXPECT_EQ(after.ignored, poisoned.ignored);
	EXPECT_EQ(after.failed, poisoned.failed);
	check_unpoisoned(_metadata, &poisoned, &after, 1);
}

/*
 * A free page (KPF_BUDDY) is taken off the buddy allocator and counted as
 * recovered; unpoison gives it back and HardwareCorrupted returns, the
 * per-node counters stay.  The candidate page is found in /proc/kpageflags
 * and then injected with the flags filter set to "buddy pages only", so a
 * page that gets allocated in between is left alone rather than poisoned.
 */
TEST_F(memory_failure_inject, unpoison_free)
{
	struct counters before, poisoned, after;
	uint64_t flags = 0, pfn = 0x10000;
	int tries;

	ASSERT_EQ(mf_write_ull(FILTER_FLAGS_MASK, 1ULL << KPF_BUDDY), 0);
	ASSERT_EQ(mf_write_ull(FILTER_FLAGS_VALUE, 1ULL << KPF_BUDDY), 0);
	ASSERT_EQ(mf_write_ull(FILTER_ENABLE, 1), 0);
	/* A candidate allocated meanwhile is filtered: try the next one. */
	for (tries = 0; tries < 10; tries++, pfn++) {
		for (; pfn < 0x1000000; pfn++) {
			flags = mf_kpageflags(pfn);
			if ((flags & (1ULL << KPF_NOPAGE)) ||
			    ((flags & (1ULL << KPF_BUDDY)) &&
			     !(flags & (1ULL << KPF_HWPOISON))))
				break;
		}
		ASSERT_TRUE(flags & (1ULL << KPF_BUDDY));
		read_counters(&before);
		ASSERT_EQ(mf_write_pfn(CORRUPT_PFN, pfn), 0);
		if (mf_pfn_is_hwpoison(pfn))
			break;
	}
	self->pfns[self->nr_pfns++] = pfn;
	read_counters(&poisoned);
	ASSERT_TRUE(mf_pfn_is_hwpoison(pfn));
	EXPECT_FALSE(mf_kpageflags(pfn) & (1ULL << KPF_BUDDY));
	EXPECT_EQ(poisoned.corrupted_kb, before.corrupted_kb + self->psize / 1024);
	EXPECT_EQ(poisoned.total, before.total + 1);
	EXPECT_EQ(poisoned.recovered, before.recovered + 1);

	ASSERT_EQ(mf_unpoison_retry(pfn), 0);
	read_counters(&after);
	EXPECT_FALSE(mf_pfn_is_hwpoison(pfn));
	EXPECT_EQ(after.corrupted_kb, before.corrupted_kb);
	EXPECT_EQ(after.total, poisoned.total);
	EXPECT_EQ(after.recovered, poisoned.recovered);
	check_unpoisoned(_metadata, &poisoned, &after, 1);
}

/*
 * Unpoisoning a page that is not poisoned is refused with EBUSY and changes
 * nothing.
 */
TEST_F(memory_failure_inject, unpoison_not_poisoned)
{
	struct counters before, after;
	uint64_t pfn = anon_page(_metadata, self);

	ASSERT_NE(pfn, 0);
	read_counters(&before);
	EXPECT_EQ(mf_unpoison_pfn(pfn), EBUSY);
	read_counters(&after);
	EXPECT_FALSE(mf_pfn_is_hwpoison(pfn));
	EXPECT_EQ(after.corrupted_kb, before.corrupted_kb);
	EXPECT_EQ(after.total, before.total);
	EXPECT_EQ(((char *)self->maps[0])[0], 0x5a);
}

/*
 * corrupt-filter-enable gates all the other filters: with it off a wrong
 * device filter stops nothing; with it on the same filter stops an anon
 * page; with it on and the other filters neutral, an anon (LRU) page passes.
 */
TEST_F(memory_failure_inject, filter_enable)
{
	ASSERT_EQ(mf_write_ull(FILTER_DEV_MAJOR, 42), 0);
	inject_expect(_metadata, self->psize, anon_page(_metadata, self), true);

	ASSERT_EQ(mf_write_ull(FILTER_ENABLE, 1), 0);
	inject_expect(_metadata, self->psize, anon_page(_metadata, self), false);

	ASSERT_EQ(mf_write_ull(FILTER_DEV_MAJOR, ~0U), 0);
	inject_expect(_metadata, self->psize, anon_page(_metadata, self), true);
}

/*
 * The device filter compares the major/minor of the filesystem a page-cache
 * page belongs to: the right major and minor let it through, a wrong one
 * stops it.  An anonymous page has no device, so any device filter stops it.
 */
TEST_F(memory_failure_inject, filter_dev)
{
	struct stat st;
	uint64_t pfn = file_page(_metadata, self, &st);

	if (!pfn)
		return;
	/*
	 * The filter compares the superblock's device, which btrfs does not
	 * report in st_dev (a subvolume's anonymous device instead).
	 */
	if (self->fs_type == BTRFS_SUPER_MAGIC)
		SKIP(return, "btrfs: st_dev is not the filesystem's device");
	ASSERT_EQ(mf_write_ull(FILTER_ENABLE, 1), 0);
	ASSERT_EQ(mf_write_ull(FILTER_DEV_MAJOR, major(st.st_dev)), 0);
	ASSERT_EQ(mf_write_ull(FILTER_DEV_MINOR, minor(st.st_dev) + 1), 0);
	inject_expect(_metadata, self->psize, pfn, false);

	ASSERT_EQ(mf_write_ull(FILTER_DEV_MAJOR, major(st.st_dev) + 1), 0);
	ASSERT_EQ(mf_write_ull(FILTER_DEV_MINOR, minor(st.st_dev)), 0);
	inject_expect(_metadata, self->psize, pfn, false);

	/* The anon page is stopped by the right device too. */
	ASSERT_EQ(mf_write_ull(FILTER_DEV_MAJOR, major(st.st_dev)), 0);
	inject_expect(_metadata, self->psize, anon_page(_metadata, self), false);

	inject_expect(_metadata, self->psize, pfn, true);
}

/*
 * The flags filter compares (kpageflags & mask) with value: mask = value =
 * KPF_ANON lets anonymous pages through and stops page-cache pages; value 0
 * does the opposite.
 */
TEST_F(memory_failure_inject, filter_flags)
{
	struct stat st;
	uint64_t fpfn = file_page(_metadata, self, &st);

	if (!fpfn)
		return;
	ASSERT_EQ(mf_write_ull(FILTER_ENABLE, 1), 0);
	ASSERT_EQ(mf_write_ull(FILTER_FLAGS_MASK, 1ULL << KPF_ANON), 0);
	ASSERT_EQ(mf_write_ull(FILTER_FLAGS_VALUE, 1ULL << KPF_ANON), 0);
	inject_expect(_metadata, self->psize, fpfn, false);
	inject_expect(_metadata, self->psize, anon_page(_metadata, self), true);

	ASSERT_EQ(mf_write_ull(FILTER_FLAGS_VALUE, 0), 0);
	inject_expect(_metadata, self->psize, anon_page(_metadata, self), false);
	inject_expect(_metadata, self->psize, fpfn, true);
}

/*
 * The memcg filter takes the inode number of a cgroup v2 directory: a page
 * charged to that memory cgroup passes, a page charged elsewhere is stopped.
 * The test process moves itself into a new cgroup (with the memory
 * controller enabled for it) between allocating the two pages.
 */
TEST_F(memory_failure_inject, filter_memcg)
{
	char ctl[256] = "", path[128], line[300];
	uint64_t outside, inside;
	struct stat st;
	FILE *f;

	if (access(FILTER_MEMCG, W_OK))
		SKIP(return, "no corrupt-filter-memcg (CONFIG_MEMCG off)");
	f = fopen("/proc/self/cgroup", "r");
	ASSERT_NE(f, NULL);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3))
			sscanf(line + 3, "%255s", self->old_cgroup);
	fclose(f);
	ASSERT_EQ(self->old_cgroup[0], '/');
	if (!strcmp(self->old_cgroup, "/"))
		self->old_cgroup[0] = '\0';

	f = fopen(CGROUP_ROOT "/cgroup.subtree_control", "r");
	ASSERT_NE(f, NULL);
	if (!fgets(ctl, sizeof(ctl), f))
		ctl[0] = '\0';
	fclose(f);
	if (!strstr(ctl, "memory")) {
		ASSERT_EQ(mf_write_file(CGROUP_ROOT "/cgroup.subtree_control",
					"+memory"), 0);
		self->added_memory_ctl = true;
	}

	outside = anon_page(_metadata, self);
	ASSERT_NE(outside, 0);
	snprintf(self->cgroup, sizeof(self->cgroup), CGROUP_ROOT "/mf-inject-%d",
		 getpid());
	ASSERT_EQ(mkdir(self->cgroup, 0755), 0);
	ASSERT_EQ(stat(self->cgroup, &st), 0);
	snprintf(path, sizeof(path), "%s/cgroup.procs", self->cgroup);
	ASSERT_EQ(mf_write_file(path, "0"), 0);
	inside = anon_page(_metadata, self);
	ASSERT_NE(inside, 0);

	ASSERT_EQ(mf_write_ull(FILTER_ENABLE, 1), 0);
	ASSERT_EQ(mf_write_ull(FILTER_MEMCG, st.st_ino), 0);
	inject_expect(_metadata, self->psize, outside, false);
	inject_expect(_metadata, self->psize, inside, true);
}

/* Runs @cmd and reports whether a line of its output starts with @pfn. */
static int page_types_lists(const char *cmd, uint64_t pfn)
{
	char line[256];
	int found = 0;
	FILE *p = popen(cmd, "r");

	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (strtoull(line, NULL, 16) == pfn && strchr(line, '\t'))
			found = 1;
	if (pclose(p))
		return -1;
	return found;
}

/*
 * page-types -b hwpoison lists a page poisoned through corrupt-pfn (by PFN,
 * in hex), both over all memory and with -a PFN; page-types -x unpoisons the
 * pages it selects, after which it lists nothing and HardwareCorrupted is
 * back.
 */
TEST_F(memory_failure_inject, page_types)
{
	struct counters before, after;
	char cmd[128];
	uint64_t pfn;

	pfn = page_types_anon_page(_metadata, self);
	if (!pfn)
		return;
	snprintf(cmd, sizeof(cmd), "page-types -b hwpoison -L -N -a %#llx",
		 (unsigned long long)pfn);
	EXPECT_EQ(page_types_lists(cmd, pfn), 0);

	read_counters(&before);
	ASSERT_EQ(mf_write_pfn(CORRUPT_PFN, pfn), 0);
	ASSERT_EQ(munmap(self->maps[0], self->psize), 0);
	self->nr_maps = 0;
	EXPECT_EQ(page_types_lists(cmd, pfn), 1);
	EXPECT_EQ(page_types_lists("page-types -b hwpoison -L -N", pfn), 1);

	snprintf(cmd, sizeof(cmd), "page-types -b hwpoison -x -N -a %#llx",
		 (unsigned long long)pfn);
	ASSERT_EQ(system(cmd), 0);
	read_counters(&after);
	EXPECT_FALSE(mf_pfn_is_hwpoison(pfn));
	EXPECT_EQ(after.corrupted_kb, before.corrupted_kb);
	snprintf(cmd, sizeof(cmd), "page-types -b hwpoison -L -N -a %#llx",
		 (unsigned long long)pfn);
	EXPECT_EQ(page_types_lists(cmd, pfn), 0);
}

/*
 * page-types -X poisons (through corrupt-pfn) the pages it selects: with
 * -b anon -a PFN exactly our anonymous page, counted like any injection; a
 * page that does not match the -b flags is left alone.
 */
TEST_F(memory_failure_inject, page_types_hwpoison)
{
	struct counters before, after;
	char cmd[128];
	uint64_t pfn;

	pfn = page_types_anon_page(_metadata, self);
	if (!pfn)
		return;
	read_counters(&before);
	snprintf(cmd, sizeof(cmd), "page-types -b ~anon -X -N -a %#llx",
		 (unsigned long long)pfn);
	ASSERT_EQ(system(cmd), 0);
	EXPECT_FALSE(mf_pfn_is_hwpoison(pfn));

	snprintf(cmd, sizeof(cmd), "page-types -b anon -X -N -a %#llx",
		 (unsigned long long)pfn);
	ASSERT_EQ(system(cmd), 0);
	read_counters(&after);
	EXPECT_TRUE(mf_pfn_is_hwpoison(pfn));
	EXPECT_EQ(after.corrupted_kb, before.corrupted_kb + self->psize / 1024);
	EXPECT_EQ(after.total, before.total + 1);
	EXPECT_EQ(after.recovered, before.recovered + 1);
	EXPECT_EQ(mf_sigbus_seen(), 0);
}

TEST_HARNESS_MAIN
