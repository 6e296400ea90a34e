// SPDX-License-Identifier: GPL-2.0
/*
 * Hard offline of user pages: what a process and an administrator see when
 * a page is declared hardware-poisoned.  Each test poisons a page through
 * one injection route (a fixture variant), checks the signal (si_code,
 * si_addr, si_addr_lsb), /proc/kpageflags, HardwareCorrupted and the
 * per-node memory_failure counters, and unpoisons the page again through
 * debugfs.
 */
#define _GNU_SOURCE
#include "../kselftest_harness.h"
#include "memory-failure.h"

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
	/* Sends the page at @addr (PFN @pfn) to hard offline; 0 or errno. */
	int (*inject)(void *addr, long psize, uint64_t pfn);
	/*
	 * MADV_HWPOISON acts for the caller, as if it had consumed the page:
	 * it is signalled at once (action required).  The other routes act
	 * for nobody in particular: a late-kill process learns of the loss
	 * when it next touches the page.
	 */
	bool signal_at_injection;
};

static int inject_madvise(void *addr, long psize, uint64_t pfn)
{
	return madvise(addr, psize, MADV_HWPOISON) ? errno : 0;
}

static int inject_corrupt_pfn(void *addr, long psize, uint64_t pfn)
{
	return mf_write_pfn(CORRUPT_PFN, pfn);
}

static int inject_hard_offline(void *addr, long psize, uint64_t pfn)
{
	return mf_write_paddr(HARD_OFFLINE_PAGE, pfn);
}

FIXTURE_VARIANT_ADD(memory_failure, madv_hard)
{
	.inject = inject_madvise,
	.signal_at_injection = true,
};

FIXTURE_VARIANT_ADD(memory_failure, corrupt_pfn)
{
	.inject = inject_corrupt_pfn,
};

FIXTURE_VARIANT_ADD(memory_failure, hard_offline_page)
{
	.inject = inject_hard_offline,
};

FIXTURE_SETUP(memory_failure)
{
	if (geteuid())
		SKIP(return, "needs root");
	if (access(UNPOISON_PFN, W_OK))
		SKIP(return, "no hwpoison injector in debugfs");
	self->psize = sysconf(_SC_PAGESIZE);
	ASSERT_EQ(mf_catch_sigbus(), 0);
}

FIXTURE_TEARDOWN(memory_failure)
{
}

/* Take the baseline: the page's PFN and node, and the counters. */
static void snapshot(struct __test_metadata *_metadata,
		     FIXTURE_DATA(memory_failure) *self)
{
	self->pfn = mf_virt_to_pfn(self->addr);
	ASSERT_NE(self->pfn, 0);
	self->node = mf_page_node(self->addr);
	ASSERT_GE(self->node, 0);
	self->corrupted_kb = mf_meminfo_kb("HardwareCorrupted");
	ASSERT_GE(self->corrupted_kb, 0);
	self->node_total = mf_node_stat(self->node, "total");
	self->node_recovered = mf_node_stat(self->node, "recovered");
	ASSERT_GE(self->node_total, 0);
	ASSERT_FALSE(mf_pfn_is_hwpoison(self->pfn));
}

/* Inject through the variant's route; SKIP when the route is refused. */
static void inject(struct __test_metadata *_metadata,
		   FIXTURE_DATA(memory_failure) *self,
		   const FIXTURE_VARIANT(memory_failure) *variant)
{
	int err;

	if (!sigsetjmp(mf_sigbus_env, 1)) {
		err = variant->inject(self->addr, self->psize, self->pfn);
		if (err == EPERM || err == EINVAL)
			SKIP(return, "injection refused: %s", strerror(err));
		ASSERT_EQ(err, 0);
	}
}

/*
 * Unpoison through debugfs and check the page and HardwareCorrupted are back;
 * after a real machine check the kernel refuses, which is not a failure here.
 */
static void unpoison_and_check(struct __test_metadata *_metadata,
			       FIXTURE_DATA(memory_failure) *self)
{
	int err = mf_unpoison_pfn(self->pfn);

	if (err == EOPNOTSUPP) {
		TH_LOG("unpoison refused after a real machine check");
		return;
	}
	ASSERT_EQ(err, 0);
	EXPECT_FALSE(mf_pfn_is_hwpoison(self->pfn));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"), self->corrupted_kb);
}

/*
 * A private anonymous page, dirty: it cannot be recovered from anywhere, so
 * whoever touches it gets SIGBUS BUS_MCEERR_AR for the page's address with
 * si_addr_lsb = PAGE_SHIFT (the madvise caller at once); the page is
 * accounted as one recovered failure on its node.
 */
TEST_F(memory_failure, anon)
{
	self->addr = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->addr, MAP_FAILED);
	memset(self->addr, 0xa5, self->psize);
	snapshot(_metadata, self);

	inject(_metadata, self, variant);
	ASSERT_EQ(mf_sigbus_count, variant->signal_at_injection ? 1 : 0);
	if (mf_sigbus_count) {
		EXPECT_EQ(mf_sigbus_info.si_code, BUS_MCEERR_AR);
		EXPECT_EQ(mf_sigbus_info.si_addr, self->addr);
		EXPECT_EQ(1L << mf_sigbus_info.si_addr_lsb, self->psize);
	}

	if (!sigsetjmp(mf_sigbus_env, 1))
		*(volatile char *)self->addr;
	ASSERT_EQ(mf_sigbus_count, variant->signal_at_injection ? 2 : 1);
	EXPECT_EQ(mf_sigbus_info.si_code, BUS_MCEERR_AR);
	EXPECT_EQ(mf_sigbus_info.si_addr, self->addr);
	EXPECT_EQ(1L << mf_sigbus_info.si_addr_lsb, self->psize);

	EXPECT_TRUE(mf_pfn_is_hwpoison(self->pfn));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"),
		  self->corrupted_kb + self->psize / 1024);
	EXPECT_EQ(mf_node_stat(self->node, "total"), self->node_total + 1);
	EXPECT_EQ(mf_node_stat(self->node, "recovered"),
		  self->node_recovered + 1);

	ASSERT_EQ(munmap(self->addr, self->psize), 0);
	unpoison_and_check(_metadata, self);
}

TEST_HARNESS_MAIN
