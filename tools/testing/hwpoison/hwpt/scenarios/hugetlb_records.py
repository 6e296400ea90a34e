# SPDX-License-Identifier: GPL-2.0
"""The raw error records of hugetlb folios: free pool pages dissolved with
the HugeTLB vmemmap optimisation on, unpoisoned and reused; and an in-use
hugetlb page migrated between the nodes while it is poisoned and
unpoisoned, or poisoned while a failing migration holds it isolated."""

import re
import time

from .. import results
from . import (HWPOISON, Skip, check, hwpt_write, meminfo_kb, pfn_poisoned,
               recovery_line, scenario)

MEMORY = '/sys/devices/system/memory'
HARD_OFFLINE = f'{MEMORY}/hard_offline_page'
UNPOISON = f'{HWPOISON}/unpoison-pfn'
HVO = '/proc/sys/vm/hugetlb_optimize_vmemmap'
NR_HUGEPAGES = '/proc/sys/vm/nr_hugepages'
KPF_COMPOUND_HEAD, KPF_HUGE, KPF_HWPOISON = 1 << 15, 1 << 17, 1 << 19
HPAGE_PAGES = 512
READY = re.compile(r'HWPT-READY pid=(\d+) cpu=\d+ vaddr=\S+ '
                   r'pfn=(0x[0-9a-f]+)')


def _node_pool(node, name='nr_hugepages'):
    return (f'/sys/devices/system/node/node{node}/hugepages/'
            f'hugepages-2048kB/{name}')


def _flags(g, pfn):
    return int(g.sh_ok(f'hwpt-pfn flags {pfn:#x}').strip(), 16)


def _marked(g):
    """Every PFN flagged hwpoison outside hugetlb folios, and the head of
    every hugetlb folio flagged, as a set."""
    return {int(p, 16) for p in g.sh_ok('hwpt-pfn hwpoison list').split()}


def _pfns(pfns):
    return ', '.join(f'{p:#x}' for p in sorted(pfns)) or 'none'


def _hugepages(g, field):
    """A HugePages_* count of /proc/meminfo (a number of pages, no unit)."""
    m = re.search(rf'^HugePages_{field}:\s+(\d+)$',
                  g.read_file('/proc/meminfo'), re.M)
    check(m, f'no HugePages_{field} in /proc/meminfo')
    return int(m.group(1))


def _set_pool(g, n):
    """Sets vm.nr_hugepages; returns HugePages_Total."""
    g.sh_ok(f'echo {n} > {NR_HUGEPAGES}')
    return _hugepages(g, 'Total')


def _check_log_clean(g, since, when):
    """No WARNING, BUG, oops or lockdep report since @since."""
    bad = [line for line in g.console(since).splitlines()
           if results.BAD_LOG.search(line)]
    check(not bad, f'{when}: kernel log: {bad[0].strip() if bad else ""}')


def _start_hugetlb_victim(g):
    """A late-kill process that maps and fills one private 2 MiB hugetlb
    page; returns (job, pid, the page's head PFN)."""
    job = g.start_cmd('hwpt-victim --hugetlb --kill late --timeout 300')
    end = time.time() + 60
    while True:
        out = g.job_output(job)
        m = READY.search(out)
        if m:
            return job, int(m.group(1)), int(m.group(2), 16)
        rc = g.sh(f'cat /tmp/hwpt-job.{job}.rc 2>/dev/null')[1].strip()
        check(not rc, f'a hugetlb victim ended (exit {rc}) before its page '
              f'was mapped and filled: {out.strip()[-300:]}')
        check(time.time() < end, 'a hugetlb victim was not ready in 60 s')
        time.sleep(0.2)


def _stop_victims(g, victims):
    """Ends the victims; returns their outputs."""
    g.sh('kill ' + ' '.join(str(pid) for _, pid, _ in victims) + '; true')
    return [g.wait(job, 30)[1] for job, _, _ in victims]


def _check_poisoned(g, since, pfn, kind, corrupted):
    """hard_offline_page of @pfn succeeds, logs "recovery action for @kind:
    Recovered", marks it, and HardwareCorrupted becomes @corrupted kB."""
    err = hwpt_write(g, HARD_OFFLINE, f'{pfn << 12:#x}')
    check(err == 'OK', f'hard_offline_page of {pfn:#x}: {err}')
    got = recovery_line(g, since, pfn)
    check(got == (kind, 'Recovered'),
          f'{pfn:#x}: "{got[0]}: {got[1]}", not "{kind}: Recovered"')
    check(pfn_poisoned(g, pfn), f'{pfn:#x} has no KPF_HWPOISON')
    now = meminfo_kb(g, 'HardwareCorrupted')
    check(now == corrupted, f'HardwareCorrupted {now} kB after poisoning '
          f'{pfn:#x}, not {corrupted} kB')


def _check_unpoisoned(g, pfns, corrupted, marked, what):
    """unpoison-pfn of each of @pfns succeeds and clears its KPF_HWPOISON;
    then HardwareCorrupted is @corrupted kB and the marked pages @marked."""
    for pfn in pfns:
        err = hwpt_write(g, UNPOISON, f'{pfn:#x}')
        check(err == 'OK', f'unpoison-pfn {pfn:#x} ({what}): {err}, not OK')
        check(not pfn_poisoned(g, pfn),
              f'{pfn:#x} still KPF_HWPOISON after unpoison ({what})')
    now = meminfo_kb(g, 'HardwareCorrupted')
    check(now == corrupted, f'HardwareCorrupted {now} kB after unpoisoning '
          f'{what}, not {corrupted} kB as before')
    left = _marked(g) - marked
    check(not left, f'still marked after unpoisoning {what}: {_pfns(left)}')


def _free_pool_pages(g, n):
    """Head PFNs of the @n pages of the pool, all free: @n victims map one
    each, then end, which gives the pages back to the pool's free lists."""
    victims = [_start_hugetlb_victim(g) for _ in range(n)]
    heads = [head for _, _, head in victims]
    _stop_victims(g, victims)
    check(len(set(heads)) == n, f'the victims shared pages: {_pfns(heads)}')
    check(_hugepages(g, 'Free') == n,
          'the pool pages did not go back to the free lists')
    for head in heads:
        fl = _flags(g, head)
        check(fl & KPF_HUGE and fl & KPF_COMPOUND_HEAD and
              not fl & KPF_HWPOISON,
              f'{head:#x} is not the head of a clean hugetlb page '
              f'(flags {fl:#x})')
    return heads


# Where the bad page sits in each free pool page: the head; 64, whose
# struct page the optimisation maps onto the head's (a page_folio() "fake
# head"), and which restoring the vmemmap fills with a copy of the head;
# 67, whose struct page is an alias of page 3, the tail that holds the
# folio's raw error records (folio->_hugetlb_hwpoison), so that its
# restored copy holds the list's pointer; and the last page.  Every page of
# the pool is poisoned, so that no clean optimised page is ever freed: the
# base's vmemmap restore leaves such copies of the head in the struct pages
# of a clean folio too, and with CONFIG_DEBUG_VM the page allocator then
# reports "Bad page state" (corrupted mapping in tail page) when it is
# freed, on either kernel, with no memory error involved.
OFFSETS = (0, 64, 67, 511)
POOL = len(OFFSETS)


# Stock 6.12 behaviour (weakness): dissolving a poisoned optimised page
# frees the restored copies of the head to the page allocator as they are:
# "Bad page state" for each (corrupted mapping in tail page), before any
# unpoison.  Reported earlier: an oops in __folio_free_raw_hwp(), a raw
# error list left on a folio that is freed and used again.
@scenario('qemu.hugetlb_hvo_unpoison_dissolved', boot='own')
def hugetlb_hvo_unpoison_dissolved(g):
    """Free hugetlb pages with the vmemmap optimised, poisoned, dissolved,
    unpoisoned, reused and poisoned again.

    With vm.hugetlb_optimize_vmemmap=1 (Skip without the file, or if it
    cannot be set), a pool of 4 2 MiB pages, all free (four victims map
    one each, then end; each head is KPF_HUGE and KPF_COMPOUND_HEAD, not
    KPF_HWPOISON, HugePages_Free 4).  In each, hard_offline_page poisons
    one page: page 0, 64, 67 and 511 (see OFFSETS).  Each write succeeds,
    logs "recovery action for free huge page: Recovered", marks the page,
    dissolves its folio (its head is not KPF_HUGE, HugePages_Total one
    lower) and adds 4 kB to HardwareCorrupted.  The pages marked are then
    exactly those four (no copy of a mark in a restored struct page), and
    stay so when nr_hugepages is set to 0 (HugePages_Total 0,
    HardwareCorrupted still 16 kB up).  Each bad page is an ordinary page
    taken off the allocator now, which unpoison-pfn gives back (the ABI:
    EBUSY only for a page not poisoned or still in use): each unpoison
    succeeds, clears KPF_HWPOISON, and HardwareCorrupted and the marked
    pages are back where they were.

    Then the memory is used again: a pool of 4 (HugePages_Total 4), each
    page mapped and filled by a late-kill victim (no SIGBUS), each a clean
    hugetlb head; in each, hard_offline_page poisons the page of the first
    round that lies in it, if one does, else page 67: each is a fresh
    error, "recovery action for huge page: Recovered" (an error record left
    from the first round would make it "already poisoned", or be freed
    twice), +4 kB each.  The victims, which never touch their pages again,
    get no signal; once they end, each bad page unpoisons (OK) and
    HardwareCorrupted and the marked pages are back to the start.  No
    WARNING, BUG or oops in the kernel log, and the guest lives.
    """
    if g.sh(f'test -e {HVO}')[0]:
        raise Skip(f'no {HVO} (CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP=n)')
    if meminfo_kb(g, 'Hugepagesize') != 2048:
        raise Skip('the default huge page size is not 2 MiB')
    old_hvo, old_nr = g.read_file(HVO), g.read_file(NR_HUGEPAGES)
    mark = g.console_mark()
    corrupted = meminfo_kb(g, 'HardwareCorrupted')
    marked = _marked(g)
    try:
        if hwpt_write(g, HVO, '1') != 'OK' or g.read_file(HVO) != '1':
            raise Skip('vm.hugetlb_optimize_vmemmap cannot be set to 1')
        check(_set_pool(g, POOL) == POOL, f'no pool of {POOL} huge pages')
        heads = _free_pool_pages(g, POOL)
        bad = [head + off for head, off in zip(heads, OFFSETS)]
        for i, pfn in enumerate(bad):
            _check_poisoned(g, g.console_mark(), pfn, 'free huge page',
                            corrupted + 4 * (i + 1))
            check(not _flags(g, heads[i]) & KPF_HUGE,
                  f'the hugetlb page at {heads[i]:#x} was not dissolved')
            total = _hugepages(g, 'Total')
            check(total == POOL - i - 1, f'HugePages_Total {total} after '
                  f'dissolving {i + 1} page(s), not {POOL - i - 1}')
        now = _marked(g) - marked
        check(now == set(bad), f'marked: {_pfns(now)}; poisoned: {_pfns(bad)}')

        check(_set_pool(g, 0) == 0, 'HugePages_Total not 0 with no pool')
        now = _marked(g) - marked
        check(now == set(bad), f'freeing the pool changed the marked pages '
              f'to {_pfns(now)}; poisoned: {_pfns(bad)}')
        check(meminfo_kb(g, 'HardwareCorrupted') == corrupted + 4 * len(bad),
              'freeing the pool changed HardwareCorrupted')
        _check_unpoisoned(g, bad, corrupted, marked,
                          'the bad pages of the dissolved folios')
        _check_log_clean(g, mark, 'after the first round')

        check(_set_pool(g, POOL) == POOL,
              f'no pool of {POOL} huge pages again')
        victims = [_start_hugetlb_victim(g) for _ in range(POOL)]
        again = []
        try:
            for _, _, head in victims:
                fl = _flags(g, head)
                check(fl & KPF_HUGE and fl & KPF_COMPOUND_HEAD and
                      not fl & KPF_HWPOISON, f'the victim\'s page {head:#x} '
                      f'is not a clean hugetlb head (flags {fl:#x})')
                reused = [p for p in bad if head <= p < head + HPAGE_PAGES]
                again.append(reused[0] if reused else head + 67)
            for i, pfn in enumerate(again):
                _check_poisoned(g, g.console_mark(), pfn, 'huge page',
                                corrupted + 4 * (i + 1))
        finally:
            outs = _stop_victims(g, victims)
        for out in outs:
            check('HWPT-SIGBUS' not in out,
                  f'a late-kill victim that did not touch its page was '
                  f'signalled: {out.strip()[-200:]}')
        _check_unpoisoned(g, again, corrupted, marked,
                          'the bad pages of the reused memory')
        _check_log_clean(g, mark, 'the memory error checks')
    finally:
        g.sh(f'echo {old_nr} > {NR_HUGEPAGES}; echo {old_hvo} > {HVO}; true')
    _check_log_clean(g, mark, 'at the end')
    check(g.alive(), 'the guest died')


TURNS = 150             # poisonings of the page, each at a random moment
RACE_S = 50             # at most, for all of them
RACE_POOL = 3           # free 2 MiB pages added to each node's pool
POISON = re.compile(r'HWPT-POISON route=(\w+) pfn=(0x[0-9a-f]+) '
                    r'head=(0x[0-9a-f]+) err=(\w+)')
LOGGED = re.compile(r'Memory failure: (0x[0-9a-f]+):|'
                    r'Injecting memory failure for pfn (0x[0-9a-f]+)')


def _race_baseline(g):
    """Skip without a 2 MiB pool on node 0 and node 1; else the console
    mark, HardwareCorrupted, the marked PFNs, HugePages_Total and each
    node's pool size before a race."""
    for node in (0, 1):
        if g.sh(f'test -w {_node_pool(node)}')[0]:
            raise Skip(f'no 2 MiB hugetlb pool on node{node}')
    return (g.console_mark(), meminfo_kb(g, 'HardwareCorrupted'),
            _marked(g), _hugepages(g, 'Total'),
            [int(g.read_file(_node_pool(n))) for n in (0, 1)])


def _stat_pages(g):
    """The sum over the nodes of total + soft_offlined - unpoisoned (what
    HardwareCorrupted is, in pages, when nothing is being handled), or None
    without the soft_offlined and unpoisoned files (stock)."""
    base = '/sys/devices/system/node/node{}/memory_failure/{}'
    if g.sh(f'test -e {base.format(0, "unpoisoned")}')[0]:
        return None
    return sum(int(g.read_file(base.format(n, 'total'))) +
               int(g.read_file(base.format(n, 'soft_offlined'))) -
               int(g.read_file(base.format(n, 'unpoisoned'))) for n in (0, 1))


def _unpoison_all(g, pfns):
    """unpoison-pfn each of @pfns; returns {pfn: errno name}."""
    out = g.sh_ok('for p in ' + ' '.join(f'{p:#x}' for p in sorted(pfns)) +
                  f'; do hwpt-write {UNPOISON} $p; done; true', 300)
    errs = re.findall(r'errno=\d+ (\S+)', out)
    check(len(errs) == len(pfns), f'unpoison: {out.strip()[-300:]}')
    return dict(zip(sorted(pfns), errs))


# Reported for stock 6.12: HardwareCorrupted ends 12 kB above where it
# started.  Not in known-failures until a stock run shows how it fails.
@scenario('qemu.hugetlb_migrate_while_poisoned', boot='own')
def hugetlb_migrate_while_poisoned(g):
    """An in-use hugetlb page moved between the nodes while it is poisoned
    and unpoisoned.

    Each node's 2 MiB pool gets 3 free pages (Skip without a per-node pool
    on node 0 and node 1), so that a migration always finds its target page
    in the pool and its source page goes back there.  hwpt-victim --hugetlb
    --migrate (see its head comment) maps one private hugetlb page; one
    thread moves it to the other node with move_pages(2), over and over, on
    CPU 1, while another, on CPU 0, takes 150 turns (at most 50 s): poison
    one of its base pages at a random moment, by MADV_HWPOISON and by
    hard_offline_page in turn (an error may find the folio isolated for
    migration, being copied, or just freed to the pool), unpoison it and
    its head, top up the pools, and map and touch a fresh page in its
    place.  The run must end by itself (exit 0), with at least 20
    migrations and 20 successful poisonings, no SIGBUS but the
    MADV_HWPOISON caller's BUS_MCEERR_AR (none in the mover, none on the
    first touch of a fresh page) and a fresh page every turn.

    Then the pools are set back (HugePages_Total as before, so no hugetlb
    folio is left to hold a mark), and every page marked since the start is
    unpoisoned, in up to three passes.  Whatever the races did, no page
    may stay KPF_HWPOISON (unpoison refused none of them for good) and
    HardwareCorrupted must equal what it was before the run: every error
    counted once and uncounted once.  Where the per-node soft_offlined and
    unpoisoned files exist (ours), HardwareCorrupted in pages also equals
    the sum over the nodes of total + soft_offlined - unpoisoned.  No
    WARNING, BUG or oops in the kernel log, and the guest lives.
    """
    mark, corrupted, marked, total, old = _race_baseline(g)
    try:
        for n in (0, 1):
            g.sh_ok(f'echo {old[n] + RACE_POOL} > {_node_pool(n)}')
            free = int(g.read_file(_node_pool(n, 'free_hugepages')))
            check(free >= RACE_POOL, f'node{n} has {free} free huge pages, '
                  f'not {RACE_POOL}')
        job = g.start_cmd(f'hwpt-victim --hugetlb --migrate {TURNS} '
                          f'--timeout {RACE_S}')
        rc, out = g.wait(job, RACE_S + 120)
    finally:
        g.sh(f'echo {old[0]} > {_node_pool(0)}; '
             f'echo {old[1]} > {_node_pool(1)}; true')
    now = _hugepages(g, 'Total')
    check(now == total, f'HugePages_Total {now} with the pools set back, '
          f'not {total}: a hugetlb folio outlived the run')

    # The run's PFNs: what the poisoner named, and what the kernel handled.
    run = set()
    for m in POISON.finditer(out):
        run |= {int(m.group(2), 16), int(m.group(3), 16)}
    for m in LOGGED.finditer(g.console(mark)):
        run.add(int(m.group(1) or m.group(2), 16))
    errs = {}
    for _ in range(3):
        left = _marked(g) - marked
        if not left:
            break
        errs.update(_unpoison_all(g, left))
        time.sleep(0.5)

    m = re.search(r'HWPT-MIGRATE turns=(\d+) poisoned=(\d+) moved=(\d+) '
                  r'sigbus_ar=(\d+) errors=(\d+)', out)
    check(m, f'the race did not finish (exit {rc}): {out.strip()[-400:]}')
    turns, poisoned, moved, _, errors = (int(x) for x in m.groups())
    stuck = _marked(g) - marked
    check(not stuck, f'{len(stuck)} page(s) still KPF_HWPOISON after '
          'unpoison: ' + ', '.join(
              f'{p:#x} (flags {_flags(g, p):#x}, unpoison {errs.get(p)}'
              f'{", not the run" if p not in run else ""})'
              for p in sorted(stuck)))
    now = meminfo_kb(g, 'HardwareCorrupted')
    check(now == corrupted, f'HardwareCorrupted {now} kB after unpoisoning '
          f'every page, {now - corrupted:+d} kB from {corrupted} kB before '
          f'the run ({poisoned} poisonings, {len(run)} PFNs)')
    pages = _stat_pages(g)
    check(pages is None or pages * 4 == now,
          f'the nodes\' total + soft_offlined - unpoisoned is {pages} '
          f'pages; HardwareCorrupted is {now} kB')
    race_errors = re.findall(r'HWPT-RACE-ERROR (.*)', out)
    check(not errors and not race_errors,
          f'{errors} error(s) in the race: {"; ".join(race_errors[:3])}')
    check(rc == 0, f'hwpt-victim --migrate exited {rc}')
    check(moved >= 20 and poisoned >= 20,
          f'the race was not tried: {moved} migrations and {poisoned} '
          f'poisonings in {turns} turns; '
          + (re.search(r'HWPT-MOVE-STATUS.*', out) or [''])[0])
    _check_log_clean(g, mark, 'the race')
    check(g.alive(), 'the guest died')


PINNED_HITS = 3         # errors that leave the page isolated and mapped
PINNED = re.compile(r'HWPT-PINNED pfn=(0x[0-9a-f]+) err=(\w+) after=(\S+)')


# Stock 6.12 behaviour (weakness): folio_putback_active_hugetlb() makes a
# folio migratable again whatever happened while it was isolated, so a
# folio poisoned then is migrated by the next move_pages(2), which reports
# success, and memory hot-remove, which finds it movable but skips
# poisoned folios, retries it until a signal ends the offline.
@scenario('qemu.hugetlb_poisoned_while_isolated', boot='own')
def hugetlb_poisoned_while_isolated(g):
    """An error on an in-use hugetlb page that a failing migration holds
    isolated.

    Each node's 2 MiB pool gets 3 free pages (Skip without a per-node pool
    on node 0 and node 1).  hwpt-victim --hugetlb --pinned (see its head
    comment) takes turns until 3 hits (at most 600 turns, 120 s): a pipe
    holds a fresh private hugetlb page, so that one thread's move_pages(2)
    of it to the other node isolates it and fails, over and over, while
    hard_offline_page poisons one of its base pages at a random moment.
    An error that finds the page in place is handled (0, or EBUSY for the
    pipe's pin) and unmaps it; one that finds it isolated fails with EBUSY
    ("recovery action for get hwpoison page: Ignored") and marks it, and
    unless a further pass of the migration unmaps it, the page stays
    mapped (a hit).  Once the pipe let go, a hit must not migrate:
    move_pages(2) reports EBUSY for it.  The run must end by itself (exit
    0) with at least one hit, no poisoned page moved, no other error and
    at least 20 failed migrations; afterwards no page of the run may stay
    KPF_HWPOISON, and HardwareCorrupted and HugePages_Total are back where
    they were.  No WARNING, BUG or oops in the kernel log.
    """
    mark, corrupted, marked, total, old = _race_baseline(g)
    try:
        for n in (0, 1):
            g.sh_ok(f'echo {old[n] + RACE_POOL} > {_node_pool(n)}')
        job = g.start_cmd(f'hwpt-victim --hugetlb --pinned {PINNED_HITS} '
                          '--timeout 120')
        rc, out = g.wait(job, 300)
    finally:
        g.sh(f'echo {old[0]} > {_node_pool(0)}; '
             f'echo {old[1]} > {_node_pool(1)}; true')
    m = re.search(r'HWPT-PINNED-END turns=(\d+) hits=(\d+) moved=(\d+) '
                  r'isolations=(\d+) errors=(\d+)', out)
    check(m, f'the run did not finish (exit {rc}): {out.strip()[-400:]}')
    turns, hits, moved, isolations, errors = (int(x) for x in m.groups())
    race_errors = re.findall(r'HWPT-RACE-ERROR (.*)', out)
    check(not errors and not race_errors,
          f'{errors} error(s): {"; ".join(race_errors[:3])}')
    check(not moved, f'{moved} of {hits} page(s) poisoned while isolated '
          'migrated afterwards: ' + '; '.join(
              f'{p} after={a}' for p, e, a in PINNED.findall(out)
              if a not in ('-', 'EBUSY')))
    check(hits and isolations >= 20,
          f'the race was not tried: {hits} hits and {isolations} failed '
          f'migrations in {turns} turns')
    check(rc == 0, f'hwpt-victim --pinned exited {rc}')
    # One line per error; the turns reuse pages, so match them in order.
    injected = PINNED.findall(out)
    end = time.time() + 10
    while True:
        found = re.findall(r'Memory failure: (0x[0-9a-f]+): recovery action '
                           r'for (.+?: \w+)', g.console(mark))
        if len(found) >= len(injected) or time.time() > end:
            break
        time.sleep(0.2)
    lines = {}
    for p, what in found:
        lines.setdefault(int(p, 16), []).append(what)
    seen = {}
    for p, e, a in injected:
        pfn = int(p, 16)
        n = seen[pfn] = seen.get(pfn, -1) + 1
        if a == '-':
            continue
        got = lines.get(pfn, [])[n:n + 1] or ['no line']
        check(got[0] == 'get hwpoison page: Ignored',
              f'{pfn:#x}, poisoned while isolated: "{got[0]}", not '
              '"get hwpoison page: Ignored"')

    left = _marked(g) - marked
    if left:
        errs = _unpoison_all(g, left)
        left = _marked(g) - marked
        check(not left, f'{len(left)} page(s) still KPF_HWPOISON after the '
              'run: ' + ', '.join(f'{p:#x} (unpoison {errs.get(p)})'
                                  for p in sorted(left)))
    now = _hugepages(g, 'Total')
    check(now == total, f'HugePages_Total {now} with the pools set back, '
          f'not {total}')
    now = meminfo_kb(g, 'HardwareCorrupted')
    check(now == corrupted, f'HardwareCorrupted {now} kB after the run, '
          f'{now - corrupted:+d} kB from {corrupted} kB before')
    _check_log_clean(g, mark, 'the run')
    check(g.alive(), 'the guest died')
