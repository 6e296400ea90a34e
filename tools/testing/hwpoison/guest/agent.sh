#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the host harness: run each line the host sends on ttyS1 as
# "SEQ COMMAND" and answer with its exit status, so the host can tell the
# output of one command from the next and spot a hang.
exec </dev/ttyS1 >/dev/ttyS1 2>&1
stty raw -echo
echo "@@HWPT-READY@@"
while IFS= read -r line; do
	seq=${line%% *}
	cmd=${line#* }
	( eval "$cmd" ) </dev/null
	echo "@@HWPT-RC $seq $?@@"
done
poweroff -f
