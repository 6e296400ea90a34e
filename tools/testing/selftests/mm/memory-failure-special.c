// SPDX-License-Identifier: GPL-2.0
/*
 * Hard offline of pages that are not plain mapped anonymous memory: a free
 * page in the buddy allocator, anonymous pages in the swap cache (clean and
 * dirty), a KSM page shared by two mappings, and kernel pages (slab,
 * reserved) that memory failure cannot handle.  Each test poisons one page
 * through one injection route (a fixture variant), checks the result, the
 * signals, /proc/kpageflags, HardwareCorrupted and the per-node
 * memory_failure counters, and unpoisons through debugfs where stock allows.
 * Pages no one maps (free, kernel) have a fixture of their own,
 * memory_failure_special_unmapped, whose variants are the routes that take
 * a PFN.
 */
#define _GNU_SOURCE
#include "../kselftest_harness.h"
#include "memory-failure.h"

#include <dirent.h>
#include <time.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_WILLNEED
#define MADV_WILLNEED 3
#endif

#define KPF_SLAB_BIT		7
#define KPF_SWAPCACHE_BIT	13
#define KPF_COMPOUND_HEAD_BIT	15
#define KPF_COMPOUND_TAIL_BIT	16
#define KPF_KSM_BIT		21
#define KPF_RESERVED_BIT	32
#define PM_SWAP			(1ULL << 62)

#define SWAP_DEV		"/dev/ram1"
#define KSM_DIR			"/sys/kernel/mm/ksm/"

/* A helper SKIP()ped the test: the test must return too. */
static inline bool skipped(struct __test_metadata *_metadata)
{
	return _metadata->exit_code == KSFT_SKIP;
}

static const char * const ksm_knobs[] = {
	"run", "pages_to_scan", "sleep_millisecs",
};

#define NR_KSM_KNOBS	ARRAY_SIZE(ksm_knobs)

FIXTURE(memory_failure_special)
{
	long psize;
	char *addr;
	size_t len;
	uint64_t pfn;
	int node;
	bool swap_on;
	bool ksm_saved;
	long ksm[NR_KSM_KNOBS];
	long corrupted_kb;
	long node_total;
	long node_recovered;
	long node_ignored;
	long node_failed;
	long node_delayed;
};

FIXTURE_VARIANT(memory_failure_special)
{
	/* Sends the page at @addr (PFN @pfn) to hard offline; 0 or errno. */
	int (*inject)(void *addr, long psize, uint64_t pfn);
	/* MADV_HWPOISON acts for the caller: it is signalled at once. */
	bool action_required;
};

/*
 * The tests on pages no one maps: MADV_HWPOISON cannot reach them, only the
 * routes that take a PFN do.  This second fixture works on the same state
 * as memory_failure_special, through the same helpers, setup and teardown.
 */
FIXTURE(memory_failure_special_unmapped)
{
	FIXTURE_DATA(memory_failure_special) special;
};

FIXTURE_VARIANT(memory_failure_special_unmapped)
{
	/* As in memory_failure_special: the route, 0 or errno. */
	int (*inject)(void *addr, long psize, uint64_t pfn);
};

FIXTURE_VARIANT_ADD(memory_failure_special, madv_hard)
{
	.inject = mf_inject_madv_hard,
	.action_required = true,
};

FIXTURE_VARIANT_ADD(memory_failure_special, corrupt_pfn)
{
	.inject = mf_inject_corrupt_pfn,
};

FIXTURE_VARIANT_ADD(memory_failure_special, hard_offline_page)
{
	.inject = mf_inject_hard_offline,
};

FIXTURE_VARIANT_ADD(memory_failure_special_unmapped, corrupt_pfn)
{
	.inject = mf_inject_corrupt_pfn,
};

FIXTURE_VARIANT_ADD(memory_failure_special_unmapped, hard_offline_page)
{
	.inject = mf_inject_hard_offline,
};

static void special_setup(struct __test_metadata *_metadata,
			  FIXTURE_DATA(memory_failure_special) *self)
{
	if (geteuid())
		SKIP(return, "needs root");
	if (access(UNPOISON_PFN, W_OK))
		SKIP(return, "no hwpoison injector in debugfs");
	self->psize = sysconf(_SC_PAGESIZE);
	ASSERT_EQ(mf_catch_sigbus(), 0);
}

static void special_teardown(struct __test_metadata *_metadata,
			     FIXTURE_DATA(memory_failure_special) *self)
{
	unsigned int i;

	if (self->addr)
		munmap(self->addr, self->len);
	if (self->swap_on)
		EXPECT_EQ(system("swapoff " SWAP_DEV), 0);
	if (self->ksm_saved) {
		/* Stop ksmd first, then put the tuning back. */
		for (i = NR_KSM_KNOBS; i-- > 0;) {
			char path[96];

			snprintf(path, sizeof(path), KSM_DIR "%s", ksm_knobs[i]);
			EXPECT_EQ(mf_write_long(path, self->ksm[i]), 0);
		}
	}
}

FIXTURE_SETUP(memory_failure_special)
{
	special_setup(_metadata, self);
}

FIXTURE_TEARDOWN(memory_failure_special)
{
	special_teardown(_metadata, self);
}

FIXTURE_SETUP(memory_failure_special_unmapped)
{
	special_setup(_metadata, &self->special);
}

FIXTURE_TEARDOWN(memory_failure_special_unmapped)
{
	special_teardown(_metadata, &self->special);
}

/* Take the baseline counters of @self->node and check @self->pfn is clean. */
static void snapshot(struct __test_metadata *_metadata,
		     FIXTURE_DATA(memory_failure_special) *self)
{
	ASSERT_NE(self->pfn, 0);
	ASSERT_GE(self->node, 0);
	self->corrupted_kb = mf_meminfo_kb("HardwareCorrupted");
	ASSERT_GE(self->corrupted_kb, 0);
	self->node_total = mf_node_stat(self->node, "total");
	self->node_recovered = mf_node_stat(self->node, "recovered");
	self->node_ignored = mf_node_stat(self->node, "ignored");
	self->node_failed = mf_node_stat(self->node, "failed");
	self->node_delayed = mf_node_stat(self->node, "delayed");
	ASSERT_GE(self->node_total, 0);
	ASSERT_FALSE(mf_pfn_is_hwpoison(self->pfn));
}

/* One more failure on the node, of the class named by @result. */
static void check_counters(struct __test_metadata *_metadata,
			   FIXTURE_DATA(memory_failure_special) *self,
			   const char *result)
{
	EXPECT_EQ(mf_node_stat(self->node, "total"), self->node_total + 1);
	EXPECT_EQ(mf_node_stat(self->node, "recovered"), self->node_recovered +
		  !strcmp(result, "recovered"));
	EXPECT_EQ(mf_node_stat(self->node, "ignored"), self->node_ignored +
		  !strcmp(result, "ignored"));
	EXPECT_EQ(mf_node_stat(self->node, "failed"), self->node_failed +
		  !strcmp(result, "failed"));
	EXPECT_EQ(mf_node_stat(self->node, "delayed"), self->node_delayed +
		  !strcmp(result, "delayed"));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->corrupted_kb + self->psize / 1024);
}

/* Inject through the variant's @route at @addr; returns 0 or the errno. */
static int inject(FIXTURE_DATA(memory_failure_special) *self,
		  int (*route)(void *addr, long psize, uint64_t pfn),
		  void *addr)
{
	/* Static: it must survive the SIGBUS handler's siglongjmp(). */
	static int err;

	err = 0;
	if (!sigsetjmp(mf_sigbus_env, 1))
		err = route(addr, self->psize, self->pfn);
	return err;
}

/* Reads @addr; returns 1 when that raised SIGBUS. */
static int touch(const char *addr)
{
	int before = mf_sigbus_seen();

	if (!sigsetjmp(mf_sigbus_env, 1))
		mf_read_byte(addr);
	return mf_sigbus_seen() != before;
}

/* The last SIGBUS was for a consumed error in the 4 KiB page at @addr. */
static void check_sigbus(struct __test_metadata *_metadata, void *addr)
{
	EXPECT_EQ(mf_sigbus_info.si_code, BUS_MCEERR_AR);
	EXPECT_EQ(mf_sigbus_info.si_addr, addr);
	EXPECT_EQ(mf_sigbus_info.si_addr_lsb, 12);
}

/* The raw /proc/self/pagemap entry of @addr. */
static uint64_t pagemap_entry(void *addr)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  (uintptr_t)addr / sysconf(_SC_PAGESIZE) * sizeof(entry)) !=
	    sizeof(entry))
		entry = 0;
	close(fd);
	return entry;
}

static bool kpf(uint64_t pfn, int bit)
{
	return mf_kpageflags(pfn) & (1ULL << bit);
}

typedef bool (*pfn_match_t)(uint64_t flags);

static int cmp_block(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a;
	unsigned long long y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

#define MAX_BLOCKS	4096
#define CHUNK		1024

/*
 * The highest (@top) or lowest PFN above 0 of node @node's memory whose
 * kpageflags satisfy @match and that is not hwpoisoned; 0 if none.
 */
static uint64_t find_pfn(int node, bool top, pfn_match_t match)
{
	static unsigned long long blocks[MAX_BLOCKS];
	static uint64_t flags[CHUNK];
	unsigned long long block_bytes = 0, blk;
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t found = 0, npfn, first, i, k;
	int nblocks = 0, b, fd = -1;
	char path[96];
	struct dirent *de;
	FILE *f;
	DIR *d;

	f = fopen("/sys/devices/system/memory/block_size_bytes", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llx", &block_bytes) != 1)
		block_bytes = 0;
	fclose(f);
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
	d = opendir(path);
	if (!block_bytes || !d)
		goto out;
	while ((de = readdir(d)) && nblocks < MAX_BLOCKS)
		if (!strncmp(de->d_name, "memory", 6) &&
		    sscanf(de->d_name + 6, "%llu", &blk) == 1)
			blocks[nblocks++] = blk;
	closedir(d);
	qsort(blocks, nblocks, sizeof(blocks[0]), cmp_block);
	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		goto out;
	npfn = block_bytes / psize;
	for (b = 0; b < nblocks && !found; b++) {
		blk = blocks[top ? nblocks - 1 - b : b];
		for (i = 0; i < npfn / CHUNK && !found; i++) {
			first = blk * npfn + (top ? npfn / CHUNK - 1 - i : i) * CHUNK;
			if (pread(fd, flags, sizeof(flags), first * sizeof(flags[0])) !=
			    sizeof(flags))
				break;
			for (k = 0; k < CHUNK; k++) {
				uint64_t j = top ? CHUNK - 1 - k : k;

				if (first + j && !(flags[j] & (1ULL << KPF_HWPOISON)) &&
				    match(flags[j])) {
					found = first + j;
					break;
				}
			}
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return found;
}

static bool is_buddy(uint64_t flags)
{
	return flags & (1ULL << KPF_BUDDY);
}

/* A whole order-0 slab page: its poisoned flag cannot trip a free check. */
static bool is_small_slab(uint64_t flags)
{
	return (flags & (1ULL << KPF_SLAB_BIT)) &&
	       !(flags & ((1ULL << KPF_COMPOUND_HEAD_BIT) |
			  (1ULL << KPF_COMPOUND_TAIL_BIT)));
}

static bool is_reserved(uint64_t flags)
{
	return (flags & (1ULL << KPF_RESERVED_BIT)) &&
	       !(flags & ((1ULL << KPF_SLAB_BIT) | (1ULL << KPF_COMPOUND_HEAD_BIT) |
			  (1ULL << KPF_COMPOUND_TAIL_BIT)));
}

/* @pfn is free again: it or a buddy block containing it is in the buddy. */
static bool pfn_in_buddy(uint64_t pfn)
{
	int order;

	for (order = 0; order <= 10; order++)
		if (kpf(pfn & ~((1ULL << order) - 1), KPF_BUDDY))
			return true;
	return false;
}

/*
 * A free page in the buddy allocator, poisoned by PFN: the injection
 * succeeds, the page is taken off the free lists (KPF_BUDDY gone,
 * KPF_HWPOISON set) so that it is never handed out, one recovered failure,
 * HardwareCorrupted +4 kB; unpoison puts it back in the buddy allocator.
 * Nobody is signalled: no one uses the page.
 */
TEST_F(memory_failure_special_unmapped, free_buddy)
{
	FIXTURE_DATA(memory_failure_special) *sp = &self->special;
	int node = 1;

	sp->pfn = find_pfn(node, true, is_buddy);
	if (!sp->pfn) {
		node = 0;
		sp->pfn = find_pfn(node, true, is_buddy);
	}
	ASSERT_NE(sp->pfn, 0);
	sp->node = node;
	snapshot(_metadata, sp);

	ASSERT_EQ(inject(sp, variant->inject, NULL), 0);
	EXPECT_EQ(mf_sigbus_seen(), 0);
	EXPECT_TRUE(mf_pfn_is_hwpoison(sp->pfn));
	EXPECT_FALSE(kpf(sp->pfn, KPF_BUDDY));
	check_counters(_metadata, sp, "recovered");

	mf_unpoison_and_check(_metadata, sp->pfn, sp->corrupted_kb);
	EXPECT_TRUE(pfn_in_buddy(sp->pfn));
}

/* Enables swap on SWAP_DEV; SKIP when that is impossible. */
static void swap_on(struct __test_metadata *_metadata,
		    FIXTURE_DATA(memory_failure_special) *self)
{
	if (access(SWAP_DEV, R_OK | W_OK))
		SKIP(return, "no %s for swap", SWAP_DEV);
	if (system("mkswap " SWAP_DEV " >/dev/null 2>&1 && swapon " SWAP_DEV))
		SKIP(return, "cannot swapon %s", SWAP_DEV);
	self->swap_on = true;
}

/*
 * An anonymous page filled with 0x3c, pushed to swap and read back in: it
 * is mapped and in the swap cache, clean (swap holds its content).  The
 * ramdisk is a synchronous swap device, on which a plain fault would read
 * the page in bypassing the swap cache: MADV_WILLNEED reads it into the
 * swap cache first, and the fault then maps it from there.
 */
static void map_swapcache_page(struct __test_metadata *_metadata,
			       FIXTURE_DATA(memory_failure_special) *self)
{
	swap_on(_metadata, self);
	if (skipped(_metadata))
		return;
	self->len = self->psize;
	self->addr = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->addr, MAP_FAILED);
	memset(self->addr, 0x3c, self->psize);
	if (madvise(self->addr, self->len, MADV_PAGEOUT))
		SKIP(return, "MADV_PAGEOUT: %s", strerror(errno));
	ASSERT_TRUE(pagemap_entry(self->addr) & PM_SWAP);
	ASSERT_EQ(madvise(self->addr, self->len, MADV_WILLNEED), 0);
	ASSERT_EQ(mf_read_byte(self->addr), 0x3c);
	self->pfn = mf_virt_to_pfn(self->addr);
	ASSERT_NE(self->pfn, 0);
	ASSERT_TRUE(kpf(self->pfn, KPF_SWAPCACHE_BIT));
	self->node = mf_page_node(self->addr);
}

/*
 * A clean swap-cache page: swap still holds its content, so the page is
 * just dropped: unmapped back to its swap entry and deleted from the swap
 * cache, one recovered failure.  No signal, not even for the MADV_HWPOISON
 * caller; the next access reads the content back from swap into a new page.
 */
TEST_F(memory_failure_special, swapcache_clean)
{
	map_swapcache_page(_metadata, self);
	if (skipped(_metadata))
		return;
	snapshot(_metadata, self);

	ASSERT_EQ(inject(self, variant->inject, self->addr), 0);
	EXPECT_EQ(mf_sigbus_seen(), 0);
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->pfn));
	EXPECT_FALSE(kpf(self->pfn, KPF_SWAPCACHE_BIT));
	EXPECT_TRUE(pagemap_entry(self->addr) & PM_SWAP);
	check_counters(_metadata, self, "recovered");

	ASSERT_FALSE(touch(self->addr));
	EXPECT_EQ(self->addr[self->psize - 1], 0x3c);
	EXPECT_NE(mf_virt_to_pfn(self->addr), self->pfn);

	mf_unpoison_and_check(_metadata, self->pfn, self->corrupted_kb);
}

/*
 * A dirty swap-cache page (read back from swap, then written: swap holds
 * stale data): the page is unmapped to its swap entry but kept, poisoned,
 * in the swap cache so that the next access finds it: SIGBUS
 * BUS_MCEERR_AR for the page, si_addr_lsb 12.  One delayed failure; the
 * MADV_HWPOISON caller is signalled at once.
 */
TEST_F(memory_failure_special, swapcache_dirty)
{
	map_swapcache_page(_metadata, self);
	if (skipped(_metadata))
		return;
	self->addr[0] = 0x77;
	ASSERT_EQ(mf_virt_to_pfn(self->addr), self->pfn);
	ASSERT_TRUE(kpf(self->pfn, KPF_SWAPCACHE_BIT));
	snapshot(_metadata, self);

	ASSERT_EQ(inject(self, variant->inject, self->addr), 0);
	ASSERT_EQ(mf_sigbus_seen(), variant->action_required ? 1 : 0);
	if (mf_sigbus_seen())
		check_sigbus(_metadata, self->addr);
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->pfn));
	EXPECT_TRUE(kpf(self->pfn, KPF_SWAPCACHE_BIT));
	EXPECT_TRUE(pagemap_entry(self->addr) & PM_SWAP);
	check_counters(_metadata, self, "delayed");

	EXPECT_TRUE(touch(self->addr + 8));
	check_sigbus(_metadata, self->addr + 8);

	ASSERT_EQ(munmap(self->addr, self->len), 0);
	self->addr = NULL;
	/* The swap entry is gone, and the page with it from the swap cache. */
	EXPECT_FALSE(kpf(self->pfn, KPF_SWAPCACHE_BIT));
	mf_unpoison_and_check(_metadata, self->pfn, self->corrupted_kb);
}

/* Saves the KSM knobs and starts ksmd scanning fast; SKIP without KSM. */
static void ksm_start(struct __test_metadata *_metadata,
		      FIXTURE_DATA(memory_failure_special) *self)
{
	unsigned int i;
	char path[96];

	for (i = 0; i < NR_KSM_KNOBS; i++) {
		snprintf(path, sizeof(path), KSM_DIR "%s", ksm_knobs[i]);
		self->ksm[i] = mf_read_long(path);
		if (self->ksm[i] < 0)
			SKIP(return, "no KSM");
	}
	self->ksm_saved = true;
	ASSERT_EQ(mf_write_file(KSM_DIR "pages_to_scan", "1000"), 0);
	ASSERT_EQ(mf_write_file(KSM_DIR "sleep_millisecs", "10"), 0);
	ASSERT_EQ(mf_write_file(KSM_DIR "run", "1"), 0);
}

/*
 * A KSM page backing two identical private pages: memory failure unmaps it
 * from both, and each mapping gets SIGBUS BUS_MCEERR_AR for its own
 * address on access; one recovered failure.  The MADV_HWPOISON caller is
 * signalled at once, once.
 *
 * Stock 6.12 behaviour (weakness): that signal may carry the address of
 * the other mapping of the KSM page rather than the address passed to
 * madvise (it was the other one here), so only "one of the two" is pinned.
 */
TEST_F(memory_failure_special, ksm)
{
	char *other;
	long i;

	ksm_start(_metadata, self);
	if (skipped(_metadata))
		return;
	self->len = 2 * self->psize;
	self->addr = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->addr, MAP_FAILED);
	other = self->addr + self->psize;
	for (i = 0; i < self->psize; i++)
		self->addr[i] = (char)(i * 7 + getpid());
	memcpy(other, self->addr, self->psize);
	if (madvise(self->addr, self->len, MADV_MERGEABLE))
		SKIP(return, "MADV_MERGEABLE: %s", strerror(errno));
	for (i = 0; i < 200; i++) {
		self->pfn = mf_virt_to_pfn(self->addr);
		if (self->pfn && self->pfn == mf_virt_to_pfn(other) &&
		    kpf(self->pfn, KPF_KSM_BIT))
			break;
		usleep(100 * 1000);
	}
	if (i == 200)
		SKIP(return, "KSM did not merge the pages within 20 s");
	self->node = mf_page_node(self->addr);
	snapshot(_metadata, self);

	ASSERT_EQ(inject(self, variant->inject, self->addr), 0);
	ASSERT_EQ(mf_sigbus_seen(), variant->action_required ? 1 : 0);
	if (mf_sigbus_seen()) {
		EXPECT_EQ(mf_sigbus_info.si_code, BUS_MCEERR_AR);
		EXPECT_TRUE(mf_sigbus_info.si_addr == self->addr ||
			    mf_sigbus_info.si_addr == other);
		EXPECT_EQ(mf_sigbus_info.si_addr_lsb, 12);
	}
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->pfn));
	check_counters(_metadata, self, "recovered");

	EXPECT_TRUE(touch(other));
	check_sigbus(_metadata, other);
	EXPECT_TRUE(touch(self->addr));
	check_sigbus(_metadata, self->addr);

	ASSERT_EQ(munmap(self->addr, self->len), 0);
	self->addr = NULL;
	mf_unpoison_and_check(_metadata, self->pfn, self->corrupted_kb);
}

/*
 * Kernel pages memory failure cannot isolate: poisoning by PFN marks the
 * page (KPF_HWPOISON) and counts an ignored failure (HardwareCorrupted
 * +4 kB), the write fails with EBUSY, and no one is signalled.  Injection
 * is simulated: the page content is intact and its owner keeps using it.
 *
 * Stock 6.12 behaviour (weakness): although nothing was done about the
 * page, it stays marked hwpoisoned and counted in HardwareCorrupted, and
 * unpoison refuses it (EBUSY), so the mark lasts for the rest of the boot:
 * these tests, and every other, only look at deltas.
 */
static void kernel_page(struct __test_metadata *_metadata,
			FIXTURE_DATA(memory_failure_special) *self,
			int (*route)(void *addr, long psize, uint64_t pfn),
			bool top, pfn_match_t match)
{
	int err;

	self->node = 0;
	self->pfn = find_pfn(self->node, top, match);
	ASSERT_NE(self->pfn, 0);
	snapshot(_metadata, self);

	err = inject(self, route, NULL);
	EXPECT_EQ(err, EBUSY);
	EXPECT_EQ(mf_sigbus_seen(), 0);
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->pfn));
	check_counters(_metadata, self, "ignored");

	EXPECT_EQ(mf_unpoison_pfn(self->pfn), EBUSY);
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->pfn));
}

/*
 * A slab page.  Risk: the page really is in use by a cache; only its
 * PG_hwpoison flag changes.  An order-0 slab page is picked, so that when
 * the cache frees it the allocator simply keeps it (a hwpoisoned order-0
 * page never reaches the free lists) instead of checking a compound page.
 */
TEST_F(memory_failure_special_unmapped, kernel_page)
{
	kernel_page(_metadata, &self->special, variant->inject, false, is_small_slab);
}

/*
 * A reserved page from the bottom of memory (firmware area): the kernel
 * never frees or maps it to users, so marking it is harmless.
 */
TEST_F(memory_failure_special_unmapped, reserved_page)
{
	kernel_page(_metadata, &self->special, variant->inject, false, is_reserved);
}

TEST_HARNESS_MAIN
