// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counters and reporting of the hwpoison core.
 */

/**
 * DOC: counter invariants
 *
 * Three counters describe poisoned memory:
 *
 * - num_poisoned_pages (HardwareCorrupted in /proc/meminfo) counts base
 *   pages.  It goes up by one for every error mf_report() records (every
 *   report but "already poisoned", whatever its result, as the page stays
 *   marked) and for every page soft offline retires; it goes down when
 *   unpoison gives a page back, and by a memory block's count when the
 *   block is hot-removed.  Freeing a poisoned hugetlb folio only moves the
 *   mark from the head to the recorded bad pages and leaves it alone.  It
 *   never goes negative (checked with CONFIG_DEBUG_VM).
 * - memory_block::nr_hwpoison (drivers/base/memory.c, only with
 *   CONFIG_MEMORY_HOTPLUG) is the same count for the pages of one memory
 *   block, so that onlining a block can refuse one that holds poisoned
 *   pages.  Device memory (ZONE_DEVICE) is in no memory block: its pages
 *   count in num_poisoned_pages only.
 * - pglist_data::mf_stats counts handled errors per node: every report
 *   other than "already poisoned" adds one to total and one to its result.
 *   These are event counts that never go down, so total always equals
 *   ignored + failed + delayed + recovered.  Two more per-node counts
 *   complete the picture: soft_offlined (pages soft offline retired) and
 *   unpoisoned (poisoned base pages unpoison cleared), so that, with no
 *   memory hot-removed, HardwareCorrupted in pages is the sum over the
 *   nodes of total + soft_offlined - unpoisoned whenever mf_mutex is
 *   free.  A PFN of no online node (a bug, warned about) counts in
 *   HardwareCorrupted only.
 *
 * Hence, with memory hotplug, num_poisoned_pages is the sum of nr_hwpoison
 * over the present blocks plus the ZONE_DEVICE pages reported.  The core
 * changes the counters under mf_mutex; memory hot-remove subtracts a
 * block's count without it, under mem_hotplug_lock, once nothing in the
 * block can be poisoned any more.  The per-node counters are plain words
 * written only under mf_mutex.
 */
#define pr_fmt(fmt) "Memory failure: " fmt

#include <linux/device.h>
#include <linux/memory.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/node.h>

#include <ras/ras_event.h>

#include "memory-failure.h"

atomic_long_t num_poisoned_pages __read_mostly = ATOMIC_LONG_INIT(0);
EXPORT_SYMBOL_IF_KUNIT(num_poisoned_pages);

/**
 * num_poisoned_pages_inc() - account one newly hwpoisoned page
 * @pfn: the page
 *
 * Context: Any context.
 */
void num_poisoned_pages_inc(unsigned long pfn)
{
	atomic_long_inc(&num_poisoned_pages);
	memblk_nr_poison_inc(pfn);
}

/**
 * num_poisoned_pages_sub() - account pages that are no longer hwpoisoned
 * @pfn: first page, or -1UL when its memory block is gone (hot-remove)
 * @nr: number of pages
 *
 * Context: Any context.
 */
void num_poisoned_pages_sub(unsigned long pfn, long nr)
{
	long left = atomic_long_sub_return(nr, &num_poisoned_pages);

	VM_WARN_ON_ONCE(left < 0);
	if (pfn != -1UL)
		memblk_nr_poison_sub(pfn, nr);
}

/*
 * The names come from the tracepoint's own lists in ras_event.h, so that
 * the log and rasdaemon always agree; the enum order is ABI.
 */
#undef EM
#undef EMe
#define EM(value, name)		{ value, name },
#define EMe(value, name)	{ value, name }

static const struct trace_print_flags mf_page_type_names[] = { MF_PAGE_TYPE };
static const struct trace_print_flags mf_result_names[] = { MF_ACTION_RESULT };

#undef EM
#undef EMe

static const char *mf_lookup_name(const struct trace_print_flags *names,
				  unsigned int nr, unsigned long value)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (names[i].mask == value)
			return names[i].name;
	return NULL;
}

/**
 * mf_page_type_name() - the log name of a page type
 * @type: the page type
 *
 * The tracepoint's name, except for the two types the log names itself.
 *
 * Return: a static string; "unknown page" for a value out of range.
 */
const char *mf_page_type_name(enum mf_action_page_type type)
{
	const char *name;

	/* The log has always said these two its own way. */
	switch (type) {
	case MF_MSG_ALREADY_POISONED:
		return "already poisoned page";
	case MF_MSG_DIFFERENT_COMPOUND:
		return "different compound page after locking";
	default:
		break;
	}
	name = mf_lookup_name(mf_page_type_names,
			      ARRAY_SIZE(mf_page_type_names), type);
	return name ?: "unknown page";
}
EXPORT_SYMBOL_IF_KUNIT(mf_page_type_name);

/**
 * mf_result_name() - the log name of a result
 * @result: the result
 *
 * Return: a static string; "Failed" for a value out of range.
 */
const char *mf_result_name(enum mf_result result)
{
	const char *name = mf_lookup_name(mf_result_names,
					  ARRAY_SIZE(mf_result_names), result);

	return name ?: "Failed";
}
EXPORT_SYMBOL_IF_KUNIT(mf_result_name);

/*
 * mf_node_stats_add - count one handled error of a node
 *
 * Context: mf_mutex held (the counters are plain words).
 */
VISIBLE_IF_KUNIT void mf_node_stats_add(struct memory_failure_stats *stats,
					enum mf_result result)
{
	switch (result) {
	case MF_IGNORED:
		stats->ignored++;
		break;
	case MF_FAILED:
		stats->failed++;
		break;
	case MF_DELAYED:
		stats->delayed++;
		break;
	case MF_RECOVERED:
		stats->recovered++;
		break;
	default:
		WARN_ONCE(1, "hwpoison: no such result %d\n", result);
		return;
	}
	stats->total++;
}
EXPORT_SYMBOL_IF_KUNIT(mf_node_stats_add);

/*
 * Per-node counts that struct memory_failure_stats has no field for, so
 * that the series does not touch <linux/mmzone.h>: pages soft offline
 * took out of use, and pages unpoison gave back.  Written under mf_mutex,
 * read without it.
 */
static unsigned long mf_soft_offlined[MAX_NUMNODES];
static unsigned long mf_unpoisoned[MAX_NUMNODES];

/*
 * The node whose counters a PFN's events go to, or NUMA_NO_NODE (counted
 * in HardwareCorrupted only).  Callers pass online pages, so the latter
 * is a bug, reported once.
 */
static int mf_node_of(unsigned long pfn)
{
	int nid = pfn_to_nid(pfn);

	if (WARN_ON_ONCE(nid < 0 || nid >= MAX_NUMNODES || !node_online(nid)))
		return NUMA_NO_NODE;
	return nid;
}

/**
 * mf_report() - record the outcome of one memory error
 * @pfn: the page
 * @type: what kind of page it was
 * @result: what became of it
 *
 * Emits ras:memory_failure_event and the "recovery action" log line, and
 * unless the page was already poisoned, counts the page in
 * HardwareCorrupted and the error in its node's statistics.
 *
 * Context: Process context, mf_mutex held.
 * Return: 0 when the error was recovered or its handling delayed, -EBUSY
 * otherwise.
 */
int mf_report(unsigned long pfn, enum mf_action_page_type type,
	      enum mf_result result)
{
	lockdep_assert_held(&mf_mutex);

	trace_memory_failure_event(pfn, type, result);

	if (type != MF_MSG_ALREADY_POISONED) {
		int nid = mf_node_of(pfn);

		num_poisoned_pages_inc(pfn);
		if (nid != NUMA_NO_NODE)
			mf_node_stats_add(&NODE_DATA(nid)->mf_stats, result);
	}

	pr_err("%#lx: recovery action for %s: %s\n", pfn,
	       mf_page_type_name(type), mf_result_name(result));

	switch (result) {
	case MF_RECOVERED:
	case MF_DELAYED:
		return 0;
	default:
		return -EBUSY;
	}
}
EXPORT_SYMBOL_IF_KUNIT(mf_report);

/**
 * mf_count_soft_offline() - count a page that soft offline retired
 * @pfn: the page
 *
 * Context: mf_mutex held.
 */
void mf_count_soft_offline(unsigned long pfn)
{
	int nid = mf_node_of(pfn);

	lockdep_assert_held(&mf_mutex);
	if (nid != NUMA_NO_NODE)
		WRITE_ONCE(mf_soft_offlined[nid], mf_soft_offlined[nid] + 1);
}

/**
 * mf_uncount_healed() - uncount poisoned pages that unpoison gave back
 * @pfn: the first page
 * @nr: how many base pages, from @pfn on
 *
 * Lowers HardwareCorrupted and raises the node's unpoisoned count in one
 * step, so that the two cannot disagree whatever fails after it.
 *
 * Context: mf_mutex held.
 */
void mf_uncount_healed(unsigned long pfn, unsigned long nr)
{
	int nid = mf_node_of(pfn);

	lockdep_assert_held(&mf_mutex);
	num_poisoned_pages_sub(pfn, nr);
	if (nid != NUMA_NO_NODE)
		WRITE_ONCE(mf_unpoisoned[nid], mf_unpoisoned[nid] + nr);
}

/*
 * The per-node memory_failure/ group of /sys/devices/system/node/nodeN:
 * one read-only file per counter, all shown by mf_node_attr_show().
 */
enum mf_node_stat {
	MF_STAT_TOTAL,
	MF_STAT_IGNORED,
	MF_STAT_FAILED,
	MF_STAT_DELAYED,
	MF_STAT_RECOVERED,
	MF_STAT_SOFT_OFFLINED,
	MF_STAT_UNPOISONED,
	MF_NR_NODE_STATS
};

static unsigned long mf_node_stat(int nid, enum mf_node_stat which)
{
	const struct memory_failure_stats *s = &NODE_DATA(nid)->mf_stats;
	const unsigned long counts[] = {
		[MF_STAT_TOTAL]		= READ_ONCE(s->total),
		[MF_STAT_IGNORED]	= READ_ONCE(s->ignored),
		[MF_STAT_FAILED]	= READ_ONCE(s->failed),
		[MF_STAT_DELAYED]	= READ_ONCE(s->delayed),
		[MF_STAT_RECOVERED]	= READ_ONCE(s->recovered),
		[MF_STAT_SOFT_OFFLINED]	= READ_ONCE(mf_soft_offlined[nid]),
		[MF_STAT_UNPOISONED]	= READ_ONCE(mf_unpoisoned[nid]),
	};

	return counts[which];
}

struct mf_node_attr {
	struct device_attribute dev_attr;
	enum mf_node_stat which;
};

static ssize_t mf_node_attr_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	const struct mf_node_attr *a = container_of(attr, struct mf_node_attr,
						    dev_attr);

	return sysfs_emit(buf, "%lu\n", mf_node_stat(dev->id, a->which));
}

#define MF_NODE_FILE(_name, _which)					\
	[_which] = {							\
		.dev_attr = __ATTR(_name, 0444, mf_node_attr_show, NULL),	\
		.which = _which,					\
	}

/* The file names are ABI (Documentation/ABI/stable/sysfs-devices-node). */
static struct mf_node_attr mf_node_files[] = {
	MF_NODE_FILE(total, MF_STAT_TOTAL),
	MF_NODE_FILE(ignored, MF_STAT_IGNORED),
	MF_NODE_FILE(failed, MF_STAT_FAILED),
	MF_NODE_FILE(delayed, MF_STAT_DELAYED),
	MF_NODE_FILE(recovered, MF_STAT_RECOVERED),
	MF_NODE_FILE(soft_offlined, MF_STAT_SOFT_OFFLINED),
	MF_NODE_FILE(unpoisoned, MF_STAT_UNPOISONED),
};

static_assert(ARRAY_SIZE(mf_node_files) == MF_NR_NODE_STATS);

static struct attribute *mf_node_attrs[MF_NR_NODE_STATS + 1] = {
	&mf_node_files[MF_STAT_TOTAL].dev_attr.attr,
	&mf_node_files[MF_STAT_IGNORED].dev_attr.attr,
	&mf_node_files[MF_STAT_FAILED].dev_attr.attr,
	&mf_node_files[MF_STAT_DELAYED].dev_attr.attr,
	&mf_node_files[MF_STAT_RECOVERED].dev_attr.attr,
	&mf_node_files[MF_STAT_SOFT_OFFLINED].dev_attr.attr,
	&mf_node_files[MF_STAT_UNPOISONED].dev_attr.attr,
};

/* Registered by drivers/base/node.c for every node device. */
const struct attribute_group memory_failure_attr_group = {
	.name = "memory_failure",
	.attrs = mf_node_attrs,
};
