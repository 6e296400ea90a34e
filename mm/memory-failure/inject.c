// SPDX-License-Identifier: GPL-2.0-only
/*
 * The debugfs hwpoison/ injector: software memory errors for testing.
 *
 * corrupt-pfn and unpoison-pfn take a PFN; the corrupt-filter-* files
 * restrict which pages corrupt-pfn really poisons (filter.c).
 */
/* Unprefixed, as it always was: log scrapers match these lines whole. */
#define pr_fmt(fmt) fmt

#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/hugetlb.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "../internal.h"
#include "memory-failure.h"

static struct dentry *mf_inject_dir;

/* A PFN written to corrupt-pfn: poison it, unless the filter says no. */
static int mf_inject_corrupt(unsigned long pfn)
{
	int ret;

	if (!pfn_valid(pfn))
		return -ENXIO;
	/* Filtered injections succeed without doing anything. */
	if (hwpoison_filter_enable && mf_filter_vetoes_pfn(pfn))
		return 0;

	pr_info("Injecting memory failure at pfn %#lx\n", pfn);
	ret = memory_failure(pfn, MF_SW_SIMULATED);
	return ret == -EOPNOTSUPP ? 0 : ret;
}

/* What a write to one of the two PFN files does; the file's data. */
struct mf_pfn_action {
	int (*act)(unsigned long pfn);
};

static struct mf_pfn_action mf_corrupt_action = { mf_inject_corrupt };
static struct mf_pfn_action mf_unpoison_action = { unpoison_memory };

static int mf_pfn_write(void *data, u64 val)
{
	struct mf_pfn_action *action = data;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/* A PFN is an unsigned long: no bits may be dropped on the way. */
	if (val != (unsigned long)val)
		return -ENXIO;
	return action->act(val);
}

DEFINE_DEBUGFS_ATTRIBUTE(mf_pfn_fops, NULL, mf_pfn_write, "%lli\n");

/*
 * The filter files hold u32 and u64 values.  The u32 ones refuse numbers
 * that do not fit with -ERANGE, where debugfs_create_u32() would silently
 * keep the low 32 bits.
 */
static int mf_u32_get(void *data, u64 *val)
{
	*val = READ_ONCE(*(u32 *)data);
	return 0;
}

static int mf_u32_set(void *data, u64 val)
{
	if (val > U32_MAX)
		return -ERANGE;
	WRITE_ONCE(*(u32 *)data, val);
	return 0;
}

static int mf_u64_get(void *data, u64 *val)
{
	*val = READ_ONCE(*(u64 *)data);
	return 0;
}

static int mf_u64_set(void *data, u64 val)
{
	WRITE_ONCE(*(u64 *)data, val);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(mf_u32_fops, mf_u32_get, mf_u32_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(mf_u64_fops, mf_u64_get, mf_u64_set, "%llu\n");

/* The files of hwpoison/, by name; the memcg filter comes last. */
static const struct {
	const char *name;
	umode_t mode;
	void *data;
	const struct file_operations *fops;
} mf_inject_files[] = {
	{ "corrupt-pfn", 0200, &mf_corrupt_action, &mf_pfn_fops },
	{ "unpoison-pfn", 0200, &mf_unpoison_action, &mf_pfn_fops },
	{ "corrupt-filter-enable", 0600, &hwpoison_filter_enable, &mf_u32_fops },
	{ "corrupt-filter-dev-major", 0600, &hwpoison_filter_dev_major,
	  &mf_u32_fops },
	{ "corrupt-filter-dev-minor", 0600, &hwpoison_filter_dev_minor,
	  &mf_u32_fops },
	{ "corrupt-filter-flags-mask", 0600, &hwpoison_filter_flags_mask,
	  &mf_u64_fops },
	{ "corrupt-filter-flags-value", 0600, &hwpoison_filter_flags_value,
	  &mf_u64_fops },
	{ "corrupt-filter-memcg", 0600, &hwpoison_filter_memcg, &mf_u64_fops },
};

static int __init mf_inject_init(void)
{
	unsigned int i, n = ARRAY_SIZE(mf_inject_files);

	if (!IS_ENABLED(CONFIG_MEMCG))
		n--;
	mf_inject_dir = debugfs_create_dir("hwpoison", NULL);
	for (i = 0; i < n; i++)
		debugfs_create_file_unsafe(mf_inject_files[i].name,
					   mf_inject_files[i].mode,
					   mf_inject_dir,
					   mf_inject_files[i].data,
					   mf_inject_files[i].fops);
	return 0;
}

static void __exit mf_inject_exit(void)
{
	/* Nobody is left to turn the filter off once the files are gone. */
	hwpoison_filter_enable = 0;
	debugfs_remove_recursive(mf_inject_dir);
}

module_init(mf_inject_init);
module_exit(mf_inject_exit);
MODULE_DESCRIPTION("Software memory error injector (hwpoison)");
MODULE_LICENSE("GPL");
