// SPDX-License-Identifier: GPL-2.0
/*
 * hwpt-bench - the guest half of `make bench` (tools/testing/hwpoison/hwpt/
 * bench.py): times the hwpoison entry points and prints one machine-readable
 * line per measurement.  Needs root, debugfs and tracefs.
 *
 *   hwpt-bench [--quiet] sharers --kind anon|tmpfs|ext2 --n N[,N...]
 *		[--reps R[,R...]] [--early 0|1] [--idle M[,M...]] [--trace]
 *		[--dir PATH]
 *	MADV_HWPOISON of one page mapped by N forked processes: an anon page
 *	they share copy-on-write (never written after the fork), a shared
 *	memfd (tmpfs) page, or a dirty MAP_SHARED page of a file in PATH (an
 *	ext2 directory, default /mnt/disk).  vm.memory_failure_early_kill is
 *	set to --early meanwhile: with 1 every sharer is signalled at once
 *	(BUS_MCEERR_AO), with 0 each learns when it touches the page after
 *	the call (BUS_MCEERR_AR); each dies in its SIGBUS handler.  M idle
 *	processes that do not map the page run meanwhile (--idle).  The
 *	sharers run on both CPUs, the caller on CPU 0 at SCHED_FIFO from the
 *	call until the last sharer is reaped (RT throttling and CPU 0's fair
 *	server off meanwhile), so that what it times is the kernel's.  R runs
 *	of each N (one --reps per --n, the last one repeats).  --trace times
 *	memory_failure() itself with the function_graph tracer (tracefs at
 *	/sys/kernel/tracing, else /sys/kernel/debug/tracing).
 *	  BENCH sharers kind=K n=N idle=M early=E madvise_us=T [mf_us=T]
 *	    all_dead_us=T mapcount=C sigbus_ao=A sigbus_ar=A unsignalled=U
 *	    other=O self_sigbus=S madvise_err=E unpoison_err=E
 *	madvise_us is the call, mf_us (only with --trace) the time inside
 *	memory_failure() (-1 when the trace shows no call), all_dead_us the
 *	time from the call to the last sharer reaped; mapcount is
 *	/proc/kpagecount of the page before the call (N + 1 with the
 *	caller); sigbus_ao, sigbus_ar, unsignalled and other count the
 *	sharers by how they ended; self_sigbus the SIGBUS the caller got;
 *	madvise_err and unpoison_err are errnos (0: none).
 *
 *   hwpt-bench [--quiet] single [--count C]
 *	C times each: MADV_HWPOISON, then MADV_SOFT_OFFLINE, of one fresh
 *	private anonymous page (MADV_NOHUGEPAGE); unpoisoned after each.
 *	  BENCH single op=hard|soft n=C median_us=T p99_us=T min_us=T
 *	    max_us=T mean_us=T errors=E unpoison_err=U
 *
 *   hwpt-bench [--quiet] burst --route cec|corrupt [--n N]
 *	N distinct free pages (from the top of memory, wholly free 1024-page
 *	chunks first) sent to offline in one burst.  cec: each PFN written to
 *	the RAS corrected-error collector's debugfs pfn file with
 *	action_threshold 1,
 *	so that each write calls memory_failure_queue(pfn, MF_SOFT_OFFLINE),
 *	by a SCHED_FIFO process pinned to CPU 1 (the queue's worker on that
 *	CPU cannot run until it is done; RT throttling and the fair server
 *	are off meanwhile).  corrupt: each PFN written to hwpoison/corrupt-pfn
 *	(synchronous).  Handled = poisoned afterwards (/proc/kpageflags).
 *	Everything is unpoisoned afterwards.
 *	  BENCH burst route=R n=N submitted=N handled=H lost=L
 *	    overflow_logged=O lost_logged=L writer_us=T total_us=T drain_us=T
 *	    hwc_delta_kb=K write_err=W unpoison_err=U
 *	write_err is the errno of the first write that failed (0: none),
 *	unpoison_err the number of pages left poisoned;
 *	total_us runs from the first write to the last page handled,
 *	drain_us from the end of the writes to the last page handled;
 *	overflow_logged counts the "buffer overflow when queuing memory
 *	failure" lines, lost_logged sums the "N queued memory errors lost"
 *	lines.
 *
 *   hwpt-bench [--quiet] soft-offline --kind anon|tmpfs [--mib M]
 *	One MADV_SOFT_OFFLINE over M MiB (default 64) of private anonymous
 *	memory (MADV_NOHUGEPAGE) or of a shared memfd mapping.
 *	  BENCH soft_offline kind=K mib=M pages=P offlined=O moved=V us=T
 *	    mib_s=X madvise_err=E unpoison_err=U
 *	offlined counts the old pages poisoned, moved the pages mapped at a
 *	new PFN afterwards; madvise_err is the call's errno (0: none).
 *
 *   hwpt-bench [--quiet] contention [--count C] [--mib M]
 *	C MADV_HWPOISON of fresh anonymous pages on CPU 0, first alone, then
 *	while a process on CPU 1 soft offlines M MiB (default 16) in a loop
 *	(and unpoisons the pages it offlined after each pass).
 *	  BENCH contention n=C mib=M idle_p50_us=T idle_p99_us=T
 *	    busy_p50_us=T busy_p99_us=T ratio_p50=X ratio_p99=X passes=P
 *	    errors=E loop_errors=L unpoison_err=U
 *	errors counts the samples that failed, loop_errors the passes of the
 *	loop whose call failed, unpoison_err the pages left poisoned.
 *
 * --quiet lowers the console loglevel to 1 for the run (the kernel logs a
 * line per victim or per queued error, and a serial console would
 * dominate the timing); the ring buffer still gets everything.  Nothing
 * is changed before the arguments are known to be good, and every
 * setting changed (sysctls, tracefs, debugfs) is put back at the end.
 * Exit status: 0 when every measurement was made, 1 when one could not be
 * (an "ERROR ..." line on stdout says why), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
/* A store the compiler must make: the page is written for the kernel. */
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))

/* PFN lookup, injection routes and kernel log reading, shared with the mm selftests. */
#include "../../selftests/mm/memory-failure.h"

#define PRINTK_SYSCTL	"/proc/sys/kernel/printk"
#define EARLY_KILL	"/proc/sys/vm/memory_failure_early_kill"
#define THREADS_MAX	"/proc/sys/kernel/threads-max"
#define PID_MAX		"/proc/sys/kernel/pid_max"
#define RT_RUNTIME	"/proc/sys/kernel/sched_rt_runtime_us"
#define FAIR_SERVER	"/sys/kernel/debug/sched/fair_server/cpu%d/runtime"
#define CEC_DIR		"/sys/kernel/debug/ras/cec"
#define TRACEFS		"/sys/kernel/tracing"
#define MEMORY_SYSFS	"/sys/devices/system/memory"
#define KPAGECOUNT	"/proc/kpagecount"

#define MAX_SAVED	32
#define MAX_LIST	16
#define READY_TIMEOUT	600	/* seconds for the sharers to get ready */
#define BLOCK_PAGES	1024	/* an order-10 buddy block */
#define MAX_PROCS	(1 << 20)	/* processes of a kind per run */

/* How a sharer ends: its SIGBUS handler's exit codes. */
#define EXIT_AO		41
#define EXIT_AR		42
#define EXIT_OTHER_BUS	43
#define EXIT_UNSIGNALLED 3
#define EXIT_READ_OK	4

static long psize;
static int ncpus;

/* ------------------------------------------------------------------ */
/* Small helpers */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void bench_error(const char *fmt, ...)
{
	va_list ap;

	printf("ERROR ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu >= ncpus)
		cpu = ncpus - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* The whole content of @path, NUL-terminated, in @buf; -1 on error. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (got < (ssize_t)size - 1 &&
	       (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	return got;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/* The @q quantile (0..1) of the @n sorted values at @v, nearest rank. */
static double quantile(const double *v, int n, double q)
{
	int i = (int)(q * n);

	if (i < q * n)
		i++;
	i--;
	if (n <= 0)
		return -1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i];
}

/* "1,64,256" into @out (at most MAX_LIST); returns the count, 0 if bad. */
static int parse_list(const char *s, long *out)
{
	char *end;
	int n = 0;

	while (*s && n < MAX_LIST) {
		out[n++] = strtol(s, &end, 0);
		if (end == s || (*end && *end != ','))
			return 0;
		s = *end ? end + 1 : end;
	}
	return *s ? 0 : n;
}

/* Whether the @n values at @v (n > 0: a list was parsed) are in [lo, hi]. */
static bool in_range(const long *v, int n, long lo, long hi)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i] < lo || v[i] > hi)
			return false;
	return n > 0;
}

/* ------------------------------------------------------------------ */
/* Settings changed for a run, put back at exit in reverse order */

struct saved_setting {
	char path[128];
	char value[256];
};

static struct saved_setting saved[MAX_SAVED];
static int nr_saved;

/* Write @val to @path, saving what it held the first time. */
static int set_setting(const char *path, const char *val)
{
	struct saved_setting *s;
	int i, err;

	for (i = 0; i < nr_saved; i++)
		if (!strcmp(saved[i].path, path))
			break;
	if (i == nr_saved && nr_saved < MAX_SAVED) {
		s = &saved[nr_saved];
		if (read_text(path, s->value, sizeof(s->value)) < 0)
			return errno;
		s->value[strcspn(s->value, "\n")] = 0;
		snprintf(s->path, sizeof(s->path), "%s", path);
		nr_saved++;
	}
	err = mf_write_file(path, val);
	return err;
}

/* Put back the settings changed since nr_saved was @keep. */
static void restore_settings_to(int keep)
{
	while (nr_saved > keep) {
		nr_saved--;
		mf_write_file(saved[nr_saved].path, saved[nr_saved].value);
	}
}

static void restore_settings(void)
{
	restore_settings_to(0);
}

static bool quiet;
static int kpageflags_fd = -1;

/*
 * What every mode needs, once its arguments are known to be good: 0, or 1
 * after an ERROR line.  --quiet takes effect here.
 */
static int bench_setup(void)
{
	struct rlimit nocore = { 0, 0 };

	kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
	if (kpageflags_fd < 0) {
		bench_error("/proc/kpageflags: %s", strerror(errno));
		return 1;
	}
	if (access(UNPOISON_PFN, W_OK)) {
		bench_error("no %s (debugfs, CONFIG_HWPOISON_INJECT)",
			    UNPOISON_PFN);
		return 1;
	}
	if (quiet && set_setting(PRINTK_SYSCTL, "1"))
		perror(PRINTK_SYSCTL);
	setrlimit(RLIMIT_CORE, &nocore);
	/* The measuring process runs on CPU 0, its helpers on CPU 1. */
	pin_cpu(0);
	return 0;
}

/* Raise threads-max and pid_max to at least @n when they are lower. */
static void room_for_processes(long n)
{
	char buf[32];

	if (mf_read_long(THREADS_MAX) < n) {
		snprintf(buf, sizeof(buf), "%ld", n);
		set_setting(THREADS_MAX, buf);
	}
	if (mf_read_long(PID_MAX) < n) {
		snprintf(buf, sizeof(buf), "%ld", n);
		set_setting(PID_MAX, buf);
	}
}

/* ------------------------------------------------------------------ */
/* Pages */

static uint64_t flags_of(uint64_t pfn)
{
	uint64_t f;

	if (pread(kpageflags_fd, &f, sizeof(f), pfn * sizeof(f)) != sizeof(f))
		return 1ULL << KPF_NOPAGE;
	return f;
}

static bool is_poisoned(uint64_t pfn)
{
	return flags_of(pfn) & (1ULL << KPF_HWPOISON);
}

static long pfn_mapcount(uint64_t pfn)
{
	uint64_t count;
	long ret = -1;
	int fd = open(KPAGECOUNT, O_RDONLY);

	if (fd < 0)
		return -1;
	if (pread(fd, &count, sizeof(count), pfn * sizeof(count)) == sizeof(count))
		ret = count;
	close(fd);
	return ret;
}

/* The PFNs behind @npages pages at @addr (0: not present); 0 or -1. */
static int pagemap_pfns(void *addr, long npages, uint64_t *pfns)
{
	size_t len = npages * sizeof(uint64_t), got = 0;
	off_t off = (uintptr_t)addr / psize * sizeof(uint64_t);
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t n;
	long i;

	if (fd < 0)
		return -1;
	while (got < len) {
		n = pread(fd, (char *)pfns + got, len - got, off + got);
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	if (got < len)
		return -1;
	for (i = 0; i < npages; i++)
		pfns[i] = (pfns[i] & (1ULL << 63)) ? pfns[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

/* A debugfs PFN file kept open: each write(2) is one PFN. */
static int pfn_file_write(int fd, uint64_t pfn)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)pfn);

	return write(fd, buf, len) == len ? 0 : errno;
}

/*
 * Unpoison the @n PFNs at @pfns that are poisoned (EBUSY is retried a
 * little); returns the number that could not be unpoisoned.
 */
static int unpoison_pfns(const uint64_t *pfns, long n)
{
	int fd = open(UNPOISON_PFN, O_WRONLY);
	int failed = 0, err, tries;
	long i;

	if (fd < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (!pfns[i] || !is_poisoned(pfns[i]))
			continue;
		for (tries = 0; tries < 20; tries++) {
			err = pfn_file_write(fd, pfns[i]);
			if (err != EBUSY)
				break;
			usleep(20000);
		}
		if (err)
			failed++;
	}
	close(fd);
	return failed;
}

/*
 * @n PFNs of free pages (/proc/kpageflags flags each page of a free buddy
 * block buddy), from the top of memory down, where the allocator is least
 * likely to hand them out meanwhile: first those in 1024-page chunks that
 * are wholly free, then any free page.  Returns the number found.
 */
static long find_free_pfns(uint64_t *pfns, long n)
{
	const uint64_t free_mask = (1ULL << KPF_BUDDY) | (1ULL << KPF_HWPOISON);
	unsigned long long block_bytes = 0, blk, best, next;
	uint64_t flags[BLOCK_PAGES], start, pfn;
	long got = 0, i, c, block_pfns, nfree;
	int pass;
	char path[128], state[32];
	struct dirent *de;
	bool found;
	FILE *f;
	DIR *d;

	f = fopen(MEMORY_SYSFS "/block_size_bytes", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llx", &block_bytes) != 1)
		block_bytes = 0;
	fclose(f);
	block_pfns = block_bytes / psize;
	if (block_pfns < BLOCK_PAGES)
		return 0;
	for (pass = 0; pass < 2 && got < n; pass++) {
		/* The online memory blocks, highest first. */
		for (best = ~0ULL; got < n; best = next) {
			found = false;
			next = 0;
			d = opendir(MEMORY_SYSFS);
			if (!d)
				return got;
			while ((de = readdir(d))) {
				if (strncmp(de->d_name, "memory", 6) ||
				    sscanf(de->d_name + 6, "%llu", &blk) != 1 ||
				    blk >= best || (found && blk <= next))
					continue;
				snprintf(path, sizeof(path),
					 MEMORY_SYSFS "/memory%llu/state", blk);
				if (read_text(path, state, sizeof(state)) <= 0 ||
				    strncmp(state, "online", 6))
					continue;
				next = blk;
				found = true;
			}
			closedir(d);
			if (!found)
				break;
			start = next * block_pfns;
			for (c = block_pfns / BLOCK_PAGES; c-- > 0 && got < n;) {
				pfn = start + c * BLOCK_PAGES;
				if (pread(kpageflags_fd, flags, sizeof(flags),
					  pfn * sizeof(uint64_t)) != sizeof(flags))
					continue;
				for (nfree = 0, i = 0; i < BLOCK_PAGES; i++)
					nfree += (flags[i] & free_mask) ==
						 (1ULL << KPF_BUDDY);
				/* Pass 1 takes what pass 0 left: partly free chunks. */
				if (pass == 0 ? nfree < BLOCK_PAGES :
				    nfree == BLOCK_PAGES)
					continue;
				for (i = 0; i < BLOCK_PAGES && got < n; i++)
					if ((flags[i] & free_mask) ==
					    (1ULL << KPF_BUDDY))
						pfns[got++] = pfn + i;
			}
		}
	}
	return got;
}

/*
 * The number of the @n PFNs at @pfns that are poisoned; runs of
 * consecutive PFNs are read with one pread(2) each.
 */
static long count_poisoned(const uint64_t *pfns, long n)
{
	uint64_t flags[BLOCK_PAGES];
	long i, j, run, c = 0;

	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && run < BLOCK_PAGES &&
		     pfns[i + run] == pfns[i] + run; run++)
			;
		if (!pfns[i] || pread(kpageflags_fd, flags, run * sizeof(flags[0]),
				      pfns[i] * sizeof(flags[0])) !=
		    run * (ssize_t)sizeof(flags[0])) {
			for (j = 0; j < run; j++)
				c += pfns[i + j] && is_poisoned(pfns[i + j]);
			continue;
		}
		for (j = 0; j < run; j++)
			c += !!(flags[j] & (1ULL << KPF_HWPOISON));
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* The kernel log, from a point on */

/*
 * Read the records logged since @fd was opened (mf_kmsg_open()): counts
 * those that contain @needle and adds up the numbers that start those
 * that contain @sum_needle.
 */
static void kmsg_scan(int fd, const char *needle, long *count,
		      const char *sum_needle, long *sum)
{
	char rec[8192], *msg;
	ssize_t got;

	*count = 0;
	*sum = 0;
	if (fd < 0)
		return;
	for (;;) {
		got = read(fd, rec, sizeof(rec) - 1);
		if (got < 0 && errno == EPIPE)
			continue;
		if (got <= 0)
			break;
		rec[got] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		if (strstr(msg, needle))
			(*count)++;
		if (sum_needle && strstr(msg, sum_needle)) {
			char *p = msg;

			/* "Memory failure: 4080 queued memory errors lost..." */
			while (*p && !(*p >= '0' && *p <= '9'))
				p++;
			*sum += strtol(p, NULL, 10);
		}
	}
}

/* ------------------------------------------------------------------ */
/* memory_failure() under the function_graph tracer */

static bool tracing;
static const char *tracefs = TRACEFS;
static int trace_keep;		/* nr_saved before trace_start() */

static void trace_path(char *path, size_t size, const char *file)
{
	snprintf(path, size, "%s/%s", tracefs, file);
}

/* A setting of tracefs, put back by trace_stop() (or at exit). */
static int trace_set(const char *file, const char *val)
{
	char path[128];

	trace_path(path, sizeof(path), file);
	return set_setting(path, val);
}

/*
 * A function list of tracefs (set_ftrace_filter, set_graph_function):
 * replaced by @val, or emptied when @val is "".  Without O_TRUNC a write
 * adds to the list, and an empty one does nothing.
 */
static int trace_list(const char *file, const char *val)
{
	ssize_t len = strlen(val);
	char path[128];
	int fd, err = 0;

	trace_path(path, sizeof(path), file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return errno;
	if (len && write(fd, val, len) != len)
		err = errno ? errno : EIO;
	if (close(fd) && !err)
		err = errno;
	return err;
}

static void trace_stop(void)
{
	if (!tracing)
		return;
	trace_set("tracing_on", "0");
	trace_set("current_tracer", "nop");
	trace_list("set_graph_function", "");
	trace_list("set_ftrace_filter", "");
	/* current_tracer, the options and tracing_on as they were. */
	restore_settings_to(trace_keep);
	tracing = false;
}

/* Only memory_failure() is traced, at depth 1: nothing it calls is. */
static int trace_start(void)
{
	int err;

	if (access(TRACEFS "/current_tracer", W_OK))
		tracefs = "/sys/kernel/debug/tracing";
	trace_keep = nr_saved;
	tracing = true;
	err = trace_set("current_tracer", "nop");
	if (!err)
		err = trace_list("set_ftrace_filter", "memory_failure");
	if (!err)
		err = trace_list("set_graph_function", "memory_failure");
	if (!err)
		err = trace_set("max_graph_depth", "1");
	if (!err)
		err = trace_set("options/funcgraph-tail", "1");
	if (!err)
		err = trace_set("tracing_on", "1");
	if (!err)
		err = trace_set("current_tracer", "function_graph");
	if (err) {
		trace_stop();
		return err;
	}
	return 0;
}

static void trace_clear(void)
{
	char path[128];
	int fd;

	trace_path(path, sizeof(path), "trace");
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd >= 0)
		close(fd);
}

/*
 * The time memory_failure() took, summed over the calls in the trace
 * ("1) ! 1234.567 us |  memory_failure();" or the closing line of a call
 * "... us |  } /+ memory_failure +/"), in us; -1 when none is there.
 */
static double trace_mf_us(void)
{
	static char buf[1 << 16];
	char *line, *next, *us, *p;
	double total = -1;
	char path[128];

	trace_path(path, sizeof(path), "trace");
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (line[0] == '#' || !strstr(line, "memory_failure"))
			continue;
		us = strstr(line, " us ");
		if (!us)
			continue;
		for (p = us; p > line && (p[-1] == '.' ||
					  (p[-1] >= '0' && p[-1] <= '9')); p--)
			;
		if (p == us)
			continue;
		total = (total < 0 ? 0 : total) + strtod(p, NULL);
	}
	return total;
}

/* ------------------------------------------------------------------ */
/* Processes by the thousand */

/* Shared by the run and its processes (MAP_SHARED). */
struct spawn_ctl {
	int ready;		/* processes set up */
	int failed;		/* forks that failed (and the ones not tried) */
	int err;		/* errno of the last failed fork */
	int count;
	pid_t pids[];		/* filled in by each process */
};

static struct spawn_ctl *spawn_ctl_alloc(int count)
{
	size_t len = sizeof(struct spawn_ctl) + count * sizeof(pid_t);
	struct spawn_ctl *ctl;

	ctl = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	if (ctl == MAP_FAILED) {
		bench_error("mmap: %s", strerror(errno));
		return NULL;
	}
	ctl->count = count;
	return ctl;
}

static void spawn_ctl_free(struct spawn_ctl *ctl)
{
	munmap(ctl, sizeof(struct spawn_ctl) + ctl->count * sizeof(pid_t));
}

/*
 * Kill and reap the processes of @ctl (after an error); their PIDs are
 * forgotten, as they may be reused once reaped.
 */
static void kill_all(struct spawn_ctl *ctl)
{
	int i;

	for (i = 0; ctl && i < ctl->count; i++)
		if (ctl->pids[i] > 0)
			kill(ctl->pids[i], SIGKILL);
	for (i = 0; ctl && i < ctl->count; i++) {
		if (ctl->pids[i] > 0)
			waitpid(ctl->pids[i], NULL, 0);
		ctl->pids[i] = 0;
	}
}

/* Forget @pid, reaped, if it is one of @ctl's. */
static void forget_pid(struct spawn_ctl *ctl, pid_t pid)
{
	int i;

	for (i = 0; i < ctl->count; i++)
		if (ctl->pids[i] == pid)
			ctl->pids[i] = 0;
}

/* Reap every child until there is none left. */
static void reap_all(void)
{
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

/*
 * Start ctl->count processes running @fn (which must not return), forked
 * by two helpers pinned to CPUs 0 and 1, so both CPUs fork; the helpers
 * exit at once and their children become ours (PR_SET_CHILD_SUBREAPER).
 * Each process stays on its helper's CPU: half of them on each.
 * Returns 0 once every process called spawn_ready(), or -1 (ERROR line).
 */
static int spawn(struct spawn_ctl *ctl, void (*fn)(struct spawn_ctl *ctl))
{
	int count = ctl->count, start = 0, h, i, status;
	double deadline;
	pid_t helper[2], pid;

	ctl->ready = 0;
	ctl->failed = 0;
	ctl->err = 0;
	for (h = 0; h < 2; h++) {
		int share = count / 2 + (h == 0 ? count % 2 : 0);

		helper[h] = fork();
		if (helper[h] < 0) {
			bench_error("fork: %s", strerror(errno));
			if (h)
				waitpid(helper[0], NULL, 0);
			kill_all(ctl);
			return -1;
		}
		if (!helper[h]) {
			pin_cpu(h);
			for (i = 0; i < share; i++) {
				pid = fork();
				if (!pid) {
					ctl->pids[start + i] = getpid();
					fn(ctl);
					_exit(1);
				}
				if (pid < 0) {
					ctl->err = errno;
					__atomic_fetch_add(&ctl->failed, share - i,
							   __ATOMIC_SEQ_CST);
					break;
				}
			}
			_exit(0);
		}
		start += share;
	}
	waitpid(helper[0], NULL, 0);
	waitpid(helper[1], NULL, 0);
	deadline = now_us() + READY_TIMEOUT * 1e6;
	while (__atomic_load_n(&ctl->ready, __ATOMIC_SEQ_CST) +
	       __atomic_load_n(&ctl->failed, __ATOMIC_SEQ_CST) < count) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			bench_error("process %d ended before it was ready (status %#x)",
				    pid, status);
			forget_pid(ctl, pid);
			kill_all(ctl);
			return -1;
		}
		if (now_us() > deadline) {
			bench_error("%d of %d processes ready after %d s", ctl->ready,
				    count, READY_TIMEOUT);
			kill_all(ctl);
			return -1;
		}
		usleep(2000);
	}
	if (ctl->failed) {
		bench_error("%d of %d forks failed: %s", ctl->failed, count,
			    strerror(ctl->err));
		kill_all(ctl);
		return -1;
	}
	return 0;
}

static void spawn_ready(struct spawn_ctl *ctl)
{
	__atomic_fetch_add(&ctl->ready, 1, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------------ */
/* sharers */

enum kind { ANON, TMPFS, EXT2 };

static const char * const kind_names[] = { "anon", "tmpfs", "ext2" };

/* What a sharer or an idle process needs; set before the forks. */
static struct {
	char *page;
	int rfd, wfd;		/* the sharers' pipe: EOF = go */
	int idle_rfd, idle_wfd;	/* the idle processes' pipe */
	bool early;
} sh = { .rfd = -1, .wfd = -1, .idle_rfd = -1, .idle_wfd = -1 };

static void sharer_sigbus(int sig, siginfo_t *si, void *uc)
{
	_exit(si->si_code == BUS_MCEERR_AO ? EXIT_AO :
	      si->si_code == BUS_MCEERR_AR ? EXIT_AR : EXIT_OTHER_BUS);
}

/*
 * A sharer: maps the page (the first read does, for the shared kinds;
 * the anon page is mapped since the fork), then waits for EOF on the
 * pipe.  Early kill ends it meanwhile; otherwise it reads the page, which
 * ends it (or exits EXIT_UNSIGNALLED in early mode, as it should have been
 * told already).
 */
static void sharer_main(struct spawn_ctl *ctl)
{
	struct sigaction sa = {
		.sa_sigaction = sharer_sigbus,
		.sa_flags = SA_SIGINFO,
	};
	char c;

	close(sh.wfd);
	if (sh.idle_wfd >= 0)
		close(sh.idle_wfd);
	sigaction(SIGBUS, &sa, NULL);
	mf_read_byte(sh.page);
	spawn_ready(ctl);
	while (read(sh.rfd, &c, 1) < 0 && errno == EINTR)
		;
	if (sh.early)
		_exit(EXIT_UNSIGNALLED);
	mf_read_byte(sh.page);
	_exit(EXIT_READ_OK);
}

static void idle_main(struct spawn_ctl *ctl)
{
	char c;

	close(sh.idle_wfd);
	spawn_ready(ctl);
	while (read(sh.idle_rfd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static int self_sigbus;

static void self_sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	__atomic_fetch_add(&self_sigbus, 1, __ATOMIC_RELAXED);
}

/* Map the page of @kind (fresh, written); returns it or NULL. */
static char *map_test_page(enum kind kind, const char *dir, int *fd,
			   char *path, size_t path_len)
{
	struct statfs sfs;
	void *p;

	*fd = -1;
	path[0] = 0;
	switch (kind) {
	case ANON:
		p = mmap(NULL, psize, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			madvise(p, psize, MADV_NOHUGEPAGE);
		break;
	case TMPFS:
		*fd = memfd_create("hwpt-bench", 0);
		if (*fd < 0 || ftruncate(*fd, psize))
			return NULL;
		p = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
		break;
	default:
		snprintf(path, path_len, "%s/hwpt-bench.%d", dir, getpid());
		*fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (*fd < 0)
			return NULL;
		if (fstatfs(*fd, &sfs) || sfs.f_type != EXT4_SUPER_MAGIC) {
			bench_error("%s is not on ext2/3/4", path);
			return NULL;
		}
		if (ftruncate(*fd, psize))
			return NULL;
		p = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
		break;
	}
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, psize);
	return p;
}

static void unmap_test_page(char *page, int fd, const char *path)
{
	if (page)
		munmap(page, psize);
	if (fd >= 0)
		close(fd);
	if (path[0])
		unlink(path);
}

struct sharers_result {
	double madvise_us, mf_us, all_dead_us;
	long mapcount;
	int ao, ar, unsignalled, other, self_sigbus, madvise_err, unpoison_err;
};

static bool pid_in(const pid_t *sorted, int n, pid_t pid)
{
	return bsearch(&pid, sorted, n, sizeof(pid), cmp_pid);
}

/* One measurement; 0, or -1 after an ERROR line. */
static int sharers_once(enum kind kind, int n, int idle, bool early,
			const char *dir, struct sharers_result *r)
{
	struct sched_param fifo = { .sched_priority = 10 }, other = { 0 };
	struct spawn_ctl *ctl = NULL, *idle_ctl = NULL;
	int pipefd[2], idle_pipe[2], fd, dead, status, tries, ret = -1;
	double t0, t1, t2;
	char path[256];
	pid_t *pids = NULL, pid;
	uint64_t pfn = 0;

	memset(r, 0, sizeof(*r));
	r->mf_us = -1;
	sh.page = NULL;
	sh.early = early;
	fd = -1;
	path[0] = 0;

	/* The idle processes first: they must not map the page. */
	if (idle) {
		if (pipe(idle_pipe)) {
			bench_error("pipe: %s", strerror(errno));
			return -1;
		}
		sh.idle_rfd = idle_pipe[0];
		sh.idle_wfd = idle_pipe[1];
		idle_ctl = spawn_ctl_alloc(idle);
		if (!idle_ctl || spawn(idle_ctl, idle_main))
			goto out;
	}

	sh.page = map_test_page(kind, dir, &fd, path, sizeof(path));
	if (!sh.page) {
		bench_error("cannot map the %s page: %s", kind_names[kind],
			    strerror(errno));
		goto out;
	}
	pfn = mf_virt_to_pfn(sh.page);
	if (!pfn) {
		bench_error("no PFN for the page");
		goto out;
	}
	if (pipe(pipefd)) {
		bench_error("pipe: %s", strerror(errno));
		goto out;
	}
	sh.rfd = pipefd[0];
	sh.wfd = pipefd[1];
	ctl = spawn_ctl_alloc(n);
	if (!ctl || spawn(ctl, sharer_main))
		goto out;
	pids = malloc(n * sizeof(pid_t));
	if (!pids) {
		bench_error("out of memory");
		goto out;
	}
	memcpy(pids, ctl->pids, n * sizeof(pid_t));
	qsort(pids, n, sizeof(pid_t), cmp_pid);
	r->mapcount = pfn_mapcount(pfn);
	/*
	 * Dirty again a page of a file: the flusher may have written it back
	 * (and write-protected it) while the sharers started, and a clean
	 * page is dropped without a signal to anyone.  Not the anon page: a
	 * write would give the caller a copy of its own.
	 */
	if (kind != ANON)
		WRITE_ONCE(*(char *)sh.page, 0x5b);

	if (tracing)
		trace_clear();
	__atomic_store_n(&self_sigbus, 0, __ATOMIC_RELAXED);
	/*
	 * SCHED_FIFO until every sharer is reaped: the sharers that the call
	 * wakes on our CPU wait until we block, instead of taking the CPU
	 * from us at the end of the call (or at a cond_resched() in it), and
	 * each death is reaped at once.
	 */
	sched_setscheduler(0, SCHED_FIFO, &fifo);
	t0 = now_us();
	if (madvise(sh.page, psize, MADV_HWPOISON))
		r->madvise_err = errno;
	t1 = now_us();
	close(sh.wfd);
	sh.wfd = -1;
	for (dead = 0; dead < n;) {
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			bench_error("waitpid: %s with %d of %d sharers reaped",
				    strerror(errno), dead, n);
			sched_setscheduler(0, SCHED_OTHER, &other);
			/* No child is left: their PIDs may be anyone's now. */
			memset(ctl->pids, 0, n * sizeof(pid_t));
			if (idle_ctl)
				memset(idle_ctl->pids, 0, idle * sizeof(pid_t));
			goto out;
		}
		if (!pid_in(pids, n, pid)) {
			bench_error("idle process %d ended (status %#x)", pid,
				    status);
			continue;
		}
		dead++;
		if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_AO)
			r->ao++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_AR)
			r->ar++;
		else if (WIFEXITED(status) &&
			 WEXITSTATUS(status) == EXIT_UNSIGNALLED)
			r->unsignalled++;
		else
			r->other++;
	}
	t2 = now_us();
	sched_setscheduler(0, SCHED_OTHER, &other);
	r->madvise_us = t1 - t0;
	r->all_dead_us = t2 - t0;
	r->self_sigbus = __atomic_load_n(&self_sigbus, __ATOMIC_RELAXED);
	if (tracing)
		r->mf_us = trace_mf_us();
	ret = 0;
out:
	/* With both pipes closed, whatever is left ends by itself. */
	if (sh.wfd >= 0)
		close(sh.wfd);
	if (sh.rfd >= 0)
		close(sh.rfd);
	if (sh.idle_wfd >= 0)
		close(sh.idle_wfd);
	if (sh.idle_rfd >= 0)
		close(sh.idle_rfd);
	sh.rfd = -1;
	sh.wfd = -1;
	sh.idle_rfd = -1;
	sh.idle_wfd = -1;
	if (ret) {
		kill_all(ctl);
		kill_all(idle_ctl);
	}
	reap_all();
	unmap_test_page(sh.page, fd, path);
	/* The last references may take a moment to go. */
	for (tries = 0; pfn && tries < 3 && is_poisoned(pfn); tries++) {
		if (tries)
			usleep(100000);
		r->unpoison_err = mf_unpoison_retry(pfn);
	}
	if (pfn && !is_poisoned(pfn))
		r->unpoison_err = 0;
	free(pids);
	if (ctl)
		spawn_ctl_free(ctl);
	if (idle_ctl)
		spawn_ctl_free(idle_ctl);
	return ret;
}

static int cmd_sharers(int argc, char **argv)
{
	long ns[MAX_LIST], reps[MAX_LIST] = { 1 }, idles[MAX_LIST] = { 0 };
	int nn = 0, nreps = 1, nidle = 1, i, j, rep, ret = 0;
	const char *dir = "/mnt/disk";
	struct sigaction sa = {
		.sa_sigaction = self_sigbus_handler,
		.sa_flags = SA_SIGINFO | SA_RESTART,
	};
	struct sharers_result r;
	enum kind kind = ANON;
	bool early = true, trace = false;
	char path[128], mf[32];
	long most = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--kind") && i + 1 < argc) {
			i++;
			for (kind = ANON; kind <= EXT2; kind++)
				if (!strcmp(argv[i], kind_names[kind]))
					break;
			if (kind > EXT2)
				return 2;
		} else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
			nn = parse_list(argv[++i], ns);
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			nreps = parse_list(argv[++i], reps);
		} else if (!strcmp(argv[i], "--idle") && i + 1 < argc) {
			nidle = parse_list(argv[++i], idles);
		} else if (!strcmp(argv[i], "--early") && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "0") && strcmp(argv[i], "1"))
				return 2;
			early = argv[i][0] == '1';
		} else if (!strcmp(argv[i], "--trace")) {
			trace = true;
		} else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			dir = argv[++i];
		} else {
			return 2;
		}
	}
	if (!in_range(ns, nn, 1, MAX_PROCS) ||
	    !in_range(reps, nreps, 1, 1000000) ||
	    !in_range(idles, nidle, 0, MAX_PROCS))
		return 2;
	if (bench_setup())
		return 1;
	for (i = 0; i < nn; i++)
		for (j = 0; j < nidle; j++)
			if (ns[i] + idles[j] > most)
				most = ns[i] + idles[j];
	room_for_processes(2 * most + 4096);
	if (set_setting(EARLY_KILL, early ? "1" : "0")) {
		bench_error("cannot set %s", EARLY_KILL);
		return 1;
	}
	/* Neither RT throttling nor the fair server cuts into the calls. */
	set_setting(RT_RUNTIME, "-1");
	snprintf(path, sizeof(path), FAIR_SERVER, 0);
	if (!access(path, W_OK))
		set_setting(path, "0");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) ||
	    sigaction(SIGBUS, &sa, NULL)) {
		bench_error("cannot become a subreaper or catch SIGBUS: %s",
			    strerror(errno));
		return 1;
	}
	if (trace && trace_start()) {
		bench_error("function_graph cannot trace memory_failure()");
		return 1;
	}
	for (i = 0; i < nn; i++) {
		for (j = 0; j < nidle; j++) {
			for (rep = 0; rep < reps[i < nreps ? i : nreps - 1]; rep++) {
				if (sharers_once(kind, ns[i], idles[j], early, dir,
						 &r)) {
					ret = 1;
					goto out;
				}
				/* No mf_us at all without --trace. */
				mf[0] = 0;
				if (trace)
					snprintf(mf, sizeof(mf), " mf_us=%.1f",
						 r.mf_us);
				printf("BENCH sharers kind=%s n=%ld idle=%ld early=%d madvise_us=%.1f%s all_dead_us=%.1f mapcount=%ld sigbus_ao=%d sigbus_ar=%d unsignalled=%d other=%d self_sigbus=%d madvise_err=%d unpoison_err=%d\n",
				       kind_names[kind], ns[i], idles[j], early,
				       r.madvise_us, mf, r.all_dead_us,
				       r.mapcount, r.ao, r.ar, r.unsignalled,
				       r.other, r.self_sigbus, r.madvise_err,
				       r.unpoison_err);
				fflush(stdout);
			}
		}
	}
out:
	trace_stop();
	return ret;
}

/* ------------------------------------------------------------------ */
/* single and contention: one fresh page at a time */

static int caught_sigbus;

static void count_sigbus(int sig, siginfo_t *si, void *uc)
{
	__atomic_fetch_add(&caught_sigbus, 1, __ATOMIC_RELAXED);
}

/*
 * MADV_HWPOISON (@hard) or MADV_SOFT_OFFLINE of one fresh anonymous page;
 * the call's time in us, or -1.  The old page is unpoisoned afterwards
 * (@unpoison_err counts the failures).
 */
static double one_page(bool hard, int *unpoison_err)
{
	uint64_t pfn, newpfn;
	double t0, t1;
	char *p;
	int ret;

	p = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	madvise(p, psize, MADV_NOHUGEPAGE);
	memset(p, 0xa5, psize);
	pfn = mf_virt_to_pfn(p);
	t0 = now_us();
	ret = madvise(p, psize, hard ? MADV_HWPOISON : MADV_SOFT_OFFLINE);
	t1 = now_us();
	newpfn = hard ? 0 : mf_virt_to_pfn(p);
	munmap(p, psize);
	if (!pfn || ret || !is_poisoned(pfn) || (!hard && newpfn == pfn)) {
		if (pfn && is_poisoned(pfn) && mf_unpoison_retry(pfn))
			(*unpoison_err)++;
		return -1;
	}
	if (mf_unpoison_retry(pfn))
		(*unpoison_err)++;
	return t1 - t0;
}

/* @count samples of one_page() into @v (sorted); returns the errors. */
static int sample_pages(bool hard, int count, double *v, int *got,
			int *unpoison_err)
{
	int i, errors = 0;
	double t;

	*got = 0;
	for (i = 0; i < count; i++) {
		t = one_page(hard, unpoison_err);
		if (t < 0)
			errors++;
		else
			v[(*got)++] = t;
	}
	qsort(v, *got, sizeof(double), cmp_double);
	return errors;
}

static int catch_sigbus_counting(void)
{
	struct sigaction sa = {
		.sa_sigaction = count_sigbus,
		.sa_flags = SA_SIGINFO | SA_RESTART,
	};

	return sigaction(SIGBUS, &sa, NULL);
}

static int cmd_single(int argc, char **argv)
{
	int count = 500, i, got, errors, unpoison_err, op;
	double *v, mean;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atoi(argv[++i]);
		else
			return 2;
	}
	if (count < 1)
		return 2;
	if (bench_setup())
		return 1;
	v = calloc(count, sizeof(double));
	if (!v || catch_sigbus_counting()) {
		bench_error("out of memory, or SIGBUS cannot be caught");
		return 1;
	}
	for (op = 0; op < 2; op++) {
		unpoison_err = 0;
		errors = sample_pages(op == 0, count, v, &got, &unpoison_err);
		if (!got) {
			bench_error("single %s: no page could be offlined",
				    op ? "soft" : "hard");
			return 1;
		}
		for (mean = 0, i = 0; i < got; i++)
			mean += v[i] / got;
		printf("BENCH single op=%s n=%d median_us=%.1f p99_us=%.1f min_us=%.1f max_us=%.1f mean_us=%.1f errors=%d unpoison_err=%d\n",
		       op ? "soft" : "hard", got, quantile(v, got, 0.5),
		       quantile(v, got, 0.99), v[0], v[got - 1], mean, errors,
		       unpoison_err);
		fflush(stdout);
	}
	free(v);
	return 0;
}

/* Shared with the soft offline loop of contention. */
struct loop_ctl {
	int stop;
	int passes;
	int started;
	int errors;
	int unpoison_err;
};

/*
 * Soft offline @mib MiB in a loop on CPU 1 until @ctl->stop, or until the
 * parent is gone: each pass ends with its pages unpoisoned.
 */
static void soft_offline_loop(struct loop_ctl *ctl, long mib)
{
	long npages = mib * 1024 * 1024 / psize;
	size_t len = npages * psize;
	uint64_t *pfns = calloc(npages, sizeof(uint64_t));
	pid_t parent = getppid();
	char *p;

	pin_cpu(1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || !pfns)
		_exit(1);
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 0x3c, len);
	while (!__atomic_load_n(&ctl->stop, __ATOMIC_SEQ_CST) &&
	       getppid() == parent) {
		if (pagemap_pfns(p, npages, pfns))
			_exit(1);
		__atomic_store_n(&ctl->started, 1, __ATOMIC_SEQ_CST);
		if (madvise(p, len, MADV_SOFT_OFFLINE))
			ctl->errors++;
		ctl->unpoison_err += unpoison_pfns(pfns, npages);
		__atomic_fetch_add(&ctl->passes, 1, __ATOMIC_SEQ_CST);
	}
	_exit(0);
}

static int cmd_contention(int argc, char **argv)
{
	int count = 200, i, got_idle, got_busy, unpoison_err = 0, errors;
	double *idle, *busy, deadline;
	struct loop_ctl *ctl;
	long mib = 16;
	pid_t pid;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = atol(argv[++i]);
		else
			return 2;
	}
	if (count < 1 || mib < 1 || mib > 1 << 20)
		return 2;
	if (bench_setup())
		return 1;
	idle = calloc(count, sizeof(double));
	busy = calloc(count, sizeof(double));
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!idle || !busy || ctl == MAP_FAILED || catch_sigbus_counting()) {
		bench_error("out of memory, or SIGBUS cannot be caught");
		return 1;
	}
	memset(ctl, 0, sizeof(*ctl));
	errors = sample_pages(true, count, idle, &got_idle, &unpoison_err);

	pid = fork();
	if (pid < 0) {
		bench_error("fork: %s", strerror(errno));
		return 1;
	}
	if (!pid)
		soft_offline_loop(ctl, mib);
	deadline = now_us() + 120e6;
	while (!__atomic_load_n(&ctl->started, __ATOMIC_SEQ_CST) &&
	       now_us() < deadline && !waitpid(pid, NULL, WNOHANG))
		usleep(1000);
	/* Busy samples only with the loop running (or having run). */
	if (__atomic_load_n(&ctl->started, __ATOMIC_SEQ_CST))
		errors += sample_pages(true, count, busy, &got_busy,
				       &unpoison_err);
	else
		got_busy = 0;
	__atomic_store_n(&ctl->stop, 1, __ATOMIC_SEQ_CST);
	waitpid(pid, NULL, 0);
	unpoison_err += ctl->unpoison_err;
	if (!got_idle || !got_busy || !ctl->started) {
		bench_error("contention: %d idle and %d busy samples, loop %s",
			    got_idle, got_busy, ctl->started ? "ran" : "never ran");
		return 1;
	}
	printf("BENCH contention n=%d mib=%ld idle_p50_us=%.1f idle_p99_us=%.1f busy_p50_us=%.1f busy_p99_us=%.1f ratio_p50=%.3f ratio_p99=%.3f passes=%d errors=%d loop_errors=%d unpoison_err=%d\n",
	       count, mib, quantile(idle, got_idle, 0.5),
	       quantile(idle, got_idle, 0.99), quantile(busy, got_busy, 0.5),
	       quantile(busy, got_busy, 0.99),
	       quantile(busy, got_busy, 0.5) / quantile(idle, got_idle, 0.5),
	       quantile(busy, got_busy, 0.99) / quantile(idle, got_idle, 0.99),
	       ctl->passes, errors, ctl->errors, unpoison_err);
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------------ */
/* soft-offline: throughput over a large range */

static int cmd_soft_offline(int argc, char **argv)
{
	enum kind kind = ANON;
	long mib = 64, npages, offlined, i, moved = 0;
	uint64_t *old, *new;
	int fd = -1, err = 0;
	double t0, t1;
	size_t len;
	char *p;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--kind") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "anon"))
				kind = ANON;
			else if (!strcmp(argv[i], "tmpfs"))
				kind = TMPFS;
			else
				return 2;
		} else if (!strcmp(argv[i], "--mib") && i + 1 < argc) {
			mib = atol(argv[++i]);
		} else {
			return 2;
		}
	}
	if (mib < 1 || mib > 1 << 20)
		return 2;
	if (bench_setup())
		return 1;
	npages = mib * 1024 * 1024 / psize;
	len = npages * psize;
	old = calloc(npages, sizeof(uint64_t));
	new = calloc(npages, sizeof(uint64_t));
	if (!old || !new) {
		bench_error("out of memory");
		return 1;
	}
	if (kind == TMPFS) {
		fd = memfd_create("hwpt-bench-soft", 0);
		if (fd < 0 || ftruncate(fd, len)) {
			bench_error("memfd: %s", strerror(errno));
			return 1;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	} else {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (p == MAP_FAILED) {
		bench_error("mmap: %s", strerror(errno));
		return 1;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 0x77, len);
	if (pagemap_pfns(p, npages, old)) {
		bench_error("cannot read /proc/self/pagemap");
		return 1;
	}
	t0 = now_us();
	if (madvise(p, len, MADV_SOFT_OFFLINE))
		err = errno;
	t1 = now_us();
	if (pagemap_pfns(p, npages, new)) {
		bench_error("cannot read /proc/self/pagemap");
		munmap(p, len);
		if (fd >= 0)
			close(fd);
		unpoison_pfns(old, npages);
		return 1;
	}
	for (i = 0; i < npages; i++)
		moved += new[i] && new[i] != old[i];
	offlined = count_poisoned(old, npages);
	munmap(p, len);
	if (fd >= 0)
		close(fd);
	printf("BENCH soft_offline kind=%s mib=%ld pages=%ld offlined=%ld moved=%ld us=%.1f mib_s=%.2f madvise_err=%d unpoison_err=%d\n",
	       kind_names[kind], mib, npages, offlined, moved, t1 - t0,
	       mib / ((t1 - t0) / 1e6), err, unpoison_pfns(old, npages));
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------------ */
/* burst: many errors at once */

struct burst_ctl {
	double start_us, end_us;
	long written;
	int err;
};

/* The writer: SCHED_FIFO on CPU 1, every PFN to @path, no sleep between. */
static void burst_writer(struct burst_ctl *ctl, const char *path,
			 const uint64_t *pfns, long n)
{
	struct sched_param sp = { .sched_priority = 50 };
	int fd;
	long i;

	if (pin_cpu(1) || sched_setscheduler(0, SCHED_FIFO, &sp)) {
		ctl->err = errno;
		_exit(1);
	}
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		ctl->err = errno;
		_exit(1);
	}
	ctl->start_us = now_us();
	for (i = 0; i < n; i++) {
		int err = pfn_file_write(fd, pfns[i]);

		if (err && !ctl->err)
			ctl->err = err;
	}
	ctl->end_us = now_us();
	ctl->written = n;
	_exit(0);
}

static int cmd_burst(int argc, char **argv)
{
	long n = 4096, found, handled = 0, last = -1, overflow, lost_logged, i;
	double last_change, deadline, done_us;
	long hwc0, hwc1;
	bool cec = true;
	struct burst_ctl *ctl;
	char path[128];
	uint64_t *pfns;
	int kmsg, unpoison_err, keep = nr_saved;
	pid_t pid;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--route") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "cec"))
				cec = true;
			else if (!strcmp(argv[i], "corrupt"))
				cec = false;
			else
				return 2;
		} else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
			n = atol(argv[++i]);
		} else {
			return 2;
		}
	}
	if (n < 1 || n > 1 << 24)
		return 2;
	if (bench_setup())
		return 1;
	pfns = calloc(n, sizeof(uint64_t));
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!pfns || ctl == MAP_FAILED) {
		bench_error("out of memory");
		return 1;
	}
	memset(ctl, 0, sizeof(*ctl));
	if (cec) {
		if (access(CEC_DIR "/pfn", W_OK)) {
			bench_error("no %s/pfn (CONFIG_RAS_CEC_DEBUG)", CEC_DIR);
			return 1;
		}
		if (set_setting(CEC_DIR "/action_threshold", "1")) {
			bench_error("cannot set the CEC action threshold");
			return 1;
		}
		set_setting(RT_RUNTIME, "-1");
		snprintf(path, sizeof(path), FAIR_SERVER, 1);
		if (!access(path, W_OK))
			set_setting(path, "0");
	}
	found = find_free_pfns(pfns, n);
	if (found < n) {
		bench_error("only %ld free pages found", found);
		return 1;
	}
	hwc0 = mf_meminfo_kb("HardwareCorrupted");
	kmsg = mf_kmsg_open();
	pid = fork();
	if (pid < 0) {
		bench_error("fork: %s", strerror(errno));
		return 1;
	}
	if (!pid)
		burst_writer(ctl, cec ? CEC_DIR "/pfn" : CORRUPT_PFN, pfns, n);
	waitpid(pid, NULL, 0);
	if (!ctl->written) {
		bench_error("the writer failed: %s", strerror(ctl->err));
		/* What it did write, if anything, is put back. */
		usleep(200000);
		restore_settings_to(keep);
		unpoison_pfns(pfns, n);
		return 1;
	}
	/*
	 * Handled = poisoned.  Done when all are, or when nothing changed for
	 * 2 s; the time is that of the poll that saw the last change (or the
	 * end of the writes when the first poll finds all handled).
	 */
	last_change = now_us();
	deadline = last_change + 300e6;
	done_us = ctl->end_us;
	while (now_us() < deadline) {
		handled = count_poisoned(pfns, n);
		if (handled != last) {
			last_change = now_us();
			if (last >= 0 || handled < n)
				done_us = last_change;
			last = handled;
		}
		if (handled == n || now_us() - last_change > 2e6)
			break;
		usleep(5000);
	}
	hwc1 = mf_meminfo_kb("HardwareCorrupted");
	usleep(200000);
	kmsg_scan(kmsg, "buffer overflow when queuing memory failure",
		  &overflow, "queued memory errors lost", &lost_logged);
	if (kmsg >= 0)
		close(kmsg);
	restore_settings_to(keep);
	unpoison_err = unpoison_pfns(pfns, n);
	printf("BENCH burst route=%s n=%ld submitted=%ld handled=%ld lost=%ld overflow_logged=%ld lost_logged=%ld writer_us=%.1f total_us=%.1f drain_us=%.1f hwc_delta_kb=%ld write_err=%d unpoison_err=%d\n",
	       cec ? "cec" : "corrupt", n, ctl->written, handled, n - handled,
	       overflow, lost_logged, ctl->end_us - ctl->start_us,
	       done_us - ctl->start_us,
	       done_us > ctl->end_us ? done_us - ctl->end_us : 0.0,
	       hwc1 - hwc0, ctl->err, unpoison_err);
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------------ */

static void print_usage(void)
{
	fprintf(stderr,
		"usage: hwpt-bench [--quiet] sharers --kind anon|tmpfs|ext2 --n N[,N...]\n"
		"                  [--reps R[,R...]] [--early 0|1] [--idle M[,M...]] [--trace]\n"
		"                  [--dir PATH]\n"
		"       hwpt-bench [--quiet] single [--count C]\n"
		"       hwpt-bench [--quiet] burst --route cec|corrupt [--n N]\n"
		"       hwpt-bench [--quiet] soft-offline --kind anon|tmpfs [--mib M]\n"
		"       hwpt-bench [--quiet] contention [--count C] [--mib M]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} modes[] = {
		{ "sharers", cmd_sharers },
		{ "single", cmd_single },
		{ "burst", cmd_burst },
		{ "soft-offline", cmd_soft_offline },
		{ "contention", cmd_contention },
	};
	unsigned int m;
	int i = 1, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (i < argc && !strcmp(argv[i], "--quiet")) {
		quiet = true;
		i++;
	}
	if (i >= argc)
		print_usage();
	for (m = 0; m < ARRAY_SIZE(modes); m++)
		if (!strcmp(argv[i], modes[m].name))
			break;
	if (m == ARRAY_SIZE(modes))
		print_usage();
	psize = sysconf(_SC_PAGESIZE);
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus < 1)
		ncpus = 1;
	/* Each mode parses its arguments, then calls bench_setup(). */
	ret = modes[m].fn(argc - i - 1, argv + i + 1);
	restore_settings();
	if (ret == 2)
		print_usage();
	return ret;
}
