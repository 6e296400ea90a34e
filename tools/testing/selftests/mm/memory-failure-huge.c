// SPDX-License-Identifier: GPL-2.0
/*
 * Hard offline of huge pages: an anonymous THP (split so that only the bad
 * 4 KiB subpage is lost, or not splittable because it is pinned), and
 * hugetlb pages (private, shared, free in the pool).  Each test poisons one
 * subpage through one injection route (a fixture variant), checks the
 * signal, /proc/kpageflags, HardwareCorrupted, the per-node memory_failure
 * counters and the hugetlb pool, and unpoisons through debugfs.  Pages no
 * one maps (a free hugetlb page) have a fixture of their own,
 * memory_failure_huge_unmapped, whose variants are the routes that take a
 * PFN.
 */
#define _GNU_SOURCE
#include "../kselftest_harness.h"
#include "memory-failure.h"

#include <sys/uio.h>

#define KPF_THP_BIT		22
#define KPF_HUGE_BIT		17
#define HPAGE_SIZE		(2UL << 20)
#define NR_HUGEPAGES		"/proc/sys/vm/nr_hugepages"
#define THP_ENABLED		"/sys/kernel/mm/transparent_hugepage/enabled"
/* The subpage of a huge page the tests poison: not the head page. */
#define BAD_SUBPAGE		5
/* A helper SKIP()ped the test: the test must return too. */
static inline bool skipped(struct __test_metadata *_metadata)
{
	return _metadata->exit_code == KSFT_SKIP;
}

FIXTURE(memory_failure_huge)
{
	long psize;
	char *map;		/* what to munmap, @map_len bytes */
	size_t map_len;
	char *addr;		/* the huge page */
	char *bad;		/* the poisoned subpage */
	struct mf_baseline base;	/* of @bad */
	int memfd;
	int pipefd[2];
	long nr_hugepages;	/* to restore, or -1 */
};

FIXTURE_VARIANT(memory_failure_huge)
{
	/* Sends the page at @addr (PFN @pfn) to hard offline; 0 or errno. */
	int (*inject)(void *addr, long psize, uint64_t pfn);
	/* MADV_HWPOISON acts for the caller: it is signalled at once. */
	bool signal_at_injection;
};

/*
 * The tests on pages no one maps: MADV_HWPOISON cannot reach them, only the
 * routes that take a PFN do.  This second fixture works on the same state
 * as memory_failure_huge, through the same helpers, setup and teardown.
 */
FIXTURE(memory_failure_huge_unmapped)
{
	FIXTURE_DATA(memory_failure_huge) huge;
};

FIXTURE_VARIANT(memory_failure_huge_unmapped)
{
	/* As in memory_failure_huge: the route, 0 or errno. */
	int (*inject)(void *addr, long psize, uint64_t pfn);
};

FIXTURE_VARIANT_ADD(memory_failure_huge, madv_hard)
{
	.inject = mf_inject_madv_hard,
	.signal_at_injection = true,
};

FIXTURE_VARIANT_ADD(memory_failure_huge, corrupt_pfn)
{
	.inject = mf_inject_corrupt_pfn,
};

FIXTURE_VARIANT_ADD(memory_failure_huge, hard_offline_page)
{
	.inject = mf_inject_hard_offline,
};

FIXTURE_VARIANT_ADD(memory_failure_huge_unmapped, corrupt_pfn)
{
	.inject = mf_inject_corrupt_pfn,
};

FIXTURE_VARIANT_ADD(memory_failure_huge_unmapped, hard_offline_page)
{
	.inject = mf_inject_hard_offline,
};

static void huge_setup(struct __test_metadata *_metadata,
		       FIXTURE_DATA(memory_failure_huge) *self)
{
	if (geteuid())
		SKIP(return, "needs root");
	if (access(UNPOISON_PFN, W_OK))
		SKIP(return, "no hwpoison injector in debugfs");
	self->psize = sysconf(_SC_PAGESIZE);
	self->memfd = -1;
	self->pipefd[0] = -1;
	self->pipefd[1] = -1;
	self->nr_hugepages = -1;
	ASSERT_EQ(mf_catch_sigbus(), 0);
}

static void huge_teardown(struct __test_metadata *_metadata,
			  FIXTURE_DATA(memory_failure_huge) *self)
{
	if (self->pipefd[0] >= 0)
		close(self->pipefd[0]);
	if (self->pipefd[1] >= 0)
		close(self->pipefd[1]);
	if (self->map)
		munmap(self->map, self->map_len);
	if (self->memfd >= 0)
		close(self->memfd);
	if (self->nr_hugepages >= 0)
		EXPECT_EQ(mf_write_long(NR_HUGEPAGES, self->nr_hugepages), 0);
}

FIXTURE_SETUP(memory_failure_huge)
{
	huge_setup(_metadata, self);
}

FIXTURE_TEARDOWN(memory_failure_huge)
{
	huge_teardown(_metadata, self);
}

FIXTURE_SETUP(memory_failure_huge_unmapped)
{
	huge_setup(_metadata, &self->huge);
}

FIXTURE_TEARDOWN(memory_failure_huge_unmapped)
{
	huge_teardown(_metadata, &self->huge);
}

/* Take the baseline of the poisoned subpage. */
static void snapshot(struct __test_metadata *_metadata,
		     FIXTURE_DATA(memory_failure_huge) *self)
{
	mf_snapshot(_metadata, self->bad, &self->base);
}

/* One page more in HardwareCorrupted, per-node counter deltas. */
static void check_counters(struct __test_metadata *_metadata,
			   FIXTURE_DATA(memory_failure_huge) *self,
			   long recovered, long failed)
{
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->base.corrupted_kb + self->psize / 1024);
	EXPECT_EQ(mf_node_stat(self->base.node, "total"), self->base.total + 1);
	EXPECT_EQ(mf_node_stat(self->base.node, "recovered"),
		  self->base.recovered + recovered);
	EXPECT_EQ(mf_node_stat(self->base.node, "failed"),
		  self->base.failed + failed);
	EXPECT_EQ(mf_node_stat(self->base.node, "ignored"), self->base.ignored);
}

/* Inject through the variant's @route; returns 0 or the errno. */
static int inject(struct __test_metadata *_metadata,
		  FIXTURE_DATA(memory_failure_huge) *self,
		  int (*route)(void *addr, long psize, uint64_t pfn))
{
	/* Static: it must survive the SIGBUS handler's siglongjmp(). */
	static int err;

	err = 0;
	if (!sigsetjmp(mf_sigbus_env, 1))
		err = route(self->bad, self->psize, self->base.pfn);
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

/* A SIGBUS for a consumed error at @addr covering 1 << @lsb bytes. */
static void check_sigbus(struct __test_metadata *_metadata, void *addr, int lsb)
{
	EXPECT_EQ(mf_sigbus_info.si_code, BUS_MCEERR_AR);
	EXPECT_EQ(mf_sigbus_info.si_addr, addr);
	EXPECT_EQ(mf_sigbus_info.si_addr_lsb, lsb);
}

/*
 * Inject through the variant's route: only the MADV_HWPOISON caller is
 * signalled at once, for the bad subpage, covering 1 << @lsb bytes.
 */
static void inject_signalled(struct __test_metadata *_metadata,
			     FIXTURE_DATA(memory_failure_huge) *self,
			     const FIXTURE_VARIANT(memory_failure_huge) *variant,
			     int lsb)
{
	ASSERT_EQ(inject(_metadata, self, variant->inject), 0);
	ASSERT_EQ(mf_sigbus_seen(), variant->signal_at_injection ? 1 : 0);
	if (mf_sigbus_seen())
		check_sigbus(_metadata, self->bad, lsb);
}

/* Maps a 2 MiB aligned anonymous THP, filled per subpage; SKIP if none. */
static void map_thp(struct __test_metadata *_metadata,
		    FIXTURE_DATA(memory_failure_huge) *self)
{
	char mode[128] = "";
	FILE *f = fopen(THP_ENABLED, "r");
	long i;

	if (!f)
		SKIP(return, "no transparent hugepages");
	if (!fgets(mode, sizeof(mode), f))
		mode[0] = 0;
	fclose(f);
	if (strstr(mode, "[never]"))
		SKIP(return, "transparent hugepages disabled");

	self->map_len = 2 * HPAGE_SIZE;
	self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->map, MAP_FAILED);
	self->addr = (char *)(((uintptr_t)self->map + HPAGE_SIZE - 1) &
			      ~(HPAGE_SIZE - 1));
	if (madvise(self->addr, HPAGE_SIZE, MADV_HUGEPAGE))
		SKIP(return, "MADV_HUGEPAGE: %s", strerror(errno));
	for (i = 0; i < HPAGE_SIZE / self->psize; i++)
		memset(self->addr + i * self->psize, (char)(i + 1), self->psize);
	if (!(mf_kpageflags(mf_virt_to_pfn(self->addr)) & (1ULL << KPF_THP_BIT)))
		SKIP(return, "no THP could be allocated");
	self->bad = self->addr + BAD_SUBPAGE * self->psize;
}

/* Every subpage but BAD_SUBPAGE still holds its fill byte. */
static int thp_content_intact(FIXTURE_DATA(memory_failure_huge) *self)
{
	long i, j;

	for (i = 0; i < HPAGE_SIZE / self->psize; i++) {
		const char *p = self->addr + i * self->psize;

		if (i == BAD_SUBPAGE)
			continue;
		for (j = 0; j < self->psize; j++)
			if (p[j] != (char)(i + 1))
				return 0;
	}
	return 1;
}

/*
 * A poisoned subpage of an anonymous THP: the THP is split, only that
 * 4 KiB subpage is lost (hwpoisoned, unmapped: SIGBUS BUS_MCEERR_AR for
 * its address with si_addr_lsb = 12), the other 511 subpages stay mapped
 * with their content.  One recovered failure, HardwareCorrupted +4 kB.
 */
TEST_F(memory_failure_huge, thp)
{
	uint64_t next_pfn;

	map_thp(_metadata, self);
	if (skipped(_metadata))
		return;
	snapshot(_metadata, self);
	next_pfn = self->base.pfn + 1;

	inject_signalled(_metadata, self, variant, 12);

	EXPECT_TRUE(mf_pfn_is_hwpoison(self->base.pfn));
	EXPECT_FALSE(mf_pfn_is_hwpoison(next_pfn));
	EXPECT_FALSE(mf_kpageflags(next_pfn) & (1ULL << KPF_THP_BIT));
	EXPECT_EQ(mf_virt_to_pfn(self->bad + self->psize), next_pfn);
	EXPECT_TRUE(thp_content_intact(self));

	EXPECT_TRUE(touch(self->bad));
	check_sigbus(_metadata, self->bad, 12);
	EXPECT_TRUE(touch(self->bad + self->psize - 1));
	check_sigbus(_metadata, self->bad + self->psize - 1, 12);
	EXPECT_FALSE(touch(self->bad + self->psize));

	check_counters(_metadata, self, 1, 0);

	ASSERT_EQ(munmap(self->map, self->map_len), 0);
	self->map = NULL;
	mf_unpoison_and_check(_metadata, self->base.pfn, self->base.corrupted_kb);
}

/*
 * Stock 6.12 behaviour (weakness): a THP that cannot be split because a
 * pipe holds a reference to it (vmsplice) is not recovered: the failure
 * counts as failed, the injection reports EHWPOISON, the subpage is marked
 * hwpoisoned but the THP stays mapped, so a late-kill process reads the
 * "bad" subpage without any signal.  Only the MADV_HWPOISON caller (action
 * required) is signalled, for the subpage address but with the THP's
 * si_addr_lsb = 21.
 */
TEST_F(memory_failure_huge, thp_pinned)
{
	struct iovec iov;
	int err;

	map_thp(_metadata, self);
	if (skipped(_metadata))
		return;
	ASSERT_EQ(pipe(self->pipefd), 0);
	iov.iov_base = self->bad;
	iov.iov_len = self->psize;
	ASSERT_EQ(vmsplice(self->pipefd[1], &iov, 1, 0), self->psize);
	snapshot(_metadata, self);

	err = inject(_metadata, self, variant->inject);
	if (variant->signal_at_injection) {
		ASSERT_EQ(mf_sigbus_seen(), 1);
		check_sigbus(_metadata, self->bad, 21);
	} else {
		EXPECT_EQ(err, EHWPOISON);
		ASSERT_EQ(mf_sigbus_seen(), 0);
	}

	EXPECT_TRUE(mf_pfn_is_hwpoison(self->base.pfn));
	EXPECT_TRUE(mf_kpageflags(self->base.pfn) & (1ULL << KPF_THP_BIT));
	EXPECT_EQ(mf_virt_to_pfn(self->bad), self->base.pfn);
	ASSERT_FALSE(touch(self->bad));
	EXPECT_EQ(self->bad[0], (char)(BAD_SUBPAGE + 1));
	EXPECT_TRUE(thp_content_intact(self));

	check_counters(_metadata, self, 0, 1);

	/* Unpoison is refused while the THP is mapped and pinned. */
	EXPECT_EQ(mf_unpoison_pfn(self->base.pfn), EBUSY);
	close(self->pipefd[0]);
	close(self->pipefd[1]);
	self->pipefd[0] = -1;
	self->pipefd[1] = -1;
	ASSERT_EQ(munmap(self->map, self->map_len), 0);
	self->map = NULL;
	mf_unpoison_and_check(_metadata, self->base.pfn, self->base.corrupted_kb);
}

/* Grows the hugetlb pool by one 2 MiB page; SKIP when impossible. */
static void grow_pool(struct __test_metadata *_metadata,
		      FIXTURE_DATA(memory_failure_huge) *self)
{
	long nr = mf_read_long(NR_HUGEPAGES);

	if (nr < 0 || mf_meminfo_kb("Hugepagesize") != HPAGE_SIZE / 1024)
		SKIP(return, "no 2 MiB hugetlb pages");
	self->nr_hugepages = nr;
	/*
	 * Surplus pages in use (one an earlier test leaked on stock, say)
	 * become persistent first: count them in, to get a free page.
	 */
	ASSERT_EQ(mf_write_long(NR_HUGEPAGES,
				nr + mf_meminfo_kb("HugePages_Surp") + 1), 0);
	if (mf_meminfo_kb("HugePages_Free") < 1)
		SKIP(return, "no free hugetlb page could be allocated");
}

/* Fills the hugetlb page at @self->addr and picks the bad subpage. */
static void fill_huge(struct __test_metadata *_metadata,
		      FIXTURE_DATA(memory_failure_huge) *self)
{
	memset(self->addr, 0x5a, HPAGE_SIZE);
	self->bad = self->addr + BAD_SUBPAGE * self->psize;
	ASSERT_TRUE(mf_kpageflags(mf_virt_to_pfn(self->addr)) &
		    (1ULL << KPF_HUGE_BIT));
}

/* Maps a private hugetlb page, fills it and takes the baseline. */
static void map_hugetlb_private(struct __test_metadata *_metadata,
				FIXTURE_DATA(memory_failure_huge) *self)
{
	self->map_len = HPAGE_SIZE;
	self->map = mmap(NULL, HPAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_NE(self->map, MAP_FAILED);
	self->addr = self->map;
	fill_huge(_metadata, self);
	snapshot(_metadata, self);
}

/*
 * A page of the pool that a private mapping filled and let go of: free
 * again, with a known PFN and baseline.
 */
static void free_pool_page(struct __test_metadata *_metadata,
			   FIXTURE_DATA(memory_failure_huge) *self)
{
	grow_pool(_metadata, self);
	if (skipped(_metadata))
		return;
	map_hugetlb_private(_metadata, self);
	ASSERT_EQ(munmap(self->map, self->map_len), 0);
	self->map = NULL;
}

/* Maps a shared hugetlb page (memfd), fills it and takes the baseline. */
static void map_hugetlb_shared(struct __test_metadata *_metadata,
			       FIXTURE_DATA(memory_failure_huge) *self)
{
	self->memfd = memfd_create("mf-hugetlb", MFD_HUGETLB);
	if (self->memfd < 0)
		SKIP(return, "memfd_create(MFD_HUGETLB): %s", strerror(errno));
	ASSERT_EQ(ftruncate(self->memfd, HPAGE_SIZE), 0);
	self->map_len = HPAGE_SIZE;
	self->map = mmap(NULL, HPAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->memfd, 0);
	ASSERT_NE(self->map, MAP_FAILED);
	self->addr = self->map;
	fill_huge(_metadata, self);
	snapshot(_metadata, self);
}

/* Pins the first base page at @self->addr with a pipe (vmsplice()). */
static void pin_with_pipe(struct __test_metadata *_metadata,
			  FIXTURE_DATA(memory_failure_huge) *self)
{
	struct iovec iov = { .iov_base = self->addr, .iov_len = self->psize };

	ASSERT_EQ(pipe(self->pipefd), 0);
	ASSERT_EQ(vmsplice(self->pipefd[1], &iov, 1, 0), self->psize);
}

/*
 * Unmaps the page and closes the pipe, which frees it; a poisoned hugetlb
 * page may be broken up from a work item: give it time.
 */
static void unmap_and_unpin(struct __test_metadata *_metadata,
			    FIXTURE_DATA(memory_failure_huge) *self)
{
	ASSERT_EQ(munmap(self->map, self->map_len), 0);
	self->map = NULL;
	close(self->pipefd[0]);
	close(self->pipefd[1]);
	self->pipefd[0] = -1;
	self->pipefd[1] = -1;
	usleep(500000);
}

/*
 * Closes the memfd of a shared hugetlb page, which frees the page; a
 * poisoned one is broken up from a work item: wait until its bad page is
 * not part of a hugetlb page any more (at most 2 s), then for the work to
 * finish with the rest.
 */
static void close_hugetlb_file(FIXTURE_DATA(memory_failure_huge) *self)
{
	int i;

	close(self->memfd);
	self->memfd = -1;
	for (i = 0; i < 20 && mf_kpageflags(self->base.pfn) &
			      (1ULL << KPF_HUGE_BIT); i++)
		usleep(100000);
	usleep(200000);
}

/*
 * A bad page still in a hugetlb page (stock keeps it there) is unpoisoned
 * whole, by its head, to leave the pool as it was: true if so.
 */
static bool unpoisoned_whole(FIXTURE_DATA(memory_failure_huge) *self)
{
	if (!(mf_kpageflags(self->base.pfn) & (1ULL << KPF_HUGE_BIT)))
		return false;
	mf_unpoison_pfn(self->base.pfn - BAD_SUBPAGE);
	return true;
}

/*
 * A private hugetlb page with a poisoned subpage: the whole 2 MiB page is
 * lost for the process (SIGBUS BUS_MCEERR_AR with si_addr_lsb = 21, si_addr
 * the address touched), the page is dissolved out of the pool
 * (HugePages_Total - 1: the healthy subpages go back to the buddy
 * allocator), one recovered failure, HardwareCorrupted +4 kB (one page
 * counted, not 2 MiB).  The poisoned subpage can then be unpoisoned as an
 * ordinary page.
 */
TEST_F(memory_failure_huge, hugetlb_private)
{
	long total;

	grow_pool(_metadata, self);
	if (skipped(_metadata))
		return;
	map_hugetlb_private(_metadata, self);
	total = mf_meminfo_kb("HugePages_Total");

	inject_signalled(_metadata, self, variant, 21);

	EXPECT_TRUE(touch(self->addr + HPAGE_SIZE - 1));
	check_sigbus(_metadata, self->addr + HPAGE_SIZE - 1, 21);
	EXPECT_TRUE(touch(self->bad));
	check_sigbus(_metadata, self->bad, 21);

	EXPECT_TRUE(mf_pfn_is_hwpoison(self->base.pfn));
	check_counters(_metadata, self, 1, 0);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total - 1);

	/* Unpoison frees the 4 KiB page; the pool does not get it back. */
	ASSERT_EQ(munmap(self->map, self->map_len), 0);
	self->map = NULL;
	mf_unpoison_and_check(_metadata, self->base.pfn, self->base.corrupted_kb);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total - 1);
}

/*
 * A private hugetlb page whose last reference outlives the error (a pipe
 * holds it, through vmsplice()): memory failure cannot dissolve it, and
 * reports it not recovered.  When the pipe lets go, the folio is broken up
 * like a dissolved one (HugePages_Total and HugePages_Free one below what
 * they were with it free), and its bad page is taken off the allocator
 * (hwpoisoned, not a buddy page) and unpoisons as an ordinary page.  A
 * new mapping the pool grants can be touched.
 *
 * Stock 6.12 (weakness): the folio goes to the pool's free list, where it
 * counts as free although no fault may use it: when it is the only free
 * page (and the pool may not overcommit), a mapping reserved against it
 * gets SIGBUS (BUS_ADRERR) on its first touch.
 */
TEST_F(memory_failure_huge, hugetlb_late_free)
{
	long total, nfree;
	char *p;
	int err;

	grow_pool(_metadata, self);
	if (skipped(_metadata))
		return;
	total = mf_meminfo_kb("HugePages_Total");
	nfree = mf_meminfo_kb("HugePages_Free");
	map_hugetlb_private(_metadata, self);
	pin_with_pipe(_metadata, self);

	err = inject(_metadata, self, variant->inject);
	EXPECT_TRUE(err == 0 || err == EBUSY);
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->base.pfn));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->base.corrupted_kb + self->psize / 1024);

	unmap_and_unpin(_metadata, self);

	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total - 1);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Free"), nfree - 1);
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->base.pfn));
	EXPECT_FALSE(mf_kpageflags(self->base.pfn) & (1ULL << KPF_BUDDY));
	EXPECT_FALSE(mf_kpageflags(self->base.pfn) & (1ULL << KPF_HUGE_BIT));

	p = mmap(NULL, HPAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p != MAP_FAILED) {
		EXPECT_FALSE(touch(p));
		munmap(p, HPAGE_SIZE);
	}
	if (unpoisoned_whole(self))
		return;
	mf_unpoison_and_check(_metadata, self->base.pfn,
			      self->base.corrupted_kb);
}

/*
 * Two bad pages in one hugetlb page that a pipe holds: the second error
 * (through a PFN: MADV_HWPOISON's page is unmapped by then) finds the page
 * poisoned already and is recorded with the first.  When
 * the pipe lets go, the page is broken up and both bad pages are kept off
 * the allocator (neither a buddy page nor reused), each counted once in
 * HardwareCorrupted, and each unpoisons as an ordinary page; the healthy
 * page between them goes back to the allocator.
 *
 * Stock 6.12 (weakness 19): the page goes to the pool's free list.
 */
TEST_F(memory_failure_huge, hugetlb_two_errors)
{
	uint64_t pfn2;
	char *bad2;
	long total;
	int err;

	grow_pool(_metadata, self);
	if (skipped(_metadata))
		return;
	map_hugetlb_private(_metadata, self);
	total = mf_meminfo_kb("HugePages_Total");
	bad2 = self->bad + self->psize;
	pfn2 = self->base.pfn + 1;
	ASSERT_EQ(mf_virt_to_pfn(bad2), pfn2);
	pin_with_pipe(_metadata, self);

	err = inject(_metadata, self, variant->inject);
	EXPECT_TRUE(err == 0 || err == EBUSY);
	/* The page is unmapped now: MADV_HWPOISON cannot reach it again. */
	if (!sigsetjmp(mf_sigbus_env, 1))
		(variant->signal_at_injection ? mf_inject_corrupt_pfn :
		 variant->inject)(bad2, self->psize, pfn2);
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->base.pfn));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->base.corrupted_kb + 2 * self->psize / 1024);

	unmap_and_unpin(_metadata, self);

	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total - 1);
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->base.pfn));
	EXPECT_TRUE(mf_pfn_is_hwpoison(pfn2));
	EXPECT_FALSE(mf_pfn_is_hwpoison(self->base.pfn - 1));
	EXPECT_FALSE(mf_kpageflags(self->base.pfn) & (1ULL << KPF_BUDDY));
	EXPECT_FALSE(mf_kpageflags(pfn2) & (1ULL << KPF_BUDDY));
	EXPECT_FALSE(mf_kpageflags(pfn2) & (1ULL << KPF_HUGE_BIT));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->base.corrupted_kb + 2 * self->psize / 1024);

	if (unpoisoned_whole(self))
		return;
	mf_unpoison_and_check(_metadata, pfn2,
			      self->base.corrupted_kb + self->psize / 1024);
	mf_unpoison_and_check(_metadata, self->base.pfn,
			      self->base.corrupted_kb);
}

#define FILTER_DIR		"/sys/kernel/debug/hwpoison/corrupt-filter-"

/*
 * The injector's filter vetoes an error on an in-use hugetlb page (flags
 * filter: huge pages are not wanted): the error is dropped before anything
 * changes.  Nothing is marked (neither the page nor the folio), nothing is
 * counted, the page stays readable, and the pool keeps it; once it is
 * freed and dissolved, none of its pages is marked either.
 *
 * Stock 6.12 (weakness): the veto moves the folio's mark to the vetoed
 * page, which stays marked hwpoison (uncounted) once the folio is freed.
 */
TEST_F(memory_failure_huge, hugetlb_filter_veto)
{
	static const char * const names[] = { "flags-mask", "flags-value",
					      "enable" };
	long saved[3], want[3] = { 1L << KPF_HUGE_BIT, 0, 1 };
	uint64_t head;
	char path[128];
	long total;
	int i, err;

	grow_pool(_metadata, self);
	if (skipped(_metadata))
		return;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), FILTER_DIR "%s", names[i]);
		saved[i] = mf_read_long(path);
		if (saved[i] < 0)
			SKIP(return, "no %s", path);
	}
	ASSERT_EQ(saved[2], 0);
	map_hugetlb_private(_metadata, self);
	head = mf_virt_to_pfn(self->addr);
	total = mf_meminfo_kb("HugePages_Total");

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), FILTER_DIR "%s", names[i]);
		ASSERT_EQ(mf_write_long(path, want[i]), 0);
	}
	err = inject(_metadata, self, variant->inject);
	for (i = 2; i >= 0; i--) {
		snprintf(path, sizeof(path), FILTER_DIR "%s", names[i]);
		EXPECT_EQ(mf_write_long(path, saved[i]), 0);
	}

	EXPECT_EQ(err, 0);
	EXPECT_EQ(mf_sigbus_seen(), 0);
	EXPECT_FALSE(mf_pfn_is_hwpoison(self->base.pfn));
	EXPECT_FALSE(mf_pfn_is_hwpoison(head));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"), self->base.corrupted_kb);
	EXPECT_EQ(mf_node_stat(self->base.node, "total"), self->base.total);
	EXPECT_FALSE(touch(self->bad));
	EXPECT_EQ(self->bad[0], 0x5a);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total);

	ASSERT_EQ(munmap(self->map, self->map_len), 0);
	self->map = NULL;
	/* Freed and dissolved out of the pool: no page of it stays marked. */
	EXPECT_EQ(mf_write_long(NR_HUGEPAGES, self->nr_hugepages), 0);
	self->nr_hugepages = -1;
	EXPECT_FALSE(mf_pfn_is_hwpoison(self->base.pfn));
	EXPECT_FALSE(mf_pfn_is_hwpoison(head));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"), self->base.corrupted_kb);
	/*
	 * A page stock left marked is not unpoisoned: it was never counted,
	 * and unpoison would take HardwareCorrupted below zero.
	 */
}

/*
 * A shared hugetlb page (memfd, MFD_HUGETLB) with a poisoned subpage: the
 * page stays in the file (HugePages_Total unchanged), every access to the
 * 2 MiB range gets SIGBUS BUS_MCEERR_AR with si_addr_lsb = 21, one
 * recovered failure, HardwareCorrupted +4 kB; unpoison is refused while
 * the file holds it.  When the file goes away the page is freed and
 * broken up like a dissolved one (HugePages_Total one below, HugePages_Free
 * as while it was in use): the bad page stays marked and counted, taken
 * off the allocator, the head does not; the bad page unpoisons as an
 * ordinary page.
 *
 * Stock 6.12 behaviour (weakness 5): memory failure keeps a reference on
 * the page, so when the file goes away it is neither broken up nor freed:
 * all 2 MiB stay lost, counted in use by the pool, until it is unpoisoned,
 * and only by its head PFN.
 */
TEST_F(memory_failure_huge, hugetlb_shared)
{
	long total, nfree;

	grow_pool(_metadata, self);
	if (skipped(_metadata))
		return;
	nfree = mf_meminfo_kb("HugePages_Free");
	map_hugetlb_shared(_metadata, self);
	if (skipped(_metadata))
		return;
	total = mf_meminfo_kb("HugePages_Total");

	inject_signalled(_metadata, self, variant, 21);

	EXPECT_TRUE(touch(self->addr));
	check_sigbus(_metadata, self->addr, 21);
	EXPECT_TRUE(touch(self->bad));
	check_sigbus(_metadata, self->bad, 21);

	EXPECT_TRUE(mf_pfn_is_hwpoison(self->base.pfn));
	check_counters(_metadata, self, 1, 0);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total);

	ASSERT_EQ(munmap(self->map, self->map_len), 0);
	self->map = NULL;
	EXPECT_EQ(mf_unpoison_pfn(self->base.pfn - BAD_SUBPAGE), EBUSY);
	EXPECT_EQ(mf_unpoison_pfn(self->base.pfn), EBUSY);

	close_hugetlb_file(self);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total - 1);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Free"), nfree - 1);
	EXPECT_TRUE(mf_pfn_is_hwpoison(self->base.pfn));
	EXPECT_FALSE(mf_kpageflags(self->base.pfn) & (1ULL << KPF_BUDDY));
	EXPECT_FALSE(mf_kpageflags(self->base.pfn) & (1ULL << KPF_HUGE_BIT));
	EXPECT_FALSE(mf_pfn_is_hwpoison(self->base.pfn - BAD_SUBPAGE));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->base.corrupted_kb + self->psize / 1024);
	if (unpoisoned_whole(self))
		return;
	mf_unpoison_and_check(_metadata, self->base.pfn,
			      self->base.corrupted_kb);
}

/*
 * A page of the pool in a hugetlbfs file (the memfd) that nothing maps,
 * with its baseline taken: false if the test was skipped.
 */
static bool file_page_unmapped(struct __test_metadata *_metadata,
			       FIXTURE_DATA(memory_failure_huge) *h)
{
	grow_pool(_metadata, h);
	if (skipped(_metadata))
		return false;
	map_hugetlb_shared(_metadata, h);
	if (skipped(_metadata))
		return false;
	ASSERT_EQ(munmap(h->map, h->map_len), 0);
	h->map = NULL;
	return true;
}

/*
 * The same subpage of an in-use hugetlb page poisoned again, three times,
 * by PFN (the page stays in its file, poisoned): each repeat fails with
 * EHWPOISON and changes nothing, neither HardwareCorrupted nor the node's
 * counts.  Once the file is gone, the page is broken up and unpoison of
 * the bad page gives back exactly what the first error took.
 *
 * Stock 6.12 (weakness): every repeat adds 4 kB to HardwareCorrupted,
 * which unpoison does not take back.
 */
TEST_F(memory_failure_huge_unmapped, hugetlb_repeat)
{
	FIXTURE_DATA(memory_failure_huge) *h = &self->huge;
	int i;

	if (!file_page_unmapped(_metadata, h))
		return;

	ASSERT_EQ(inject(_metadata, h, variant->inject), 0);
	EXPECT_TRUE(mf_pfn_is_hwpoison(h->base.pfn));
	check_counters(_metadata, h, 1, 0);

	for (i = 0; i < 3; i++)
		EXPECT_EQ(inject(_metadata, h, variant->inject), EHWPOISON);
	EXPECT_EQ(mf_sigbus_seen(), 0);
	EXPECT_TRUE(mf_pfn_is_hwpoison(h->base.pfn));
	check_counters(_metadata, h, 1, 0);

	close_hugetlb_file(h);
	EXPECT_FALSE(mf_kpageflags(h->base.pfn) & (1ULL << KPF_HUGE_BIT));
	if (unpoisoned_whole(h))
		return;
	mf_unpoison_and_check(_metadata, h->base.pfn, h->base.corrupted_kb);
}

#define FAILSLAB		"/sys/kernel/debug/failslab/"

/*
 * Arms failslab (@on) so that the first allocation of this task that may
 * not sleep fails (a raw error record is allocated under hugetlb_lock),
 * or disarms it; false when there is no failslab to arm.
 */
static bool fail_next_atomic_slab(bool on)
{
	static const char *const attrs[][2] = {
		{ "task-filter", "Y" }, { "ignore-gfp-wait", "Y" },
		{ "cache-filter", "N" }, { "verbose", "0" }, { "space", "0" },
		{ "interval", "1" }, { "times", "1" }, { "probability", "100" },
	};
	char path[128];
	unsigned int i;

	if (!on) {
		mf_write_file("/proc/self/make-it-fail", "0");
		return !mf_write_file(FAILSLAB "probability", "0");
	}
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), FAILSLAB "%s", attrs[i][0]);
		if (mf_write_file(path, attrs[i][1]))
			return false;
	}
	return !mf_write_file("/proc/self/make-it-fail", "1");
}

/*
 * A second error in a hugetlb file page whose record cannot be allocated
 * (failslab fails it): the records of the folio are given up, so no page
 * of it can be told good from bad any more; a read of a healthy part of
 * the file fails with EIO, where before it returned the data.  Both errors
 * stay counted: HardwareCorrupted two pages up, the node's total two up.
 * When the file goes away the folio is not broken up (which pages are bad
 * is not known), and neither error is uncounted.
 *
 * Stock 6.12 (weakness): the failed allocation uncounts the page recorded
 * before it, so HardwareCorrupted is one page up for two bad pages.
 */
TEST_F(memory_failure_huge_unmapped, hugetlb_record_alloc_fails)
{
	FIXTURE_DATA(memory_failure_huge) *h = &self->huge;
	uint64_t pfn2;
	char buf[64];
	int err;

	if (!file_page_unmapped(_metadata, h))
		return;
	pfn2 = h->base.pfn + 4;

	ASSERT_EQ(inject(_metadata, h, variant->inject), 0);
	check_counters(_metadata, h, 1, 0);
	/* The first page is recorded: the rest of the file reads. */
	ASSERT_EQ(pread(h->memfd, buf, sizeof(buf), 0), sizeof(buf));

	if (!fail_next_atomic_slab(true)) {
		fail_next_atomic_slab(false);
		SKIP(return, "no failslab in debugfs");
	}
	err = variant->inject(NULL, h->psize, pfn2);
	fail_next_atomic_slab(false);
	EXPECT_EQ(err, EHWPOISON);
	EXPECT_EQ(mf_read_long(FAILSLAB "times"), 0);
	EXPECT_EQ(pread(h->memfd, buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, EIO);

	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  h->base.corrupted_kb + 2 * h->psize / 1024);
	EXPECT_EQ(mf_node_stat(h->base.node, "total"), h->base.total + 2);

	close_hugetlb_file(h);
	EXPECT_TRUE(mf_pfn_is_hwpoison(h->base.pfn));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  h->base.corrupted_kb + 2 * h->psize / 1024);
}

/*
 * A free hugetlb page in the pool, poisoned by PFN: it is dissolved (the
 * pool shrinks by one page, HugePages_Total and HugePages_Free - 1), the
 * healthy subpages go back to the buddy allocator, one recovered failure,
 * HardwareCorrupted +4 kB; unpoison gives the subpage back.
 */
TEST_F(memory_failure_huge_unmapped, hugetlb_free)
{
	FIXTURE_DATA(memory_failure_huge) *h = &self->huge;
	long total, nfree;

	free_pool_page(_metadata, h);
	if (skipped(_metadata))
		return;
	total = mf_meminfo_kb("HugePages_Total");
	nfree = mf_meminfo_kb("HugePages_Free");

	ASSERT_EQ(inject(_metadata, h, variant->inject), 0);
	EXPECT_EQ(mf_sigbus_seen(), 0);
	EXPECT_TRUE(mf_pfn_is_hwpoison(h->base.pfn));
	EXPECT_FALSE(mf_kpageflags(h->base.pfn) & (1ULL << KPF_HUGE_BIT));
	check_counters(_metadata, h, 1, 0);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total - 1);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Free"), nfree - 1);

	mf_unpoison_and_check(_metadata, h->base.pfn, h->base.corrupted_kb);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total - 1);
}

/*
 * A free hugetlb page promised to a mapping's reservation, poisoned by PFN
 * when every free page of the pool is reserved: hugetlb will not dissolve
 * a reserved page, so a fresh page from the same node takes its place
 * (HugePages_Total, _Free and _Rsvd unchanged), and the mapping's first
 * touch of each page gets a healthy, zeroed page with no signal.  The bad
 * page is counted once, recovered, and unpoisons as an ordinary page.
 *
 * Stock 6.12 (weakness): the injection fails with EBUSY and the poisoned
 * page stays in the pool, counted free; a fault that needs it gets SIGBUS
 * (BUS_ADRERR).
 */
TEST_F(memory_failure_huge_unmapped, hugetlb_free_reserved)
{
	FIXTURE_DATA(memory_failure_huge) *h = &self->huge;
	long total, nfree, rsvd, nres, i;

	free_pool_page(_metadata, h);
	if (skipped(_metadata))
		return;

	/* Reserve what is free and not yet reserved: our page among it. */
	nres = mf_meminfo_kb("HugePages_Free") - mf_meminfo_kb("HugePages_Rsvd");
	ASSERT_GE(nres, 1);
	h->memfd = memfd_create("mf-hugetlb-rsvd", MFD_HUGETLB);
	ASSERT_GE(h->memfd, 0);
	ASSERT_EQ(ftruncate(h->memfd, nres * HPAGE_SIZE), 0);
	h->map_len = nres * HPAGE_SIZE;
	h->map = mmap(NULL, h->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      h->memfd, 0);
	ASSERT_NE(h->map, MAP_FAILED);
	total = mf_meminfo_kb("HugePages_Total");
	nfree = mf_meminfo_kb("HugePages_Free");
	rsvd = mf_meminfo_kb("HugePages_Rsvd");
	ASSERT_EQ(nfree, rsvd);

	ASSERT_EQ(inject(_metadata, h, variant->inject), 0);
	EXPECT_TRUE(mf_pfn_is_hwpoison(h->base.pfn));
	EXPECT_FALSE(mf_kpageflags(h->base.pfn) & (1ULL << KPF_HUGE_BIT));
	check_counters(_metadata, h, 1, 0);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Total"), total);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Free"), nfree);
	EXPECT_EQ(mf_meminfo_kb("HugePages_Rsvd"), rsvd);

	for (i = 0; i < nres; i++) {
		char *page = h->map + i * HPAGE_SIZE;

		ASSERT_EQ(touch(page), 0);
		EXPECT_EQ(page[0], 0);
		EXPECT_NE(mf_virt_to_pfn(page), h->base.pfn - BAD_SUBPAGE);
	}
	EXPECT_EQ(mf_sigbus_seen(), 0);

	ASSERT_EQ(munmap(h->map, h->map_len), 0);
	h->map = NULL;
	close(h->memfd);
	h->memfd = -1;
	mf_unpoison_and_check(_metadata, h->base.pfn, h->base.corrupted_kb);
}

TEST_HARNESS_MAIN
