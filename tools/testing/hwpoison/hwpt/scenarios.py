# SPDX-License-Identifier: GPL-2.0
"""Host-driven scenarios: what needs QEMU itself (machine checks, hotplug,
expected panics).  Each is a function of a booted Guest that raises Fail or
Skip; returning normally is a pass.

boot='shared' scenarios run in the check's shared guest; those with
real_mce=True run last in it, since after a real machine check the kernel
refuses unpoison for the rest of the boot.  boot='own' gets a fresh guest
with its own command line.
"""

import re

SCENARIOS = []


class Fail(Exception):
    pass


class Skip(Exception):
    pass


class Scenario:
    def __init__(self, fn, name, boot, append, allow, real_mce, timeout):
        self.fn, self.name, self.boot = fn, name, boot
        self.append, self.allow = append, allow
        self.real_mce, self.timeout = real_mce, timeout


def scenario(name, boot='shared', append='', allow=(), real_mce=False,
             timeout=180):
    def register(fn):
        SCENARIOS.append(Scenario(fn, name, boot, append, tuple(allow),
                                  real_mce, timeout))
        return fn
    return register


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def meminfo_kb(g, field):
    m = re.search(rf'^{field}:\s+(\d+) kB', g.read_file('/proc/meminfo'), re.M)
    if not m:
        raise Fail(f'no {field} in /proc/meminfo')
    return int(m.group(1))


def node_stat(g, node, name):
    return int(g.read_file(f'/sys/devices/system/node/node{node}/'
                           f'memory_failure/{name}'))


def pfn_node(g, pfn):
    """The NUMA node of @pfn, from its memory block's node link."""
    block = int(g.read_file('/sys/devices/system/memory/block_size_bytes'), 16)
    out = g.sh_ok(f'ls /sys/devices/system/memory/memory{(pfn << 12) // block}/')
    m = re.search(r'\bnode(\d+)\b', out)
    if not m:
        raise Fail(f'no node for pfn {pfn:#x}')
    return int(m.group(1))


def victim_ready(g, seq, timeout=60):
    """Wait for hwpt-victim's READY line; returns (pfn, paddr, cpu)."""
    m = g.expect(seq, r'HWPT-READY pid=\d+ cpu=(\d+) vaddr=\S+ pfn=(0x[0-9a-f]+) '
                 r'paddr=(0x[0-9a-f]+)', timeout)
    return int(m.group(2), 16), int(m.group(3), 16), int(m.group(1))


def recovery_line(g, since, pfn, timeout=30):
    """The kernel's 'recovery action' line for @pfn: (page type, result)."""
    m = g.wait_console(rf'Memory failure: {pfn:#x}: recovery action for '
                       r'(.+?): (Recovered|Ignored|Failed|Delayed)', since,
                       timeout)
    if not m:
        raise Fail(f'no "Memory failure: {pfn:#x}: recovery action" line')
    return m.group(1), m.group(2)


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
    check(rc == 0, f'victim got no SIGBUS (exit {rc}): {out.strip()}')
    code, addr_ok, lsb = sigbus_report(out)
    check(code == 'BUS_MCEERR_AO', f'si_code {code}, expected BUS_MCEERR_AO')
    check(addr_ok, 'si_addr is not the address of the page')
    check(lsb == 12, f'si_addr_lsb {lsb}, expected 12')
    _, result = recovery_line(g, mark, pfn)
    check(result == 'Recovered', f'recovery result {result}')
    check(meminfo_kb(g, 'HardwareCorrupted') == corrupted + 4,
          'HardwareCorrupted did not grow by 4 kB')
    check(node_stat(g, node, 'total') == total + 1,
          f'node{node} memory_failure/total did not grow by 1')


def sigbus_report(out):
    """Parse hwpt-victim's SIGBUS line: (si_code name, addr_ok, lsb)."""
    m = re.search(r'HWPT-SIGBUS code=(\S+) addr_ok=(\d) addr=\S+ lsb=(\d+)', out)
    check(m, f'no SIGBUS report: {out.strip()}')
    return m.group(1), m.group(2) == '1', int(m.group(3))


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
    check(rc == 0, f'victim got no SIGBUS (exit {rc}): {out.strip()}')
    code, addr_ok, lsb = sigbus_report(out)
    check(code == 'BUS_MCEERR_AR', f'si_code {code}, expected BUS_MCEERR_AR')
    check(addr_ok, 'si_addr is not the address of the page')
    check(lsb == 12, f'si_addr_lsb {lsb}, expected 12')
    _, result = recovery_line(g, mark, pfn)
    check(result == 'Recovered', f'recovery result {result}')
    rc, out = g.wait(bystander, 60)
    check(rc == 2 and 'HWPT-TIMEOUT' in out,
          f'the bystander was signalled: {out.strip()}')
    check(g.sh('true')[0] == 0, 'guest stopped answering')
