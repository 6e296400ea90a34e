# SPDX-License-Identifier: GPL-2.0
"""What the kernel reports about a poisoned page: per-node counters, the
ras:memory_failure_event trace event and its format, the log line; and the
memory block of a hot-plugged DIMM that holds a poisoned page."""

import re
import time

from . import (HWPOISON, check, free_pfn, hwpt_write, meminfo_kb, node_stats,
               pfn_poisoned, scenario, unpoison, victim_ready)

TRACING = '/sys/kernel/tracing'
EVENT = f'{TRACING}/events/ras/memory_failure_event'
MEMORY = '/sys/devices/system/memory'

# enum mf_action_page_type and enum mf_result of 6.12 (include/linux/mm.h)
# with the strings include/ras/ras_event.h gives them in the trace event.
# Value 2 (MF_MSG_DIFFERENT_COMPOUND) has no string in the event.
MF_PAGE_TYPES = [
    (0, 'reserved kernel page'), (1, 'high-order kernel page'),
    (3, 'huge page'), (4, 'free huge page'), (5, 'get hwpoison page'),
    (6, 'unmapping failed page'), (7, 'dirty swapcache page'),
    (8, 'clean swapcache page'), (9, 'dirty mlocked LRU page'),
    (10, 'clean mlocked LRU page'), (11, 'dirty unevictable LRU page'),
    (12, 'clean unevictable LRU page'), (13, 'dirty LRU page'),
    (14, 'clean LRU page'), (15, 'already truncated LRU page'),
    (16, 'free buddy page'), (17, 'dax page'), (18, 'unsplit thp'),
    (19, 'already poisoned'), (20, 'unknown page'),
]
MF_RESULTS = [(0, 'Ignored'), (1, 'Failed'), (2, 'Delayed'), (3, 'Recovered')]
MF_MSG_BUDDY, MF_MSG_ALREADY_POISONED = 16, 19
MF_FAILED, MF_RECOVERED = 1, 3







def log_line(g, since, pfn, kind, result):
    """The exact 'Memory failure: %#lx: recovery action for %s: %s' line."""
    want = f'Memory failure: {pfn:#x}: recovery action for {kind}: {result}'
    check(g.wait_console(rf'\] {re.escape(want)}$', since, 30),
          f'no kernel line "{want}"')


@scenario('qemu.counters_both_nodes')
def counters_both_nodes(g):
    """Per-node memory_failure counters count where the page lives.

    A free page on node 0, then one on node 1, poisoned through debugfs
    corrupt-pfn (the write succeeds): each logs "Memory failure: <pfn>:
    recovery action for free buddy page: Recovered", gets KPF_HWPOISON,
    HardwareCorrupted grows by 4 kB, and its node's memory_failure/total
    and recovered grow by exactly 1 (ignored, failed, delayed unchanged)
    while the other node's counters do not move.  Unpoisoning restores
    HardwareCorrupted but leaves the per-node counters as they are: they
    count events, not poisoned pages.
    """
    for node, other in ((0, 1), (1, 0)):
        pfn = free_pfn(g, node)
        before = {n: node_stats(g, n) for n in (0, 1)}
        corrupted = meminfo_kb(g, 'HardwareCorrupted')
        mark = g.console_mark()
        err = hwpt_write(g, f'{HWPOISON}/corrupt-pfn', f'{pfn:#x}')
        try:
            check(err == 'OK', f'corrupt-pfn {pfn:#x}: {err}')
            log_line(g, mark, pfn, 'free buddy page', 'Recovered')
            check(pfn_poisoned(g, pfn), f'{pfn:#x} has no KPF_HWPOISON')
            check(meminfo_kb(g, 'HardwareCorrupted') == corrupted + 4,
                  'HardwareCorrupted did not grow by 4 kB')
            after = {n: node_stats(g, n) for n in (0, 1)}
            want = dict(before[node], total=before[node]['total'] + 1,
                        recovered=before[node]['recovered'] + 1)
            check(after[node] == want,
                  f'node{node}: {before[node]} -> {after[node]}')
            check(after[other] == before[other],
                  f'node{other} moved: {before[other]} -> {after[other]}')
        finally:
            restored = unpoison(g, pfn)
        if restored:
            check(meminfo_kb(g, 'HardwareCorrupted') == corrupted,
                  'unpoison did not restore HardwareCorrupted')
            check(not pfn_poisoned(g, pfn), f'{pfn:#x} still KPF_HWPOISON')
        check({n: node_stats(g, n) for n in (0, 1)} == after,
              'unpoison changed the per-node counters')


def _trace_lines(g):
    return [line for line in g.sh_ok(f'cat {TRACING}/trace').splitlines()
            if 'memory_failure_event:' in line]


@scenario('qemu.trace_event')
def trace_event(g):
    """The ras:memory_failure_event trace event, as rasdaemon sees it.

    Its format has the fields pfn (unsigned long), type and result (int,
    signed) and a print fmt whose symbol tables map exactly 6.12's numeric
    enum mf_action_page_type / enum mf_result values to their strings (no
    string for value 2, "already poisoned" without "page").  Poisoning a
    free page through corrupt-pfn emits one event that passes the filter
    "pfn == P && type == 16 && result == 3" and prints "pfn P: recovery
    action for free buddy page: Recovered"; poisoning it again fails with
    EHWPOISON and emits one event with type 19, result 1: "recovery action
    for already poisoned: Failed", while the kernel log says "already
    poisoned page: Failed".  The event's enable, filter and the trace
    buffer are restored.
    """
    fmt = g.read_file(f'{EVENT}/format')
    for field in (r'unsigned long pfn;\s+offset:\d+;\s+size:8;\s+signed:0;',
                  r'int type;\s+offset:\d+;\s+size:4;\s+signed:1;',
                  r'int result;\s+offset:\d+;\s+size:4;\s+signed:1;'):
        check(re.search(rf'field:{field}', fmt),
              f'no field /{field}/ in format')
    m = re.search(r'^print fmt: (.*)$', fmt, re.M)
    check(m, 'no print fmt')
    pf = m.group(1)
    check(pf.startswith('"pfn %#lx: recovery action for %s: %s", REC->pfn, '
                        '__print_symbolic(REC->type, '),
          f'print fmt: {pf[:120]}')
    tables = re.findall(r'__print_symbolic\(REC->(\w+), (.*?)\)(?:, |$)', pf)
    check([t[0] for t in tables] == ['type', 'result'],
          f'symbolic fields {[t[0] for t in tables]}')
    for (name, body), want in zip(tables, (MF_PAGE_TYPES, MF_RESULTS)):
        got = [(int(v, 0), s) for v, s in
               re.findall(r'\{ ?(\w+), "([^"]*)" ?\}', body)]
        check(got == want, f'{name} symbols differ from 6.12: {got}')

    pfn = free_pfn(g, 0)

    def inject_and_trace(page_type, result, errno, log_kind, trace_kind,
                         result_name):
        """Poison @pfn once more through debugfs: the write's errno, the
        log line and the one event that passes a filter on the numbers."""
        g.sh_ok(f"echo 'pfn == {pfn} && type == {page_type} && "
                f"result == {result}' > {EVENT}/filter")
        g.sh_ok(f'echo > {TRACING}/trace')
        mark = g.console_mark()
        err = hwpt_write(g, f'{HWPOISON}/corrupt-pfn', f'{pfn:#x}')
        check(err == errno, f'corrupt-pfn {pfn:#x}: {err}, expected {errno}')
        log_line(g, mark, pfn, log_kind, result_name)
        lines = _trace_lines(g)
        check(len(lines) == 1, f'{len(lines)} events passed the filter')
        check(lines[0].endswith(f'memory_failure_event: pfn {pfn:#x}: '
                                f'recovery action for {trace_kind}: '
                                f'{result_name}'), f'event: {lines[0]}')

    try:
        g.sh_ok(f'echo 1 > {EVENT}/enable')
        inject_and_trace(MF_MSG_BUDDY, MF_RECOVERED, 'OK', 'free buddy page',
                         'free buddy page', 'Recovered')
        inject_and_trace(MF_MSG_ALREADY_POISONED, MF_FAILED, 'EHWPOISON',
                         'already poisoned page', 'already poisoned', 'Failed')
    finally:
        g.sh(f'echo 0 > {EVENT}/enable; echo 0 > {EVENT}/filter; '
             f'echo > {TRACING}/trace')
        unpoison(g, pfn)
    check(g.read_file(f'{EVENT}/enable') == '0', 'event still enabled')
    check(g.read_file(f'{EVENT}/filter') == 'none', 'filter not cleared')


def _wait_path(g, path, present, timeout=60):
    end = time.time() + timeout
    while (g.sh(f'test -e {path}')[0] == 0) != present:
        if time.time() > end:
            return False
        time.sleep(0.5)
    return True


def _poison_in_dimm(g, dimm, pfn, path, value, kind):
    """@pfn lies in @dimm (first PFN, pages); writing @value to @path
    poisons it: "recovery action for @kind: Recovered"."""
    first, pages = dimm
    check(first <= pfn < first + pages, f'{kind} {pfn:#x} is not in the DIMM')
    mark = g.console_mark()
    err = hwpt_write(g, path, value)
    check(err == 'OK', f'{path} {value}: {err}')
    log_line(g, mark, pfn, kind, 'Recovered')


# Stock 6.12 behaviour (weakness): a memory block that holds one poisoned
# page can never be onlined again, in any form: the whole block (128 MiB
# here) is lost for one bad 4 kB page, and since unpoison needs an online
# page there is no way back short of removing the memory.
@scenario('qemu.hotplug_poisoned_block', boot='own')
def hotplug_poisoned_block(g):
    """A poisoned page in a hot-plugged, movable memory block.

    A 128 MiB pc-dimm on node 1 appears as one offline memory block; it
    onlines as online_movable on node 1.  A free page in it, poisoned
    through corrupt-pfn, is recovered (free buddy page) and adds 4 kB to
    HardwareCorrupted.  Offlining the block works; then every way to
    online it again fails with EHWPOISON and leaves it offline: state
    "online", "online_movable", "online_kernel", and "1" to its online
    file.  While offline, unpoison-pfn of the page fails with EIO and
    corrupt-pfn of another page in the block with ENXIO ("memory outside
    kernel control").  Removing the DIMM removes the block and takes its
    poisoned page out of HardwareCorrupted.
    """
    block = int(g.read_file(f'{MEMORY}/block_size_bytes'), 16)
    check(block == 128 << 20, f'memory block size {block:#x}, not 128 MiB')
    corrupted = meminfo_kb(g, 'HardwareCorrupted')
    dimm = g.dimm_add(128, node=1)
    addr = g.dimm_addr(dimm)
    check(addr % block == 0, f'DIMM at {addr:#x} is not block aligned')
    n = addr // block
    mem = f'{MEMORY}/memory{n}'
    check(_wait_path(g, mem, True), f'{mem} did not appear')
    check(_wait_path(g, f'{MEMORY}/memory{n + 1}', False, 1),
          'the DIMM spans more than one block')
    check(g.read_file(f'{mem}/state') == 'offline', 'new block is not offline')
    check(g.sh(f'test -e {mem}/node1')[0] == 0, f'memory{n} is not on node1')
    err = hwpt_write(g, f'{mem}/state', 'online_movable')
    check(err == 'OK', f'online_movable: {err}')
    check(g.read_file(f'{mem}/state') == 'online', 'block did not go online')
    check(g.read_file(f'{mem}/valid_zones') == 'Movable',
          'block is not in ZONE_MOVABLE')

    pfn = free_pfn(g, 1)
    first = addr >> 12
    _poison_in_dimm(g, (first, block >> 12), pfn, f'{HWPOISON}/corrupt-pfn',
                    f'{pfn:#x}', 'free buddy page')
    check(meminfo_kb(g, 'HardwareCorrupted') == corrupted + 4,
          'HardwareCorrupted did not grow by 4 kB')

    err = hwpt_write(g, f'{mem}/state', 'offline')
    check(err == 'OK', f'offline: {err}')
    check(g.read_file(f'{mem}/state') == 'offline', 'block is not offline')
    for path, value in (('state', 'online'), ('state', 'online_movable'),
                        ('state', 'online_kernel'), ('online', '1')):
        err = hwpt_write(g, f'{mem}/{path}', value)
        check(err == 'EHWPOISON', f'"{value}" > {path}: {err}, not EHWPOISON')
        check(g.read_file(f'{mem}/state') == 'offline',
              f'"{value}" > {path} changed the state')
    check(g.read_file(f'{mem}/online') == '0', 'online file is not 0')

    # No way back while the block is offline: unpoison wants an online page,
    # and a new error in the block is outside the kernel's control.
    err = hwpt_write(g, f'{HWPOISON}/unpoison-pfn', f'{pfn:#x}')
    check(err == 'EIO', f'unpoison-pfn in the offline block: {err}, not EIO')
    mark = g.console_mark()
    err = hwpt_write(g, f'{HWPOISON}/corrupt-pfn', f'{first:#x}')
    check(err == 'ENXIO',
          f'corrupt-pfn in the offline block: {err}, not ENXIO')
    check(g.wait_console(rf'\] Memory failure: {first:#x}: memory outside '
                         r'kernel control$', mark, 10),
          'no "memory outside kernel control" line')
    check(meminfo_kb(g, 'HardwareCorrupted') == corrupted + 4,
          'HardwareCorrupted moved while the block is offline')

    check(g.dimm_del(dimm), 'no DEVICE_DELETED for the DIMM')
    check(_wait_path(g, mem, False), f'{mem} still there after unplug')
    check(meminfo_kb(g, 'HardwareCorrupted') == corrupted,
          'removing the block did not drop its page from HardwareCorrupted')


@scenario('qemu.hotplug_soft_offline_race', boot='own')
def hotplug_soft_offline_race(g):
    """Soft offline of a page whose memory block is being offlined.

    A 128 MiB pc-dimm onlined movable; in the guest, a loop soft-offlines
    one PFN of it and unpoisons it again, while the host offlines and
    onlines the block eight times.  A soft offline that starts while the
    block goes offline must see that the page is not online any more and
    fail (EIO), not use the struct page of an offline block, whose memmap
    is poisoned: stock 6.12.117 oopses there (NULL pointer dereference in
    zone_pcp_disable() from get_hwpoison_page()).  The guest must live
    and its log stay clean.
    """
    block = int(g.read_file(f'{MEMORY}/block_size_bytes'), 16)
    dimm = g.dimm_add(128, node=1)
    addr = g.dimm_addr(dimm)
    n = addr // block
    mem = f'{MEMORY}/memory{n}'
    check(_wait_path(g, mem, True), f'{mem} did not appear')
    err = hwpt_write(g, f'{mem}/state', 'online_movable')
    check(err == 'OK', f'online_movable: {err}')
    pfn = (addr >> 12) + 0x4000
    g.start_cmd(f'while :; do echo {pfn << 12:#x} > {MEMORY}/soft_offline_page;'
                f' echo {pfn:#x} > {HWPOISON}/unpoison-pfn; done 2>/dev/null')
    time.sleep(1)
    offlined = 0
    for _ in range(8):
        rc, out = g.sh(f'echo offline > {mem}/state && echo OFF; sleep 0.5; '
                       f'echo online_movable > {mem}/state; true', 120)
        offlined += 'OFF' in out
        check(g.alive(), 'the guest died')
    g.sh('kill %1 2>/dev/null; true')
    check(offlined, 'the block never went offline: the race was not tried')


def _hugepages(node):
    return (f'/sys/devices/system/node/node{node}/hugepages/'
            'hugepages-2048kB/nr_hugepages')


# Stock 6.12 behaviour (weakness 5): memory failure keeps a reference on a
# poisoned hugetlb page in a file, so the page outlives the file and the
# memory block that holds it can never be offlined: the DIMM cannot be
# removed.
@scenario('qemu.hotplug_poisoned_hugetlb_file', boot='own')
def hotplug_poisoned_hugetlb_file(g):
    """Offlining a memory block that holds a poisoned hugetlb file page.

    A 128 MiB pc-dimm onlined movable on node 1, with node 1's hugetlb pool
    (and only it) in the DIMM.  A late-kill process maps a 2 MiB hugetlbfs
    file and fills its page, which is in the DIMM; hard_offline_page
    poisons it ("recovery action for huge page: Recovered"), and the file
    keeps it.  Offlining the block can neither migrate nor free that page:
    it must fail within 20 s with EBUSY (not retry until the 60 s signal
    ends it) and leave the block online.  Once the file is removed, the
    folio is freed and broken up, and the offline succeeds (on stock it
    still fails: EBUSY).  Removing the DIMM takes its poisoned page out of
    HardwareCorrupted.
    """
    block = int(g.read_file(f'{MEMORY}/block_size_bytes'), 16)
    corrupted = meminfo_kb(g, 'HardwareCorrupted')
    old = [g.read_file(_hugepages(n)) for n in (0, 1)]
    dimm = g.dimm_add(128, node=1)
    addr = g.dimm_addr(dimm)
    n = addr // block
    mem = f'{MEMORY}/memory{n}'
    mnt = '/tmp/hwpt-hugetlbfs'
    check(_wait_path(g, mem, True), f'{mem} did not appear')
    err = hwpt_write(g, f'{mem}/state', 'online_movable')
    check(err == 'OK', f'online_movable: {err}')
    g.sh_ok(f'echo 0 > {_hugepages(0)}; echo 4 > {_hugepages(1)}; '
            f'mkdir -p {mnt} && mount -t hugetlbfs none {mnt}')
    try:
        check(g.read_file(_hugepages(1)) == '4', 'no 4 huge pages on node 1')
        seq = g.start_cmd(f'hwpt-victim --kill late --huge-file {mnt}/f '
                          '--timeout 5')
        pfn, paddr, _ = victim_ready(g, seq)
        _poison_in_dimm(g, (addr >> 12, block >> 12), pfn,
                        f'{MEMORY}/hard_offline_page', f'{paddr:#x}',
                        'huge page')
        g.wait(seq, 60)         # its time is up; the file keeps the page

        t = time.time()
        rc, out = g.sh(f'timeout -s INT 60 hwpt-write {mem}/state offline',
                       120)
        took = time.time() - t
        m = re.search(r'errno=\d+ (\w+)', out)
        err = m.group(1) if m else 'ended by the signal'
        check(took < 20, f'the offline took {took:.0f} s ({err})')
        check(err == 'EBUSY', f'offline with the poisoned file page: {err}, '
              'not EBUSY')
        check(g.read_file(f'{mem}/state') == 'online',
              'the failed offline left the block offline')

        g.sh_ok(f'rm -f {mnt}/f')
        err = hwpt_write(g, f'{mem}/state', 'offline')
        check(err == 'OK', f'offline after the file went: {err}')
    finally:
        g.sh(f'rm -f {mnt}/f; umount {mnt}; echo {old[1]} > {_hugepages(1)}; '
             f'echo {old[0]} > {_hugepages(0)}; true')
    check(g.dimm_del(dimm), 'no DEVICE_DELETED for the DIMM')
    check(_wait_path(g, mem, False), f'{mem} still there after unplug')
    check(meminfo_kb(g, 'HardwareCorrupted') == corrupted,
          'removing the block did not drop its page from HardwareCorrupted')
