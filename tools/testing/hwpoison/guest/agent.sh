#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the host harness: run each line the host sends on ttyS1 as
# "SEQ COMMAND" and answer with its exit status, so the host can tell the
# output of one command from the next and spot a hang.  "SEQ &COMMAND"
# starts a job in the background instead: its output goes to
# /tmp/hwpt-job.SEQ and its exit status to /tmp/hwpt-job.SEQ.rc, which the
# host reads with further commands while the job runs.
exec </dev/ttyS1 >/dev/ttyS1 2>&1
stty raw -echo
# Keep the agent and what it starts on CPU 0, leaving CPU 1 to programs
# that pin themselves there (the SRAR victim).
taskset -p 1 $$ >/dev/null
echo "@@HWPT-READY@@"
while IFS= read -r line; do
	seq=${line%% *}
	cmd=${line#* }
	case "$cmd" in
	"&"*)
		( ( eval "${cmd#&}" ) </dev/null >/tmp/hwpt-job.$seq 2>&1
		  echo $? >/tmp/hwpt-job.$seq.rc.tmp
		  mv /tmp/hwpt-job.$seq.rc.tmp /tmp/hwpt-job.$seq.rc ) &
		echo "@@HWPT-RC $seq 0@@"
		;;
	*)
		( eval "$cmd" ) </dev/null
		echo "@@HWPT-RC $seq $?@@"
		;;
	esac
done
poweroff -f
