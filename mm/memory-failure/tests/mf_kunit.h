/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the memory-failure KUnit suites: pages and page-cache
 * folios that a test owns and that are given back when the test ends,
 * whether it passed or not.
 */
#ifndef _MM_MEMORY_FAILURE_TESTS_MF_KUNIT_H
#define _MM_MEMORY_FAILURE_TESTS_MF_KUNIT_H

#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/shmem_fs.h>

/*
 * A PFN that no struct page can describe: memory_failure() says -ENXIO,
 * soft_offline_page() -ENXIO and unpoison_memory() -EIO.
 */
static inline unsigned long mf_kunit_bad_pfn(void)
{
	return (1UL << (MAX_PHYSMEM_BITS - PAGE_SHIFT)) + 1;
}

static inline void mf_kunit_free_page(void *page)
{
	__free_page(page);
}

static inline void mf_kunit_folio_put(void *folio)
{
	folio_put(folio);
}

/* An order-0 kernel page, freed at the end of the test. */
static inline struct page *mf_kunit_alloc_page(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mf_kunit_free_page,
							page), 0);
	return page;
}

/* A large (compound) folio of @order, put at the end of the test. */
static inline struct folio *mf_kunit_alloc_folio(struct kunit *test,
						 unsigned int order)
{
	struct folio *folio = folio_alloc(GFP_KERNEL, order);

	KUNIT_ASSERT_NOT_NULL(test, folio);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mf_kunit_folio_put,
							folio), 0);
	return folio;
}

/**
 * struct mf_kunit_shmem - a one-page shmem file and its page
 * @file: the file
 * @folio: its page-cache folio at index 0, with a reference of ours; a test
 *	that drops the reference sets it to NULL
 */
struct mf_kunit_shmem {
	struct file *file;
	struct folio *folio;
};

static inline void mf_kunit_shmem_release(void *data)
{
	struct mf_kunit_shmem *s = data;

	if (s->folio)
		folio_put(s->folio);
	fput(s->file);
}

/*
 * A page-cache page of a fresh shmem file: a page on the LRU (once the
 * per-CPU batches are drained), swap-backed but not in the swap cache.
 * The file and the page go away at the end of the test.
 */
static inline struct mf_kunit_shmem *mf_kunit_shmem_page(struct kunit *test)
{
	struct mf_kunit_shmem *s;
	struct folio *folio;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	s->file = shmem_file_setup("mf_kunit", PAGE_SIZE, VM_NORESERVE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s->file);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							mf_kunit_shmem_release,
							s), 0);
	folio = shmem_read_folio(s->file->f_mapping, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	s->folio = folio;
	return s;
}

#endif /* _MM_MEMORY_FAILURE_TESTS_MF_KUNIT_H */
