// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the names and counters of the hwpoison core (stats.c).
 *
 * The page-type and result names are what the "recovery action" log line
 * prints; tools match them, and they follow the strings of the
 * memory_failure_event tracepoint (include/ras/ras_event.h).
 */
#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/stddef.h>

#include "../memory-failure.h"

/* An enum value and its log name. */
struct mf_name_case {
	const char *desc;
	int value;
	const char *name;
};

#define MF_NAME(value, name)	{ #value, value, name }

/*
 * As MF_PAGE_TYPE in ras_event.h, except that the log says "already
 * poisoned page" where the tracepoint says "already poisoned", and that
 * the tracepoint has no name for MF_MSG_DIFFERENT_COMPOUND.
 */
static const struct mf_name_case mf_page_type_cases[] = {
	MF_NAME(MF_MSG_KERNEL, "reserved kernel page"),
	MF_NAME(MF_MSG_KERNEL_HIGH_ORDER, "high-order kernel page"),
	MF_NAME(MF_MSG_DIFFERENT_COMPOUND,
		"different compound page after locking"),
	MF_NAME(MF_MSG_HUGE, "huge page"),
	MF_NAME(MF_MSG_FREE_HUGE, "free huge page"),
	MF_NAME(MF_MSG_GET_HWPOISON, "get hwpoison page"),
	MF_NAME(MF_MSG_UNMAP_FAILED, "unmapping failed page"),
	MF_NAME(MF_MSG_DIRTY_SWAPCACHE, "dirty swapcache page"),
	MF_NAME(MF_MSG_CLEAN_SWAPCACHE, "clean swapcache page"),
	MF_NAME(MF_MSG_DIRTY_MLOCKED_LRU, "dirty mlocked LRU page"),
	MF_NAME(MF_MSG_CLEAN_MLOCKED_LRU, "clean mlocked LRU page"),
	MF_NAME(MF_MSG_DIRTY_UNEVICTABLE_LRU, "dirty unevictable LRU page"),
	MF_NAME(MF_MSG_CLEAN_UNEVICTABLE_LRU, "clean unevictable LRU page"),
	MF_NAME(MF_MSG_DIRTY_LRU, "dirty LRU page"),
	MF_NAME(MF_MSG_CLEAN_LRU, "clean LRU page"),
	MF_NAME(MF_MSG_TRUNCATED_LRU, "already truncated LRU page"),
	MF_NAME(MF_MSG_BUDDY, "free buddy page"),
	MF_NAME(MF_MSG_DAX, "dax page"),
	MF_NAME(MF_MSG_UNSPLIT_THP, "unsplit thp"),
	MF_NAME(MF_MSG_ALREADY_POISONED, "already poisoned page"),
	MF_NAME(MF_MSG_UNKNOWN, "unknown page"),
};

KUNIT_ARRAY_PARAM_DESC(mf_page_type, mf_page_type_cases, desc);

/* As MF_ACTION_RESULT in ras_event.h. */
static const struct mf_name_case mf_result_cases[] = {
	MF_NAME(MF_IGNORED, "Ignored"),
	MF_NAME(MF_FAILED, "Failed"),
	MF_NAME(MF_DELAYED, "Delayed"),
	MF_NAME(MF_RECOVERED, "Recovered"),
};

KUNIT_ARRAY_PARAM_DESC(mf_result, mf_result_cases, desc);

/* Each page type is logged under the name the tracepoint gives it. */
static void mf_page_type_name_each_type(struct kunit *test)
{
	const struct mf_name_case *c = test->param_value;

	KUNIT_EXPECT_STREQ(test, mf_page_type_name(c->value), c->name);
}

/* The table above covers every page type, in enum order. */
static void mf_page_type_name_cases_cover_enum(struct kunit *test)
{
	int i;

	KUNIT_ASSERT_EQ(test, ARRAY_SIZE(mf_page_type_cases),
			(size_t)MF_MSG_UNKNOWN + 1);
	for (i = 0; i < ARRAY_SIZE(mf_page_type_cases); i++)
		KUNIT_EXPECT_EQ(test, mf_page_type_cases[i].value, i);
}

/* No two page types share a name, so the log tells them apart. */
static void mf_page_type_name_all_distinct(struct kunit *test)
{
	int i, j;

	for (i = 0; i <= MF_MSG_UNKNOWN; i++)
		for (j = i + 1; j <= MF_MSG_UNKNOWN; j++)
			KUNIT_EXPECT_STRNEQ_MSG(test, mf_page_type_name(i),
						mf_page_type_name(j),
						"types %d and %d", i, j);
}

/* A value beyond the enum is reported as an unknown page. */
static void mf_page_type_name_out_of_range_unknown(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, mf_page_type_name(MF_MSG_UNKNOWN + 1),
			   "unknown page");
	KUNIT_EXPECT_STREQ(test, mf_page_type_name(-1), "unknown page");
	KUNIT_EXPECT_STREQ(test, mf_page_type_name(INT_MAX), "unknown page");
}

/* Each result is logged under the name the tracepoint gives it. */
static void mf_result_name_each_result(struct kunit *test)
{
	const struct mf_name_case *c = test->param_value;

	KUNIT_EXPECT_STREQ(test, mf_result_name(c->value), c->name);
}

/* A value beyond the enum is reported as a failure, never as a success. */
static void mf_result_name_out_of_range_failed(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, mf_result_name(MF_RECOVERED + 1), "Failed");
	KUNIT_EXPECT_STREQ(test, mf_result_name(-1), "Failed");
	KUNIT_EXPECT_STREQ(test, mf_result_name(INT_MAX), "Failed");
}

/* A result and the per-node counter it must bump. */
struct mf_stats_case {
	const char *desc;
	enum mf_result result;
	size_t counter;
};

#define MF_STAT(result, field)	\
	{ #result, result, offsetof(struct memory_failure_stats, field) }

static const struct mf_stats_case mf_stats_cases[] = {
	MF_STAT(MF_IGNORED, ignored),
	MF_STAT(MF_FAILED, failed),
	MF_STAT(MF_DELAYED, delayed),
	MF_STAT(MF_RECOVERED, recovered),
};

KUNIT_ARRAY_PARAM_DESC(mf_stats, mf_stats_cases, desc);

static unsigned long mf_stat(const struct memory_failure_stats *s,
			     size_t counter)
{
	return *(const unsigned long *)((const char *)s + counter);
}

/* The four result counters, whose sum must be the total. */
static unsigned long mf_stats_sum(const struct memory_failure_stats *s)
{
	return s->ignored + s->failed + s->delayed + s->recovered;
}

/* One result bumps its own counter and the total, and nothing else. */
static void mf_node_stats_add_bumps_its_counter(struct kunit *test)
{
	const struct mf_stats_case *c = test->param_value;
	struct memory_failure_stats s = { };

	mf_node_stats_add(&s, c->result);
	KUNIT_EXPECT_EQ(test, mf_stat(&s, c->counter), 1UL);
	KUNIT_EXPECT_EQ(test, s.total, 1UL);
	KUNIT_EXPECT_EQ(test, mf_stats_sum(&s), 1UL);
}

/* After any sequence of results the total is the sum of the counters. */
static void mf_node_stats_add_total_is_sum(struct kunit *test)
{
	static const enum mf_result seq[] = {
		MF_RECOVERED, MF_FAILED, MF_RECOVERED, MF_IGNORED, MF_DELAYED,
		MF_RECOVERED, MF_FAILED, MF_DELAYED, MF_RECOVERED,
	};
	struct memory_failure_stats s = { };
	int i;

	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		mf_node_stats_add(&s, seq[i]);
		KUNIT_EXPECT_EQ(test, s.total, (unsigned long)i + 1);
		KUNIT_EXPECT_EQ(test, mf_stats_sum(&s), s.total);
	}
	KUNIT_EXPECT_EQ(test, s.recovered, 4UL);
	KUNIT_EXPECT_EQ(test, s.failed, 2UL);
	KUNIT_EXPECT_EQ(test, s.delayed, 2UL);
	KUNIT_EXPECT_EQ(test, s.ignored, 1UL);
}

/* Counting continues from where a node's counters stand: they never reset. */
static void mf_node_stats_add_accumulates(struct kunit *test)
{
	struct memory_failure_stats s = {
		.total = 10, .ignored = 1, .failed = 2, .delayed = 3,
		.recovered = 4,
	};

	mf_node_stats_add(&s, MF_FAILED);
	mf_node_stats_add(&s, MF_RECOVERED);
	KUNIT_EXPECT_EQ(test, s.total, 12UL);
	KUNIT_EXPECT_EQ(test, s.ignored, 1UL);
	KUNIT_EXPECT_EQ(test, s.failed, 3UL);
	KUNIT_EXPECT_EQ(test, s.delayed, 3UL);
	KUNIT_EXPECT_EQ(test, s.recovered, 5UL);
}

static struct kunit_case mf_stats_test_cases[] = {
	KUNIT_CASE_PARAM(mf_page_type_name_each_type, mf_page_type_gen_params),
	KUNIT_CASE(mf_page_type_name_cases_cover_enum),
	KUNIT_CASE(mf_page_type_name_all_distinct),
	KUNIT_CASE(mf_page_type_name_out_of_range_unknown),
	KUNIT_CASE_PARAM(mf_result_name_each_result, mf_result_gen_params),
	KUNIT_CASE(mf_result_name_out_of_range_failed),
	KUNIT_CASE_PARAM(mf_node_stats_add_bumps_its_counter,
			 mf_stats_gen_params),
	KUNIT_CASE(mf_node_stats_add_total_is_sum),
	KUNIT_CASE(mf_node_stats_add_accumulates),
	{}
};

static struct kunit_suite mf_stats_suite = {
	.name = "memory_failure_stats",
	.test_cases = mf_stats_test_cases,
};

kunit_test_suite(mf_stats_suite);
