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

static int mf_inject_write(void *data, u64 val)
{
	unsigned long pfn = val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (val != pfn || !pfn_valid(pfn))
		return -ENXIO;

	/* Filtered injections succeed without doing anything. */
	if (hwpoison_filter_enable && mf_filter_vetoes_pfn(pfn))
		return 0;

	pr_info("Injecting memory failure at pfn %#lx\n", pfn);
	ret = memory_failure(pfn, MF_SW_SIMULATED);
	return ret == -EOPNOTSUPP ? 0 : ret;
}

static int mf_unpoison_write(void *data, u64 val)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (val != (unsigned long)val)
		return -ENXIO;
	return unpoison_memory(val);
}

DEFINE_DEBUGFS_ATTRIBUTE(mf_inject_fops, NULL, mf_inject_write, "%lli\n");
DEFINE_DEBUGFS_ATTRIBUTE(mf_unpoison_fops, NULL, mf_unpoison_write, "%lli\n");

/*
 * The u32 filter files refuse numbers that do not fit with -ERANGE, where
 * debugfs_create_u32() would silently keep the low 32 bits.
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

DEFINE_DEBUGFS_ATTRIBUTE(mf_u32_fops, mf_u32_get, mf_u32_set, "%llu\n");

static int __init mf_inject_init(void)
{
	struct dentry *dir = debugfs_create_dir("hwpoison", NULL);

	mf_inject_dir = dir;
	debugfs_create_file_unsafe("corrupt-pfn", 0200, dir, NULL,
				   &mf_inject_fops);
	debugfs_create_file_unsafe("unpoison-pfn", 0200, dir, NULL,
				   &mf_unpoison_fops);
	debugfs_create_file_unsafe("corrupt-filter-enable", 0600, dir,
				   &hwpoison_filter_enable, &mf_u32_fops);
	debugfs_create_file_unsafe("corrupt-filter-dev-major", 0600, dir,
				   &hwpoison_filter_dev_major, &mf_u32_fops);
	debugfs_create_file_unsafe("corrupt-filter-dev-minor", 0600, dir,
				   &hwpoison_filter_dev_minor, &mf_u32_fops);
	debugfs_create_u64("corrupt-filter-flags-mask", 0600, dir,
			   &hwpoison_filter_flags_mask);
	debugfs_create_u64("corrupt-filter-flags-value", 0600, dir,
			   &hwpoison_filter_flags_value);
	if (IS_ENABLED(CONFIG_MEMCG))
		debugfs_create_u64("corrupt-filter-memcg", 0600, dir,
				   &hwpoison_filter_memcg);
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
