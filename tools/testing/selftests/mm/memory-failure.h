/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the memory-failure*.c selftests: where a page lives,
 * what the kernel counts, the injection routes, and catching SIGBUS.
 */
#ifndef __SELFTESTS_MM_MEMORY_FAILURE_H
#define __SELFTESTS_MM_MEMORY_FAILURE_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef MPOL_F_NODE
#define MPOL_F_NODE (1 << 0)
#define MPOL_F_ADDR (1 << 1)
#endif

#define KPF_BUDDY		10
#define KPF_HWPOISON		19
#define KPF_NOPAGE		20
#define HWPOISON_DEBUGFS	"/sys/kernel/debug/hwpoison"
#define CORRUPT_PFN		HWPOISON_DEBUGFS "/corrupt-pfn"
#define UNPOISON_PFN		HWPOISON_DEBUGFS "/unpoison-pfn"
#define HARD_OFFLINE_PAGE	"/sys/devices/system/memory/hard_offline_page"
#define SOFT_OFFLINE_PAGE	"/sys/devices/system/memory/soft_offline_page"

/*
 * SIGBUS catching: arm with sigsetjmp(mf_sigbus_env, 1) around the access
 * or the injection; the handler records the siginfo and jumps back.  The
 * count is read with mf_sigbus_seen(): an atomic access, as the handler
 * may change it at any instruction.
 */
static sigjmp_buf mf_sigbus_env;
static int mf_sigbus_count;
static siginfo_t mf_sigbus_info;

#define mf_sigbus_seen()	__atomic_load_n(&mf_sigbus_count, __ATOMIC_RELAXED)

static inline void mf_sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	mf_sigbus_info = *si;
	__atomic_fetch_add(&mf_sigbus_count, 1, __ATOMIC_RELAXED);
	siglongjmp(mf_sigbus_env, 1);
}

/*
 * Read a byte of @addr for real, even if the value is not used: the
 * access is what the test is about.
 */
static inline char mf_read_byte(const void *addr)
{
	char c = __atomic_load_n((const char *)addr, __ATOMIC_RELAXED);

	asm volatile("" : : "r"(c));
	return c;
}

static inline int mf_catch_sigbus(void)
{
	struct sigaction sa = {
		.sa_sigaction = mf_sigbus_handler,
		.sa_flags = SA_SIGINFO,
	};

	__atomic_store_n(&mf_sigbus_count, 0, __ATOMIC_RELAXED);
	return sigaction(SIGBUS, &sa, NULL);
}

/* A /proc/meminfo field in kB, or -1. */
static inline long mf_meminfo_kb(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			val = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

/* The first number in a file, or -1. */
static inline long mf_read_long(const char *path)
{
	long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%li", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

/* Writes @buf with one write(2); returns 0 or the errno. */
static inline int mf_write_file(const char *path, const char *buf)
{
	ssize_t len = strlen(buf);
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	if (write(fd, buf, len) != len)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

/* /sys/devices/system/node/nodeN/memory_failure/@name, or -1. */
static inline long mf_node_stat(int node, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/memory_failure/%s", node, name);
	return mf_read_long(path);
}

/* The PFN backing @addr (root only), or 0 when not present. */
static inline uint64_t mf_virt_to_pfn(void *addr)
{
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  ((uintptr_t)addr / psize) * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	return (entry & (1ULL << 63)) ? entry & ((1ULL << 55) - 1) : 0;
}

/* The NUMA node of the page at @addr, or -1. */
static inline int mf_page_node(void *addr)
{
	int node = -1;

	if (syscall(SYS_get_mempolicy, &node, NULL, 0, addr,
		    MPOL_F_NODE | MPOL_F_ADDR))
		return -1;
	return node;
}

/* The KPF_* flags of @pfn, or KPF_NOPAGE when they cannot be read. */
static inline uint64_t mf_kpageflags(uint64_t pfn)
{
	uint64_t flags = 1ULL << KPF_NOPAGE;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		return flags;
	if (pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) != sizeof(flags))
		flags = 1ULL << KPF_NOPAGE;
	close(fd);
	return flags;
}

static inline int mf_pfn_is_hwpoison(uint64_t pfn)
{
	return !!(mf_kpageflags(pfn) & (1ULL << KPF_HWPOISON));
}

/* Writes @pfn in hex to a debugfs injector file; returns 0 or an errno. */
static inline int mf_write_pfn(const char *path, uint64_t pfn)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)pfn);
	return mf_write_file(path, buf);
}

/* Writes the physical address of @pfn to a memory/ offline file. */
static inline int mf_write_paddr(const char *path, uint64_t pfn)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%#llx",
		 (unsigned long long)pfn * sysconf(_SC_PAGESIZE));
	return mf_write_file(path, buf);
}

static inline int mf_unpoison_pfn(uint64_t pfn)
{
	return mf_write_pfn(UNPOISON_PFN, pfn);
}

/*
 * The kernel log through /dev/kmsg (root): mf_kmsg_open() returns a
 * non-blocking descriptor positioned after the newest record, so that
 * mf_kmsg_read() later sees only what was logged since.
 */
static inline int mf_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Appends the text of each record logged since the last read (without the
 * "level,seq,time,flags;" prefix or dictionary lines), one a line, to the
 * NUL-terminated string in @buf (of @size bytes, empty at first), truncated
 * when full.  Returns the number of records read; records overwritten before
 * being read are skipped.
 */
static inline int mf_kmsg_read(int fd, char *buf, size_t size)
{
	size_t len = strnlen(buf, size);
	char rec[8192], *msg, *nl;
	int n = 0;
	ssize_t got;

	for (;;) {
		got = read(fd, rec, sizeof(rec) - 1);
		if (got < 0 && errno == EPIPE)
			continue;
		if (got <= 0)
			break;
		rec[got] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		if (len + 1 < size)
			len += snprintf(buf + len, size - len, "%s\n", msg);
		if (len >= size)
			len = size - 1;
		n++;
	}
	return n;
}

/* The number of lines of @log that contain @needle. */
static inline int mf_log_count(const char *log, const char *needle)
{
	const char *hit = log;
	int n = 0;

	while ((hit = strstr(hit, needle))) {
		n++;
		hit = strchr(hit, '\n');
		if (!hit)
			break;
	}
	return n;
}

/* Writes @val in decimal to @path; returns 0 or the errno. */
static inline int mf_write_long(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return mf_write_file(path, buf);
}

static inline int mf_write_ull(const char *path, unsigned long long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", val);
	return mf_write_file(path, buf);
}

/*
 * Unpoison @pfn; a reference still held for a moment (an LRU batch, the
 * injector finishing) makes the kernel answer EBUSY, so retry a little.
 */
static inline int mf_unpoison_retry(uint64_t pfn)
{
	int err, i;

	for (i = 0; i < 20; i++) {
		err = mf_unpoison_pfn(pfn);
		if (err != EBUSY)
			break;
		usleep(20000);
	}
	return err;
}

/*
 * The hard offline injection routes, one signature for the fixture
 * variants: each sends the page at @addr (PFN @pfn, @psize bytes) to hard
 * offline and returns 0 or the errno.  MADV_HWPOISON acts for the caller
 * through its mapping; corrupt-pfn (debugfs) and hard_offline_page (sysfs)
 * take the PFN and act for nobody in particular.
 */
static inline int mf_inject_madv_hard(void *addr, long psize, uint64_t pfn)
{
	return madvise(addr, psize, MADV_HWPOISON) ? errno : 0;
}

static inline int mf_inject_corrupt_pfn(void *addr, long psize, uint64_t pfn)
{
	return mf_write_pfn(CORRUPT_PFN, pfn);
}

static inline int mf_inject_hard_offline(void *addr, long psize, uint64_t pfn)
{
	return mf_write_paddr(HARD_OFFLINE_PAGE, pfn);
}

/* A memory_failure counter summed over all nodes, or -1 without it. */
static inline long mf_stat_sum(const char *name)
{
	long sum = 0, val;
	int node;

	for (node = 0; (val = mf_node_stat(node, name)) >= 0; node++)
		sum += val;
	return node ? sum : -1;
}

/*
 * The type of the mount the file open at @fd is on, from the line of
 * /proc/self/mountinfo with its mount ID ("ID PARENT MAJ:MIN ROOT
 * MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE ..."), in the @size
 * bytes at @type; "" when it cannot be found.
 */
static inline void mf_mount_type(int fd, char *type, size_t size)
{
	char line[4096], *sep;
	bool at_start, next_at_start = true;
	struct statx stx;
	size_t len;
	FILE *f;

	type[0] = 0;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return;
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* A longer line comes in pieces: only its first one counts. */
		at_start = next_at_start;
		next_at_start = strchr(line, '\n');
		if (!at_start || strtoull(line, NULL, 10) != stx.stx_mnt_id)
			continue;
		sep = strstr(line, " - ");
		if (sep) {
			sep += 3;
			len = strcspn(sep, "\n ");
			if (len < size) {
				memcpy(type, sep, len);
				type[len] = 0;
			}
		}
		break;
	}
	fclose(f);
}

#ifdef __KSELFTEST_HARNESS_H
/* A page and what the kernel had counted before a test poisoned it. */
struct mf_baseline {
	uint64_t pfn;
	int node;
	long corrupted_kb;		/* HardwareCorrupted */
	long total, recovered, failed, ignored;	/* the node's counters */
};

/* Take @b for the page at @addr, which must not be poisoned yet. */
static inline void mf_snapshot(struct __test_metadata *_metadata, void *addr,
			       struct mf_baseline *b)
{
	b->pfn = mf_virt_to_pfn(addr);
	ASSERT_NE(b->pfn, 0);
	b->node = mf_page_node(addr);
	ASSERT_GE(b->node, 0);
	b->corrupted_kb = mf_meminfo_kb("HardwareCorrupted");
	ASSERT_GE(b->corrupted_kb, 0);
	b->total = mf_node_stat(b->node, "total");
	b->recovered = mf_node_stat(b->node, "recovered");
	b->failed = mf_node_stat(b->node, "failed");
	b->ignored = mf_node_stat(b->node, "ignored");
	ASSERT_GE(b->total, 0);
	ASSERT_FALSE(mf_pfn_is_hwpoison(b->pfn));
}

/*
 * The file-backed tests use the page cache of a file in the cwd: a clean
 * page dropped and read back from the disk, a dirty one lost and reported
 * by fsync(2), a mapped one migrated.  That takes a block-backed filesystem
 * with writeback.  tmpfs and ramfs have no backing store (a poisoned tmpfs
 * page stays in the file, out of unpoison's reach), and overlayfs, 9p, NFS
 * and FUSE keep the data in another filesystem or elsewhere: there the
 * tests fail, and leave poisoned pages behind.
 *
 * Checks the filesystem of the file open at @fd (@path in the cwd) itself,
 * not the cwd's (an overlay whose upper layer is tmpfs is not tmpfs): its
 * fstatfs() f_type and, when it can be found, the type of its mount, as 9p
 * (9p2000.L) passes the server's f_type through.  Returns the f_type when
 * they say ext2/3/4, xfs or btrfs; otherwise SKIPs the test, naming the
 * filesystem, and
 * returns 0: the caller must return before poisoning anything and leave
 * the file to the teardown.
 */
static inline unsigned int mf_require_disk_fs(struct __test_metadata *_metadata,
					      int fd, const char *path)
{
	static const struct {
		unsigned int magic;
		const char *name;
		bool usable;
	} types[] = {
		/* ext2, ext3 and ext4 share one magic */
		{ EXT4_SUPER_MAGIC, "ext2/3/4", true },
		{ XFS_SUPER_MAGIC, "xfs", true },
		{ BTRFS_SUPER_MAGIC, "btrfs", true },
		{ TMPFS_MAGIC, "tmpfs" },
		{ RAMFS_MAGIC, "ramfs" },
		{ OVERLAYFS_SUPER_MAGIC, "overlayfs" },
		{ V9FS_MAGIC, "9p" },
		{ NFS_SUPER_MAGIC, "nfs" },
		{ FUSE_SUPER_MAGIC, "fuse" },
	};
	static const char * const mounts[] = {
		"ext2", "ext3", "ext4", "xfs", "btrfs",
	};
	char name[64], mount[32], cwd[256];
	bool usable = false;
	struct statfs sfs;
	unsigned int i;

	ASSERT_EQ(fstatfs(fd, &sfs), 0);
	snprintf(name, sizeof(name), "a filesystem of type %#x",
		 (unsigned int)sfs.f_type);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if ((unsigned int)sfs.f_type == types[i].magic) {
			snprintf(name, sizeof(name), "%s", types[i].name);
			usable = types[i].usable;
			break;
		}
	}
	mf_mount_type(fd, mount, sizeof(mount));
	if (usable && mount[0]) {
		usable = false;
		for (i = 0; i < ARRAY_SIZE(mounts); i++)
			if (!strcmp(mount, mounts[i]))
				usable = true;
		if (!usable)
			snprintf(name, sizeof(name), "%s (f_type %#x)", mount,
				 (unsigned int)sfs.f_type);
	}
	if (usable)
		return sfs.f_type;
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	SKIP(return 0,
	     "%s/%s is on %s: not a disk filesystem with writeback (ext2/3/4, xfs, btrfs)",
	     cwd, path, name);
}

/*
 * Unpoison @pfn through debugfs and check that the page is clean again and
 * HardwareCorrupted back at @corrupted_kb; after a real machine check the
 * kernel refuses (EOPNOTSUPP), which is not a failure here.
 */
static inline void mf_unpoison_and_check(struct __test_metadata *_metadata,
					 uint64_t pfn, long corrupted_kb)
{
	int err = mf_unpoison_pfn(pfn);

	if (err == EOPNOTSUPP) {
		TH_LOG("unpoison refused after a real machine check");
		return;
	}
	ASSERT_EQ(err, 0);
	EXPECT_FALSE(mf_pfn_is_hwpoison(pfn));
	EXPECT_EQ(mf_meminfo_kb("HardwareCorrupted"), corrupted_kb);
}
#endif

#endif /* __SELFTESTS_MM_MEMORY_FAILURE_H */
