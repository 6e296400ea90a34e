# SPDX-License-Identifier: GPL-2.0
"""`make check`: build one kernel, boot it, run the three layers, report.

Order in the shared boot: KUnit modules, kselftests, host scenarios, and
last the scenarios that inject real machine checks (the kernel refuses
unpoison after one).  Scenarios with boot='own' get a guest each.  Kernel
log lines that BAD_LOG matches fail the item that was running when they
appeared; those outside any item fail 'boot.kernel-log'.
"""

import fnmatch
import os
import re
import sys
import time

from . import bench, build, paths, results, scenarios, series, stress
from .results import FAIL, PASS, SKIP, Result
from .util import fmt_secs, log
from .vm import Guest, GuestError



def implementation(kernel):
    if kernel == 'stock':
        return 'upstream mm/memory-failure.c, no series'
    replaced = build._replaced(kernel)
    if 'mm/memory-failure.c' in replaced:
        if kernel == 'next':
            return 'our mm/memory-failure/ core (next: not yet default)'
        return 'our mm/memory-failure/ core'
    return 'upstream mm/memory-failure.c + our series (our core not yet default)'


class Selector:
    """`--tests GLOB`: which items to run and which results to keep."""

    def __init__(self, glob):
        self.glob = glob
        head = re.split(r'[*?\[]', glob)[0] if glob else ''
        self.head = head

    def may_match(self, prefix):
        return not self.glob or prefix.startswith(self.head) or \
            self.head.startswith(prefix)

    def keep(self, name):
        return not self.glob or fnmatch.fnmatchcase(name, self.glob)


class Item:
    """One unit of work in a boot; returns results."""

    def __init__(self, name, run, allow=()):
        self.name, self.run, self.allow = name, run, allow


# Seconds of make stress that make check runs.
STRESS_S = 60

# Seconds the console may lag behind insmod, which returns once every
# suite of the module has run.
KUNIT_CONSOLE_WAIT = 30


def kunit_item(module):
    base = os.path.basename(module)

    def run(g):
        mark = g.console_mark()
        rc, out = g.sh(f'insmod /hwpt/modules/{base}', 300)
        if rc:
            return [Result(f'kunit.{base}', FAIL, 'insmod failed', out)]
        # The module's whole KTAP: its plan and a result per suite.
        end = time.time() + KUNIT_CONSOLE_WAIT
        while not results.ktap_complete(g.console(mark)) and \
                time.time() < end and g.alive():
            time.sleep(0.1)
        text = g.console(mark)
        res = results.parse_ktap(text)
        if not results.ktap_complete(text):
            res.append(Result(f'kunit.{base}', FAIL, 'incomplete KTAP: not '
                              'every suite reported a result within '
                              f'{KUNIT_CONSOLE_WAIT} s of insmod'))
        g.sh(f'rmmod {base[:-3]}')
        return res
    return Item(f'kunit.{base}', run)


def kselftest_item(name):
    def run(g):
        rc, out = g.sh(f'cd /mnt/disk && /hwpt/bin/{name}', 600)
        res = results.parse_tap(out, 'kselftest')
        if not res or (rc and not any(r.status == FAIL for r in res)):
            res.append(Result(f'kselftest.{name}', FAIL,
                              f'exit status {rc}', out[-3000:]))
        return res
    return Item(f'kselftest.{name}', run)


def bench_item(name, cmd):
    """A benchmark program once at its smallest size: timing is not a test,
    running and printing sane numbers is."""
    def run(g):
        ok, detail = bench.smoke_one(g, name, cmd)
        if ok:
            return [Result(name, PASS)]
        first, _, rest = detail.partition('\n')
        return [Result(name, FAIL, first, rest)]
    return Item(name, run)


def scenario_item(sc):
    def run(g):
        try:
            sc.fn(g)
        except scenarios.Fail as e:
            return [Result(sc.name, FAIL, str(e))]
        except scenarios.Skip as e:
            return [Result(sc.name, SKIP, str(e))]
        return [Result(sc.name, PASS)]
    return Item(sc.name, run, allow=sc.allow)


def run_boot(facts, logdir, name, items, append=''):
    """Boot a guest and run @items in it; restart the guest after a hang.

    Adds each item's run time to facts['layer_s'] under its layer name.
    """
    out = []
    layer_s = facts.setdefault('layer_s', {})
    g = None
    boot_marks = []
    for item in items:
        if g is None or not g.alive():
            if g:
                g.stop()
            g = Guest(facts['bzimage'], facts['initrd'], logdir,
                      name=f'{name}{len(boot_marks) or ""}', append=append)
            log(f'booting {facts["kernel"]} ({g.name})')
            try:
                g.start()
            except GuestError as e:
                out.append(Result(f'boot.{g.name}', FAIL, str(e),
                                  g.console()[-4000:]))
                g.stop()
                return out
            log(f'booted in {g.boot_s:.1f}s')
            layer_s['boot'] = layer_s.get('boot', 0) + g.boot_s
            boot_marks.append((g, []))
        mark = g.console_mark()
        log(f'running {item.name}')
        t_item = time.time()
        try:
            res = item.run(g)
        except GuestError as e:
            g.stop()
            detail = str(e)
            died = re.search(r'Kernel panic - not syncing: .*', g.console(mark))
            if died:
                detail = f'the guest died: {died.group(0).strip()}'
            res = [Result(item.name, FAIL, detail, g.console(mark)[-4000:])]
        layer = item.name.split('.')[0]
        layer_s[layer] = layer_s.get(layer, 0) + time.time() - t_item
        time.sleep(0.2)     # let the console catch up
        end = g.console_mark()
        boot_marks[-1][1].append((mark, end))
        text = g.console(mark, end)
        bad = results.log_problems(text, item.allow)
        if bad:
            failed = [r for r in res if r.status == FAIL]
            case = results.kunit_case_after_problem(text, item.allow)
            hit = [r for r in res if case and r.name.endswith(f'.{case}')]
            if hit:
                hit[0].status, hit[0].detail = FAIL, 'kernel log'
                hit[0].excerpt = bad
            elif len(res) == 1:
                res[0].status, res[0].excerpt = FAIL, bad
                res[0].detail = res[0].detail or 'kernel log'
            elif not failed:
                res.append(Result(f'{item.name}.kernel-log', FAIL,
                                  'kernel log', bad))
        out += res
    if g:
        g.stop()
    # Whatever no item was running for: boot and shutdown.
    for g, spans in boot_marks:
        text, pos = '', 0
        for a, b in spans:
            text += g.console(pos, a)
            pos = b
        text += g.console(pos)
        bad = results.log_problems(text)
        if bad:
            out.append(Result(f'boot.{g.name}.kernel-log', FAIL, 'kernel log',
                              bad))
    return out


def main(kernel, tests_glob='', variant=None):
    t0 = time.time()
    sel = Selector(tests_glob)
    facts = build.build_all(kernel, variant)
    flavour = f'{kernel}-{variant}' if variant else kernel
    stamp = time.strftime('%Y%m%d-%H%M%S')
    logdir = os.path.join(paths.LOGS, f'{stamp}-{flavour}')
    os.makedirs(logdir, exist_ok=True)
    latest = os.path.join(paths.LOGS, f'latest-{flavour}')
    links = [latest]
    if not tests_glob:
        # The last run of every test: what the series' cover letter cites.
        links.append(os.path.join(paths.LOGS, f'full-{flavour}'))
    for link in links:
        if os.path.islink(link):
            os.unlink(link)
        os.symlink(os.path.basename(logdir), link)
    facts.update(logdir=logdir, implementation=implementation(kernel))
    log(f'base {facts["base"]}; kernel={kernel}: {facts["implementation"]}')

    shared, late, own = [], [], []
    if sel.may_match('kunit.'):
        kmod = paths.kmod(kernel, variant)
        shared += [kunit_item(os.path.join(kmod, m))
                   for m in sorted(os.listdir(kmod)) if m.endswith('.ko')]
    build_failures = []
    for ks in build.selftest_names():
        # By convention the fixture is named after the file: memory-failure-x
        # holds memory_failure_x, so a glob can skip other files' builds.
        fixture = ks.replace('-', '_')
        if not sel.may_match(f'kselftest.{fixture}'):
            continue
        if ks in facts['selftest_errors']:
            build_failures.append(Result(f'kselftest.{fixture}.build', FAIL,
                                         f'{ks}.c does not compile',
                                         facts['selftest_errors'][ks][-3000:]))
        else:
            shared.append(kselftest_item(ks))
    shared += [bench_item(name, cmd) for name, cmd in bench.SMOKE
               if sel.keep(name)]
    for sc in scenarios.SCENARIOS:
        if not sel.may_match(sc.name):
            continue
        if sc.boot == 'own':
            own.append(sc)
        elif sc.real_mce:
            late.append(scenario_item(sc))
        else:
            shared.append(scenario_item(sc))

    t_tests = time.time()
    res = []
    if shared or late:
        res += run_boot(facts, logdir, 'main', shared + late)
    for sc in own:
        res += run_boot(facts, logdir, sc.name.split('.')[-1],
                        [scenario_item(sc)], append=sc.append)
    # The series, as make series and make series-check make it: every patch
    # applies, is checkpatch-clean and builds, and the last tree is this.
    if sel.may_match('series.') and kernel == 'ours' and not variant:
        t = time.time()
        who = series.identity(required=False) or \
            ('make check', 'make-check@localhost')
        sdir = series.make_series(who=who, out_dir=os.path.join(logdir,
                                                                'series'))
        with open(os.path.join(logdir, 'series-check.txt'), 'w') as f:
            for name, ok, detail in series.series_check(out=f,
                                                        series_dir=sdir):
                res.append(Result(name, PASS if ok else FAIL,
                                  '' if ok else detail.split('\n')[0],
                                  '' if ok else detail[-3000:]))
        layer_s = facts.setdefault('layer_s', {})
        layer_s['series'] = layer_s.get('series', 0) + time.time() - t
    # A minute of make stress on our kernel, so every change is raced a
    # little (the long runs are for developers: make stress DUR=600).
    if sel.may_match('stress.') and kernel != 'stock' and not variant:
        t = time.time()
        ok, text = stress.stress(kernel, STRESS_S, logdir=os.path.join(
            logdir, 'stress'))
        first = next((l for l in text.split('\n')
                      if l.startswith(('FAIL', 'VIOLATION'))), '')
        res.append(Result(f'stress.{kernel}', PASS if ok else FAIL, first,
                          '' if ok else text[-4000:]))
        layer_s = facts.setdefault('layer_s', {})
        layer_s['stress'] = layer_s.get('stress', 0) + time.time() - t
    # Boot problems show whatever the selection; selected builds failed.
    res = build_failures + [r for r in res if sel.keep(r.name) or
                            r.status == FAIL and r.name.startswith('boot.')]
    if not res:
        res = [Result('selection', FAIL, f'no test matches "{tests_glob}"')]
    results.apply_known_failures(res, kernel)
    layers = ', '.join(f'{k} {fmt_secs(v)}' for k, v in
                       sorted(facts.get('layer_s', {}).items()))
    facts['timing'] = (f'time: build {fmt_secs(facts["build_s"])}, tests '
                       f'{fmt_secs(time.time() - t_tests)} ({layers}), total '
                       f'{fmt_secs(time.time() - t0)} under QEMU TCG')
    with open(os.path.join(logdir, 'report.txt'), 'w') as f:
        results.report(res, facts, f)
    nfail = results.report(res, facts, sys.stdout)
    return 1 if nfail else 0
