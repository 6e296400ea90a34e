// SPDX-License-Identifier: GPL-2.0
/*
 * hwpt-stress - the guest half of `make stress`.
 *
 * For a given time, worker processes keep mappings of every kind of page
 * the hwpoison code handles and churn them (touch, fork, munmap, mremap,
 * exit), while injector processes poison and soft offline their pages (and
 * random RAM), an unpoisoner gives the pages back and an optional actor
 * offlines and onlines a ZONE_MOVABLE memory block.  Every SIGBUS a process
 * of the run receives is checked, every operation is counted; the host
 * (tools/testing/hwpoison/hwpt/stress.py) pauses the injectors to check
 * invariants, aims real machine checks at a page the program names, and
 * reads the counters.  The interface, precisely:
 *
 * COMMAND LINE
 *
 *   hwpt-stress run --dir DIR [--dur SECS] [--seed N] [--disk PATH]
 *		[--workers N] [--injectors N] [--hotplug] [--hotplug-period SECS]
 *		[--no-hugetlb] [--no-thp] [--no-ksm] [--no-swap] [--no-mlock]
 *		[--no-madvise] [--no-random] [--no-unpoison]
 *		[--hugetlb-budget N] [--inject-ms MS] [--unpoison-ms MS]
 *   hwpt-stress cleanup --dir DIR
 *
 * run needs root.  It runs for SECS seconds (default 60), or until DIR/ctl
 * says "stop" or the main process gets SIGTERM or SIGINT, then stops every
 * process, cleans up (below), writes the final DIR/stats and DIR/lastops,
 * prints a table on stdout and exits: 0 when there was no violation, 1 when
 * there was at least one, 2 on a usage or setup error.  Stdout also gets a
 * "hwpt-stress: ..." line at the start, one every 10 s and one per
 * violation ("hwpt-stress: VIOLATION TEXT"), as they happen.
 *
 *   --dir DIR          every file below lives here (created if missing)
 *   --seed N           seeds every process's random choices (default 1)
 *   --disk PATH        a directory on a disk filesystem (the guest's ext2
 *                      /mnt/disk) for the file_shared and file_private
 *                      kinds; without it they are off.  Files go to
 *                      PATH/hwpt-stress.PID/, removed at the end
 *   --workers N        worker processes (default 6, at most 16)
 *   --injectors N      PFN injector processes (default 2, at most 8)
 *   --hotplug          start the hotplug actor
 *   --hotplug-period S seconds between two of its cycles (default 20)
 *   --no-hugetlb, --no-thp, --no-ksm, --no-swap, --no-mlock
 *                      leave those kinds out
 *   --no-madvise       workers do not inject (MADV_HWPOISON/SOFT_OFFLINE)
 *   --no-random        no random-RAM soft offliner
 *   --no-unpoison      no unpoisoner during the run (the end still
 *                      unpoisons everything)
 *   --hugetlb-budget N the most hugetlb pages each route may poison, per
 *                      hugetlb kind (default 2); see BUDGETS
 *   --inject-ms MS     mean time between two injections of one injector
 *                      (default 150); each worker injects on its own pages
 *                      every 20 * MS on average, hard and soft each
 *   --unpoison-ms MS   how old a poisoned PFN must be before the
 *                      unpoisoner tries it (default 2000)
 *
 * cleanup is for a run whose main process was killed (the others die with
 * it: PR_SET_PDEATHSIG): it unpoisons the PFNs of DIR/poisoned.log that
 * are still poisoned, tries to online the
 * blocks DIR/state lists as offline, restores
 * the settings DIR/state saved, removes the files and unmounts what the run
 * mounted.  It exits 0.
 *
 * What a run changes in the system, and puts back at the end:
 * vm.nr_hugepages (raised to the pool it needs, topped up every second when
 * poisoned huge pages leave the pool), a hugetlbfs mount at DIR/hugetlbfs
 * when none is mounted, /sys/kernel/mm/ksm/{run,pages_to_scan,
 * sleep_millisecs}.  It never enables swap: the swap kind is on only when
 * /proc/swaps lists an active device.
 *
 * PROCESSES
 *
 *   main      the process the host started: sets up, spawns and respawns
 *             the others, watches DIR/ctl, writes the files, cleans up.
 *             It is the child subreaper of the run.
 *   worker    N of them; each picks its kill policy at random and sets it
 *             with prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY or
 *             PR_MCE_KILL_LATE), keeps one mapping of each kind (below),
 *             touches them, forks children, munmaps, mremaps, injects on
 *             its own pages and exits after 3 to 15 s; main starts a new
 *             one in its slot when it ends or dies.
 *   child     a worker's child: shares its mappings, touches them (and
 *             sleeps) for 5 to 65 ms, exits; at most 2 per worker at once.
 *   injector  picks a random page of a random worker, reads its PFN from
 *             /proc/PID/pagemap and sends it to corrupt-pfn,
 *             hard_offline_page or soft_offline_page.
 *   ramsoft   writes random PFNs of System RAM (/proc/iomem) to
 *             soft_offline_page.
 *   unpoison  writes every PFN the run poisoned or soft offlined to
 *             unpoison-pfn once it is --unpoison-ms old; retries EBUSY.
 *   hotplug   (--hotplug) offlines a random online ZONE_MOVABLE block
 *             (valid_zones "Movable"), then onlines it again with
 *             "online_movable"; a block that could not be onlined
 *             (EHWPOISON: it holds a poisoned page) is retried each cycle.
 *             Every second cycle keeps its block clean first: no process
 *             poisons its PFNs meanwhile (RESULT hotplug) and the run's
 *             pending PFNs in it are unpoisoned, so that both outcomes are
 *             seen.  Before each offline, the block's poisoned pages
 *             the run did not know of join its list (KIND unlisted, OP
 *             hotplug_offline): offline, kpageflags cannot show them.
 *             Boot memory blocks may refuse: EINVAL for a block
 *             with a hole, EBUSY for one with unmovable (reserved) pages;
 *             hot-added DIMMs onlined movable are the reliable candidates.
 *
 * Every process has the comm hwpts-ROLE[SLOT] (hwpts-main, hwpts-w3,
 * hwpts-c3, hwpts-inj0, hwpts-ramsoft, hwpts-unpoison, hwpts-hotplug), as
 * seen in "Sending SIGBUS to COMM:PID" kernel lines.
 *
 * PAGE KINDS (the KIND of a worker mapping)
 *
 *   anon             64 private anonymous 4 KiB pages, MADV_NOHUGEPAGE
 *   thp              two 2 MiB-aligned THPs, MADV_HUGEPAGE (may split)
 *   hugetlb_private  one MAP_PRIVATE|MAP_HUGETLB 2 MiB page
 *   hugetlb_shared   one MAP_SHARED 2 MiB page of a file on hugetlbfs
 *   shmem            64 pages of a memfd or MAP_SHARED|MAP_ANONYMOUS
 *   file_shared      32 pages of a file on --disk, MAP_SHARED
 *   file_private     32 pages of a file on --disk, MAP_PRIVATE
 *   mlock            16 anonymous pages, mlock()ed
 *   ksm              32 anonymous pages of 4 different contents, the same
 *                    in every worker, MADV_MERGEABLE (ksm/run=1)
 *   swap             64 anonymous pages pushed out with MADV_PAGEOUT
 *                    again and again (only with an active swap device)
 *
 * Files are unlinked as soon as they are mapped.  Each 4 KiB page holds a
 * tag in its first 8 bytes (a function of the mapping and the page index;
 * files get it with write(2) and fsync(2) before they are mapped) that no
 * one changes; every read checks it, so a page that comes back with other
 * content (a bad migration, a page given back while mapped) is a
 * violation.  Children only read hugetlb_private pages, and their worker
 * does not write them while it has children, so that no huge page COW is
 * ever needed.
 *
 * A worker publishes its mappings in a shared registry; it does not
 * munmap, mremap or page out a mapping while an injector is working on it
 * (up to 1 s), and the injector reads the PFN just before writing it, so
 * that an injection lands on a page of the run.  A kernel migration
 * (KSM, compaction, reclaim) in that window could still free the page and
 * let someone else reuse it: rare, and the host's check of
 * "Sending SIGBUS" lines would catch it.
 *
 * SIGBUS CHECKS
 *
 * Every process of the run catches SIGBUS.  A signal is a violation unless
 * si_code is BUS_MCEERR_AO or BUS_MCEERR_AR, si_addr lies in one of the
 * process's own current mappings of the kinds above (or one it unmapped or
 * moved very recently, counted as "stale": a signal can race with munmap),
 * and si_addr_lsb is what the kind allows: 21 for the hugetlb kinds, 12 or
 * 21 for thp (12 once split, 21 when the THP could not be split), 12 for
 * all others (21 also for shmem when shmem THP is enabled; not checked
 * for a stale address, which a mapping of another kind may reuse, nor for
 * a stray one, see below).  The process
 * then drops the mapping (siglongjmp() out of the handler when the signal
 * interrupted an access) and goes on.
 *
 * FILES IN DIR
 *
 *   pids      one line per process of the run, appended by its parent
 *             right after fork(), before the process runs (it waits for
 *             that): "PID ROLE SLOT POLICY"; ROLE is main (the first line),
 *             worker, child (SLOT: its worker's), injector, ramsoft,
 *             unpoison or hotplug; POLICY early or late for workers and
 *             their children (who inherit it), "-" otherwise.  Truncated
 *             when a run starts.  Kernel "Sending SIGBUS to COMM:PID" or
 *             "Killing COMM:PID" lines must only name these PIDs.
 *   main.pid  "PID\n" of main (for SIGUSR1), written at the start
 *   ctl       written by the host; read every 100 ms, its first word:
 *               run          inject (created with this if missing)
 *               pause [SEQ]  pause, see DIR/paused
 *               stop         end the run now
 *   paused    exists only while paused.  When ctl says pause, no process
 *             of the run starts another injection, unpoison or hotplug
 *             operation (the workers' own madvise() injections included;
 *             otherwise workers go on); once every one in flight has
 *             returned, main rewrites DIR/stats and DIR/poisoned, then
 *             writes DIR/paused (atomically, by rename) with "SEQ\n":
 *             the SEQ that followed "pause", or else the number of this
 *             pause (1, 2, ...).  When ctl says run again, DIR/paused is
 *             removed first, then the injections resume.
 *   target    "PID 0xVADDR 0xPFN KIND\n": one page of a live worker,
 *             present at PFN, for the host to aim a real machine check
 *             at, or "none\n".  Rewritten (atomically) every second: the
 *             same page while it stays mapped at the same PFN, for at most
 *             5 s, then another.  The worker does not munmap, mremap or
 *             page out that mapping, nor exit by itself, while it is the
 *             target; it touches it as usual and takes a SIGBUS from it
 *             like any other.  KIND: anon, thp, shmem, file_shared,
 *             file_private, mlock, ksm; hugetlb kinds while their target
 *             budget lasts.  The program does not know whether the host
 *             injected: it only counts "op target KIND ok" per new page.
 *   stats     rewritten (atomically) every 2 s, at each pause and at the
 *             end; lines of space-separated words:
 *               hwpt-stress-stats 1
 *               state running|paused|final
 *               elapsed SECS
 *               env NAME VALUE       seed, dur, workers, injectors,
 *                                    hugepages (pool size set), one per
 *                                    kind (1 on, 0 off), hotplug, madvise,
 *                                    random, unpoison, shmem_huge
 *               op OP KIND RESULT COUNT
 *               sigbus CODE COUNT
 *               sigbus_kind CODE KIND LSB COUNT
 *               sigbus_ctx CTX COUNT
 *               proc ROLE EVENT COUNT
 *               poisoned STATE COUNT     (and "poisoned unlisted N")
 *               corrupted_kb START NOW   (HardwareCorrupted, /proc/meminfo)
 *               sigbus_offline COUNT     (see sigbus CODE below)
 *               violations COUNT
 *               violation TEXT       one line each (the first 128)
 *               end
 *             Only non-zero counts are listed.  "end" is the last line.
 *   poisoned.log  appended before each poisoning or soft offline, by the
 *             process about to do it: "0xPFN KIND OP" (for cleanup)
 *   poisoned  rewritten with stats: every PFN the run
 *             poisoned or soft offlined successfully (or tried to poison,
 *             and /proc/kpageflags shows poisoned since: a recovery that
 *             failed, e.g. EBUSY or an unsplit THP), one a line:
 *             "0xPFN KIND OP STATE RESULT"; STATE pending (still
 *             poisoned as far as the run knows), unpoisoned, clean (found
 *             not poisoned any more, not written), failed (the end could
 *             not unpoison it); RESULT the last unpoison result or "-".
 *   lastops   the last 64 operations, oldest first, written at the end and
 *             whenever main gets SIGUSR1: "SECS PID OP KIND PFN RESULT",
 *             SECS since the start (3 decimals), PFN 0x.. or "-"; for
 *             a SIGBUS, OP is sigbus, PFN is "va=0x..." (si_addr) and
 *             RESULT the si_code name; for hotplug ops, PFN is the memory
 *             block number (memoryN).
 *   prepoisoned  the PFNs already poisoned when the run started
 *   state     what cleanup needs: "nr_hugepages N", "ksm FILE N",
 *             "mounted PATH", "dir PATH" (removed), "offline memoryN".
 *   hugetlbfs the mount point of the run's own hugetlbfs, if it needed one
 *
 * OPs and their KINDs (RESULT: "ok" for success, the errno name such as
 * EBUSY or EHWPOISON, or one of the lowercase words below):
 *
 *   map KIND                a new mapping (mmap, fill, mlock, ...)
 *   touch KIND              a batch of reads and writes; sigbus: it was cut
 *                           short by a SIGBUS; mismatch: a tag was wrong
 *   munmap KIND, mremap KIND, pageout swap (MADV_PAGEOUT), fork proc
 *   check KIND              a look at /proc/kpageflags: thp huge|small,
 *                           ksm merged|unmerged, swap swapped|resident;
 *                           moved: a worker's MADV_HWPOISON or
 *                           MADV_SOFT_OFFLINE hit another PFN than the one
 *                           it had looked up (KSM, swap or a migration
 *                           replaced the page meanwhile); for soft offline
 *                           the run cannot tell which, the end's sweep
 *                           finds it ("unlisted")
 *   prctl early|late        the worker's PR_MCE_KILL_SET
 *   madv_hwpoison KIND      a worker's MADV_HWPOISON on one of its pages
 *   madv_soft_offline KIND  a worker's MADV_SOFT_OFFLINE
 *   corrupt_pfn KIND        debugfs hwpoison/corrupt-pfn (injector)
 *   hard_offline_page KIND  /sys/devices/system/memory/hard_offline_page
 *   soft_offline_page KIND  /sys/devices/system/memory/soft_offline_page
 *   soft_offline_random ram_CLASS  a random System RAM PFN; CLASS from
 *                           /proc/kpageflags just before: buddy, anon,
 *                           file, slab, huge, reserved, hwpoison, nopage,
 *                           other
 *   unpoison KIND           debugfs hwpoison/unpoison-pfn (unpoisoner);
 *                           for hugetlb, EBUSY on the PFN is followed by a
 *                           try of the huge page's head PFN
 *   unpoison_final KIND     the same, at the end; then every System RAM
 *                           page /proc/kpageflags says poisoned that was
 *                           not at the start nor in the run's list is
 *                           unpoisoned as KIND unlisted, and named on
 *                           stdout ("poisoned unlisted N" in stats)
 *   hotplug_offline movable, hotplug_online movable,
 *   hotplug_online_final movable   (EINTR: offline took more than 30 s)
 *   pool_topup hugetlb      nr_hugepages raised again
 *   target KIND             a new DIR/target page
 * The injection OPs may also give: notpresent (the page was not present:
 * swapped out, or already replaced by a hwpoison entry), gone (the mapping
 * changed under the injector), budget (the budget of that route and kind
 * is spent), hotplug (the PFN is in the block the hotplug actor keeps clean),
 * none (no candidate).  clean: unpoison found the page no
 * longer poisoned and did not write it.
 *
 * sigbus CODE: BUS_MCEERR_AR, BUS_MCEERR_AO, or another si_code name
 * (BUS_ADRERR, BUS_OBJERR, BUS_ADRALN, SI_USER, SI_KERNEL, OTHER: always
 * violations, but for one case: a hugetlb fault's BUS_ADRERR within 0.5 s
 * before to 1.5 s after a memory block was going offline.  An offline
 * isolates the pool's free pages in its block, and no fault may take
 * them, reservation or not; when they are all the pool has free, the
 * fault gets SIGBUS.  That is memory hotplug's doing, on either kernel:
 * counted as sigbus_offline, not a violation.  The offlines are the
 * hotplug actor's and any other main sees in the blocks' state files.)
 * sigbus_kind KIND is "unknown" outside any mapping of the process.  sigbus_ctx CTX: access (during a touch), madvise (during the
 * process's own injection), async (anywhere else, e.g. early kill), stale
 * (si_addr in a mapping just unmapped or moved), stray (si_addr in the
 * process's own untracked memory, heap or stack, whose page table holds a
 * hwpoison entry: a PFN injection met a page the kernel had just freed and
 * given to this process; the process exits with status 4), outside
 * (violation).
 *
 * proc ROLE EVENT: started, exit0, exit1, exit2, exit3 (exit statuses;
 * 3: a BUS_MCEERR_AR the process could not resume from; exit3 also counts
 * status 4, a stray error in untracked memory), and the signal
 * names that ended processes (SIGKILL when the kernel killed one, ...).
 *
 * Violation TEXT starts with "at SECS s", then " (memoryN going offline)"
 * when a memory block was going offline at that moment, then ": pid PID
 * ROLE: ", and says what was wrong.
 *
 * BUDGETS
 *
 * A poisoned 2 MiB page may be lost for good, so each (route, hugetlb
 * kind) may poison --hugetlb-budget pages in a run (a route: madvise hard
 * and soft, corrupt_pfn, hard_offline_page, soft_offline_page;
 * soft_offline_random ram_huge and target pages count too).  Spent
 * budgets show as RESULT budget.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_HWPOISON
#define MADV_HWPOISON		100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE	101
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB		0x40000
#endif
#ifndef EHWPOISON
#define EHWPOISON		133
#endif
#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR		4
#define BUS_MCEERR_AO		5
#endif

#define PG			4096UL
#define HPAGE			(2UL << 20)
#define HPAGE_PFNS		(HPAGE / PG)

#define HWPOISON_DIR		"/sys/kernel/debug/hwpoison"
#define CORRUPT_PFN		HWPOISON_DIR "/corrupt-pfn"
#define UNPOISON_PFN		HWPOISON_DIR "/unpoison-pfn"
#define MEMORY_DIR		"/sys/devices/system/memory"
#define HARD_OFFLINE_PAGE	MEMORY_DIR "/hard_offline_page"
#define SOFT_OFFLINE_PAGE	MEMORY_DIR "/soft_offline_page"
#define NR_HUGEPAGES		"/proc/sys/vm/nr_hugepages"
#define KSM_DIR			"/sys/kernel/mm/ksm/"
#define THP_DIR			"/sys/kernel/mm/transparent_hugepage/"

/* /proc/PID/pagemap and /proc/kpageflags bits */
#define PM_PFN_MASK		(BIT(55) - 1)
#define PM_SWAP			BIT(62)
#define PM_PRESENT		BIT(63)
#define KPF_LRU			BIT(5)
#define KPF_SLAB		BIT(7)
#define KPF_BUDDY		BIT(10)
#define KPF_ANON		BIT(12)
#define KPF_COMPOUND_HEAD	BIT(15)
#define KPF_HUGE		BIT(17)
#define KPF_HWPOISON		BIT(19)
#define KPF_NOPAGE		BIT(20)
#define KPF_KSM			BIT(21)
#define KPF_THP			BIT(22)
#define KPF_RESERVED		BIT(32)

#define MAX_WORKERS		16
#define MAX_INJECTORS		8
#define NREG			12	/* mappings per worker */
#define MAX_PROCS		256
#define MAX_POISONED		16384
#define NVIOL			128
#define NHELD			128	/* hugetlb faults that found no page */
#define NOFFW			256	/* memory offline windows */
#define NLASTOPS		64
#define NGRAVES			32
#define NERRNO			150
#define MAX_CHILDREN		2
#define MAX_RAM			32
#define MAX_HP_OFF		16
#define MAX_PREPOISONED		4096
#define SWP_TYPE_BITS		5	/* MAX_SWAPFILES_SHIFT: pagemap swap entries */
#define TAG_MAGIC		0x6877707473747273UL
#define KSM_MAGIC		0x6b736d2d70616765UL

#define LOAD(p)			__atomic_load_n(p, __ATOMIC_SEQ_CST)
#define STORE(p, v)		__atomic_store_n(p, v, __ATOMIC_SEQ_CST)
#define INC(p)			__atomic_add_fetch(p, 1, __ATOMIC_RELAXED)
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BIT(n)			(1UL << (n))
/* Spelled as glibc does; there is no compiler.h in userspace. */
#define __printf(a, b)		__attribute__((__format__(__printf__, a, b)))

enum kind {
	K_ANON, K_THP, K_HUGETLB_PRIVATE, K_HUGETLB_SHARED, K_SHMEM,
	K_FILE_SHARED, K_FILE_PRIVATE, K_MLOCK, K_KSM, K_SWAP,
	NREGKINDS,
	K_RAM_BUDDY = NREGKINDS, K_RAM_ANON, K_RAM_FILE, K_RAM_SLAB,
	K_RAM_HUGE, K_RAM_RESERVED, K_RAM_HWPOISON, K_RAM_NOPAGE, K_RAM_OTHER,
	K_MOVABLE, K_PROC, K_POOL, K_EARLY, K_LATE, K_UNKNOWN, K_UNLISTED,
	NKINDS
};

static const char * const kind_names[NKINDS] = {
	"anon", "thp", "hugetlb_private", "hugetlb_shared", "shmem",
	"file_shared", "file_private", "mlock", "ksm", "swap",
	"ram_buddy", "ram_anon", "ram_file", "ram_slab", "ram_huge",
	"ram_reserved", "ram_hwpoison", "ram_nopage", "ram_other",
	"movable", "proc", "hugetlb", "early", "late", "unknown", "unlisted",
};

/* Pages of each kind's mapping. */
static const unsigned long kind_pages[NREGKINDS] = {
	64, 2 * HPAGE_PFNS, HPAGE_PFNS, HPAGE_PFNS, 64, 32, 32, 16, 32, 64,
};

enum op {
	OP_MAP, OP_TOUCH, OP_MUNMAP, OP_MREMAP, OP_PAGEOUT, OP_FORK, OP_CHECK,
	OP_PRCTL, OP_MADV_HWPOISON, OP_MADV_SOFT_OFFLINE, OP_CORRUPT_PFN,
	OP_HARD_OFFLINE_PAGE, OP_SOFT_OFFLINE_PAGE, OP_SOFT_OFFLINE_RANDOM,
	OP_UNPOISON, OP_UNPOISON_FINAL, OP_HOTPLUG_OFFLINE, OP_HOTPLUG_ONLINE,
	OP_HOTPLUG_ONLINE_FINAL, OP_POOL_TOPUP, OP_TARGET, OP_SIGBUS,
	NOPS
};

static const char * const op_names[NOPS] = {
	"map", "touch", "munmap", "mremap", "pageout", "fork", "check",
	"prctl", "madv_hwpoison", "madv_soft_offline", "corrupt_pfn",
	"hard_offline_page", "soft_offline_page", "soft_offline_random",
	"unpoison", "unpoison_final", "hotplug_offline", "hotplug_online",
	"hotplug_online_final", "pool_topup", "target", "sigbus",
};

/* Results: 0 (ok), errno values, then these. */
enum {
	R_SIGBUS = NERRNO, R_MISMATCH, R_NOTPRESENT, R_GONE, R_BUDGET,
	R_HUGE, R_SMALL, R_MERGED, R_UNMERGED, R_SWAPPED, R_RESIDENT,
	R_CLEAN, R_NONE, R_MOVED, R_HOTPLUG, R_OTHER,
	NRES
};

static const char * const res_names[NRES - NERRNO] = {
	"sigbus", "mismatch", "notpresent", "gone", "budget", "huge", "small",
	"merged", "unmerged", "swapped", "resident", "clean", "none", "moved",
	"hotplug", "other",
};

/* si_code classes */
enum {
	C_ADRALN, C_ADRERR, C_OBJERR, C_AR, C_AO, C_USER, C_KERNEL, C_OTHER,
	NCODES
};

static const char * const code_names[NCODES] = {
	"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR",
	"BUS_MCEERR_AO", "SI_USER", "SI_KERNEL", "OTHER",
};

enum {
	CTX_ACCESS, CTX_MADVISE, CTX_ASYNC, CTX_STALE, CTX_STRAY, CTX_OUTSIDE,
	NCTX
};

static const char * const ctx_names[NCTX] = {
	"access", "madvise", "async", "stale", "stray", "outside",
};

enum role {
	ROLE_MAIN, ROLE_WORKER, ROLE_CHILD, ROLE_INJECTOR, ROLE_RAMSOFT,
	ROLE_UNPOISON, ROLE_HOTPLUG,
	NROLES
};

static const char * const role_names[NROLES] = {
	"main", "worker", "child", "injector", "ramsoft", "unpoison", "hotplug",
};

enum {
	EV_STARTED, EV_EXIT0, EV_EXIT1, EV_EXIT2, EV_EXIT3, EV_SIGBUS,
	EV_SIGKILL, EV_SIGSEGV, EV_SIGTERM, EV_SIGOTHER,
	NEVENTS
};

static const char * const event_names[NEVENTS] = {
	"started", "exit0", "exit1", "exit2", "exit3", "SIGBUS", "SIGKILL",
	"SIGSEGV", "SIGTERM", "SIGOTHER",
};

enum { PS_NONE, PS_PENDING, PS_DONE, PS_CLEAN, PS_FAILED, NPSTATES };

static const char * const pstate_names[NPSTATES] = {
	"none", "pending", "unpoisoned", "clean", "failed",
};

enum {
	V_CODE, V_ADDR, V_LSB, V_DATA, V_AR_LOOP,
};

/* A mapping as published for the injectors and main. */
struct reg_pub {
	unsigned int seq;	/* odd while it changes */
	unsigned int kind;	/* kind + 1, 0: none */
	unsigned int uid;
	unsigned int busy;	/* an injector works on it */
	unsigned int hold;	/* it holds DIR/target */
	unsigned long addr;
	unsigned long len;
};

struct wslot {
	int pid;
	unsigned int gen;
	struct reg_pub reg[NREG];
};

struct pslot {
	int pid;
	int role;
	int slot;
	int busy;		/* inside an injection, unpoison or hotplug op */
};

struct poisoned {
	unsigned long pfn;
	long t_ms;
	int kind;
	int op;
	int state;
	int last;		/* last unpoison result + 1, 0: none */
	long retry_ms;
};

struct viol {
	int ready;
	int type;
	int pid;
	int role;
	int kind;
	int code;
	int lsb;
	unsigned long addr;
	unsigned long a;
	unsigned long b;
	unsigned long pfn;
	long t_ms;		/* since the start */
	int offlining;		/* memory block + 1 going offline then, or 0 */
	int decided;		/* held: 1 a violation, 2 during an offline */
	char pool[96];		/* hugetlb: per-node free pages, isolated blocks */
};

/* A time a memory block was going offline: [start_ms, end_ms]. */
struct offwin {
	long start_ms;
	long end_ms;		/* 0: not over yet */
};

struct lastop {
	unsigned long seq;	/* index + 1 once written */
	long t_ms;
	int pid;
	int op;
	int kind;
	int res;		/* for OP_SIGBUS a code class */
	unsigned long pfn;	/* for OP_SIGBUS si_addr */
};

struct shared {
	long t0_ms;
	int stop;
	int paused;
	unsigned int uid_next;
	unsigned long ops[NOPS][NKINDS][NRES];
	unsigned long sigbus[NCODES];
	unsigned long sigbus_kind[NCODES][NKINDS][64];
	unsigned long sigbus_ctx[NCTX];
	unsigned long events[NROLES][NEVENTS];
	int budget[NOPS][NKINDS];	/* -1: no limit */
	unsigned int nviol;
	struct viol viol[NVIOL];
	unsigned int nheld;
	struct viol held[NHELD];
	unsigned long nopage_offline;	/* held faults during an offline */
	unsigned int noffw;
	struct offwin offw[NOFFW];
	unsigned long lastop_seq;
	struct lastop lastops[NLASTOPS];
	unsigned int npoisoned;
	struct poisoned pois[MAX_POISONED];
	int hp_off[MAX_HP_OFF];		/* block + 1 of blocks left offline */
	unsigned long hp_first, hp_end;	/* PFNs no one may poison now */
	struct wslot w[MAX_WORKERS];
	struct pslot procs[MAX_PROCS];
};

/* A mapping of a worker (process-local; regs[i] is published as reg[i]). */
struct region {
	int kind;		/* -1: unused */
	int dead;		/* a SIGBUS hit it: drop it */
	unsigned int uid;
	char *addr;
	unsigned long len;
	unsigned long npages;
};

/* A range unmapped or moved recently, for signals that raced with it. */
struct grave {
	unsigned long start;
	unsigned long end;
	int kind;
};

static struct config {
	const char *dir;
	const char *disk;
	int dur;
	unsigned long seed;
	int workers;
	int injectors;
	int hotplug;
	int hotplug_period;
	int no_kind[NREGKINDS];
	int no_madvise;
	int no_random;
	int no_unpoison;
	int hugetlb_budget;
	int inject_ms;
	int unpoison_ms;
} cfg = {
	.dur = 60, .seed = 1, .workers = 6, .injectors = 2,
	.hotplug_period = 20, .hugetlb_budget = 2, .inject_ms = 150,
	.unpoison_ms = 2000,
};

/* What main found and changed; inherited by every process. */
static struct envinfo {
	int kind_on[NREGKINDS];
	int shmem_huge;
	long hugepages_orig;		/* -1: not changed */
	long hugepages_target;
	int ksm_saved;
	long ksm_orig[3];
	char hugemnt[256];		/* our own mount, or "" */
	char hugedir[256];
	char diskdir[256];
	long corrupted_start;
	int restored;			/* settings put back: state lists none */
	int nram;
	unsigned long ram_start[MAX_RAM];
	unsigned long ram_pages[MAX_RAM];
	unsigned long ram_total;
	unsigned long block_pages;	/* of a memory block */
	unsigned int nprepoisoned;
	unsigned long prepoisoned[MAX_PREPOISONED];	/* sorted */
} env = { .hugepages_orig = -1 };

static const char * const ksm_knobs[3] = {
	"run", "pages_to_scan", "sleep_millisecs",
};

static const long ksm_values[3] = { 1, 200, 20 };

static struct shared *shm;
static int my_pid, my_role, my_slot, my_pslot = -1, my_policy;
static unsigned long rng;
static int pids_fd = -1, plog_fd = -1;
static int self_pagemap = -1;
static int kpageflags_fd = -1;

/* Worker and child state. */
static struct region regs[NREG];
static struct grave graves[NGRAVES];
static unsigned int ngraves;
static int is_child;
static int nchildren;
static sigjmp_buf acc_env;
static int acc_on, acc_region, madv_on;
static int ar_async;

/* The end's sweep for poisoned pages missing from the run's list. */
static unsigned long *listed;
static unsigned int nlisted, nunlisted;

/* Main's signal flags. */
static int got_stop, got_usr1, got_alarm;

static void path_in_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", cfg.dir, name);
}

/* ---- small helpers ---------------------------------------------------- */

static unsigned long rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng * 0x2545f4914f6cdd1dUL;
}

static unsigned long rnd_below(unsigned long n)
{
	return n ? rnd() % n : 0;
}

static void seed_rng(unsigned long a, unsigned long b)
{
	unsigned long z = a * 0x9e3779b97f4a7c15UL + b + 0x632be59bd9b4e019UL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
	rng = (z ^ (z >> 31)) | 1;
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long now_ms(void)
{
	return mono_ms() - shm->t0_ms;
}

static int stopping(void)
{
	return LOAD(&shm->stop);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR && !got_stop)
		;
}

/* True once every @mean ms on average (uniform in [mean/2, 3*mean/2]). */
static int due(long *next, long mean)
{
	long t = now_ms();

	if (t < *next)
		return 0;
	*next = t + mean / 2 + rnd_below(mean + 1);
	return 1;
}

static const char *errname(int err)
{
	const char *s;

	if (!err)
		return "ok";
	s = strerrorname_np(err);
	return s ? s : "EUNKNOWN";
}

static const char *res_name(int res)
{
	if (res >= NERRNO)
		return res_names[res - NERRNO];
	return errname(res);
}

static int res_of(int err)
{
	return err >= 0 && err < NERRNO ? err : R_OTHER;
}

/* Writes @buf to @path with one write(2); returns 0 or the errno. */
static int write_file(const char *path, const char *buf)
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

static int write_long(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return write_file(path, buf);
}

static int write_pfn(const char *path, unsigned long pfn)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%#lx", pfn);
	return write_file(path, buf);
}

static int write_paddr(const char *path, unsigned long pfn)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%#lx", pfn * PG);
	return write_file(path, buf);
}

/* Reads up to @size - 1 bytes of @path; returns the length or -1. */
static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY), n;

	buf[0] = 0;
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

static long read_long(const char *path)
{
	char buf[64], *end;
	long val;

	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	val = strtol(buf, &end, 0);
	return end == buf ? -1 : val;
}

static long meminfo_kb(const char *field)
{
	char buf[4096], *p;
	size_t len = strlen(field);

	if (read_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, field, len) && p[len] == ':')
			return strtol(p + len + 1, NULL, 10);
	return -1;
}

/* Writes @text to DIR/@name atomically (a temporary file, then rename). */
static void write_dir_file(const char *name, const char *text)
{
	char path[512], tmp[520];
	int fd;

	path_in_dir(path, sizeof(path), name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		perror(tmp);
	close(fd);
	rename(tmp, path);
}

static unsigned long page_flags(unsigned long pfn)
{
	unsigned long flags = KPF_NOPAGE;

	if (kpageflags_fd < 0)
		kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
	if (pread(kpageflags_fd, &flags, sizeof(flags), pfn * 8) != sizeof(flags))
		return KPF_NOPAGE;
	return flags;
}

/* The pagemap entry of @va in @fd (a /proc/PID/pagemap), 0 on error. */
static unsigned long pagemap_entry(int fd, unsigned long va)
{
	unsigned long e = 0;

	if (pread(fd, &e, sizeof(e), va / PG * 8) != sizeof(e))
		return 0;
	return e;
}

/* The PFN at @va of process @pid, 0 when not present, -1UL when gone. */
static unsigned long pid_pfn(int pid, unsigned long va)
{
	char path[64];
	unsigned long e;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1UL;
	e = pagemap_entry(fd, va);
	close(fd);
	return (e & PM_PRESENT) ? e & PM_PFN_MASK : 0;
}

static unsigned long self_pfn(const void *va)
{
	unsigned long e;

	if (self_pagemap < 0)
		self_pagemap = open("/proc/self/pagemap", O_RDONLY);
	e = pagemap_entry(self_pagemap, (unsigned long)va);
	return (e & PM_PRESENT) ? e & PM_PFN_MASK : 0;
}

static int is_huge_kind(int kind)
{
	return kind == K_HUGETLB_PRIVATE || kind == K_HUGETLB_SHARED ||
	       kind == K_RAM_HUGE;
}

/* ---- accounting ------------------------------------------------------- */

static void lastop(int op, int kind, unsigned long pfn, int res)
{
	unsigned long s = __atomic_fetch_add(&shm->lastop_seq, 1,
					     __ATOMIC_RELAXED);
	struct lastop *l = &shm->lastops[s % NLASTOPS];

	STORE(&l->seq, 0);
	l->t_ms = now_ms();
	l->pid = my_pid;
	l->op = op;
	l->kind = kind;
	l->res = res;
	l->pfn = pfn;
	STORE(&l->seq, s + 1);
}

static void count(int op, int kind, int res)
{
	INC(&shm->ops[op][kind][res]);
}

/* Count an operation and remember it in the ring of last operations. */
static void record(int op, int kind, unsigned long pfn, int err)
{
	count(op, kind, res_of(err));
	lastop(op, kind, pfn, res_of(err));
}

static int is_hugetlb_kind(int kind)
{
	return kind == K_HUGETLB_PRIVATE || kind == K_HUGETLB_SHARED;
}

/*
 * The first memory block that is going offline (its state file says so
 * from isolation to the end of the offline), or -1.  open() and read()
 * only: called from the SIGBUS handler.
 */
static int going_offline(void)
{
	static const char want[] = "going-offline";
	char path[96], buf[32];
	int b, misses = 0;

	for (b = 0; b < 4096 && misses < 256; b++) {
		snprintf(path, sizeof(path), MEMORY_DIR "/memory%d/state", b);
		if (read_file(path, buf, sizeof(buf)) <= 0) {
			misses++;
			continue;
		}
		misses = 0;
		if (!strncmp(buf, want, sizeof(want) - 1))
			return b;
	}
	return -1;
}

/* Pageblocks isolated now (memory offline, alloc_contig_range), or -1. */
static long isolated_blocks(void)
{
	static char buf[16384];
	char *line, *hdr = NULL;
	long sum = 0;
	int col = -1;

	if (read_file("/proc/pagetypeinfo", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = buf; line && *line; line = strchr(line, '\n'),
	     line = line ? line + 1 : NULL) {
		char *p = line, *end = strchr(line, '\n');
		int c = 0;

		if (!strncmp(line, "Number of blocks type", 21)) {
			hdr = line + 21;
			for (p = hdr; p < end; c++) {
				while (p < end && *p == ' ')
					p++;
				if (!strncmp(p, "Isolate", 7))
					col = c;
				while (p < end && *p != ' ')
					p++;
			}
			continue;
		}
		if (!hdr || col < 0 || strncmp(line, "Node", 4))
			continue;
		p = strstr(line, "zone");
		if (!p || p > end)
			continue;
		p += 4;
		while (p < end && *p == ' ')
			p++;
		while (p < end && *p != ' ')	/* the zone's name */
			p++;
		for (c = 0; c <= col && p < end; c++) {
			long v = strtol(p, &p, 10);

			if (c == col)
				sum += v;
		}
	}
	return sum;
}

/* Each node's free 2 MiB pages and the isolated pageblocks, into @buf. */
static void pool_snapshot(char *buf, size_t size)
{
	char path[128], val[32];
	int nid, n = 0;

	for (nid = 0; nid < 4 && n < (int)size; nid++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/free_hugepages",
			 nid);
		if (read_file(path, val, sizeof(val)) <= 0)
			continue;
		n += snprintf(buf + n, size - n, "%snode%d free %ld",
			      n ? ", " : "", nid, strtol(val, NULL, 10));
	}
	if (n < (int)size)
		snprintf(buf + n, size - n, "; isolated pageblocks %ld",
			 isolated_blocks());
}

static void fill_viol(struct viol *v, int type, int kind, int code, int lsb,
		      unsigned long addr, unsigned long a, unsigned long b,
		      unsigned long pfn)
{
	v->type = type;
	v->pid = my_pid;
	v->role = my_role;
	v->kind = kind;
	v->code = code;
	v->lsb = lsb;
	v->addr = addr;
	v->a = a;
	v->b = b;
	v->pfn = pfn;
	v->t_ms = now_ms();
	v->offlining = going_offline() + 1;
	v->decided = 0;
	v->pool[0] = 0;
	if (type == V_CODE && is_hugetlb_kind(kind))
		pool_snapshot(v->pool, sizeof(v->pool));
	STORE(&v->ready, 1);
}

static void violation(int type, int kind, int code, int lsb,
		      unsigned long addr, unsigned long a, unsigned long b,
		      unsigned long pfn)
{
	unsigned int n = __atomic_fetch_add(&shm->nviol, 1, __ATOMIC_SEQ_CST);

	if (n < NVIOL)
		fill_viol(&shm->viol[n], type, kind, code, lsb, addr, a, b, pfn);
}

/*
 * A hugetlb fault that found no page (BUS_ADRERR).  While a memory block
 * is going offline, the pool's free pages in it are isolated and no fault
 * may take them (dequeue_hugetlb_folio_node_exact()); when they are all
 * the pool has free, a fault gets SIGBUS although the mapping has its
 * reservation: memory hotplug's behaviour on either kernel, not a lost
 * error.  Held until main knows whether an offline overlapped it
 * (decide_held()); a violation otherwise.
 */
static void hold_nopage(int kind, int code, int lsb, unsigned long addr,
			unsigned long ctx, unsigned long pool,
			unsigned long surplus)
{
	unsigned int n = __atomic_fetch_add(&shm->nheld, 1, __ATOMIC_SEQ_CST);

	if (n < NHELD)
		fill_viol(&shm->held[n], V_CODE, kind, code, lsb, addr, ctx,
			  pool, surplus);
	else		/* no room to hold it: it cannot be excused */
		violation(V_CODE, kind, code, lsb, addr, ctx, pool, surplus);
}

/* Opens an offline window now; returns its index, or -1. */
static int offwin_open(void)
{
	unsigned int n = __atomic_fetch_add(&shm->noffw, 1, __ATOMIC_SEQ_CST);

	if (n >= NOFFW)
		return -1;
	shm->offw[n].end_ms = 0;
	STORE(&shm->offw[n].start_ms, now_ms() + 1);	/* 0: unset */
	return n;
}

static void offwin_close(int w)
{
	if (w >= 0)
		STORE(&shm->offw[w].end_ms, now_ms() + 1);
}

/*
 * Whether a memory block was going offline near @t_ms: a little before
 * (the state file changes before isolation) and some time after (the
 * poll in main is coarse, and a fault is handled after the offline that
 * made it fail may have ended).
 */
static int offline_near(long t_ms)
{
	unsigned int i, n = LOAD(&shm->noffw);

	for (i = 0; i < n && i < NOFFW; i++) {
		long start = LOAD(&shm->offw[i].start_ms);
		long end = LOAD(&shm->offw[i].end_ms);

		if (!start)
			continue;
		if (t_ms >= start - 500 && (!end || t_ms <= end + 1500))
			return 1;
	}
	return 0;
}

/*
 * Decide the held faults older than 2 s (all of them when @all): during
 * an offline, counted; otherwise a violation, with its own time.
 */
static void decide_held(int all)
{
	unsigned int i, n = LOAD(&shm->nheld);
	long now = now_ms();

	for (i = 0; i < n && i < NHELD; i++) {
		struct viol *h = &shm->held[i];
		unsigned int k;

		if (!LOAD(&h->ready) || h->decided)
			continue;
		if (h->offlining || offline_near(h->t_ms)) {
			h->decided = 2;
			shm->nopage_offline++;
			continue;
		}
		if (!all && now - h->t_ms < 2000)
			continue;
		h->decided = 1;
		k = __atomic_fetch_add(&shm->nviol, 1, __ATOMIC_SEQ_CST);
		if (k < NVIOL) {
			shm->viol[k] = *h;
			STORE(&shm->viol[k].ready, 1);
		}
	}
}

/* main polls the blocks' state: an offline by anyone opens a window. */
static void watch_offline(void)
{
	static int w = -1;
	int b = going_offline();

	if (b >= 0 && w < 0) {
		w = offwin_open();
	} else if (b < 0 && w >= 0) {
		offwin_close(w);
		w = -1;
	}
}

static int take_budget(int op, int kind)
{
	int *b = &shm->budget[op][kind];
	int v = LOAD(b);

	for (;;) {
		if (v < 0)
			return 1;
		if (!v)
			return 0;
		if (__atomic_compare_exchange_n(b, &v, v - 1, 0,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return 1;
	}
}

static void give_budget(int op, int kind)
{
	if (LOAD(&shm->budget[op][kind]) >= 0)
		__atomic_add_fetch(&shm->budget[op][kind], 1, __ATOMIC_SEQ_CST);
}

static void poisoned_add(unsigned long pfn, int kind, int op)
{
	unsigned int n = __atomic_fetch_add(&shm->npoisoned, 1,
					    __ATOMIC_SEQ_CST);
	struct poisoned *p;

	if (n >= MAX_POISONED)
		return;
	p = &shm->pois[n];
	p->pfn = pfn;
	p->kind = kind;
	p->op = op;
	p->t_ms = now_ms();
	p->retry_ms = p->t_ms + cfg.unpoison_ms;
	STORE(&p->state, PS_PENDING);
}

/* Note in DIR/poisoned.log that @pfn is about to be poisoned by @op. */
static void plog(unsigned long pfn, int kind, int op)
{
	char line[96];
	int len = snprintf(line, sizeof(line), "%#lx %s %s\n", pfn,
			   kind_names[kind], op_names[op]);

	if (plog_fd >= 0 && write(plog_fd, line, len) != len)
		plog_fd = -1;
}

/* @pfn is in the block the hotplug actor keeps clean for a cycle. */
static int hp_protected(unsigned long pfn)
{
	return pfn >= LOAD(&shm->hp_first) && pfn < LOAD(&shm->hp_end);
}

/* ---- pause protocol --------------------------------------------------- */

/*
 * Returns 1 when the caller may start an injection (and is then counted
 * as busy until inject_leave()), 0 while paused or stopping.
 */
static int inject_enter(void)
{
	int *busy = &shm->procs[my_pslot].busy;

	STORE(busy, 1);
	if (!LOAD(&shm->paused) && !LOAD(&shm->stop))
		return 1;
	STORE(busy, 0);
	return 0;
}

static void inject_leave(void)
{
	STORE(&shm->procs[my_pslot].busy, 0);
}

/* ---- processes -------------------------------------------------------- */

static int pslot_find(int pid)
{
	int i;

	for (i = 0; i < MAX_PROCS; i++)
		if (LOAD(&shm->procs[i].pid) == pid)
			return i;
	return -1;
}

static int pslot_claim(int pid, int role, int slot)
{
	int i, zero;

	for (i = 0; i < MAX_PROCS; i++) {
		zero = 0;
		if (__atomic_compare_exchange_n(&shm->procs[i].pid, &zero, pid,
						0, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			shm->procs[i].role = role;
			shm->procs[i].slot = slot;
			STORE(&shm->procs[i].busy, 0);
			return i;
		}
	}
	return -1;
}

/*
 * Counts the end of @pid (with @status) and frees its process slot;
 * returns its role, and its slot number in *@slotp if not NULL.
 */
static int proc_ended(int pid, int status, int *slotp)
{
	int i = pslot_find(pid), role = ROLE_CHILD, ev;

	if (i >= 0) {
		role = shm->procs[i].role;
		if (slotp)
			*slotp = shm->procs[i].slot;
		STORE(&shm->procs[i].busy, 0);
		STORE(&shm->procs[i].pid, 0);
	}
	if (WIFEXITED(status))
		ev = WEXITSTATUS(status) <= 3 ? EV_EXIT0 + WEXITSTATUS(status)
					      : EV_EXIT3;
	else if (WTERMSIG(status) == SIGBUS)
		ev = EV_SIGBUS;
	else if (WTERMSIG(status) == SIGKILL)
		ev = EV_SIGKILL;
	else if (WTERMSIG(status) == SIGSEGV)
		ev = EV_SIGSEGV;
	else if (WTERMSIG(status) == SIGTERM)
		ev = EV_SIGTERM;
	else
		ev = EV_SIGOTHER;
	INC(&shm->events[role][ev]);
	return role;
}

static void set_comm(void)
{
	char name[16];

	switch (my_role) {
	case ROLE_WORKER:
		snprintf(name, sizeof(name), "hwpts-w%d", my_slot);
		break;
	case ROLE_CHILD:
		snprintf(name, sizeof(name), "hwpts-c%d", my_slot);
		break;
	case ROLE_INJECTOR:
		snprintf(name, sizeof(name), "hwpts-inj%d", my_slot);
		break;
	default:
		snprintf(name, sizeof(name), "hwpts-%s", role_names[my_role]);
		break;
	}
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

/*
 * Fork a process of @role running @fn.  The parent records it (process
 * table, DIR/pids) before letting it run.  Returns its pid or -errno.
 */
static int spawn(int role, int slot, int policy, void (*fn)(void))
{
	int p[2], pid, n, parent = getpid();
	char line[96], c;

	if (pipe(p))
		return -errno;
	pid = fork();
	if (pid < 0) {
		n = errno;
		close(p[0]);
		close(p[1]);
		return -n;
	}
	if (!pid) {
		close(p[1]);
		do {
			n = read(p[0], &c, 1);
		} while (n < 0 && errno == EINTR);
		/* Nothing of the run outlives its parent (main killed: all). */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (n != 1 || getppid() != parent)
			_exit(0);
		close(p[0]);
		my_pid = getpid();
		my_role = role;
		my_slot = slot;
		my_policy = policy;
		my_pslot = pslot_find(my_pid);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_IGN);
		signal(SIGUSR1, SIG_IGN);
		seed_rng(cfg.seed ^ ((unsigned long)role << 56),
			 ((unsigned long)slot << 32) ^ my_pid ^ mono_ms());
		set_comm();
		fn();
		_exit(0);
	}
	close(p[0]);
	pslot_claim(pid, role, slot);
	n = snprintf(line, sizeof(line), "%d %s %d %s\n", pid, role_names[role],
		     slot, policy == K_EARLY ? "early" :
		     policy == K_LATE ? "late" : "-");
	if (write(pids_fd, line, n) != n)
		perror("pids");
	INC(&shm->events[role][EV_STARTED]);
	if (write(p[1], "g", 1) != 1)
		perror("spawn");
	close(p[1]);
	return pid;
}

/* ---- SIGBUS ----------------------------------------------------------- */

static int region_at(unsigned long addr)
{
	int i;

	for (i = 0; i < NREG; i++) {
		struct region *r = &regs[i];

		if (LOAD(&r->kind) >= 0 && addr >= (unsigned long)r->addr &&
		    addr < (unsigned long)r->addr + r->len)
			return i;
	}
	return -1;
}

static int grave_at(unsigned long addr)
{
	int i;

	for (i = 0; i < NGRAVES; i++)
		if (addr >= LOAD(&graves[i].start) && addr < graves[i].end)
			return i;
	return -1;
}

static void grave_add(int i)
{
	struct grave *g = &graves[ngraves++ % NGRAVES];

	STORE(&g->start, -1UL);
	g->end = (unsigned long)regs[i].addr + regs[i].len;
	g->kind = regs[i].kind;
	STORE(&g->start, (unsigned long)regs[i].addr);
}

static int code_class(int code)
{
	switch (code) {
	case BUS_ADRALN:
		return C_ADRALN;
	case BUS_ADRERR:
		return C_ADRERR;
	case BUS_OBJERR:
		return C_OBJERR;
	case BUS_MCEERR_AR:
		return C_AR;
	case BUS_MCEERR_AO:
		return C_AO;
	case SI_USER:
		return C_USER;
	case SI_KERNEL:
		return C_KERNEL;
	default:
		return C_OTHER;
	}
}

static int lsb_ok(int kind, int lsb)
{
	switch (kind) {
	case K_HUGETLB_PRIVATE:
	case K_HUGETLB_SHARED:
		return lsb == 21;
	case K_THP:
		return lsb == 12 || lsb == 21;
	case K_SHMEM:
		return lsb == 12 || (env.shmem_huge && lsb == 21);
	default:
		return lsb == 12;
	}
}

/*
 * Whether the kernel poisoned the page of this process at @addr: its page
 * table holds a hwpoison entry (a swap entry of a type no swap device has)
 * naming a PFN marked in /proc/kpageflags.  Opens its own pagemap: a
 * child's inherited descriptor would read its parent's.
 */
static int poisoned_here(unsigned long addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	unsigned long e, pfn;

	if (fd < 0)
		return 0;
	e = pagemap_entry(fd, addr);
	close(fd);
	pfn = (e & PM_PFN_MASK) >> SWP_TYPE_BITS;
	return (e & PM_SWAP) && (e & (BIT(SWP_TYPE_BITS) - 1)) >= 16 &&
	       (page_flags(pfn) & KPF_HWPOISON);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	unsigned long addr = (unsigned long)si->si_addr;
	int cc = code_class(si->si_code), lsb = si->si_addr_lsb;
	int in_acc = LOAD(&acc_on), in_madv = LOAD(&madv_on);
	int r = region_at(addr), kind = K_UNKNOWN, ctx, g;

	if (r >= 0) {
		kind = regs[r].kind;
		ctx = in_acc ? CTX_ACCESS : in_madv ? CTX_MADVISE : CTX_ASYNC;
	} else {
		g = grave_at(addr);
		if (g >= 0)
			kind = graves[g].kind;
		ctx = g >= 0 ? CTX_STALE : CTX_OUTSIDE;
		if (ctx == CTX_OUTSIDE && (cc == C_AR || cc == C_AO) &&
		    my_role != ROLE_MAIN && poisoned_here(addr))
			ctx = CTX_STRAY;
	}
	INC(&shm->sigbus[cc]);
	INC(&shm->sigbus_ctx[ctx]);
	INC(&shm->sigbus_kind[cc][kind][lsb & 63]);
	lastop(OP_SIGBUS, kind, addr, cc);
	if (cc == C_ADRERR && is_hugetlb_kind(kind))
		/* A hugetlb fault that found no page: say what the pool had. */
		hold_nopage(kind, cc, lsb, addr, ctx,
			    meminfo_kb("HugePages_Free") << 16 |
			    (meminfo_kb("HugePages_Rsvd") & 0xffff),
			    meminfo_kb("HugePages_Surp") + 1);
	else if (cc != C_AR && cc != C_AO && is_hugetlb_kind(kind))
		violation(V_CODE, kind, cc, lsb, addr, ctx,
			  meminfo_kb("HugePages_Free") << 16 |
			  (meminfo_kb("HugePages_Rsvd") & 0xffff),
			  meminfo_kb("HugePages_Surp") + 1);
	else if (cc != C_AR && cc != C_AO)
		violation(V_CODE, kind, cc, lsb, addr, ctx, 0, 0);
	else if (ctx == CTX_OUTSIDE)
		violation(V_ADDR, kind, cc, lsb, addr, 0, 0, 0);
	/* A stale address may have been reused by a mapping of any kind. */
	else if (ctx != CTX_STALE && !lsb_ok(kind, lsb))
		violation(V_LSB, kind, cc, lsb, addr, ctx, 0, 0);
	if (r >= 0)
		STORE(&regs[r].dead, 1);
	/* Its own memory is lost: nothing it does from here can be checked. */
	if (ctx == CTX_STRAY)
		_exit(4);
	if (in_acc && cc != C_AO) {
		/* The access cannot be resumed: leave it. */
		STORE(&regs[acc_region].dead, 1);
		STORE(&acc_on, 0);
		siglongjmp(acc_env, 1);
	}
	if (cc == C_AR && !in_madv && ++ar_async > 64) {
		violation(V_AR_LOOP, kind, cc, lsb, addr, 0, 0, 0);
		_exit(3);
	}
}

static void catch_sigbus(void)
{
	struct sigaction sa = {
		.sa_sigaction = on_sigbus,
		.sa_flags = SA_SIGINFO,
	};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- worker mappings -------------------------------------------------- */

static unsigned long tag_of(struct region *r, unsigned long pg)
{
	if (r->kind == K_KSM)
		return KSM_MAGIC ^ (pg % 4);
	return TAG_MAGIC ^ ((unsigned long)r->uid << 24) ^ pg;
}

static void pub_begin(int i)
{
	__atomic_add_fetch(&shm->w[my_slot].reg[i].seq, 1, __ATOMIC_SEQ_CST);
}

static void pub_end(int i)
{
	__atomic_add_fetch(&shm->w[my_slot].reg[i].seq, 1, __ATOMIC_SEQ_CST);
}

/* Publish mapping @i; the caller made the seqcount odd (pub_begin()). */
static void pub_fields(int i)
{
	struct reg_pub *p = &shm->w[my_slot].reg[i];
	struct region *r = &regs[i];

	p->addr = (unsigned long)r->addr;
	p->len = r->len;
	p->uid = r->uid;
	STORE(&p->kind, r->kind >= 0 ? r->kind + 1 : 0);
}

/*
 * Start changing mapping @i: returns 0 when a @voluntary change must not
 * happen (the mapping is the target), else 1 once no injector works on it
 * (or 1 s passed), with the seqcount odd: pub_end() ends the change.
 */
static int change_begin(int i, int voluntary)
{
	struct reg_pub *p = &shm->w[my_slot].reg[i];
	long end;

	if (is_child)
		return !voluntary;
	if (voluntary && LOAD(&p->hold))
		return 0;
	pub_begin(i);
	if (voluntary && LOAD(&p->hold)) {
		pub_end(i);
		return 0;
	}
	end = mono_ms() + 1000;
	while (LOAD(&p->busy) && mono_ms() < end)
		usleep(1000);
	return 1;
}

/* Accesses @n pages of mapping @i, @first first if >= 0; 0, or 1 after a SIGBUS. */
static int touch(int i, int n, long first)
{
	static struct region *r;
	static int k, wr, kind;
	unsigned long pg, want, got, *p;

	r = &regs[i];
	kind = r->kind;
	wr = !(kind == K_HUGETLB_PRIVATE && (is_child || nchildren));
	if (sigsetjmp(acc_env, 1)) {
		count(OP_TOUCH, kind, R_SIGBUS);
		return 1;
	}
	acc_region = i;
	STORE(&acc_on, 1);
	for (k = 0; k < n; k++) {
		pg = k == 0 && first >= 0 ? first : rnd_below(r->npages);
		p = (unsigned long *)(r->addr + pg * PG);
		want = tag_of(r, pg);
		got = __atomic_load_n(p, __ATOMIC_RELAXED);
		if (got != want) {
			STORE(&acc_on, 0);
			count(OP_TOUCH, kind, R_MISMATCH);
			violation(V_DATA, kind, 0, 0, (unsigned long)p, want, got,
				  self_pfn(p));
			STORE(&r->dead, 1);
			return 1;
		}
		if (!wr || rnd_below(4) == 0)
			continue;
		if (kind == K_KSM) {
			if (rnd_below(8) == 0)
				__atomic_store_n(p, want, __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(p + 1 + rnd_below(PG / 8 - 1), rnd(),
					 __ATOMIC_RELAXED);
		}
	}
	STORE(&acc_on, 0);
	count(OP_TOUCH, kind, 0);
	return 0;
}

/* Fill the new mapping @i with its tags; 0, or 1 after a SIGBUS. */
static int fill(int i)
{
	static struct region *r;
	static unsigned long pg, k;
	unsigned long *p;

	r = &regs[i];
	if (sigsetjmp(acc_env, 1))
		return 1;
	acc_region = i;
	STORE(&acc_on, 1);
	for (pg = 0; pg < r->npages; pg++) {
		p = (unsigned long *)(r->addr + pg * PG);
		if (r->kind == K_KSM) {
			for (k = 0; k < PG / 8; k++)
				p[k] = tag_of(r, pg);
		} else {
			__atomic_store_n(p, tag_of(r, pg), __ATOMIC_RELAXED);
		}
	}
	STORE(&acc_on, 0);
	return 0;
}

/* Maps @len bytes at a @align-aligned address (anonymous, PROT_NONE). */
static char *reserve_aligned(unsigned long len, unsigned long align)
{
	char *p = mmap(NULL, len + align, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	unsigned long a, head;

	if (p == MAP_FAILED)
		return p;
	a = ((unsigned long)p + align - 1) & ~(align - 1);
	head = a - (unsigned long)p;
	if (head)
		munmap(p, head);
	if (align - head)
		munmap((char *)a + len, align - head);
	return (char *)a;
}

/*
 * Creates an unlinked file for mapping @r in @dir, holding @r's tags when
 * @tagged; returns its fd, or -1 with the error in *@errp.
 */
static int make_file(struct region *r, const char *dir, int tagged, int *errp)
{
	char path[320];
	unsigned long pg, *buf;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/p%d-%u", dir, my_pid, r->uid);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		*errp = errno;
		return -1;
	}
	unlink(path);
	if (!tagged) {
		if (ftruncate(fd, r->len))
			err = errno;
	} else {
		buf = calloc(r->npages, PG);
		if (!buf) {
			err = ENOMEM;
		} else {
			for (pg = 0; pg < r->npages; pg++)
				buf[pg * PG / 8] = tag_of(r, pg);
			if (pwrite(fd, buf, r->len, 0) != (ssize_t)r->len)
				err = errno ? errno : EIO;
			else if (fsync(fd))
				err = errno;
			free(buf);
		}
	}
	if (err) {
		close(fd);
		*errp = err;
		return -1;
	}
	return fd;
}

/* Creates mapping @i of @kind; counts "map KIND RESULT". */
static void region_create(int i, int kind)
{
	struct region *r = &regs[i];
	int fd = -1, err = 0, prot = PROT_READ | PROT_WRITE;
	char *p = MAP_FAILED;

	r->uid = __atomic_add_fetch(&shm->uid_next, 1, __ATOMIC_RELAXED);
	r->npages = kind_pages[kind];
	r->len = r->npages * PG;
	r->kind = kind;		/* for tag_of(); published below */
	switch (kind) {
	case K_ANON:
	case K_MLOCK:
	case K_KSM:
	case K_SWAP:
		p = mmap(NULL, r->len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			madvise(p, r->len, MADV_NOHUGEPAGE);
		break;
	case K_THP:
		p = reserve_aligned(r->len, HPAGE);
		if (p != MAP_FAILED)
			p = mmap(p, r->len, prot,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p != MAP_FAILED)
			madvise(p, r->len, MADV_HUGEPAGE);
		break;
	case K_HUGETLB_PRIVATE:
		p = mmap(NULL, r->len, prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		break;
	case K_HUGETLB_SHARED:
		fd = make_file(r, env.hugedir, 0, &err);
		if (fd >= 0)
			p = mmap(NULL, r->len, prot, MAP_SHARED, fd, 0);
		break;
	case K_SHMEM:
		if (rnd_below(2)) {
			p = mmap(NULL, r->len, prot,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			break;
		}
		fd = memfd_create("hwpt-stress", 0);
		if (fd >= 0 && ftruncate(fd, r->len) == 0)
			p = mmap(NULL, r->len, prot, MAP_SHARED, fd, 0);
		break;
	case K_FILE_SHARED:
	case K_FILE_PRIVATE:
		fd = make_file(r, env.diskdir, 1, &err);
		if (fd >= 0)
			p = mmap(NULL, r->len, prot, kind == K_FILE_SHARED ?
				 MAP_SHARED : MAP_PRIVATE, fd, 0);
		break;
	}
	if (!err && p == MAP_FAILED)
		err = errno ? errno : ENOMEM;
	if (fd >= 0)
		close(fd);
	if (err) {
		r->kind = -1;
		record(OP_MAP, kind, 0, err);
		return;
	}
	r->addr = p;
	r->dead = 0;
	STORE(&r->kind, kind);
	if (kind == K_FILE_SHARED || kind == K_FILE_PRIVATE) {
		/* The tags come from the file: fault it in, check it. */
		touch(i, 1, 0);
	} else if (fill(i)) {
		err = EFAULT;
	}
	if (!err && kind == K_MLOCK && mlock(p, r->len))
		err = errno;
	if (!err && kind == K_KSM && madvise(p, r->len, MADV_MERGEABLE))
		err = errno;
	if (!err && kind == K_SWAP)
		madvise(p, r->len, MADV_PAGEOUT);
	if (err) {
		STORE(&r->kind, -1);
		munmap(p, r->len);
		record(OP_MAP, kind, 0, err);
		return;
	}
	pub_begin(i);
	pub_fields(i);
	pub_end(i);
	record(OP_MAP, kind, 0, 0);
}

/* Unmaps mapping @i; 0 when a @voluntary drop was refused. */
static int region_drop(int i, int voluntary)
{
	struct region *r = &regs[i];
	int kind = r->kind, err = 0;

	if (!change_begin(i, voluntary))
		return 0;
	grave_add(i);
	STORE(&r->kind, -1);
	if (munmap(r->addr, r->len))
		err = errno;
	if (!is_child) {
		STORE(&shm->w[my_slot].reg[i].kind, 0);
		pub_end(i);
	}
	record(OP_MUNMAP, kind, 0, err);
	return 1;
}

/* Moves mapping @i elsewhere with mremap(). */
static void region_move(int i)
{
	struct region *r = &regs[i];
	unsigned long align = r->kind == K_THP || is_huge_kind(r->kind) ?
			      HPAGE : PG;
	char *dst, *p;
	int err = 0;

	if (!change_begin(i, 1))
		return;
	dst = reserve_aligned(r->len, align);
	if (dst == MAP_FAILED) {
		err = errno;
	} else {
		p = mremap(r->addr, r->len, r->len,
			   MREMAP_MAYMOVE | MREMAP_FIXED, dst);
		if (p == MAP_FAILED) {
			err = errno;
			munmap(dst, r->len);
		} else {
			grave_add(i);
			r->addr = p;
		}
	}
	pub_fields(i);
	pub_end(i);
	record(OP_MREMAP, r->kind, 0, err);
}

static void region_pageout(int i)
{
	struct region *r = &regs[i];
	unsigned long e;
	int err = 0;

	if (!change_begin(i, 1))
		return;
	if (madvise(r->addr, r->len, MADV_PAGEOUT))
		err = errno;
	pub_end(i);
	count(OP_PAGEOUT, r->kind, res_of(err));
	e = pagemap_entry(self_pagemap, (unsigned long)r->addr);
	count(OP_CHECK, r->kind, (e & PM_SWAP) ? R_SWAPPED : R_RESIDENT);
}

/* /proc/kpageflags of one page of THP and KSM mappings. */
static void region_check(int i)
{
	struct region *r = &regs[i];
	unsigned long pfn;

	if (r->kind != K_THP && r->kind != K_KSM)
		return;
	pfn = self_pfn(r->addr + rnd_below(r->npages) * PG);
	if (!pfn)
		return;
	if (r->kind == K_THP)
		count(OP_CHECK, K_THP,
		      (page_flags(pfn) & KPF_THP) ? R_HUGE : R_SMALL);
	else
		count(OP_CHECK, K_KSM,
		      (page_flags(pfn) & KPF_KSM) ? R_MERGED : R_UNMERGED);
}

static int random_region(void)
{
	int i, start = rnd_below(NREG);

	for (i = 0; i < NREG; i++) {
		int j = (start + i) % NREG;

		if (regs[j].kind >= 0 && !LOAD(&regs[j].dead))
			return j;
	}
	return -1;
}

/* A worker's MADV_HWPOISON (@hard) or MADV_SOFT_OFFLINE of one of its pages. */
static void self_inject(int hard)
{
	int op = hard ? OP_MADV_HWPOISON : OP_MADV_SOFT_OFFLINE;
	int i = random_region(), kind, err = 0;
	unsigned long pg, pfn;
	char *p;

	if (i < 0)
		return;
	kind = regs[i].kind;
	if (!inject_enter())
		return;
	if (!take_budget(op, kind)) {
		count(op, kind, R_BUDGET);
		inject_leave();
		return;
	}
	pg = rnd_below(regs[i].npages);
	p = regs[i].addr + pg * PG;
	/* Fault it in (a swapped-out page too) and take its PFN. */
	if (touch(i, 1, pg)) {
		inject_leave();
		give_budget(op, kind);
		return;
	}
	pfn = self_pfn(p);
	if (hp_protected(pfn)) {
		count(op, kind, R_HOTPLUG);
		inject_leave();
		give_budget(op, kind);
		return;
	}
	plog(pfn, kind, op);
	STORE(&madv_on, 1);
	if (madvise(p, PG, hard ? MADV_HWPOISON : MADV_SOFT_OFFLINE))
		err = errno;
	STORE(&madv_on, 0);
	inject_leave();
	if (!err && hard && !(page_flags(pfn) & KPF_HWPOISON)) {
		/*
		 * The page changed between the lookup and madvise() (KSM merged
		 * it, swap replaced it): the hwpoison entry has the right PFN.
		 */
		unsigned long e = pagemap_entry(self_pagemap, (unsigned long)p);
		unsigned long moved = (e & PM_PFN_MASK) >> SWP_TYPE_BITS;

		if ((e & PM_SWAP) && (page_flags(moved) & KPF_HWPOISON)) {
			count(OP_CHECK, kind, R_MOVED);
			pfn = moved;
			plog(pfn, kind, op);
		}
	}
	/* The same race for soft offline: the PFN it took is not known. */
	if (!err && !hard && !(page_flags(pfn) & KPF_HWPOISON))
		count(OP_CHECK, kind, R_MOVED);
	record(op, kind, pfn, err);
	if (err)
		give_budget(op, kind);
	/* A failed recovery leaves the page marked too: list it as well. */
	if (pfn && (!err || (hard && (page_flags(pfn) & KPF_HWPOISON))))
		poisoned_add(pfn, kind, op);
	if (err)
		return;
	/* Soft offline keeps the content: check it at the new PFN. */
	if (!hard && !LOAD(&regs[i].dead))
		touch(i, 1, pg);
}

static void reap_children(void)
{
	int pid, status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		proc_ended(pid, status, NULL);
		nchildren--;
	}
}

static void child_main(void)
{
	long end = now_ms() + 5 + rnd_below(60);
	int i;

	is_child = 1;
	nchildren = 0;
	close(self_pagemap);
	self_pagemap = -1;
	while (now_ms() < end && !stopping()) {
		i = random_region();
		if (i >= 0 && rnd_below(4))
			touch(i, 4, -1);
		else
			sleep_ms(rnd_below(5));
	}
	_exit(0);
}

static int holds_target(void)
{
	int i;

	for (i = 0; i < NREG; i++)
		if (LOAD(&shm->w[my_slot].reg[i].hold))
			return 1;
	return 0;
}

static void worker_main(void)
{
	long next_fork = 0, next_churn = 0, next_move = 0, next_pageout = 0;
	long next_hard = 0, next_soft = 0, next_check = 0, lifetime;
	long madv_mean = 20L * cfg.inject_ms;
	int i, k, err, kind;

	for (i = 0; i < NREG; i++)
		regs[i].kind = -1;
	catch_sigbus();
	err = prctl(PR_MCE_KILL, PR_MCE_KILL_SET, my_policy == K_EARLY ?
		    PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0) ? errno : 0;
	record(OP_PRCTL, my_policy, 0, err);
	self_pagemap = open("/proc/self/pagemap", O_RDONLY);
	STORE(&shm->w[my_slot].pid, my_pid);
	lifetime = now_ms() + 3000 + rnd_below(12000);
	due(&next_hard, madv_mean);
	due(&next_soft, madv_mean);

	while (!stopping()) {
		reap_children();
		for (i = 0; i < NREG; i++)
			if (regs[i].kind >= 0 && LOAD(&regs[i].dead))
				region_drop(i, 0);
		/* Keep one mapping of every kind the system has. */
		kind = rnd_below(NREGKINDS);
		for (i = 0; i < NREG && env.kind_on[kind]; i++)
			if (regs[i].kind == kind)
				break;
		if (env.kind_on[kind] && i == NREG && rnd_below(2)) {
			for (i = 0; i < NREG && regs[i].kind >= 0; i++)
				;
			if (i < NREG)
				region_create(i, kind);
		}
		for (k = 0; k < 2; k++) {
			i = random_region();
			if (i >= 0)
				touch(i, 8, -1);
		}
		if (due(&next_fork, 300) && nchildren < MAX_CHILDREN) {
			err = spawn(ROLE_CHILD, my_slot, my_policy, child_main);
			if (err > 0)
				nchildren++;
			record(OP_FORK, K_PROC, 0, err < 0 ? -err : 0);
		}
		if (due(&next_churn, 700)) {
			i = random_region();
			if (i >= 0)
				region_drop(i, 1);
		}
		if (due(&next_move, 700)) {
			i = random_region();
			if (i >= 0)
				region_move(i);
		}
		if (due(&next_pageout, 400)) {
			for (i = 0; i < NREG; i++)
				if (regs[i].kind == K_SWAP && !regs[i].dead)
					region_pageout(i);
		}
		if (due(&next_check, 1000)) {
			i = random_region();
			if (i >= 0)
				region_check(i);
		}
		if (!cfg.no_madvise && due(&next_hard, madv_mean))
			self_inject(1);
		if (!cfg.no_madvise && due(&next_soft, madv_mean))
			self_inject(0);
		if (now_ms() > lifetime && !holds_target())
			break;
		sleep_ms(1 + rnd_below(4));
	}
	/* The children see stop or end soon; wait for them a little. */
	for (k = 0; k < 200 && nchildren > 0; k++) {
		reap_children();
		sleep_ms(5);
	}
	_exit(0);
}

/* ---- injectors -------------------------------------------------------- */

static const int pfn_routes[3] = {
	OP_CORRUPT_PFN, OP_HARD_OFFLINE_PAGE, OP_SOFT_OFFLINE_PAGE,
};

static int route_write(int op, unsigned long pfn)
{
	switch (op) {
	case OP_CORRUPT_PFN:
		return write_pfn(CORRUPT_PFN, pfn);
	case OP_HARD_OFFLINE_PAGE:
		return write_paddr(HARD_OFFLINE_PAGE, pfn);
	default:
		return write_paddr(SOFT_OFFLINE_PAGE, pfn);
	}
}

/* One injection into a random page of a random worker. */
static void inject_one(void)
{
	int s = rnd_below(cfg.workers), i = rnd_below(NREG), k, op, kind, pid;
	struct reg_pub *p = &shm->w[s].reg[i];
	unsigned int seq, zero = 0;
	unsigned long va, pfn;
	int routes[3], nroutes = 0, err;

	pid = LOAD(&shm->w[s].pid);
	seq = LOAD(&p->seq);
	kind = (int)LOAD(&p->kind) - 1;
	if (!pid || (seq & 1) || kind < 0)
		return;
	va = p->addr + rnd_below(p->len / PG) * PG;
	for (k = 0; k < 3; k++)
		if (LOAD(&shm->budget[pfn_routes[k]][kind]))
			routes[nroutes++] = pfn_routes[k];
	if (!nroutes) {
		count(pfn_routes[rnd_below(3)], kind, R_BUDGET);
		return;
	}
	op = routes[rnd_below(nroutes)];
	if (!__atomic_compare_exchange_n(&p->busy, &zero, 1, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	if (LOAD(&p->seq) != seq || LOAD(&shm->w[s].pid) != pid) {
		STORE(&p->busy, 0);
		count(op, kind, R_GONE);
		return;
	}
	pfn = pid_pfn(pid, va);
	if (pfn == -1UL || !pfn) {
		STORE(&p->busy, 0);
		count(op, kind, pfn ? R_GONE : R_NOTPRESENT);
		return;
	}
	if (hp_protected(pfn)) {
		STORE(&p->busy, 0);
		count(op, kind, R_HOTPLUG);
		return;
	}
	if (!take_budget(op, kind)) {
		STORE(&p->busy, 0);
		count(op, kind, R_BUDGET);
		return;
	}
	plog(pfn, kind, op);
	err = route_write(op, pfn);
	STORE(&p->busy, 0);
	record(op, kind, pfn, err);
	if (err)
		give_budget(op, kind);
	/* A failed recovery leaves the page marked too: list it as well. */
	if (!err || (op != OP_SOFT_OFFLINE_PAGE &&
		     (page_flags(pfn) & KPF_HWPOISON)))
		poisoned_add(pfn, kind, op);
}

static void injector_main(void)
{
	while (!stopping()) {
		sleep_ms(cfg.inject_ms / 2 + rnd_below(cfg.inject_ms + 1));
		if (!inject_enter())
			continue;
		inject_one();
		inject_leave();
	}
}

static int ram_class(unsigned long flags)
{
	if (flags & KPF_NOPAGE)
		return K_RAM_NOPAGE;
	if (flags & KPF_HWPOISON)
		return K_RAM_HWPOISON;
	if (flags & KPF_HUGE)
		return K_RAM_HUGE;
	if (flags & KPF_BUDDY)
		return K_RAM_BUDDY;
	if (flags & KPF_SLAB)
		return K_RAM_SLAB;
	if (flags & KPF_LRU)
		return (flags & KPF_ANON) ? K_RAM_ANON : K_RAM_FILE;
	if (flags & KPF_RESERVED)
		return K_RAM_RESERVED;
	return K_RAM_OTHER;
}

static unsigned long random_ram_pfn(void)
{
	unsigned long n = rnd_below(env.ram_total);
	int i;

	for (i = 0; i < env.nram; i++) {
		if (n < env.ram_pages[i])
			return env.ram_start[i] + n;
		n -= env.ram_pages[i];
	}
	return env.ram_start[0];
}

static void ramsoft_main(void)
{
	unsigned long pfn;
	int kind, err;

	while (!stopping()) {
		sleep_ms(cfg.inject_ms + rnd_below(2 * cfg.inject_ms + 1));
		if (!env.ram_total || !inject_enter())
			continue;
		pfn = random_ram_pfn();
		kind = ram_class(page_flags(pfn));
		if (hp_protected(pfn)) {
			count(OP_SOFT_OFFLINE_RANDOM, kind, R_HOTPLUG);
		} else if (!take_budget(OP_SOFT_OFFLINE_RANDOM, kind)) {
			count(OP_SOFT_OFFLINE_RANDOM, kind, R_BUDGET);
		} else {
			plog(pfn, kind, OP_SOFT_OFFLINE_RANDOM);
			err = write_paddr(SOFT_OFFLINE_PAGE, pfn);
			record(OP_SOFT_OFFLINE_RANDOM, kind, pfn, err);
			if (err)
				give_budget(OP_SOFT_OFFLINE_RANDOM, kind);
			else
				poisoned_add(pfn, kind, OP_SOFT_OFFLINE_RANDOM);
		}
		inject_leave();
	}
}

/* Unpoisons @p (counted under @op); returns the errno or 0. */
static int unpoison_entry(struct poisoned *p, int op)
{
	unsigned long flags = page_flags(p->pfn);
	int err;

	/* Not poisoned any more; an offline page (NOPAGE) cannot tell. */
	if (!(flags & (KPF_HWPOISON | KPF_NOPAGE))) {
		count(op, p->kind, R_CLEAN);
		STORE(&p->state, PS_CLEAN);
		return 0;
	}
	err = write_pfn(UNPOISON_PFN, p->pfn);
	/* A poisoned hugetlb page may only be unpoisoned by its head. */
	if (err == EBUSY && is_huge_kind(p->kind) && (p->pfn % HPAGE_PFNS) &&
	    !write_pfn(UNPOISON_PFN, p->pfn & ~(HPAGE_PFNS - 1)))
		err = 0;
	record(op, p->kind, p->pfn, err);
	p->last = res_of(err) + 1;
	if (!err)
		STORE(&p->state, PS_DONE);
	return err;
}

static void unpoison_main(void)
{
	unsigned int i, n;
	int done;

	while (!stopping()) {
		sleep_ms(200);
		if (!inject_enter())
			continue;
		n = LOAD(&shm->npoisoned);
		if (n > MAX_POISONED)
			n = MAX_POISONED;
		for (i = 0, done = 0; i < n && done < 16 && !stopping() &&
		     !LOAD(&shm->paused); i++) {
			struct poisoned *p = &shm->pois[i];

			if (LOAD(&p->state) != PS_PENDING ||
			    p->retry_ms > now_ms())
				continue;
			done++;
			if (unpoison_entry(p, OP_UNPOISON))
				p->retry_ms = now_ms() + 500 + rnd_below(2000);
		}
		inject_leave();
	}
}

/* ---- memory hotplug --------------------------------------------------- */

static void on_alarm(int sig)
{
	got_alarm = 1;
}

static int block_write(int block, const char *what)
{
	char path[96];
	int err;

	snprintf(path, sizeof(path), MEMORY_DIR "/memory%d/state", block);
	alarm(30);
	err = write_file(path, what);
	alarm(0);
	return err;
}

static int block_is(int block, const char *file, const char *value)
{
	char path[96], buf[64];
	size_t len = strlen(value);

	snprintf(path, sizeof(path), MEMORY_DIR "/memory%d/%s", block, file);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	return !strncmp(buf, value, len) && (buf[len] == '\n' || !buf[len]);
}

/* A random online block of ZONE_MOVABLE, or -1. */
static int movable_block(void)
{
	int blocks[256], n = 0, b;
	struct dirent *de;
	DIR *d = opendir(MEMORY_DIR);

	if (!d)
		return -1;
	while ((de = readdir(d)) && n < 256) {
		char *end;

		if (strncmp(de->d_name, "memory", 6))
			continue;
		b = strtol(de->d_name + 6, &end, 10);
		if (end == de->d_name + 6 || *end)
			continue;
		if (block_is(b, "state", "online") &&
		    block_is(b, "valid_zones", "Movable"))
			blocks[n++] = b;
	}
	closedir(d);
	return n ? blocks[rnd_below(n)] : -1;
}

static void hp_remember(int block, int off)
{
	int i;

	for (i = 0; i < MAX_HP_OFF; i++) {
		if (off && !shm->hp_off[i]) {
			shm->hp_off[i] = block + 1;
			return;
		}
		if (!off && shm->hp_off[i] == block + 1)
			shm->hp_off[i] = 0;
	}
}

/*
 * Keep block @b clean: no new injection into its PFNs, and the run's
 * poisoned PFNs in it unpoisoned, so that it can be onlined again.
 */
static void hp_protect(int b)
{
	unsigned long first = (unsigned long)b * env.block_pages;
	unsigned int i, n = LOAD(&shm->npoisoned);

	STORE(&shm->hp_end, first + env.block_pages);
	STORE(&shm->hp_first, first);
	sleep_ms(300);		/* injections that missed it are over */
	for (i = 0; i < n && i < MAX_POISONED; i++) {
		struct poisoned *p = &shm->pois[i];

		if (p->pfn >= first && p->pfn < first + env.block_pages &&
		    LOAD(&p->state) == PS_PENDING)
			unpoison_entry(p, OP_UNPOISON);
	}
}

/* Whether the run's list has @pfn. */
static int listed_pfn(unsigned long pfn)
{
	unsigned int i, n = LOAD(&shm->npoisoned);

	for (i = 0; i < n && i < MAX_POISONED; i++)
		if (shm->pois[i].pfn == pfn)
			return 1;
	return 0;
}

/* Calls @fn for every PFN in [@pfn, @end) that kpageflags says poisoned. */
static void sweep_range(unsigned long pfn, unsigned long end,
			void (*fn)(unsigned long pfn))
{
	static unsigned long buf[4096];
	unsigned long i, n;
	ssize_t got;

	page_flags(0);		/* opens kpageflags_fd */
	for (; pfn < end; pfn += n) {
		n = end - pfn < 4096 ? end - pfn : 4096;
		got = pread(kpageflags_fd, buf, n * 8, pfn * 8);
		if (got <= 0)
			return;
		n = got / 8;
		for (i = 0; i < n; i++)
			if ((buf[i] & (KPF_HWPOISON | KPF_NOPAGE)) ==
			    KPF_HWPOISON)
				fn(pfn + i);
	}
}

/* A hugetlb folio is never offlined while poisoned: base pages only. */
static void adopt_unlisted(unsigned long pfn)
{
	if (page_flags(pfn) & KPF_HUGE || listed_pfn(pfn))
		return;
	plog(pfn, K_UNLISTED, OP_HOTPLUG_OFFLINE);
	poisoned_add(pfn, K_UNLISTED, OP_HOTPLUG_OFFLINE);
}

/*
 * List the poisoned pages of block @b that the run does not know (a soft
 * offline whose page moved under it: see "check moved"), just before the
 * block goes offline: then /proc/kpageflags cannot show them any more,
 * and the host's HardwareCorrupted check counts the run's listed pages in
 * offline blocks.
 */
static void hp_adopt(int b)
{
	unsigned long first = (unsigned long)b * env.block_pages;

	sweep_range(first, first + env.block_pages, adopt_unlisted);
}

static void hotplug_cycle(int protect)
{
	int i, b, err, w;

	for (i = 0; i < MAX_HP_OFF; i++) {
		b = shm->hp_off[i] - 1;
		if (b < 0)
			continue;
		err = block_write(b, "online_movable");
		record(OP_HOTPLUG_ONLINE, K_MOVABLE, b, err);
		if (!err)
			shm->hp_off[i] = 0;
	}
	b = movable_block();
	if (b < 0) {
		count(OP_HOTPLUG_OFFLINE, K_MOVABLE, R_NONE);
		return;
	}
	if (protect && env.block_pages)
		hp_protect(b);
	if (env.block_pages)
		hp_adopt(b);
	w = offwin_open();
	err = block_write(b, "offline");
	offwin_close(w);
	record(OP_HOTPLUG_OFFLINE, K_MOVABLE, b, err);
	if (!err) {
		hp_remember(b, 1);
		sleep_ms(1000);
		err = block_write(b, "online_movable");
		record(OP_HOTPLUG_ONLINE, K_MOVABLE, b, err);
		if (!err)
			hp_remember(b, 0);
	}
	STORE(&shm->hp_first, 0);
	STORE(&shm->hp_end, 0);
}

static void hotplug_main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	long next = now_ms() + cfg.hotplug_period * 1000L / 2;
	int cycles = 0;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: EINTR */
	while (!stopping()) {
		sleep_ms(200);
		if (now_ms() < next || !inject_enter())
			continue;
		hotplug_cycle(cycles++ & 1);
		inject_leave();
		next = now_ms() + cfg.hotplug_period * 1000L;
	}
}

/* ---- main: target ----------------------------------------------------- */

static const int target_kinds[] = {
	K_ANON, K_THP, K_SHMEM, K_FILE_SHARED, K_FILE_PRIVATE, K_MLOCK, K_KSM,
	K_HUGETLB_PRIVATE, K_HUGETLB_SHARED,
};

static struct {
	int pid;
	int slot;
	int reg;
	unsigned int seq;
	int kind;
	unsigned long va;
	unsigned long pfn;
	long since;
} tgt;

static void target_release(void)
{
	if (tgt.pid)
		STORE(&shm->w[tgt.slot].reg[tgt.reg].hold, 0);
	tgt.pid = 0;
}

static int target_valid(void)
{
	struct reg_pub *p = &shm->w[tgt.slot].reg[tgt.reg];

	return LOAD(&shm->w[tgt.slot].pid) == tgt.pid &&
	       LOAD(&p->seq) == tgt.seq &&
	       pid_pfn(tgt.pid, tgt.va) == tgt.pfn;
}

static int target_kind_ok(int kind)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(target_kinds); i++)
		if (target_kinds[i] == kind)
			return LOAD(&shm->budget[OP_TARGET][kind]) != 0;
	return 0;
}

static void target_pick(void)
{
	int tries, s, i, kind, pid;
	struct reg_pub *p;
	unsigned int seq;
	unsigned long va, pfn;

	for (tries = 0; tries < 20; tries++) {
		s = rnd_below(cfg.workers);
		i = rnd_below(NREG);
		p = &shm->w[s].reg[i];
		pid = LOAD(&shm->w[s].pid);
		seq = LOAD(&p->seq);
		kind = (int)LOAD(&p->kind) - 1;
		if (!pid || (seq & 1) || kind < 0 || !target_kind_ok(kind))
			continue;
		STORE(&p->hold, 1);
		if (LOAD(&p->seq) != seq) {
			STORE(&p->hold, 0);
			continue;
		}
		va = p->addr + rnd_below(p->len / PG) * PG;
		pfn = pid_pfn(pid, va);
		if (pfn == -1UL || !pfn || !take_budget(OP_TARGET, kind)) {
			STORE(&p->hold, 0);
			continue;
		}
		tgt.pid = pid;
		tgt.slot = s;
		tgt.reg = i;
		tgt.seq = seq;
		tgt.kind = kind;
		tgt.va = va;
		tgt.pfn = pfn;
		tgt.since = now_ms();
		record(OP_TARGET, kind, pfn, 0);
		return;
	}
}

static void target_update(void)
{
	char buf[128];

	if (tgt.pid && (!target_valid() || now_ms() - tgt.since > 5000))
		target_release();
	if (!tgt.pid && !stopping())
		target_pick();
	if (tgt.pid)
		snprintf(buf, sizeof(buf), "%d %#lx %#lx %s\n", tgt.pid, tgt.va,
			 tgt.pfn, kind_names[tgt.kind]);
	else
		snprintf(buf, sizeof(buf), "none\n");
	write_dir_file("target", buf);
}

/* ---- main: reports ---------------------------------------------------- */

struct text {
	char *buf;
	size_t len;
	size_t size;
};

static __printf(2, 3) void tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && t->len + n < t->size)
			break;
		t->size = t->size * 2 + n + 1;
		t->buf = realloc(t->buf, t->size);
		if (!t->buf) {
			perror("realloc");
			exit(2);
		}
	}
	t->len += n;
}

static void format_violation(struct viol *v, char *buf, size_t size)
{
	int n = snprintf(buf, size, "at %.1f s", v->t_ms / 1000.0);

	if (v->offlining)
		n += snprintf(buf + n, size - n, " (memory%d going offline)",
			      v->offlining - 1);
	n += snprintf(buf + n, size - n, ": pid %d %s: ", v->pid,
		      role_names[v->role]);

	switch (v->type) {
	case V_CODE:
		n += snprintf(buf + n, size - n,
			      "SIGBUS with si_code %s (not BUS_MCEERR_AO/AR) at %#lx (%s, %s)",
			      code_names[v->code], v->addr, kind_names[v->kind],
			      ctx_names[v->a]);
		if (v->pfn && n < (int)size)
			snprintf(buf + n, size - n,
				 "; hugetlb pool then: free %lu, reserved %lu, surplus %ld (%s)",
				 v->b >> 16, v->b & 0xffff, (long)v->pfn - 1,
				 v->pool);
		break;
	case V_ADDR:
		snprintf(buf + n, size - n,
			 "SIGBUS %s at %#lx, outside the process's mappings",
			 code_names[v->code], v->addr);
		break;
	case V_LSB:
		snprintf(buf + n, size - n,
			 "SIGBUS %s at %#lx in a %s mapping with si_addr_lsb %d (%s)",
			 code_names[v->code], v->addr, kind_names[v->kind], v->lsb,
			 ctx_names[v->a]);
		break;
	case V_DATA:
		snprintf(buf + n, size - n,
			 "data mismatch in a %s page at %#lx (pfn %#lx): tag %#lx, found %#lx",
			 kind_names[v->kind], v->addr, v->pfn, v->a, v->b);
		break;
	default:
		snprintf(buf + n, size - n,
			 "SIGBUS %s at %#lx (%s) again and again outside any access",
			 code_names[v->code], v->addr, kind_names[v->kind]);
		break;
	}
}

static unsigned int nviolations(void)
{
	unsigned int n = LOAD(&shm->nviol);

	return n;
}

static void write_stats(const char *state)
{
	struct text t = { NULL, 0, 0 };
	unsigned int n, i;
	int o, k, r, c, l, ps[NPSTATES] = { 0 };
	char vbuf[448];

	tprintf(&t, "hwpt-stress-stats 1\nstate %s\nelapsed %.1f\n", state,
		now_ms() / 1000.0);
	tprintf(&t, "env seed %lu\nenv dur %d\nenv workers %d\nenv injectors %d\n",
		cfg.seed, cfg.dur, cfg.workers, cfg.injectors);
	tprintf(&t, "env hugepages %ld\n", env.hugepages_target);
	for (k = 0; k < NREGKINDS; k++)
		tprintf(&t, "env %s %d\n", kind_names[k], env.kind_on[k]);
	tprintf(&t, "env hotplug %d\nenv madvise %d\nenv random %d\n",
		cfg.hotplug, !cfg.no_madvise, !cfg.no_random);
	tprintf(&t, "env unpoison %d\nenv shmem_huge %d\n", !cfg.no_unpoison,
		env.shmem_huge);
	for (o = 0; o < NOPS; o++)
		for (k = 0; k < NKINDS; k++)
			for (r = 0; r < NRES; r++)
				if (shm->ops[o][k][r])
					tprintf(&t, "op %s %s %s %lu\n", op_names[o],
						kind_names[k], res_name(r),
						shm->ops[o][k][r]);
	for (c = 0; c < NCODES; c++)
		if (shm->sigbus[c])
			tprintf(&t, "sigbus %s %lu\n", code_names[c],
				shm->sigbus[c]);
	for (c = 0; c < NCODES; c++)
		for (k = 0; k < NKINDS; k++)
			for (l = 0; l < 64; l++)
				if (shm->sigbus_kind[c][k][l])
					tprintf(&t, "sigbus_kind %s %s %d %lu\n",
						code_names[c], kind_names[k], l,
						shm->sigbus_kind[c][k][l]);
	for (c = 0; c < NCTX; c++)
		if (shm->sigbus_ctx[c])
			tprintf(&t, "sigbus_ctx %s %lu\n", ctx_names[c],
				shm->sigbus_ctx[c]);
	for (r = 0; r < NROLES; r++)
		for (k = 0; k < NEVENTS; k++)
			if (shm->events[r][k])
				tprintf(&t, "proc %s %s %lu\n", role_names[r],
					event_names[k], shm->events[r][k]);
	n = LOAD(&shm->npoisoned);
	for (i = 0; i < n && i < MAX_POISONED; i++)
		ps[LOAD(&shm->pois[i].state)]++;
	for (k = 1; k < NPSTATES; k++)
		if (ps[k])
			tprintf(&t, "poisoned %s %d\n", pstate_names[k], ps[k]);
	if (nunlisted)
		tprintf(&t, "poisoned unlisted %u\n", nunlisted);
	tprintf(&t, "corrupted_kb %ld %ld\n", env.corrupted_start,
		meminfo_kb("HardwareCorrupted"));
	if (shm->nopage_offline)
		tprintf(&t, "sigbus_offline %lu\n", shm->nopage_offline);
	n = nviolations();
	tprintf(&t, "violations %u\n", n);
	for (i = 0; i < n && i < NVIOL; i++) {
		if (!LOAD(&shm->viol[i].ready))
			continue;
		format_violation(&shm->viol[i], vbuf, sizeof(vbuf));
		tprintf(&t, "violation %s\n", vbuf);
	}
	tprintf(&t, "end\n");
	write_dir_file("stats", t.buf);
	free(t.buf);
}

static void write_poisoned(void)
{
	struct text t = { NULL, 0, 0 };
	unsigned int n = LOAD(&shm->npoisoned), i;

	tprintf(&t, "%s", "");
	for (i = 0; i < n && i < MAX_POISONED; i++) {
		struct poisoned *p = &shm->pois[i];

		if (!LOAD(&p->state))
			continue;
		tprintf(&t, "%#lx %s %s %s %s\n", p->pfn, kind_names[p->kind],
			op_names[p->op], pstate_names[p->state],
			p->last ? res_name(p->last - 1) : "-");
	}
	write_dir_file("poisoned", t.buf);
	free(t.buf);
}

static void write_lastops(void)
{
	struct text t = { NULL, 0, 0 };
	unsigned long end = LOAD(&shm->lastop_seq), s;

	tprintf(&t, "%s", "");
	for (s = end > NLASTOPS ? end - NLASTOPS : 0; s < end; s++) {
		struct lastop *l = &shm->lastops[s % NLASTOPS];

		if (LOAD(&l->seq) != s + 1)
			continue;
		if (l->op == OP_SIGBUS)
			tprintf(&t, "%.3f %d sigbus %s va=%#lx %s\n",
				l->t_ms / 1000.0, l->pid, kind_names[l->kind],
				l->pfn, code_names[l->res]);
		else if (l->pfn)
			tprintf(&t, "%.3f %d %s %s %#lx %s\n", l->t_ms / 1000.0,
				l->pid, op_names[l->op], kind_names[l->kind],
				l->pfn, res_name(l->res));
		else
			tprintf(&t, "%.3f %d %s %s - %s\n", l->t_ms / 1000.0,
				l->pid, op_names[l->op], kind_names[l->kind],
				res_name(l->res));
	}
	write_dir_file("lastops", t.buf);
	free(t.buf);
}

static void write_state(void)
{
	struct text t = { NULL, 0, 0 };
	int i;

	tprintf(&t, "%s", "");
	for (i = 0; i < MAX_HP_OFF; i++)
		if (shm->hp_off[i])
			tprintf(&t, "offline memory%d\n", shm->hp_off[i] - 1);
	if (env.restored)
		goto out;
	if (env.hugepages_orig >= 0)
		tprintf(&t, "nr_hugepages %ld\n", env.hugepages_orig);
	for (i = 0; env.ksm_saved && i < 3; i++)
		tprintf(&t, "ksm %s %ld\n", ksm_knobs[i], env.ksm_orig[i]);
	if (env.hugedir[0])
		tprintf(&t, "dir %s\n", env.hugedir);
	if (env.diskdir[0])
		tprintf(&t, "dir %s\n", env.diskdir);
	if (env.hugemnt[0])
		tprintf(&t, "mounted %s\n", env.hugemnt);
out:
	write_dir_file("state", t.buf);
	free(t.buf);
}

static void print_table(void)
{
	unsigned long total = 0;
	unsigned int i, n = nviolations();
	int o, k, r, c;
	char vbuf[448];

	printf("\n%-22s %-16s %-12s %10s\n", "op", "kind", "result", "count");
	for (o = 0; o < NOPS; o++)
		for (k = 0; k < NKINDS; k++)
			for (r = 0; r < NRES; r++)
				if (shm->ops[o][k][r]) {
					printf("%-22s %-16s %-12s %10lu\n", op_names[o],
					       kind_names[k], res_name(r),
					       shm->ops[o][k][r]);
					total += shm->ops[o][k][r];
				}
	printf("\n%-22s %10s\n", "sigbus si_code", "count");
	for (c = 0; c < NCODES; c++)
		if (shm->sigbus[c])
			printf("%-22s %10lu\n", code_names[c], shm->sigbus[c]);
	for (c = 0; c < NCTX; c++)
		if (shm->sigbus_ctx[c])
			printf("  %-20s %10lu\n", ctx_names[c], shm->sigbus_ctx[c]);
	if (shm->nopage_offline)
		printf("hugetlb BUS_ADRERR while memory went offline: %lu (not violations)\n",
		       shm->nopage_offline);
	printf("\n%-10s %-10s %10s\n", "process", "event", "count");
	for (r = 0; r < NROLES; r++)
		for (k = 0; k < NEVENTS; k++)
			if (shm->events[r][k])
				printf("%-10s %-10s %10lu\n", role_names[r],
				       event_names[k], shm->events[r][k]);
	printf("\nHardwareCorrupted: %ld kB at the start, %ld kB now\n",
	       env.corrupted_start, meminfo_kb("HardwareCorrupted"));
	for (i = 0; i < n && i < NVIOL; i++) {
		if (!LOAD(&shm->viol[i].ready))
			continue;
		format_violation(&shm->viol[i], vbuf, sizeof(vbuf));
		printf("violation: %s\n", vbuf);
	}
	printf("hwpt-stress: %.1f s, %lu operations, %u violation%s\n",
	       now_ms() / 1000.0, total, n, n == 1 ? "" : "s");
}

/* ---- setup and cleanup ------------------------------------------------ */

static void remove_dir(const char *dir)
{
	char path[600];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * Unpoison every pending entry of @p (@n of them), retrying EBUSY for up
 * to 10 s (a poisoned KSM page stays busy until ksmd drops it).
 */
static void unpoison_all(struct poisoned *p, unsigned int n)
{
	unsigned int i, left;
	int pass, err;

	for (pass = 0; pass < 20; pass++) {
		for (i = 0, left = 0; i < n; i++) {
			if (LOAD(&p[i].state) != PS_PENDING)
				continue;
			err = unpoison_entry(&p[i], OP_UNPOISON_FINAL);
			if (err == EBUSY)
				left++;
			else if (err)
				STORE(&p[i].state, PS_FAILED);
		}
		if (!left)
			break;
		sleep_ms(500);
	}
	for (i = 0; i < n; i++)
		if (LOAD(&p[i].state) == PS_PENDING)
			STORE(&p[i].state, PS_FAILED);
}

static void find_ram(void)
{
	char line[256];
	unsigned long s, e;
	FILE *f = fopen("/proc/iomem", "r");

	while (f && fgets(line, sizeof(line), f) && env.nram < MAX_RAM) {
		if (line[0] == ' ' || !strstr(line, ": System RAM"))
			continue;
		if (sscanf(line, "%lx-%lx", &s, &e) != 2 || e <= s)
			continue;
		env.ram_start[env.nram] = (s + PG - 1) / PG;
		env.ram_pages[env.nram] = (e + 1) / PG - env.ram_start[env.nram];
		env.ram_total += env.ram_pages[env.nram++];
	}
	if (f)
		fclose(f);
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static int in_sorted(const unsigned long *v, unsigned int n, unsigned long x)
{
	return n && bsearch(&x, v, n, sizeof(*v), cmp_ulong);
}

/* Calls @fn for every System RAM PFN that /proc/kpageflags says poisoned. */
static void sweep_poisoned(void (*fn)(unsigned long pfn))
{
	int r;

	for (r = 0; r < env.nram; r++)
		sweep_range(env.ram_start[r], env.ram_start[r] + env.ram_pages[r],
			    fn);
}

static long nr_poisoned_huge;

/* kpageflags shows a hugetlb folio's mark on each of its pages: count heads. */
static void count_poisoned_huge(unsigned long pfn)
{
	if ((page_flags(pfn) & (KPF_HUGE | KPF_COMPOUND_HEAD)) ==
	    (KPF_HUGE | KPF_COMPOUND_HEAD))
		nr_poisoned_huge++;
}

/*
 * The hugetlb pool the workers need, plus one page per poisoned hugetlb
 * page still in it: on stock such a page may sit on the pool's free list,
 * counted free but never handed out (SPEC.md, stock weakness 19), and a
 * mapping reserved against it would get SIGBUS (BUS_ADRERR).  That
 * weakness has a test of its own; here the pool is kept from running dry
 * on it.  Ours breaks such a page up when it is freed, and nr_hugepages
 * drops by one: the top-up raises it again.
 */
static long hugepages_wanted(void)
{
	nr_poisoned_huge = 0;
	sweep_poisoned(count_poisoned_huge);
	/* Bounded, should kpageflags say more than the run can have done. */
	if (nr_poisoned_huge > 2L * cfg.workers)
		nr_poisoned_huge = 2L * cfg.workers;
	return env.hugepages_target + nr_poisoned_huge;
}

static void note_prepoisoned(unsigned long pfn)
{
	if (env.nprepoisoned < MAX_PREPOISONED)
		env.prepoisoned[env.nprepoisoned++] = pfn;
}

/* A page poisoned now, not before the run, and not in its list. */
static void unpoison_unlisted(unsigned long pfn)
{
	struct poisoned p = { .pfn = pfn, .kind = K_UNLISTED };
	int tries;

	if (in_sorted(env.prepoisoned, env.nprepoisoned, pfn) ||
	    in_sorted(listed, nlisted, pfn))
		return;
	if (nunlisted++ < 16)
		printf("hwpt-stress: %#lx is poisoned, but the run never asked for it\n",
		       pfn);
	for (tries = 0; tries < 10; tries++) {
		if (unpoison_entry(&p, OP_UNPOISON_FINAL) != EBUSY)
			break;
		/* A hugetlb page: its head may be the one to unpoison. */
		p.kind = K_RAM_HUGE;
		sleep_ms(200);
	}
}

/* After unpoison_all(): unpoison what the list missed (see sweep_poisoned()). */
static void unpoison_unlisted_all(struct poisoned *p, unsigned int n)
{
	unsigned int i;

	listed = calloc(n + 1, sizeof(*listed));
	if (!listed)
		return;
	for (i = 0; i < n; i++)
		listed[nlisted++] = p[i].pfn;
	qsort(listed, nlisted, sizeof(*listed), cmp_ulong);
	sweep_poisoned(unpoison_unlisted);
	free(listed);
}

static void restore_settings(void)
{
	char path[128];
	int i;

	for (i = 0; i < MAX_HP_OFF; i++) {
		int b = shm->hp_off[i] - 1;

		if (b >= 0)
			record(OP_HOTPLUG_ONLINE_FINAL, K_MOVABLE, b,
			       block_write(b, "online_movable"));
	}
	if (env.hugemnt[0] && umount(env.hugemnt) == 0)
		rmdir(env.hugemnt);
	if (env.hugepages_orig >= 0)
		write_long(NR_HUGEPAGES, env.hugepages_orig);
	for (i = 2; env.ksm_saved && i >= 0; i--) {
		snprintf(path, sizeof(path), KSM_DIR "%s", ksm_knobs[i]);
		write_long(path, env.ksm_orig[i]);
	}
}

/* The settings of a run that was killed, from DIR/state and DIR/poisoned. */
static int cleanup_main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	char path[512], line[512], a[256], b[256];
	unsigned int n = 0;
	FILE *f;
	int i;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: EINTR */
	path_in_dir(path, sizeof(path), "state");
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %255s", a, b) != 2)
			continue;
		if (!strcmp(a, "nr_hugepages"))
			env.hugepages_orig = strtol(b, NULL, 10);
		else if (!strcmp(a, "mounted"))
			snprintf(env.hugemnt, sizeof(env.hugemnt), "%s", b);
		else if (!strcmp(a, "dir"))
			remove_dir(b);
		else if (!strcmp(a, "offline") && n < MAX_HP_OFF)
			shm->hp_off[n++] = strtol(b + 6, NULL, 10) + 1;
		for (i = 0; i < 3; i++)
			if (!strcmp(a, "ksm") && !strcmp(b, ksm_knobs[i]) &&
			    sscanf(line, "%*s %*s %ld", &env.ksm_orig[i]) == 1)
				env.ksm_saved = 1;
	}
	if (f)
		fclose(f);
	path_in_dir(path, sizeof(path), "poisoned.log");
	f = fopen(path, "r");
	n = 0;
	while (f && n < MAX_POISONED && fgets(line, sizeof(line), f)) {
		char pfn[32], kind[32], op[32];

		if (sscanf(line, "%31s %31s %31s", pfn, kind, op) != 3)
			continue;
		shm->pois[n].pfn = strtoul(pfn, NULL, 16);
		shm->pois[n].kind = K_UNKNOWN;
		for (i = 0; i < NKINDS; i++)
			if (!strcmp(kind, kind_names[i]))
				shm->pois[n].kind = i;
		shm->pois[n++].state = PS_PENDING;
	}
	if (f)
		fclose(f);
	unpoison_all(shm->pois, n);
	path_in_dir(path, sizeof(path), "prepoisoned");
	f = fopen(path, "r");
	while (f && env.nprepoisoned < MAX_PREPOISONED && fgets(line, sizeof(line), f))
		env.prepoisoned[env.nprepoisoned++] = strtoul(line, NULL, 16);
	if (f)
		fclose(f);
	qsort(env.prepoisoned, env.nprepoisoned, sizeof(unsigned long), cmp_ulong);
	find_ram();
	unpoison_unlisted_all(shm->pois, n);
	restore_settings();
	printf("hwpt-stress cleanup: %u PFNs in poisoned.log, %u unlisted:", n,
	       nunlisted);
	for (i = 0; i < NRES; i++) {
		unsigned long c = 0;
		int k;

		for (k = 0; k < NKINDS; k++)
			c += shm->ops[OP_UNPOISON_FINAL][k][i];
		if (c)
			printf(" %s %lu", res_name(i), c);
	}
	printf("\n");
	return 0;
}

/* A mounted hugetlbfs of 2 MiB pages, or "". */
static void find_hugetlbfs(char *mnt, size_t size)
{
	char line[512], dev[128], dir[256], type[64], opts[256];
	FILE *f = fopen("/proc/mounts", "r");

	mnt[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %255s %63s %255s", dev, dir, type,
			   opts) != 4 || strcmp(type, "hugetlbfs"))
			continue;
		if (strstr(opts, "pagesize=2M") || !strstr(opts, "pagesize="))
			snprintf(mnt, size, "%s", dir);
	}
	if (f)
		fclose(f);
}

static void setup_hugetlb(void)
{
	char mnt[256];
	long got;

	if (cfg.no_kind[K_HUGETLB_PRIVATE] ||
	    meminfo_kb("Hugepagesize") != HPAGE / 1024)
		return;
	env.hugepages_orig = read_long(NR_HUGEPAGES);
	if (env.hugepages_orig < 0)
		return;
	/*
	 * Two pages a worker, its children's copies on write, and a spare
	 * page a worker for those poisoned between two top-ups.
	 */
	env.hugepages_target = env.hugepages_orig + 3L * cfg.workers + 6;
	if (write_long(NR_HUGEPAGES, env.hugepages_target)) {
		env.hugepages_orig = -1;
		return;
	}
	got = read_long(NR_HUGEPAGES) - env.hugepages_orig;
	if (got < cfg.workers) {
		fprintf(stderr, "hwpt-stress: only %ld huge pages: no hugetlb\n",
			got);
		write_long(NR_HUGEPAGES, env.hugepages_orig);
		return;
	}
	env.kind_on[K_HUGETLB_PRIVATE] = 1;
	find_hugetlbfs(mnt, sizeof(mnt));
	if (!mnt[0]) {
		path_in_dir(env.hugemnt, sizeof(env.hugemnt), "hugetlbfs");
		mkdir(env.hugemnt, 0700);
		if (mount("hwpt-stress", env.hugemnt, "hugetlbfs", 0,
			  "pagesize=2M")) {
			perror("mount hugetlbfs");
			rmdir(env.hugemnt);
			env.hugemnt[0] = 0;
			return;
		}
		snprintf(env.hugedir, sizeof(env.hugedir), "%s", env.hugemnt);
	} else {
		snprintf(env.hugedir, sizeof(env.hugedir),
			 "%s/hwpt-stress.%d", mnt, my_pid);
		if (mkdir(env.hugedir, 0700)) {
			env.hugedir[0] = 0;
			return;
		}
	}
	env.kind_on[K_HUGETLB_SHARED] = 1;
}

static void setup_ksm(void)
{
	char path[128];
	int i;

	if (cfg.no_kind[K_KSM])
		return;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), KSM_DIR "%s", ksm_knobs[i]);
		env.ksm_orig[i] = read_long(path);
		if (env.ksm_orig[i] < 0)
			return;
	}
	env.ksm_saved = 1;
	for (i = 2; i >= 0; i--) {
		snprintf(path, sizeof(path), KSM_DIR "%s", ksm_knobs[i]);
		if (write_long(path, ksm_values[i]))
			return;
	}
	env.kind_on[K_KSM] = 1;
}

static void setup_env(void)
{
	char buf[256];
	FILE *f;
	int lines = 0;

	env.kind_on[K_ANON] = 1;
	env.kind_on[K_SHMEM] = 1;
	env.kind_on[K_MLOCK] = !cfg.no_kind[K_MLOCK];
	if (read_file(THP_DIR "enabled", buf, sizeof(buf)) > 0 &&
	    !strstr(buf, "[never]"))
		env.kind_on[K_THP] = !cfg.no_kind[K_THP];
	if (read_file(THP_DIR "shmem_enabled", buf, sizeof(buf)) > 0 &&
	    !strstr(buf, "[never]") && !strstr(buf, "[deny]"))
		env.shmem_huge = 1;
	f = fopen("/proc/swaps", "r");
	while (f && fgets(buf, sizeof(buf), f))
		lines++;
	if (f)
		fclose(f);
	env.kind_on[K_SWAP] = lines > 1 && !cfg.no_kind[K_SWAP];
	if (cfg.disk) {
		snprintf(env.diskdir, sizeof(env.diskdir), "%s/hwpt-stress.%d",
			 cfg.disk, my_pid);
		if (mkdir(env.diskdir, 0700)) {
			perror(env.diskdir);
			env.diskdir[0] = 0;
		} else {
			env.kind_on[K_FILE_SHARED] = 1;
			env.kind_on[K_FILE_PRIVATE] = 1;
		}
	}
	setup_hugetlb();
	setup_ksm();
	find_ram();
	if (read_file(MEMORY_DIR "/block_size_bytes", buf, sizeof(buf)) > 0)
		env.block_pages = strtoul(buf, NULL, 16) / PG;
	env.corrupted_start = meminfo_kb("HardwareCorrupted");
	sweep_poisoned(note_prepoisoned);
}

static void init_budgets(void)
{
	int o, k;
	static const int routes[] = {
		OP_MADV_HWPOISON, OP_MADV_SOFT_OFFLINE, OP_CORRUPT_PFN,
		OP_HARD_OFFLINE_PAGE, OP_SOFT_OFFLINE_PAGE, OP_TARGET,
	};

	for (o = 0; o < NOPS; o++)
		for (k = 0; k < NKINDS; k++)
			shm->budget[o][k] = -1;
	for (o = 0; o < (int)ARRAY_SIZE(routes); o++) {
		shm->budget[routes[o]][K_HUGETLB_PRIVATE] = cfg.hugetlb_budget;
		shm->budget[routes[o]][K_HUGETLB_SHARED] = cfg.hugetlb_budget;
	}
	shm->budget[OP_SOFT_OFFLINE_RANDOM][K_RAM_HUGE] = cfg.hugetlb_budget;
}

static void on_stop(int sig)
{
	got_stop = 1;
}

static void on_usr1(int sig)
{
	got_usr1 = 1;
}

/* The first word of DIR/ctl: 0 run, 1 pause (*seq or -1), 2 stop. */
static int read_ctl(long *seq)
{
	char path[512], buf[128], *end;

	path_in_dir(path, sizeof(path), "ctl");
	*seq = -1;
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	if (!strncmp(buf, "stop", 4))
		return 2;
	if (strncmp(buf, "pause", 5))
		return 0;
	*seq = strtol(buf + 5, &end, 10);
	if (end == buf + 5)
		*seq = -1;
	return 1;
}

static int all_idle(void)
{
	int i;

	for (i = 0; i < MAX_PROCS; i++)
		if (LOAD(&shm->procs[i].pid) && LOAD(&shm->procs[i].busy))
			return 0;
	return 1;
}

static void reset_worker_slot(int s)
{
	int i;

	if (tgt.pid && tgt.slot == s)
		target_release();
	STORE(&shm->w[s].pid, 0);
	for (i = 0; i < NREG; i++) {
		struct reg_pub *p = &shm->w[s].reg[i];

		__atomic_add_fetch(&p->seq, 1, __ATOMIC_SEQ_CST);
		STORE(&p->kind, 0);
		STORE(&p->hold, 0);
		__atomic_add_fetch(&p->seq, 1, __ATOMIC_SEQ_CST);
	}
}

static void start_worker(int s)
{
	int pid = spawn(ROLE_WORKER, s, rnd_below(2) ? K_EARLY : K_LATE,
			worker_main);

	if (pid > 0)
		shm->w[s].pid = pid;
}

static void start_actor(int role, int slot)
{
	static void (* const fns[NROLES])(void) = {
		[ROLE_INJECTOR] = injector_main,
		[ROLE_RAMSOFT] = ramsoft_main,
		[ROLE_UNPOISON] = unpoison_main,
		[ROLE_HOTPLUG] = hotplug_main,
	};

	if (fns[role])
		spawn(role, slot, 0, fns[role]);
}

/* Everyone but main is gone (or was killed); returns what is left. */
static int stop_all(void)
{
	int i, pid, status, left = 0, k;

	STORE(&shm->stop, 1);
	for (k = 0; k < 300; k++) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			proc_ended(pid, status, NULL);
		if (pid < 0 && errno == ECHILD)
			return 0;
		sleep_ms(50);
		if (k == 200)
			for (i = 0; i < MAX_PROCS; i++)
				if (shm->procs[i].pid > 0 &&
				    shm->procs[i].role != ROLE_MAIN)
					kill(shm->procs[i].pid, SIGKILL);
	}
	for (i = 0; i < MAX_PROCS; i++)
		if (shm->procs[i].pid > 0 && shm->procs[i].role != ROLE_MAIN)
			left++;
	return left;
}

static int run_main(void)
{
	char path[512], buf[64];
	long next_target = 0, next_stats = 0, next_topup = 0, next_report;
	long end, seq, pause_seq = 0;
	int i, pid, status, role, slot, want, paused = 0, acked = 0, left;
	unsigned int n;
	int respawn[MAX_WORKERS] = { 0 };
	unsigned int shown = 0;
	struct sigaction sa = { .sa_handler = on_stop };

	if (geteuid()) {
		fprintf(stderr, "hwpt-stress: needs root\n");
		return 2;
	}
	if (mkdir(cfg.dir, 0755) && errno != EEXIST) {
		perror(cfg.dir);
		return 2;
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	shm->t0_ms = mono_ms();
	my_pid = getpid();
	my_role = ROLE_MAIN;
	seed_rng(cfg.seed, 0);
	set_comm();
	path_in_dir(path, sizeof(path), "pids");
	pids_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (pids_fd < 0) {
		perror(path);
		return 2;
	}
	path_in_dir(path, sizeof(path), "poisoned.log");
	plog_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	snprintf(buf, sizeof(buf), "%d main 0 -\n", my_pid);
	if (write(pids_fd, buf, strlen(buf)) < 0)
		perror(path);
	snprintf(buf, sizeof(buf), "%d\n", my_pid);
	write_dir_file("main.pid", buf);
	my_pslot = pslot_claim(my_pid, ROLE_MAIN, 0);
	path_in_dir(path, sizeof(path), "ctl");
	if (access(path, F_OK))
		write_dir_file("ctl", "run\n");
	path_in_dir(path, sizeof(path), "paused");
	unlink(path);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	catch_sigbus();
	for (i = 0; i < NREG; i++)
		regs[i].kind = -1;

	setup_env();
	init_budgets();
	write_state();
	{
		struct text t = { NULL, 0, 0 };

		tprintf(&t, "%s", "");
		for (n = 0; n < env.nprepoisoned; n++)
			tprintf(&t, "%#lx\n", env.prepoisoned[n]);
		write_dir_file("prepoisoned", t.buf);
		free(t.buf);
	}
	printf("hwpt-stress: pid %d, %d s, seed %lu, %d workers, %d injectors, dir %s\n",
	       my_pid, cfg.dur, cfg.seed, cfg.workers, cfg.injectors, cfg.dir);
	printf("hwpt-stress: kinds");
	for (i = 0; i < NREGKINDS; i++)
		if (env.kind_on[i])
			printf(" %s", kind_names[i]);
	printf("\n");
	fflush(stdout);

	for (i = 0; i < cfg.workers; i++)
		start_worker(i);
	for (i = 0; i < cfg.injectors; i++)
		start_actor(ROLE_INJECTOR, i);
	if (!cfg.no_random)
		start_actor(ROLE_RAMSOFT, 0);
	if (!cfg.no_unpoison)
		start_actor(ROLE_UNPOISON, 0);
	if (cfg.hotplug)
		start_actor(ROLE_HOTPLUG, 0);

	end = now_ms() + cfg.dur * 1000L;
	next_report = 10000;
	/*
	 * A pause asked for near the end is still answered: the host checks
	 * and resumes before the run may end (an injector busy in a 30 s
	 * offline can hold the answer past the end).
	 */
	while (!got_stop && (paused || now_ms() < end)) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			role = proc_ended(pid, status, &slot);
			for (i = 0; role == ROLE_WORKER && i < cfg.workers; i++)
				if (shm->w[i].pid == pid) {
					reset_worker_slot(i);
					respawn[i] = 1;
				}
			/* The actors should not die; if they do, restart them. */
			if (role >= ROLE_INJECTOR)
				start_actor(role, slot);
		}
		for (i = 0; i < cfg.workers; i++)
			if (respawn[i]) {
				respawn[i] = 0;
				start_worker(i);
			}
		want = read_ctl(&seq);
		if (want == 2)
			break;
		if (want == 1 && !paused) {
			paused = 1;
			acked = 0;
			pause_seq = seq >= 0 ? seq : pause_seq + 1;
			STORE(&shm->paused, 1);
		}
		if (paused && !acked && all_idle()) {
			write_stats("paused");
			write_poisoned();
			snprintf(buf, sizeof(buf), "%ld\n", pause_seq);
			write_dir_file("paused", buf);
			acked = 1;
		}
		if (want == 0 && paused) {
			path_in_dir(path, sizeof(path), "paused");
			unlink(path);
			paused = 0;
			STORE(&shm->paused, 0);
		}
		if (got_usr1) {
			got_usr1 = 0;
			write_lastops();
		}
		if (due(&next_target, 1000))
			target_update();
		if (due(&next_stats, 2000)) {
			write_stats(paused ? "paused" : "running");
			write_poisoned();
			write_state();
		}
		if (env.kind_on[K_HUGETLB_PRIVATE] && due(&next_topup, 1000)) {
			long want = hugepages_wanted();

			if (read_long(NR_HUGEPAGES) < want)
				record(OP_POOL_TOPUP, K_POOL, 0,
				       write_long(NR_HUGEPAGES, want));
		}
		watch_offline();
		decide_held(0);
		while (shown < nviolations() && shown < NVIOL &&
		       LOAD(&shm->viol[shown].ready)) {
			char vbuf[448];

			format_violation(&shm->viol[shown++], vbuf, sizeof(vbuf));
			printf("hwpt-stress: VIOLATION %s\n", vbuf);
			fflush(stdout);
		}
		if (now_ms() >= next_report) {
			next_report += 10000;
			printf("hwpt-stress: %ld s, %u poisoned, %lu SIGBUS, %u violations\n",
			       now_ms() / 1000, LOAD(&shm->npoisoned),
			       shm->sigbus[C_AR] + shm->sigbus[C_AO], nviolations());
			fflush(stdout);
		}
		sleep_ms(100);
	}

	/* Stop, give everything back, report. */
	target_release();
	write_dir_file("target", "none\n");
	path_in_dir(path, sizeof(path), "paused");
	unlink(path);
	left = stop_all();
	if (left)
		printf("hwpt-stress: %d processes did not end\n", left);
	if (env.hugedir[0] && !env.hugemnt[0])
		remove_dir(env.hugedir);
	else if (env.hugemnt[0])
		remove_dir(env.hugemnt);	/* files only; rmdir fails */
	if (env.diskdir[0])
		remove_dir(env.diskdir);
	n = LOAD(&shm->npoisoned) < MAX_POISONED ? LOAD(&shm->npoisoned) :
						   MAX_POISONED;
	unpoison_all(shm->pois, n);
	unpoison_unlisted_all(shm->pois, n);
	restore_settings();
	decide_held(1);
	write_poisoned();
	write_stats("final");
	write_lastops();
	env.restored = 1;
	write_state();
	print_table();
	return nviolations() ? 1 : 0;
}

static void print_usage(void)
{
	static const char * const lines[] = {
		"usage: hwpt-stress run --dir DIR [--dur SECS] [--seed N] [--disk PATH]",
		"         [--workers N] [--injectors N] [--hotplug] [--hotplug-period SECS]",
		"         [--no-hugetlb] [--no-thp] [--no-ksm] [--no-swap] [--no-mlock]",
		"         [--no-madvise] [--no-random] [--no-unpoison]",
		"         [--hugetlb-budget N] [--inject-ms MS] [--unpoison-ms MS]",
		"       hwpt-stress cleanup --dir DIR",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lines); i++)
		fprintf(stderr, "%s\n", lines[i]);
	exit(2);
}

static long num_arg(int argc, char **argv, int *i, long min, long max)
{
	char *end;
	long v;

	if (*i + 1 >= argc)
		print_usage();
	v = strtol(argv[++*i], &end, 0);
	if (*end || v < min || v > max)
		print_usage();
	return v;
}

int main(int argc, char **argv)
{
	int i, cleanup;

	if (argc < 2)
		print_usage();
	cleanup = !strcmp(argv[1], "cleanup");
	if (!cleanup && strcmp(argv[1], "run"))
		print_usage();
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--dir") && i + 1 < argc)
			cfg.dir = argv[++i];
		else if (!strcmp(a, "--disk") && i + 1 < argc)
			cfg.disk = argv[++i];
		else if (!strcmp(a, "--dur"))
			cfg.dur = num_arg(argc, argv, &i, 1, 86400);
		else if (!strcmp(a, "--seed"))
			cfg.seed = num_arg(argc, argv, &i, 0, 0x7fffffffffffffffL);
		else if (!strcmp(a, "--workers"))
			cfg.workers = num_arg(argc, argv, &i, 1, MAX_WORKERS);
		else if (!strcmp(a, "--injectors"))
			cfg.injectors = num_arg(argc, argv, &i, 0, MAX_INJECTORS);
		else if (!strcmp(a, "--hotplug"))
			cfg.hotplug = 1;
		else if (!strcmp(a, "--hotplug-period"))
			cfg.hotplug_period = num_arg(argc, argv, &i, 1, 3600);
		else if (!strcmp(a, "--no-hugetlb"))
			cfg.no_kind[K_HUGETLB_PRIVATE] = 1;
		else if (!strcmp(a, "--no-thp"))
			cfg.no_kind[K_THP] = 1;
		else if (!strcmp(a, "--no-ksm"))
			cfg.no_kind[K_KSM] = 1;
		else if (!strcmp(a, "--no-swap"))
			cfg.no_kind[K_SWAP] = 1;
		else if (!strcmp(a, "--no-mlock"))
			cfg.no_kind[K_MLOCK] = 1;
		else if (!strcmp(a, "--no-madvise"))
			cfg.no_madvise = 1;
		else if (!strcmp(a, "--no-random"))
			cfg.no_random = 1;
		else if (!strcmp(a, "--no-unpoison"))
			cfg.no_unpoison = 1;
		else if (!strcmp(a, "--hugetlb-budget"))
			cfg.hugetlb_budget = num_arg(argc, argv, &i, 0, 1000);
		else if (!strcmp(a, "--inject-ms"))
			cfg.inject_ms = num_arg(argc, argv, &i, 1, 60000);
		else if (!strcmp(a, "--unpoison-ms"))
			cfg.unpoison_ms = num_arg(argc, argv, &i, 0, 3600000);
		else
			print_usage();
	}
	if (!cfg.dir)
		print_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cleanup) {
		shm = calloc(1, sizeof(*shm));
		if (!shm)
			return 2;
		shm->t0_ms = mono_ms();
		my_pid = getpid();
		return cleanup_main();
	}
	return run_main();
}
