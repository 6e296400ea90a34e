# SPDX-License-Identifier: GPL-2.0
"""Real machine checks injected through QEMU: SRAO, SRAR."""

from . import (HWPOISON, check, check_victim_sigbus, free_pfn, hwpt_write,
               meminfo_kb, node_stat, pfn_node, pfn_poisoned, recovery_line,
               scenario, victim_ready)


@scenario('qemu.srao_early_kill', real_mce=True)
def srao_early_kill(g):
    """A real SRAO machine check on the page of an early-kill process.

    The process (PR_MCE_KILL_EARLY) is asleep, not touching the page: it
    gets SIGBUS BUS_MCEERR_AO for the page's address with si_addr_lsb 12,
    the page is recovered, HardwareCorrupted grows by 4 kB and the node's
    memory_failure/total by 1.
    """
    corrupted = meminfo_kb(g, 'HardwareCorrupted')
    seq = g.start_cmd('hwpt-victim --kill early --timeout 60')
    pfn, paddr, _ = victim_ready(g, seq)
    node = pfn_node(g, pfn)
    total = node_stat(g, node, 'total')
    mark = g.console_mark()
    g.mce('srao', cpu=0, paddr=paddr)
    rc, out = g.wait(seq, 90)
    check_victim_sigbus(rc, out, 'BUS_MCEERR_AO')
    _, result = recovery_line(g, mark, pfn)
    check(result == 'Recovered', f'recovery result {result}')
    check(meminfo_kb(g, 'HardwareCorrupted') == corrupted + 4,
          'HardwareCorrupted did not grow by 4 kB')
    check(node_stat(g, node, 'total') == total + 1,
          f'node{node} memory_failure/total did not grow by 1')


@scenario('qemu.srar_kills_only_accessor', real_mce=True)
def srar_kills_only_accessor(g):
    """A real SRAR on the CPU where a process busy-reads its page.

    The reader gets SIGBUS BUS_MCEERR_AR for the page's address; a second
    process that sleeps (late kill, does not map the page) is untouched, and
    the guest keeps running.
    """
    bystander = g.start_cmd('hwpt-victim --kill late --timeout 20')
    victim_ready(g, bystander)
    seq = g.start_cmd('hwpt-victim --spin --cpu 1 --timeout 60')
    pfn, paddr, cpu = victim_ready(g, seq)
    check(cpu == 1, f'victim runs on CPU {cpu}, not 1')
    mark = g.console_mark()
    g.mce_in_user_mode('srar', cpu, paddr)
    rc, out = g.wait(seq, 90)
    check_victim_sigbus(rc, out, 'BUS_MCEERR_AR')
    _, result = recovery_line(g, mark, pfn)
    check(result == 'Recovered', f'recovery result {result}')
    rc, out = g.wait(bystander, 60)
    check(rc == 2 and 'HWPT-TIMEOUT' in out,
          f'the bystander was signalled: {out.strip()}')
    check(g.sh('true')[0] == 0, 'guest stopped answering')


@scenario('qemu.unpoison_refused_after_mce', real_mce=True)
def unpoison_refused_after_mce(g):
    """After a real machine check the kernel refuses every unpoison.

    unpoison is a testing aid: once real hardware has reported an error it
    answers EOPNOTSUPP, for the page the machine check hit and for one
    poisoned through debugfs alike, and both pages stay poisoned.
    """
    seq = g.start_cmd('hwpt-victim --kill early --timeout 60')
    pfn, paddr, _ = victim_ready(g, seq)
    mark = g.console_mark()
    g.mce('srao', cpu=0, paddr=paddr)
    rc, out = g.wait(seq, 90)
    check_victim_sigbus(rc, out, 'BUS_MCEERR_AO')
    recovery_line(g, mark, pfn)
    soft = free_pfn(g, 0)
    check(hwpt_write(g, f'{HWPOISON}/corrupt-pfn', f'{soft:#x}') == 'OK',
          f'corrupt-pfn {soft:#x} failed')
    corrupted = meminfo_kb(g, 'HardwareCorrupted')
    for p in (pfn, soft):
        err = hwpt_write(g, f'{HWPOISON}/unpoison-pfn', f'{p:#x}')
        check(err == 'EOPNOTSUPP', f'unpoison-pfn {p:#x}: {err}, expected '
              'EOPNOTSUPP')
        check(pfn_poisoned(g, p), f'{p:#x} lost KPF_HWPOISON')
    check(meminfo_kb(g, 'HardwareCorrupted') == corrupted,
          'HardwareCorrupted changed')
