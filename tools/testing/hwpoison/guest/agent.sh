#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the host harness: run each line the host sends on ttyS1 as
# "SEQ COMMAND @@HWPT-END" and answer with its exit status, so the host can
# tell the output of one command from the next and spot a hang.
# "SEQ &COMMAND @@HWPT-END" starts a job in the background instead: its
# output goes to /tmp/hwpt-job.SEQ and its exit status to
# /tmp/hwpt-job.SEQ.rc, which the host reads with further commands.
exec </dev/ttyS1 >/dev/ttyS1 2>&1
stty raw -echo
# Keep the agent and what it starts on CPU 0, leaving CPU 1 to programs
# that pin themselves there (the SRAR victim).
taskset -p 1 $$ >/dev/null
echo "@@HWPT-READY@@"
buf=
while :; do
	# A signal can cut a read short mid-line: gather the pieces until the
	# terminator arrives, so half a command is never run.
	IFS= read -r part || [ -n "$part" ] || { sleep 1; continue; }
	buf="$buf$part"
	case "$buf" in
	*" @@HWPT-END") ;;
	*) continue ;;
	esac
	line=${buf% @@HWPT-END}
	buf=
	seq=${line%% *}
	cmd=${line#* }
	case "$cmd" in
	"&"*)
		# Started from a subshell that exits at once, the job is
		# reparented to init: its end sends the agent no SIGCHLD.
		( ( ( eval "${cmd#&}" ) </dev/null >/tmp/hwpt-job.$seq 2>&1
		    echo $? >/tmp/hwpt-job.$seq.rc.tmp
		    mv /tmp/hwpt-job.$seq.rc.tmp /tmp/hwpt-job.$seq.rc ) & )
		echo "@@HWPT-RC $seq 0@@"
		;;
	*)
		( eval "$cmd" ) </dev/null
		echo "@@HWPT-RC $seq $?@@"
		;;
	esac
done
