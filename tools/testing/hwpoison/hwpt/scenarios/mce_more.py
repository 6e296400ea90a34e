# SPDX-License-Identifier: GPL-2.0
"""More machine checks through QEMU: a polled UCNA, errors on a page that is
already poisoned, and what memory_failure_recovery=0 turns an error into."""

import re

from . import (HWPOISON, check, check_recovered_once, check_victim_sigbus,
               meminfo_kb, node_stats, pfn_node, recovery_line, scenario,
               sigbus_report, victim_ready)

CHECK_INTERVAL = ('/sys/devices/system/machinecheck/machinecheck0/'
                  'check_interval')
CORRUPT_PFN = f'{HWPOISON}/corrupt-pfn'




@scenario('qemu.ucna_polled', real_mce=True)
def ucna_polled(g):
    """A UCNA (uncorrected, no action required: UC=1, S=0, AR=0) with a
    physical address in the page of an early-kill process.

    The #MC that QEMU raises for it leaves the bank alone (not signalled,
    S=0); the poll timer finds it.  With check_interval set to 1 s, the
    poll logs one mce:mce_record with the bank status and the address, and
    since 6.12 gives UCNA the deferred severity, uc_decode_notifier() hands
    the page to memory_failure() like an action-optional error: the early
    -kill owner gets SIGBUS BUS_MCEERR_AO for the page (lsb 12), the page
    is recovered with KPF_HWPOISON, HardwareCorrupted grows by 4 kB and the
    node's memory_failure/total and recovered by 1; the handled record is
    not printed as "[Hardware Error]: ... Machine Check".  check_interval
    and the trace event are restored.
    """
    record = '/sys/kernel/tracing/events/mce/mce_record/enable'
    old = g.read_file(CHECK_INTERVAL)
    corrupted = meminfo_kb(g, 'HardwareCorrupted')
    seq = g.start_cmd('hwpt-victim --kill early --timeout 60')
    pfn, paddr, _ = victim_ready(g, seq)
    node = pfn_node(g, pfn)
    stats = node_stats(g, node)
    g.sh_ok('echo > /sys/kernel/tracing/trace')
    mark = g.console_mark()
    try:
        g.sh_ok(f'echo 1 > {record}')
        g.mce('ucna', cpu=0, paddr=paddr)
        g.sh_ok(f'echo 1 > {CHECK_INTERVAL}')
        check(g.read_file(CHECK_INTERVAL) == '1', 'check_interval is not 1')
        rc, out = g.wait(seq, 90)
        trace = g.sh_ok('cat /sys/kernel/tracing/trace')
    finally:
        g.sh(f'echo {old} > {CHECK_INTERVAL}; echo 0 > {record}; '
             'echo > /sys/kernel/tracing/trace')
    check(g.read_file(CHECK_INTERVAL) == old, 'check_interval not restored')
    records = [line for line in trace.splitlines() if 'mce_record:' in line]
    check(len(records) == 1, f'{len(records)} mce_record events, not 1')
    check(re.search(rf'MC\d+: bc0000000000009f, .*ADDR: 0*{paddr:x},',
                    records[0]), f'mce_record: {records[0]}')
    check_victim_sigbus(rc, out, 'BUS_MCEERR_AO')
    check_recovered_once(g, mark, pfn, corrupted, node, stats)
    check(not re.search(r'Machine Check.*Bank \d+: bc0000000000009f',
                        g.console(mark)), 'the handled UCNA was printed')


@scenario('qemu.srar_already_poisoned', real_mce=True)
def srar_already_poisoned(g):
    """Errors that hit a page which is poisoned already.

    1. An SRAO poisons the page of a late-kill process that busy-reads it:
       the SRAO itself does not signal it (late kill), the page is unmapped
       and recovered, and the process's next read faults on the poison
       entry: SIGBUS BUS_MCEERR_AR (from the fault, not AO) whose si_addr
       is the faulting address inside the page (not the page start, as
       with memory_failure()'s own signals), lsb 12, and the fault path's
       "MCE: Killing <comm>:<pid> ... fault at <addr>" line.  A sleeping
       bystander is untouched.
    2. A second SRAO on the same page: "recovery action for already
       poisoned page: Failed"; not handled, the record is printed
       ("[Hardware Error]: CPU 0: Machine Check Exception: ... Bank N:
       <status>" and its ADDR); neither HardwareCorrupted nor any per-node
       memory_failure counter moves (already-poisoned events are not
       counted).
    3. An SRAR on that page while another process, which does not map it,
       runs in user mode on the CPU: the kernel logs the user-access error
       and "already poisoned page: Failed", finds no mapping of the page in
       the current task and treats it as handled: that process is not
       signalled and keeps running, and the guest lives.
    """
    bystander = g.start_cmd('hwpt-victim --kill late --timeout 40')
    victim_ready(g, bystander)
    corrupted = meminfo_kb(g, 'HardwareCorrupted')
    seq = g.start_cmd('hwpt-victim --kill late --spin --cpu 1 --timeout 60')
    pfn, paddr, cpu = victim_ready(g, seq)
    check(cpu == 1, f'victim runs on CPU {cpu}, not 1')
    node = pfn_node(g, pfn)
    stats = node_stats(g, node)

    # 1. SRAO on the page of a late-kill reader.
    mark = g.console_mark()
    g.mce('srao', cpu=0, paddr=paddr)
    rc, out = g.wait(seq, 90)
    check(rc == 0, f'the reader got no SIGBUS (exit {rc}): {out.strip()}')
    code, _, lsb = sigbus_report(out)
    check(code == 'BUS_MCEERR_AR',
          f'si_code {code}, expected BUS_MCEERR_AR (from the fault)')
    vaddr = int(re.search(r'HWPT-READY pid=(\d+) cpu=\d+ vaddr=(\S+)',
                          out).group(2), 16)
    addr = int(re.search(r'HWPT-SIGBUS .* addr=(\S+)', out).group(1), 16)
    check(addr >> 12 == vaddr >> 12,
          f'si_addr {addr:#x} is not in the page at {vaddr:#x}')
    check(lsb == 12, f'si_addr_lsb {lsb}, expected 12')
    check(g.wait_console(r'MCE: Killing hwpt-victim:\d+ due to hardware '
                         rf'memory corruption fault at {addr:x}$', mark, 10),
          'no "MCE: Killing ... fault at" line from the fault path')
    stats = check_recovered_once(g, mark, pfn, corrupted, node, stats)

    # 2. A second SRAO on the same page.
    mark = g.console_mark()
    g.mce('srao', cpu=0, paddr=paddr)
    kind, result = recovery_line(g, mark, pfn)
    check((kind, result) == ('already poisoned page', 'Failed'),
          f'second SRAO: "{kind}: {result}"')
    check(g.wait_console(r'\[Hardware Error\]: CPU 0: Machine Check '
                         r'Exception: \S+ Bank \d+: bd000000000000c0',
                         mark, 10) and
          g.wait_console(rf'\[Hardware Error\]: TSC \S+ ADDR {paddr:x} ',
                         mark, 10),
          'the unhandled second SRAO was not printed with its address')
    check(meminfo_kb(g, 'HardwareCorrupted') == corrupted + 4,
          'HardwareCorrupted moved on an already-poisoned page')
    check(node_stats(g, node) == stats,
          f'node{node} counters moved on an already-poisoned page')

    # 3. SRAR on the poisoned page in a task that does not map it.
    other = g.start_cmd('hwpt-victim --kill late --spin --cpu 1 --timeout 15')
    opfn, _, ocpu = victim_ready(g, other)
    check(ocpu == 1 and opfn != pfn, 'second reader not on CPU 1 / same page')
    mark = g.console_mark()
    g.mce_in_user_mode('srar', 1, paddr)
    check(g.wait_console(r'Uncorrected hardware memory error in user-access '
                         rf'at {paddr:x}', mark, 30),
          'no "Uncorrected hardware memory error in user-access" line')
    kind, result = recovery_line(g, mark, pfn)
    check((kind, result) == ('already poisoned page', 'Failed'),
          f'SRAR: "{kind}: {result}"')
    rc, out = g.wait(other, 60)
    check(rc == 2 and 'HWPT-TIMEOUT' in out,
          f'the task that does not map the page was signalled: {out.strip()}')
    check('Memory error not recovered' not in g.console(mark),
          'kill_me_maybe() reported "Memory error not recovered"')
    check(node_stats(g, node) == stats, f'node{node} counters moved')
    rc, out = g.wait(bystander, 60)
    check(rc == 2 and 'HWPT-TIMEOUT' in out,
          f'the bystander was signalled: {out.strip()}')
    check(g.sh('true')[0] == 0, 'guest stopped answering')


def _expect_mf_panic(g, pfn, mark, inject, timeout=120):
    """Run @inject and check the guest died of panic("Memory failure on
    page %lx") for @pfn, having logged no recovery action first."""
    inject()
    code = g.wait_exit(timeout)
    check(code is not None, f'the guest did not die within {timeout} s')
    log = g.console(mark)
    check(re.search(rf'Kernel panic - not syncing: Memory failure on page '
                    rf'{pfn:x}$', log, re.M),
          f'no "Kernel panic - not syncing: Memory failure on page {pfn:x}"')
    check('recovery action for' not in log,
          'memory_failure() acted before panicking')


@scenario('qemu.recovery_disabled_panics', boot='own',
          allow=(r'Kernel panic - not syncing: Memory failure on page',))
def recovery_disabled_panics(g):
    """vm.memory_failure_recovery=0 turns any memory failure into a panic.

    The sysctl reads 1 by default and accepts 0; then a software-injected
    error (debugfs corrupt-pfn of a free page) panics the guest with
    "Kernel panic - not syncing: Memory failure on page <pfn in hex>",
    before any recovery action is logged.
    """
    sysctl = '/proc/sys/vm/memory_failure_recovery'
    check(g.read_file(sysctl) == '1', 'memory_failure_recovery is not 1')
    g.sh_ok(f'echo 0 > {sysctl}')
    check(g.read_file(sysctl) == '0', 'memory_failure_recovery is not 0')
    rc, out = g.sh(f'hwpt-write {sysctl} 2')
    check('errno=22 EINVAL' in out, f'2 accepted: {out.strip()}')
    pfn = int(g.sh_ok('hwpt-pfn free 0').strip(), 16)
    mark = g.console_mark()
    _expect_mf_panic(g, pfn, mark, lambda: g.start_cmd(
        f'echo {pfn:#x} > {CORRUPT_PFN}'))


@scenario('qemu.recovery_disabled_srao_panics', boot='own',
          append='sysctl.vm.memory_failure_recovery=0',
          allow=(r'Kernel panic - not syncing: Memory failure on page',))
def recovery_disabled_srao_panics(g):
    """vm.memory_failure_recovery=0 from the kernel command line: a real
    SRAO on a process's page panics the guest ("Memory failure on page
    <pfn>") instead of recovering."""
    check(g.read_file('/proc/sys/vm/memory_failure_recovery') == '0',
          'sysctl.vm.memory_failure_recovery=0 did not take')
    seq = g.start_cmd('hwpt-victim --kill early --timeout 120')
    pfn, paddr, _ = victim_ready(g, seq)
    mark = g.console_mark()
    _expect_mf_panic(g, pfn, mark, lambda: g.mce('srao', cpu=0, paddr=paddr))



KSM = '/sys/kernel/mm/ksm'


@scenario('qemu.srao_ksm_page', boot='own')
def srao_ksm_page(g):
    """An SRAO machine check on a KSM page, then ksmd scanning on.

    Two identical pages of an early-kill process, MADV_MERGEABLE, merged by
    ksmd into one KSM page; an SRAO at it.  The process gets SIGBUS
    BUS_MCEERR_AO and the page is recovered; x86 then takes the page out of
    the kernel's direct map (set_mce_nospec()).  A second process maps two
    more pages of the same content, MADV_MERGEABLE: ksmd must merge them
    without reading the poisoned page, which must have left KSM's stable
    tree.  Stock 6.12.117 keeps it there, and ksmd's memcmp() of it oopses
    at the next scan.  The guest must live, and the second process's pages
    must be merged.
    """
    for name, value in (('pages_to_scan', 1000), ('sleep_millisecs', 10),
                        ('run', 1)):
        g.sh_ok(f'echo {value} > {KSM}/{name}')
    seq = g.start_cmd('hwpt-victim --ksm --kill early --timeout 60')
    pfn, paddr, _ = victim_ready(g, seq)
    since = g.console_mark()
    g.mce('srao', 0, paddr)
    rc, out = g.wait(seq, 60)
    check_victim_sigbus(rc, out, 'BUS_MCEERR_AO')
    recovery_line(g, since, pfn)
    again = g.start_cmd('hwpt-victim --ksm --kill late --timeout 30')
    victim_ready(g, again, 40)
    check(g.alive(), 'the guest died')
    g.sh('kill %2 2>/dev/null; true')
