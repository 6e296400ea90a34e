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


def sigbus_report(out):
    """Parse hwpt-victim's SIGBUS line: (si_code name, addr_ok, lsb)."""
    m = re.search(r'HWPT-SIGBUS code=(\S+) addr_ok=(\d) addr=\S+ lsb=(\d+)', out)
    check(m, f'no SIGBUS report: {out.strip()}')
    return m.group(1), m.group(2) == '1', int(m.group(3))


def _load_topics():
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f'{__name__}.{mod.name}')


_load_topics()
