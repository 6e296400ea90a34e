# SPDX-License-Identifier: GPL-2.0
"""`make stress`: memory errors at random moments, on pages the rest of mm
is busy with, with the kernel's debugging tools watching.

The guest runs hwpt-stress (guest/hwpt-stress.c, whose head comment is
the interface used here): workers that churn every page kind, injectors on
every route, an unpoisoner, a hotplug actor.  The host adds what needs
QEMU: two hot-added DIMMs (onlined movable, for the hotplug actor), SRAO
and UCNA machine checks on a worker's page, and a DIMM removed and added
again.  Every CHECK_EVERY seconds it pauses the injectors and checks:

 - HardwareCorrupted against /proc/kpageflags ("DOC: counter invariants"
   in mm/memory-failure/stats.c: a base page counts once; a hugetlb folio
   shows the mark on every page but counts its recorded bad pages, 1 to
   512);
 - each node's memory_failure/total against the "recovery action" lines
   the kernel logged for that node (all but "already poisoned");
 - that nobody but the run's processes was signalled or killed, and that
   the guest answers.

Any kernel splat (results.BAD_LOG) fails the run at once, with its trace
and the run's last operations.
"""

import os
import re
import subprocess
import sys
import time

from . import build, paths, results
from .util import fmt_secs, log
from .vm import Guest, GuestError

CHECK_EVERY = 30
DIR = '/tmp/stress'
MEMORY = '/sys/devices/system/memory'
# A big log buffer, and stock's default RCU stall timeout (the harness
# boots with 120 s elsewhere).
APPEND = 'log_buf_len=8M rcupdate.rcu_cpu_stall_timeout=21'
# Offlining a block that holds an unmovable page dumps it: that is a
# refusal, not a bug.
ALLOW = (r'page dumped because: (migration failure|unmovable page|'
         r'isolation failed)',)

_RECOVERY = re.compile(r'Memory failure: (0x[0-9a-f]+): recovery action for '
                       r'(.+?): (Recovered|Ignored|Failed|Delayed)')
_SIGNALLED = re.compile(r'(?:Sending SIGBUS to|MCE: Killing|forcibly killing)'
                        r' (\S+?):(\d+)')


class Violation(Exception):
    pass


def _meminfo_kb(g, field):
    m = re.search(rf'^{field}:\s+(\d+) kB', g.read_file('/proc/meminfo'), re.M)
    return int(m.group(1)) if m else 0


class Run:
    def __init__(self, g, dur, faults):
        self.g, self.dur, self.faults = g, dur, faults
        self.t0 = time.time()
        self.mark = g.console_mark()
        self.host_ops = {}
        self.violations = []
        self.checks = 0
        self.mces = 0
        self.dimms = []
        self.block = int(g.read_file(f'{MEMORY}/block_size_bytes'), 16)
        self.seq = 0

    def op(self, kind, result):
        self.host_ops.setdefault(kind, {}).setdefault(result, 0)
        self.host_ops[kind][result] += 1

    def splat(self):
        bad = results.log_problems(self.g.console(self.mark), ALLOW)
        if bad:
            raise Violation('kernel log: ' + bad)

    # --- the hot-added memory -------------------------------------------
    def add_dimm(self, node):
        g = self.g
        dimm = g.dimm_add(128, node=node)
        n = g.dimm_addr(dimm) // self.block
        for _ in range(100):
            if g.sh(f'test -e {MEMORY}/memory{n}')[0] == 0:
                break
            time.sleep(0.2)
        rc, out = g.sh(f'echo online_movable > {MEMORY}/memory{n}/state')
        self.op('dimm_add', 'ok' if not rc else 'online_failed')
        self.dimms.append(dimm)

    def cycle_dimm(self):
        """Remove the oldest DIMM (poisoned pages and all), add one back."""
        if not self.dimms:
            return
        g = self.g
        dimm = self.dimms[0]
        n = g.dimm_addr(dimm) // self.block
        # Offline it from user space first, where a signal can end an
        # offline that cannot migrate a page: the removal's own offline,
        # in a kernel thread, would retry for ever, holding the hotplug
        # lock.
        t = time.time()
        rc, out = g.sh(f'timeout -s INT 30 sh -c "echo offline > '
                       f'{MEMORY}/memory{n}/state"; cat {MEMORY}/memory{n}'
                       '/state', 60)
        log(f'stress: {fmt_secs(t - self.t0)}: DIMM memory{n} offline took '
            f'{time.time() - t:.1f} s: {" ".join(out.split()[-1:])}')
        if out.split()[-1:] != ['offline']:
            self.op('dimm_offline', 'refused')
            return
        # Its PFNs may come back on another node: count its lines now that
        # no error can be reported for them.
        self.account_log()
        self.dimms.pop(0)
        self.removed = True
        ok = g.dimm_del(dimm, timeout=60)
        self.op('dimm_del', 'ok' if ok else 'timeout')
        self.add_dimm(len(self.dimms) % 2)

    # --- invariants -----------------------------------------------------
    def pause(self):
        self.seq += 1
        g = self.g
        g.sh_ok(f'echo pause {self.seq} > {DIR}/ctl')
        end = time.time() + 180
        while time.time() < end:
            rc, out = g.sh(f'cat {DIR}/paused 2>/dev/null')
            if rc == 0 and out.strip() == str(self.seq):
                return
            time.sleep(0.5)
        raise Violation('hwpt-stress did not pause within 180 s')

    def resume(self):
        self.g.sh_ok(f'echo run > {DIR}/ctl')

    def _block_nodes(self):
        """{memory block number: node} of the guest's present blocks."""
        out = self.g.sh_ok(f'for n in /sys/devices/system/node/node*; do '
                           f'for m in $n/memory*; do echo ${{n##*node}} '
                           f'${{m##*memory}}; done; done 2>/dev/null')
        nodes = {}
        for line in out.split('\n'):
            f = line.split()
            if len(f) == 2 and f[1].isdigit():
                nodes[int(f[1])] = int(f[0])
        return nodes

    def _node_counters(self, name):
        g = self.g
        out = g.sh_ok(f'for f in /sys/devices/system/node/node*/'
                      f'memory_failure/{name}; do test -e $f && '
                      'echo $f $(cat $f); done; true')
        counts = {}
        for line in out.split('\n'):
            m = re.search(rf'node(\d+)/memory_failure/{name} (\d+)', line)
            if m:
                counts[int(m.group(1))] = int(m.group(2))
        return counts

    def _node_totals(self):
        return self._node_counters('total')

    def _pages_counted(self):
        """Sum over the nodes of total + soft_offlined - unpoisoned, or
        None without the last two (stock)."""
        soft = self._node_counters('soft_offlined')
        if not soft:
            return None
        unpoisoned = self._node_counters('unpoisoned')
        return (sum(self._node_totals().values()) + sum(soft.values()) -
                sum(unpoisoned.values()))

    def account_log(self):
        """Count the new "recovery action" lines by node, with the blocks'
        nodes as they are now."""
        # The serial console lags the kernel: wait for a line logged now.
        self.syncs += 1
        marker = f'hwpt-stress: log sync {self.syncs}'
        self.g.sh_ok(f'echo "{marker}" > /dev/kmsg')
        if not self.g.wait_console(re.escape(marker), self.log_pos, 120):
            raise Violation(f'"{marker}" did not reach the console in 120 s')
        with open(self.g.console_path, 'rb') as f:
            f.seek(self.log_pos)
            data = f.read()
        data = data[:data.rfind(b'\n') + 1]     # whole lines only
        self.log_pos += len(data)
        text = data.decode(errors='replace')
        if 'printk messages dropped' in text:
            self.log_lost = True
        self.nodes.update(self._block_nodes())
        for pfn, kind, result in _RECOVERY.findall(text):
            if kind != 'already poisoned page':
                node = self.nodes.get((int(pfn, 16) << 12) // self.block)
                self.logged[node] = self.logged.get(node, 0) + 1
                by = self.logged_by.setdefault(node, {})
                by[result] = by.get(result, 0) + 1

    def _offline_poisoned(self):
        """The run's poisoned PFNs in offline blocks: HardwareCorrupted
        counts them, /proc/kpageflags cannot show them."""
        g = self.g
        offline = set()
        for line in g.sh_ok(f'grep -l offline {MEMORY}/memory*/state; '
                            'true').split('\n'):
            m = re.search(r'memory(\d+)/state', line)
            if m:
                offline.add(int(m.group(1)))
        rc, out = g.sh(f'cat {DIR}/poisoned 2>/dev/null')
        n = 0
        for line in out.split('\n'):
            f = line.split()
            if len(f) >= 4 and f[3] in ('pending', 'failed') and \
                    (int(f[0], 16) << 12) // self.block in offline:
                n += 1
        return n

    def _hwpoison_diff(self):
        """For a HardwareCorrupted violation: the run's PFNs it thinks
        poisoned but /proc/kpageflags does not flag, the flagged ones it
        does not know of, and the kernel's last lines about each."""
        g = self.g
        flagged = {int(x, 16) for x in
                   g.sh_ok('hwpt-pfn hwpoison list', 300).split()}
        rc, out = g.sh(f'cat {DIR}/poisoned 2>/dev/null')
        pending = {}
        for line in out.split('\n'):
            f = line.split()
            if len(f) >= 4 and f[3] == 'pending':
                pending[int(f[0], 16)] = ' '.join(f[1:])
        text = []
        lost = sorted(set(pending) - flagged)
        extra = sorted(flagged - set(pending))
        if lost:
            text.append('pending, not flagged: ' + ', '.join(
                f'{pfn:#x} ({pending[pfn]})' for pfn in lost[:8]))
        if extra:
            text.append('flagged, not pending: ' +
                        ', '.join(f'{pfn:#x}' for pfn in extra[:8]))
        log = g.console(0).split('\n')
        for pfn in (lost + extra)[:8]:
            key = f'{pfn:#x}'
            lines = [ln for ln in log if re.search(key + r'\b', ln)]
            text += [f'  {ln}' for ln in lines[-6:]]
        return ''.join('\n' + t for t in text)

    def invariants(self, last=False):
        g = self.g
        self.checks += 1
        # Deferred work (the error queue, hugetlb frees) settles: two reads
        # that agree.
        prev = now = None
        for _ in range(10):
            pages, folios = (int(x) for x in
                             g.sh_ok('hwpt-pfn hwpoison', 300).split())
            now = (_meminfo_kb(g, 'HardwareCorrupted'), pages, folios)
            if now == prev:
                break
            prev = now
            time.sleep(1)
        hwc_kb, pages, folios = now
        counted = self._pages_counted()
        hidden = self._offline_poisoned()
        where = f'check {self.checks} at {fmt_secs(time.time() - self.t0)}'
        if not ((pages + folios) * 4 <= hwc_kb <=
                (pages + 512 * folios + hidden) * 4):
            self.violations.append(
                f'{where}: HardwareCorrupted is {hwc_kb} kB, but '
                f'/proc/kpageflags flags {pages} pages and {folios} hugetlb '
                f'folios hwpoison (and the run has {hidden} poisoned pages '
                'in offline blocks)' + self._hwpoison_diff())
        # "DOC: counter invariants": with no memory hot-removed, the
        # per-node counters add up to HardwareCorrupted.
        if counted is not None and not self.removed and \
                counted - self.counted0 != (hwc_kb - self.hwc0_kb) // 4:
            self.violations.append(
                f'{where}: HardwareCorrupted grew by '
                f'{(hwc_kb - self.hwc0_kb) // 4} pages, the nodes\' total + '
                f'soft_offlined - unpoisoned by {counted - self.counted0}')
        self.account_log()
        if not self.log_lost:
            logged = self.logged
            totals = self._node_totals()
            for node, total in sorted(totals.items()):
                if total - self.totals0.get(node, 0) != logged.get(node, 0):
                    self.violations.append(
                        f'{where}: node{node} memory_failure/total grew by '
                        f'{total - self.totals0.get(node, 0)}, the log has '
                        f'{logged.get(node, 0)} "recovery action" lines for '
                        'it; by result, the log: '
                        f'{self.logged_by.get(node, {})}, the counters: '
                        + g.sh_ok(f'cd /sys/devices/system/node/node{node}/'
                                  'memory_failure && grep . *').replace(
                                      '\n', ' '))
            if logged.get(None):
                self.violations.append(f'{where}: {logged[None]} "recovery '
                                       'action" lines for PFNs in no known '
                                       'memory block')
        pids = {line.split()[0] for line in
                g.sh_ok(f'cat {DIR}/pids').split('\n') if line.strip()}
        for comm, pid in set(_SIGNALLED.findall(g.console(self.mark))):
            if pid not in pids:
                self.violations.append(f'{where}: {comm}:{pid} was signalled '
                                       'or killed, and it is not a process '
                                       'of the run')
        g.sh_ok('true')

    # --- machine checks ---------------------------------------------------
    def machine_check(self):
        g = self.g
        rc, out = g.sh(f'cat {DIR}/target 2>/dev/null')
        f = out.split()
        if rc or len(f) < 4:
            self.op('mce', 'no_target')
            return
        kind = ('srao', 'ucna')[self.mces % 2]
        if kind == 'ucna':
            g.sh('echo 1 > /sys/devices/system/machinecheck/machinecheck0/'
                 'check_interval')
        g.mce(kind, self.mces % 2, int(f[2], 16) << 12)
        self.mces += 1
        self.op(f'mce_{kind}', f[3])

    # --- fault injection --------------------------------------------------
    def arm_faults(self, kernel, variant):
        """failslab and fail_page_alloc for the callers in the hwpoison
        code only (the stack-trace filter, with the text range of its
        objects from System.map)."""
        obj = paths.obj(kernel, variant)
        objs = ([os.path.join(obj, 'mm', 'memory-failure.o')]
                if kernel == 'stock' else
                [os.path.join(obj, 'mm', 'memory-failure', 'built-in.a')])
        names = set()
        for o in objs:
            out = subprocess.run(['nm', '--defined-only', o], text=True,
                                 stdout=subprocess.PIPE).stdout
            names |= {l.split()[2] for l in out.split('\n')
                      if len(l.split()) == 3 and l.split()[1] in 'tT'}
        addrs = []
        with open(os.path.join(obj, 'System.map')) as f:
            for line in f:
                a, t, name = line.split()[:3]
                if t in 'tT' and name in names:
                    addrs.append(int(a, 16))
        if not addrs:
            raise Violation('no text symbols of the hwpoison code found')
        start, end = min(addrs), max(addrs) + 4096
        for fa in ('failslab', 'fail_page_alloc'):
            d = f'/sys/kernel/debug/{fa}'
            self.g.sh_ok(f'echo {start:#x} > {d}/require-start && '
                         f'echo {end:#x} > {d}/require-end && '
                         f'echo 10 > {d}/stacktrace-depth && '
                         f'echo 0 > {d}/verbose && echo -1 > {d}/times && '
                         f'echo 1 > {d}/interval && '
                         f'echo 10 > {d}/probability && '
                         f'echo N > {d}/ignore-gfp-wait')
        self.g.sh_ok('echo N > /sys/kernel/debug/fail_page_alloc/'
                     'ignore-gfp-highmem')
        self.op('faults', f'{start:#x}-{end:#x}')

    # --- the run ----------------------------------------------------------
    def run(self, kernel, variant):
        g = self.g
        self.nodes = self._block_nodes()
        self.totals0 = self._node_totals()
        self.removed = False
        self.hwc0_kb = _meminfo_kb(g, 'HardwareCorrupted')
        self.counted0 = self._pages_counted()
        self.logged, self.log_pos, self.log_lost = {}, 0, False
        self.syncs = 0
        self.logged_by = {}
        self.account_log()      # what came before the run does not count
        self.logged, self.logged_by = {}, {}
        g.sh('mkswap /dev/ram1 >/dev/null && swapon /dev/ram1')
        for node in (0, 1):
            self.add_dimm(node)
        if self.faults:
            self.arm_faults(kernel, variant)
        job = g.start_cmd(f'hwpt-stress run --dir {DIR} --dur {self.dur} '
                          f'--seed {int(self.t0) % 100000} --disk /mnt/disk '
                          '--hotplug')
        # A real machine check makes unpoison refuse everything for the
        # rest of the boot: only in the last third.
        mce_from = self.t0 + self.dur * 2 / 3
        next_check = self.t0 + CHECK_EVERY
        next_mce, next_dimm = mce_from, self.t0 + self.dur / 2
        while time.time() < self.t0 + self.dur:
            self.splat()
            now = time.time()
            if now >= next_check:
                self.pause()
                self.invariants()
                self.resume()
                log(f'stress: {fmt_secs(now - self.t0)}: {self.checks} '
                    f'checks, {len(self.violations)} violations')
                if self.violations:
                    raise Violation('\n'.join(self.violations))
                next_check = time.time() + CHECK_EVERY
            if now >= next_mce:
                self.machine_check()
                next_mce = now + max(10, self.dur / 20)
            if now >= next_dimm:
                self.cycle_dimm()
                next_dimm = now + 10 * self.dur
            time.sleep(1)
        rc, out = g.wait(job, timeout=600)
        self.splat()
        self.invariants(last=True)
        if self.violations:
            raise Violation('\n'.join(self.violations))
        return rc, out


def _table(run, rc, out, err):
    lines = [f'== hwpoison stress: {run.flavour}, DUR={run.dur}'
             f'{" FAULTS=1" if run.faults else ""}: '
             f'{fmt_secs(time.time() - run.t0)}, {run.checks} invariant '
             f'checks, {run.mces} machine checks']
    if out:
        lines.append(out.rstrip())
    for kind in sorted(run.host_ops):
        for res, n in sorted(run.host_ops[kind].items()):
            lines.append(f'host {kind} {res} {n}')
    lines += [f'VIOLATION {v}' for v in run.violations]
    if err:
        lines.append(f'FAIL {err}')
    ok = not err and not run.violations and rc == 0
    lines.append(f'stress {"passed" if ok else "FAILED"}')
    return ok, '\n'.join(lines) + '\n'


def stress(kernel='ours', dur=300, variant=None, faults=False, logdir=None):
    """Build, boot and stress @kernel (in @variant) for @dur seconds.

    Returns (ok, report text)."""
    facts = build.build_all(kernel, variant)
    flavour = f'{kernel}-{variant}' if variant else kernel
    logdir = logdir or os.path.join(paths.LOGS, time.strftime('%Y%m%d-%H%M%S')
                                    + f'-stress-{flavour}')
    os.makedirs(logdir, exist_ok=True)
    g = Guest(facts['bzimage'], facts['initrd'], logdir, name='stress',
              append=APPEND, boot_timeout=300)
    log(f'stress: {flavour} for {dur} s (logs: '
        f'{os.path.relpath(logdir, paths.REPO)})')
    g.start()
    run = Run(g, dur, faults)
    run.flavour = flavour
    rc, out, err = 1, '', None
    try:
        rc, out = run.run(kernel, variant)
    except (Violation, GuestError) as e:
        err = str(e)
        try:
            if g.alive():
                g.sh(f'kill -USR1 $(cat {DIR}/main.pid)')
                time.sleep(1)
                err += '\nlast operations:\n' + g.sh(f'cat {DIR}/lastops')[1]
                g.sh(f'echo stop > {DIR}/ctl; sleep 5; hwpt-stress cleanup '
                     f'--dir {DIR}', 120)
        except GuestError:
            pass
    finally:
        g.stop()
    ok, text = _table(run, rc, out, err)
    with open(os.path.join(logdir, 'stress.txt'), 'w') as f:
        f.write(text)
    return ok, text


def main(kernel, dur, variant=None, faults=False):
    ok, text = stress(kernel, dur, variant, faults)
    sys.stdout.write(text)
    return 0 if ok else 1
