#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the host harness.  The host sends each command framed as
#   @@HWPT-CMD SEQ LEN COMMAND @@HWPT-END
# and the agent answers "@@HWPT-RC SEQ STATUS@@" once it has run, so the
# host can tell the output of one command from the next and spot a hang.
# "&COMMAND" starts a job in the background instead: its output goes to
# /tmp/hwpt-job.SEQ and its exit status to /tmp/hwpt-job.SEQ.rc.
#
# The serial line can lose input (a machine check can keep the CPU from
# draining the UART in time) and a signal can cut a read short, so only a
# frame whose start marker and length check out is run; anything else is
# answered "@@HWPT-BAD@@" and the host sends the command again.  A frame
# whose SEQ is not newer than the last one run is a resend of a command
# that did run: it is dropped, so nothing ever runs twice.
#
# After 2 s of silence the host pokes: "@@HWPT-POKE SEQ @@HWPT-END", SEQ
# being the command it waits for.  The poke completes a frame whose end was
# lost (answered BAD); on its own it is answered "@@HWPT-IDLE SEQ LAST@@",
# LAST being the newest command run, so the host resends a frame that
# never arrived instead of waiting for an answer that cannot come.
exec </dev/ttyS1 >/dev/ttyS1 2>&1
stty raw -echo
# Keep the agent and what it starts on CPU 0, leaving CPU 1 to programs
# that pin themselves there (the SRAR victim).
taskset -p 1 $$ >/dev/null
echo "@@HWPT-READY@@"
buf=
last=0
while :; do
	IFS= read -r part || [ -n "$part" ] || { sleep 1; continue; }
	buf="$buf$part"
	case "$buf" in
	"@@HWPT-POKE "*" @@HWPT-END")	# the host waits for a command
		buf=${buf#@@HWPT-POKE }
		echo "@@HWPT-IDLE ${buf% @@HWPT-END} $last@@"
		buf=
		continue ;;
	"@@HWPT-CMD "*" @@HWPT-END") ;;
	*" @@HWPT-END")
		buf=
		echo "@@HWPT-BAD@@"
		continue ;;
	*)
		continue ;;		# more of this frame is on its way
	esac
	frame=${buf#@@HWPT-CMD }
	frame=${frame% @@HWPT-END}
	buf=
	seq=${frame%% *}
	frame=${frame#* }
	len=${frame%% *}
	cmd=${frame#* }
	case "$seq" in
	"" | *[!0-9]*)
		echo "@@HWPT-BAD@@"
		continue ;;
	esac
	if [ "${#cmd}" != "$len" ]; then
		echo "@@HWPT-BAD@@"
		continue
	fi
	[ "$seq" -gt "$last" ] || continue
	last=$seq
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
