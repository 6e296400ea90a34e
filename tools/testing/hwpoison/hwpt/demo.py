# SPDX-License-Identifier: GPL-2.0
"""`make run`: the subsystem at work on a live guest, step by step; and
`make shell`: an interactive guest with our tools in PATH.
"""

import os
import re
import subprocess
import sys
import time

from . import build, paths
from .util import fmt_secs
from .vm import Guest, GuestError

KERNEL_LINE = re.compile(r'mce: \[Hardware Error\]: Machine check events logged|'
                         r'Memory failure:|MCE: Killing|Injecting memory failure|'
                         r'mce: Uncorrected hardware memory error')


def say(msg=''):
    print(msg, flush=True)


def kernel_lines(g, since):
    """The kernel's own hwpoison/MCE lines since @since, indented."""
    time.sleep(0.5)
    for line in g.console(since).splitlines():
        if KERNEL_LINE.search(line):
            say(f'    kernel: {line.strip()}')


def meminfo(g):
    return re.search(r'HardwareCorrupted:\s+\d+ kB',
                     g.read_file('/proc/meminfo')).group(0)


def victim(g, args):
    seq = g.start_cmd(f'hwpt-victim {args}')
    m = g.expect(seq, r'HWPT-READY pid=(\d+) cpu=(\d+) vaddr=(\S+) pfn=(\S+) '
                 r'paddr=(\S+)', 60)
    return seq, m


def step_srao(g):
    say('\n1. SRAO (memory scrubber found an error) in the page of an '
        'early-kill process')
    seq, m = victim(g, '--kill early --timeout 60')
    say(f'    victim pid {m.group(1)} (PR_MCE_KILL_EARLY) maps pfn '
        f'{m.group(4)} at {m.group(3)}; injecting SRAO at {m.group(5)} on CPU 0')
    mark = g.console_mark()
    g.mce('srao', 0, int(m.group(5), 16))
    rc, out = g.wait(seq, 90)
    say(f'    victim: {out.strip().splitlines()[-1]}')
    kernel_lines(g, mark)


def step_srar(g):
    say('\n2. SRAR (a load consumed the poison) on a process spinning on CPU 1')
    seq, m = victim(g, '--spin --cpu 1 --timeout 60')
    say(f'    victim pid {m.group(1)} reads pfn {m.group(4)} in a loop on CPU '
        f'{m.group(2)}; injecting SRAR on CPU {m.group(2)}')
    mark = g.console_mark()
    g.mce_in_user_mode('srar', int(m.group(2)), int(m.group(5), 16))
    rc, out = g.wait(seq, 90)
    say(f'    victim: {out.strip().splitlines()[-1]}')
    kernel_lines(g, mark)
    say(f'    guest still alive: uptime {g.read_file("/proc/uptime").split()[0]} s')


def step_free(g):
    say('\n3. SRAO on a free page')
    pfn = int(g.sh_ok('hwpt-pfn free 1').strip(), 16)
    say(f'    pfn {pfn:#x} is free (buddy) on node 1; injecting SRAO')
    mark = g.console_mark()
    g.mce('srao', 1, pfn << 12)
    g.wait_console(rf'Memory failure: {pfn:#x}', mark, 30)
    kernel_lines(g, mark)


def step_pagecache(g):
    say('\n4. SRAO on a clean page-cache page of a file (ext2 on a ramdisk)')
    g.sh_ok('dd if=/dev/urandom of=/mnt/disk/data bs=4096 count=4 2>/dev/null '
            '&& sync')
    before = g.sh_ok('md5sum /mnt/disk/data').split()[0]
    seq, m = victim(g, '--file /mnt/disk/data --timeout 5')
    say(f'    file page at pfn {m.group(4)} (clean, mapped by a late-kill '
        f'process); injecting SRAO')
    mark = g.console_mark()
    g.mce('srao', 0, int(m.group(5), 16))
    g.wait_console(rf'Memory failure: {m.group(4)}', mark, 30)
    rc, out = g.wait(seq, 30)
    kernel_lines(g, mark)
    say('    the mapping process (late kill) got ' +
        ('no signal' if 'HWPT-TIMEOUT' in out else out.strip()))
    after = g.sh_ok('md5sum /mnt/disk/data').split()[0]
    say(f'    file re-read from disk: {"intact" if after == before else "CHANGED"}'
        f' (md5 {after[:12]}...)')


def summary(g):
    say('\n5. Accounting')
    say(f'    /proc/meminfo: {meminfo(g)}')
    for node in (0, 1):
        d = f'/sys/devices/system/node/node{node}/memory_failure'
        vals = g.sh_ok(f'cd {d} && for f in total recovered ignored failed '
                       'delayed; do echo "$f=$(cat $f)"; done').split()
        say(f'    node{node}/memory_failure: {" ".join(vals)}')
    trace = g.sh_ok('grep memory_failure_event /sys/kernel/tracing/trace || true')
    say('    trace events (ras:memory_failure_event):')
    for line in trace.strip().splitlines():
        say(f'      {line[line.find("memory_failure_event"):].strip()}')


def main(kernel):
    facts = build.build_all(kernel)
    logdir = os.path.join(paths.LOGS, time.strftime('%Y%m%d-%H%M%S') + '-run')
    say(f'== hwpoison live demo: kernel={kernel}, base {facts["base"]} '
        f'(built in {fmt_secs(facts["build_s"])})')
    g = Guest(facts['bzimage'], facts['initrd'], logdir, name='run')
    try:
        g.start()
        say(f'   booted under QEMU TCG (2 vCPUs, 2 NUMA nodes) in {g.boot_s:.1f}s; '
            f'{g.read_file("/proc/version").split(" (")[0]}')
        g.sh_ok('echo 1 > /sys/kernel/tracing/events/ras/memory_failure_event/enable')
        for step in (step_srao, step_srar, step_free, step_pagecache, summary):
            step(g)
    except GuestError as e:
        say(f'\nguest error: {e}\nconsole: {g.console_path}')
        g.stop()
        return 1
    g.stop()
    say(f'\nlogs: {os.path.relpath(logdir, paths.REPO)}/')
    return 0


def shell(kernel, hostroot=False):
    facts = build.build_all(kernel)
    logdir = os.path.join(paths.LOGS, 'shell')
    g = Guest(facts['bzimage'], facts['initrd'], logdir, name='shell',
              mode='shell', hostroot=hostroot)
    os.makedirs(g.sock_dir, exist_ok=True)
    print(f'QMP socket: {g.qmp_path} (Ctrl-A X quits QEMU)', file=sys.stderr)
    return subprocess.call(g.qemu_cmd())
