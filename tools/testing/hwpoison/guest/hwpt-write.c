// SPDX-License-Identifier: GPL-2.0
/*
 * hwpt-write FILE VALUE - write VALUE to FILE with one write(2) and print
 * the errno by name, which busybox echo hides ("I/O error" for EHWPOISON).
 * Exit: 0 if the write took all bytes, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	ssize_t len, ret;
	int fd, err = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: hwpt-write FILE VALUE\n");
		return 2;
	}
	len = strlen(argv[2]);
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		err = errno;
	} else {
		ret = write(fd, argv[2], len);
		if (ret < 0)
			err = errno;
		else if (ret != len)
			err = EIO;
		if (close(fd) && !err)
			err = errno;
	}
	printf("hwpt-write: %s errno=%d %s\n", argv[1], err,
	       err ? strerrorname_np(err) : "OK");
	return err ? 1 : 0;
}
