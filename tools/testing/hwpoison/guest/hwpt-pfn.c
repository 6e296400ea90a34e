// SPDX-License-Identifier: GPL-2.0
/*
 * hwpt-pfn - find and inspect physical pages for the host harness.
 *
 *   hwpt-pfn free NODE   print a PFN that heads a free buddy block on NODE,
 *                        taken from the top of the node's memory, where the
 *                        allocator is least likely to hand it out meanwhile
 *   hwpt-pfn flags PFN   print the /proc/kpageflags word of PFN in hex
 *   hwpt-pfn hwpoison    print "PAGES FOLIOS": the pages flagged hwpoison
 *                        outside hugetlb folios, and the hugetlb folios
 *                        flagged (each shows the mark on all its pages,
 *                        but counts 1 to 512 pages in HardwareCorrupted)
 *   hwpt-pfn hwpoison list  the same pages and folio heads, one PFN a line
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KPF_COMPOUND_HEAD 15
#define KPF_BUDDY 10
#define KPF_HUGE 17
#define KPF_HWPOISON 19
#define KPF_NOPAGE 20

static int kpageflags_fd = -1;

static uint64_t flags_of(uint64_t pfn)
{
	uint64_t f = 1ULL << KPF_NOPAGE;

	if (pread(kpageflags_fd, &f, sizeof(f), pfn * sizeof(f)) != sizeof(f))
		return 1ULL << KPF_NOPAGE;
	return f;
}

static int find_free(int node)
{
	char path[96];
	unsigned long long block_bytes = 0, best = 0, pfn, start, end;
	long psize = sysconf(_SC_PAGESIZE);
	struct dirent *de;
	FILE *f;
	DIR *d;

	f = fopen("/sys/devices/system/memory/block_size_bytes", "r");
	if (!f || fscanf(f, "%llx", &block_bytes) != 1)
		return 1;
	fclose(f);
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
	d = opendir(path);
	if (!d)
		return 1;
	while ((de = readdir(d))) {
		unsigned long long blk;

		if (strncmp(de->d_name, "memory", 6) ||
		    sscanf(de->d_name + 6, "%llu", &blk) != 1)
			continue;
		start = blk * block_bytes / psize;
		end = start + block_bytes / psize;
		for (pfn = end - 1; pfn >= start && pfn > best; pfn--) {
			uint64_t fl = flags_of(pfn);

			if ((fl & (1ULL << KPF_BUDDY)) &&
			    !(fl & (1ULL << KPF_HWPOISON))) {
				best = pfn;
				break;
			}
		}
	}
	closedir(d);
	if (!best)
		return 1;
	printf("%#llx\n", best);
	return 0;
}

static int count_hwpoison(int list)
{
	unsigned long long pages = 0, folios = 0;
	uint64_t buf[4096];
	ssize_t n;
	off_t off = 0;

	while ((n = pread(kpageflags_fd, buf, sizeof(buf), off)) > 0) {
		for (size_t i = 0; i < n / sizeof(buf[0]); i++) {
			uint64_t f = buf[i];

			if (!(f & (1ULL << KPF_HWPOISON)))
				continue;
			if (!(f & (1ULL << KPF_HUGE)))
				pages++;
			else if (f & (1ULL << KPF_COMPOUND_HEAD))
				folios++;
			else
				continue;
			if (list)
				printf("%#llx\n", (unsigned long long)
				       (off / sizeof(buf[0]) + i));
		}
		off += n;
	}
	if (!list)
		printf("%llu %llu\n", pages, folios);
	return n < 0;
}

int main(int argc, char **argv)
{
	kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
	if (kpageflags_fd < 0) {
		perror("/proc/kpageflags");
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "free"))
		return find_free(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "hwpoison"))
		return count_hwpoison(0);
	if (argc == 3 && !strcmp(argv[1], "hwpoison") &&
	    !strcmp(argv[2], "list"))
		return count_hwpoison(1);
	if (argc == 3 && !strcmp(argv[1], "flags")) {
		printf("%#llx\n", (unsigned long long)flags_of(strtoull(argv[2], NULL, 0)));
		return 0;
	}
	fprintf(stderr, "usage: hwpt-pfn free NODE | flags PFN | hwpoison [list]\n");
	return 2;
}
