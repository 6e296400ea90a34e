# SPDX-License-Identifier: GPL-2.0
"""Host-driven scenarios: what needs QEMU itself (machine checks, hotplug,
expected panics).  Each is a function of a booted Guest that raises Fail or
Skip; returning normally is a pass.  Every module of this package is a
topic and is imported below; register a scenario with @scenario.

boot='shared' scenarios run in the check's shared guest; those with
real_mce=True run last in it, since after a real machine check the kernel
refuses unpoison for the rest of the boot.  boot='own' gets a fresh guest
with its own command line.
"""

import importlib
import pkgutil
import re

SCENARIOS = []


class Fail(Exception):
    pass


class Skip(Exception):
    pass


class Scenario:
    def __init__(self, fn, name, boot, append, allow, real_mce):
        self.fn, self.name, self.boot = fn, name, boot
        self.append, self.allow = append, allow
        self.real_mce = real_mce


def scenario(name, boot='shared', append='', allow=(), real_mce=False):
    def register(fn):
        SCENARIOS.append(Scenario(fn, name, boot, append, tuple(allow),
                                  real_mce))
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


def sigbus_report(out):
    """Parse hwpt-victim's SIGBUS line: (si_code name, addr_ok, lsb)."""
    m = re.search(r'HWPT-SIGBUS code=(\S+) addr_ok=(\d) addr=\S+ lsb=(\d+)', out)
    check(m, f'no SIGBUS report: {out.strip()}')
    return m.group(1), m.group(2) == '1', int(m.group(3))


HWPOISON = '/sys/kernel/debug/hwpoison'
KPF_HWPOISON = 1 << 19
NODE_STATS = ('total', 'recovered', 'ignored', 'failed', 'delayed')


def node_stats(g, node):
    """All five memory_failure/ counters of @node, as a dict."""
    return {s: node_stat(g, node, s) for s in NODE_STATS}


def pfn_poisoned(g, pfn):
    return bool(int(g.sh_ok(f'hwpt-pfn flags {pfn:#x}').strip(), 16) &
                KPF_HWPOISON)


def hwpt_write(g, path, value):
    """Write @value to @path with one write(2); returns the errno's name."""
    out = g.sh(f'hwpt-write {path} {value}')[1]
    m = re.search(r'errno=\d+ (\S+)', out)
    check(m, f'hwpt-write: {out.strip()}')
    return m.group(1)


def free_pfn(g, node):
    """A free (buddy) PFN on @node."""
    pfn = int(g.sh_ok(f'hwpt-pfn free {node}').strip(), 16)
    check(pfn_node(g, pfn) == node, f'free pfn {pfn:#x} is not on node{node}')
    return pfn


def unpoison(g, pfn):
    """Unpoison @pfn; after a real machine check the kernel refuses
    (EOPNOTSUPP), which is not a failure."""
    err = hwpt_write(g, f'{HWPOISON}/unpoison-pfn', f'{pfn:#x}')
    check(err in ('OK', 'EOPNOTSUPP'), f'unpoison-pfn {pfn:#x}: {err}')
    return err == 'OK'


def check_victim_sigbus(rc, out, code):
    """hwpt-victim got SIGBUS @code for its page's address, lsb 12."""
    check(rc == 0, f'victim got no SIGBUS (exit {rc}): {out.strip()}')
    got, addr_ok, lsb = sigbus_report(out)
    check(got == code, f'si_code {got}, expected {code}')
    check(addr_ok, 'si_addr is not the address of the page')
    check(lsb == 12, f'si_addr_lsb {lsb}, expected 12')


def check_recovered_once(g, since, pfn, corrupted, node, stats):
    """@pfn was recovered once since @since: log line, KPF_HWPOISON,
    HardwareCorrupted (was @corrupted) +4 kB, @node's total and recovered
    (were @stats) +1 and nothing else.  Returns the node's new counters."""
    kind, result = recovery_line(g, since, pfn)
    check(result == 'Recovered', f'recovery result {result} for {kind}')
    check(pfn_poisoned(g, pfn), 'the page has no KPF_HWPOISON')
    check(meminfo_kb(g, 'HardwareCorrupted') == corrupted + 4,
          'HardwareCorrupted did not grow by 4 kB')
    now = node_stats(g, node)
    check(now == dict(stats, total=stats['total'] + 1,
                      recovered=stats['recovered'] + 1),
          f'node{node}: {stats} -> {now}')
    return now


def _load_topics():
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f'{__name__}.{mod.name}')


_load_topics()
