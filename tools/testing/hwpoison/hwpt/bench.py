# SPDX-License-Identifier: GPL-2.0
"""`make bench [B=GLOB]`: ours against stock, in one run, under QEMU TCG.

Both kernels are built from the same config (the test config with
configs/flavours/bench.config: no lockdep, no DEBUG_VM) and booted
alternately (ours, stock, ours, stock, ...): ROUNDS full boots each, then EXTRA_ROUNDS short
boots each for the numbers whose spread is large (small-N sharers and
single pages).  Every benchmark is a mode of guest/hwpt-bench (its head
comment is the interface), which prints one "BENCH NAME key=value ..."
line per measurement.  Only ratios from one run mean anything: the
absolute numbers are TCG's.

The benchmarks (B= matches these names):
  sharers       MADV_HWPOISON of a page mapped by N processes (anon, tmpfs,
                ext2; early kill on and off), with the time inside
                memory_failure() from the function_graph tracer
  sharers-idle  64 sharers and M idle processes
  sharers-8192  8192 sharers, early kill, once per kernel at the end, at the
                default RCU stall timeout: whether an RCU stall was logged
                is reported (not a failure)
  single        MADV_HWPOISON and MADV_SOFT_OFFLINE of one fresh page
  burst         4096 errors through memory_failure_queue() (the RAS CEC)
                and through corrupt-pfn
  soft-offline  MADV_SOFT_OFFLINE of SOFT_MIB MiB, anon and tmpfs
  contention    MADV_HWPOISON latency while a region is soft offlined in a
                loop
  check         the stage times of the last full make check of each kernel
                (read from build/logs/full-*/report.txt, not run)

A kernel WARNING, BUG, lockdep report (results.BAD_LOG) in the kernel log
of a benchmark fails it on that boot: its numbers are dropped and the
failure is reported with the log excerpt.  The benchmarks lower the
console loglevel (stock logs a line per victim), so the log is read from
the ring buffer (dmesg) as well as from the console.

The table goes to stdout and to build/logs/STAMP-bench/bench.txt
(build/logs/latest-bench links to that directory; the series' cover
letter reads latest-bench/bench.txt).

smoke_one() runs a benchmark program (SMOKE: each at its smallest size) in
a booted guest, for make check.
"""

import fnmatch
import math
import os
import re
import sys
import time

from . import build, paths, results
from .util import fmt_secs, log
from .vm import Guest, GuestError

KERNELS = ('ours', 'stock')
# Both kernels are built with configs/flavours/bench.config on top of the
# test config: without lockdep and DEBUG_VM, as distributions build them.
FLAVOUR = 'bench'
# Full boots of each kernel, then short ones (small-N sharers and single).
ROUNDS = 3
EXTRA_ROUNDS = 2
# 1 GiB is tight for 8192 children with their page tables and stacks.
MEM_MB = 2048
# The console is quiet during the benchmarks, the ring buffer is not: room
# for a line per victim or per queued error.  Stock's default RCU stall
# timeout (the harness boots with 120 s otherwise; the last one wins).
APPEND = 'log_buf_len=8M rcupdate.rcu_cpu_stall_timeout=21'

KINDS = ('anon', 'tmpfs', 'ext2')
SHARERS_N = (1, 64, 256, 1024, 2048, 4096)
# Runs per boot of each N: the small ones vary most and cost least.
SHARERS_REPS = (5, 3, 2, 1, 1, 1)
SMALL_N = (1, 64, 256)
SMALL_REPS = (5, 3, 2)
IDLE_M = (0, 1024, 4096)
BIG_N = 8192
SINGLE_COUNT = 500
BURST_N = 4096
SOFT_MIB = 8
CONTENTION_COUNT = 200
CONTENTION_MIB = 8

BENCHES = ('single', 'burst', 'soft-offline', 'contention', 'sharers',
           'sharers-idle', 'sharers-8192', 'check')

# An RCU stall is what sharers-8192 looks for on stock: reported, not a
# failure there.
RCU_STALL = re.compile(r'self-detected stall|detected stalls on CPUs|'
                       r'rcu_\w+ kthread starved')
STALL_ALLOW = (r'self-detected stall', r'detected stalls on CPUs',
               r'rcu_\w+ kthread starved')

# Keys of a BENCH line that say what was measured (the rest are numbers).
PARAM_KEYS = ('kind', 'early', 'n', 'idle', 'op', 'route', 'mib')
# What the table shows of each benchmark, in order.
SHOWN = {
    'sharers': ('mf_us', 'madvise_us', 'all_dead_us'),
    'single': ('median_us', 'p99_us'),
    'burst': ('handled', 'lost', 'total_us', 'drain_us'),
    'soft_offline': ('mib_s', 'us'),
    'contention': ('idle_p50_us', 'busy_p50_us', 'ratio_p50', 'idle_p99_us',
                   'busy_p99_us', 'ratio_p99'),
}
ORDER = ('single', 'burst', 'soft_offline', 'contention', 'sharers')


class Job:
    """One run of hwpt-bench in a boot."""

    def __init__(self, bench, cmd, timeout=900, allow=()):
        self.bench, self.cmd = bench, cmd
        self.timeout, self.allow = timeout, allow


def _list(values):
    return ','.join(str(v) for v in values)


def _sharers_jobs(q, ns, reps):
    """The sharers runs of each kind, early kill on and off."""
    return [Job('sharers', f'{q} sharers --kind {kind} --early {early} '
                f'--n {_list(ns)} --reps {_list(reps)} --trace')
            for kind in KINDS for early in (1, 0)]


def plan(selected, extra, last):
    """The jobs of one boot: a full one, or a short one (@extra); the
    8192 sharers at the end of the @last full boot of each kernel."""
    q = 'hwpt-bench --quiet'
    jobs = []
    if 'single' in selected:
        jobs.append(Job('single', f'{q} single --count {SINGLE_COUNT}', 300))
    if extra:
        if 'sharers' in selected:
            jobs += _sharers_jobs(q, SMALL_N, SMALL_REPS)
        return jobs
    if 'burst' in selected:
        for route in ('cec', 'corrupt'):
            jobs.append(Job('burst', f'{q} burst --route {route} '
                            f'--n {BURST_N}', 600))
    if 'soft-offline' in selected:
        for kind in ('anon', 'tmpfs'):
            jobs.append(Job('soft-offline', f'{q} soft-offline --kind {kind} '
                            f'--mib {SOFT_MIB}', 600))
    if 'contention' in selected:
        jobs.append(Job('contention', f'{q} contention --count '
                        f'{CONTENTION_COUNT} --mib {CONTENTION_MIB}', 600))
    if 'sharers' in selected:
        jobs += _sharers_jobs(q, SHARERS_N, SHARERS_REPS)
    if 'sharers-idle' in selected:
        jobs.append(Job('sharers-idle', f'{q} sharers --kind anon --early 1 '
                        f'--n 64 --idle {_list(IDLE_M)} --trace'))
    if 'sharers-8192' in selected and last:
        jobs.append(Job('sharers-8192', f'{q} sharers --kind anon --early 1 '
                        f'--n {BIG_N} --trace', 1200, allow=STALL_ALLOW))
    return jobs


def parse_bench(out):
    """(name, {key: str}) of each BENCH line of @out."""
    lines = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == 'BENCH':
            kv = dict(x.split('=', 1) for x in f[2:] if '=' in x)
            lines.append((f[1], kv))
    return lines


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def oddities(name, kv):
    """What is wrong or unexpected in a BENCH line (a list of strings):
    the number still counts, the report names it."""
    n = lambda k: _num(kv.get(k))      # noqa: E731
    odd = []
    if name == 'sharers':
        want = n('n')
        if n('mapcount') != want + 1:
            odd.append(f'mapcount {kv.get("mapcount")}, not {int(want) + 1}')
        sig = 'sigbus_ao' if kv.get('early') == '1' else 'sigbus_ar'
        if n(sig) != want:
            odd.append(f'{sig}={kv.get(sig)} of {int(want)} sharers '
                       f'(sigbus_ao={kv.get("sigbus_ao")} sigbus_ar='
                       f'{kv.get("sigbus_ar")} unsignalled='
                       f'{kv.get("unsignalled")} other={kv.get("other")})')
        if n('self_sigbus') != 1:
            odd.append(f'the caller got {kv.get("self_sigbus")} SIGBUS')
        if n('mf_us') is not None and n('mf_us') < 0:
            odd.append('no memory_failure() call in the trace')
    if name == 'burst' and n('lost'):
        odd.append(f'{kv.get("lost")} of {kv.get("submitted")} errors lost '
                   f'({kv.get("overflow_logged")} "buffer overflow" lines, '
                   f'{kv.get("lost_logged")} reported lost)')
    if name == 'soft_offline' and n('offlined') != n('pages'):
        odd.append(f'{kv.get("offlined")} of {kv.get("pages")} pages '
                   'soft offlined')
    for k in ('madvise_err', 'errors', 'loop_errors', 'write_err'):
        if n(k):
            odd.append(f'{k}={kv.get(k)}')
    if n('unpoison_err'):
        odd.append(f'{kv.get("unpoison_err")} page(s) not unpoisoned')
    return odd


def sane(name, kv):
    """Whether a BENCH line has the values a working program prints."""
    n = lambda k: _num(kv.get(k))      # noqa: E731
    try:
        if name == 'sharers':
            return (n('madvise_us') > 0 and n('all_dead_us') >= n('madvise_us')
                    and n('mapcount') == n('n') + 1 and n('madvise_err') == 0
                    and n('sigbus_ao') + n('sigbus_ar') == n('n'))
        if name == 'single':
            return 0 < n('median_us') <= n('p99_us') and n('n') > 0
        if name == 'burst':
            return (0 <= n('handled') <= n('submitted') == n('n') and
                    n('write_err') == 0)
        if name == 'soft_offline':
            return n('offlined') > 0 and n('mib_s') > 0
        if name == 'contention':
            return n('idle_p50_us') > 0 and n('busy_p50_us') > 0
    except TypeError:
        return False
    return False


class Run:
    """The state of one make bench run: samples, failures, notes."""

    def __init__(self, logdir):
        self.logdir = logdir
        # {(bench, params tuple): {kernel: {metric: [values]}}}
        self.samples = {}
        self.failures = []      # (kernel, boot, what, detail, excerpt)
        self.notes = []         # (kernel, boot, text)
        self.stalls = {}        # {kernel: text or ''}
        self.big = {}           # {kernel: BENCH dict of the 8192 run}
        self.boots = {k: 0 for k in KERNELS}
        self.boot_s = []
        self.job_s = {}

    def add(self, kernel, boot, name, kv):
        params = tuple((k, kv[k]) for k in PARAM_KEYS if k in kv)
        per = self.samples.setdefault((name, params), {})
        mets = per.setdefault(kernel, {})
        for k, v in kv.items():
            if k in PARAM_KEYS:
                continue
            x = _num(v)
            if x is not None:
                mets.setdefault(k, []).append(x)
        for o in oddities(name, kv):
            self.notes.append((kernel, boot, f'{name} {_params(params)}: {o}'))

    def fail(self, kernel, boot, what, detail, excerpt=''):
        log(f'FAILED {kernel} {boot} {what}: {detail}')
        self.failures.append((kernel, boot, what, detail, excerpt))


def _params(params):
    return ' '.join(f'{k}={v}' for k, v in params)


def _dmesg_problems(g):
    """The ring buffer's lines that BAD_LOG matches, with context, since
    the last call (dmesg -c)."""
    pat = results.BAD_LOG.pattern.replace("'", '.')
    rc, out = g.sh(f"dmesg -c | grep -E -B3 -A40 -e '{pat}'; true", 120)
    return out


def run_job(run, g, kernel, boot, job):
    """Run @job in @g; its numbers go to @run unless the kernel splatted."""
    g.sh('dmesg -c >/dev/null', 60)
    mark = g.console_mark()
    t = time.time()
    log(f'{boot}: {job.cmd}')
    try:
        rc, out = g.sh(job.cmd, job.timeout)
    except GuestError as e:
        time.sleep(0.5)
        died = re.search(r'Kernel panic - not syncing: .*', g.console(mark))
        run.fail(kernel, boot, job.cmd, died.group(0) if died else str(e),
                 g.console(mark)[-4000:])
        return False
    run.job_s[job.bench] = run.job_s.get(job.bench, 0) + time.time() - t
    time.sleep(0.2)
    text = g.console(mark) + '\n' + _dmesg_problems(g)
    stall = RCU_STALL.search(text)
    if job.bench == 'sharers-8192':
        run.stalls[kernel] = ''
        if stall:
            lines = text.splitlines()
            i = next(i for i, l in enumerate(lines) if RCU_STALL.search(l))
            run.stalls[kernel] = '\n'.join(lines[max(0, i - 1):i + 12])
    bad = results.log_problems(text, job.allow)
    if bad:
        run.fail(kernel, boot, job.cmd, 'kernel log', bad)
        return True
    errors = [l for l in out.splitlines() if l.startswith('ERROR')]
    lines = parse_bench(out)
    if rc or errors or not lines:
        run.fail(kernel, boot, job.cmd, f'exit status {rc}' +
                 (f': {errors[0]}' if errors else ''), out[-3000:])
    for name, kv in lines:
        if not sane(name, kv):
            run.notes.append((kernel, boot, f'insane values dropped: '
                              f'BENCH {name} ' + ' '.join(
                                  f'{k}={v}' for k, v in kv.items())))
            continue
        if job.bench == 'sharers-8192':
            run.big[kernel] = kv
        run.add(kernel, boot, name, kv)
    return True


def boot_and_run(run, facts, kernel, jobs):
    """Boot @kernel and run @jobs; a guest that dies is booted again for
    the jobs left."""
    pending = list(jobs)
    while pending:
        run.boots[kernel] += 1
        boot = f'{kernel}{run.boots[kernel]}'
        g = Guest(facts['bzimage'], facts['initrd'], run.logdir, name=boot,
                  append=APPEND, mem_mb=MEM_MB, boot_timeout=300)
        log(f'booting {boot}')
        try:
            g.start()
        except GuestError as e:
            run.fail(kernel, boot, 'boot', str(e), g.console()[-4000:])
            g.stop()
            return
        run.boot_s.append(g.boot_s)
        boot_log = g.console()
        bad = results.log_problems(boot_log)
        if bad:
            run.fail(kernel, boot, 'boot', 'kernel log', bad)
        try:
            while pending:
                job = pending.pop(0)
                if not run_job(run, g, kernel, boot, job) or not g.alive():
                    break
        finally:
            g.stop()


def _median(v):
    v = sorted(v)
    n = len(v)
    if not n:
        return None
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _fmt(x):
    if x is None:
        return '-'
    if abs(x) >= 1000:
        return f'{x:.0f}'
    if abs(x) >= 10:
        return f'{x:.1f}'
    return f'{x:.3g}'


def _spread(v):
    """(max - min) / median of @v in percent, or '-'."""
    m = _median(v)
    if not v or len(v) < 2 or not m:
        return '-'
    return f'{(max(v) - min(v)) / abs(m) * 100:.0f}%'


def _sort_key(item):
    (name, params), _ = item
    p = dict(params)
    return (ORDER.index(name) if name in ORDER else 99,
            KINDS.index(p['kind']) if p.get('kind') in KINDS else 9,
            p.get('route', ''), p.get('op', ''), -int(p.get('early', 0)),
            int(p.get('idle', 0)), int(p.get('n', 0)), int(p.get('mib', 0)))


def _growth(per, metric):
    """log(t4096 / t1024) / log(4) of a kernel's medians, or None."""
    try:
        a = _median(per[1024][metric])
        b = _median(per[4096][metric])
        return math.log(b / a) / math.log(4) if a and b and a > 0 and b > 0 \
            else None
    except (KeyError, TypeError):
        return None


def table(run):
    """The rows of the table: (benchmark, parameter, stock, ours, ratio,
    spread)."""
    rows = []
    for (name, params), per in sorted(run.samples.items(), key=_sort_key):
        if name == 'sharers' and dict(params).get('n') == str(BIG_N):
            continue
        for metric in SHOWN.get(name, ()):
            s = per.get('stock', {}).get(metric, [])
            o = per.get('ours', {}).get(metric, [])
            if not s and not o:
                continue
            ms, mo = _median(s), _median(o)
            ratio = f'{mo / ms:.3g}' if ms and mo is not None else '-'
            rows.append((f'{name} {metric}', _params(params), _fmt(ms),
                         _fmt(mo), ratio,
                         f'{_spread(s)}/{_spread(o)} ({len(s)}/{len(o)})'))
    # Growth exponents between N=1024 and N=4096.
    for kind in KINDS:
        for early in ('1', '0'):
            per_k = {}
            for kernel in KERNELS:
                per_n = {}
                for (name, params), per in run.samples.items():
                    p = dict(params)
                    if name == 'sharers' and p.get('kind') == kind and \
                            p.get('early') == early and \
                            p.get('idle', '0') == '0' and kernel in per:
                        per_n[int(p['n'])] = per[kernel]
                per_k[kernel] = per_n
            for metric in SHOWN['sharers']:
                gs = _growth(per_k['stock'], metric)
                go = _growth(per_k['ours'], metric)
                if gs is None and go is None:
                    continue
                rows.append((f'sharers growth({metric})',
                             f'kind={kind} early={early} n=1024..4096',
                             _fmt(gs), _fmt(go), '-', 'exponent'))
    return rows


def headline(run):
    """The lines the issue asks for: N=4096 early kill, ours/stock."""
    out = []
    for kind in KINDS:
        params = (('kind', kind), ('early', '1'), ('n', '4096'),
                  ('idle', '0'))
        per = run.samples.get(('sharers', params))
        if not per or 'ours' not in per or 'stock' not in per:
            continue
        parts = []
        for metric, what in (('mf_us', 'inside memory_failure()'),
                             ('madvise_us', 'madvise()'),
                             ('all_dead_us', 'until all dead')):
            ms = _median(per['stock'].get(metric, []))
            mo = _median(per['ours'].get(metric, []))
            if ms and mo is not None:
                parts.append(f'{what} {_fmt(mo / 1000)} ms / '
                             f'{_fmt(ms / 1000)} ms = {mo / ms:.3g}')
        grow = []
        for kernel in ('ours', 'stock'):
            per_n = {}
            for (name, p), pk in run.samples.items():
                d = dict(p)
                if name == 'sharers' and d.get('kind') == kind and \
                        d.get('early') == '1' and d.get('idle') == '0' and \
                        kernel in pk:
                    per_n[int(d['n'])] = pk[kernel]
            e = [_growth(per_n, m) for m in ('mf_us', 'madvise_us',
                                              'all_dead_us')]
            grow.append(f'{kernel} ' + '/'.join(_fmt(x) for x in e))
        out.append(f'  {kind}: ours/stock ' + '; '.join(parts))
        out.append(f'  {" " * len(kind)}  growth exponent 1024->4096 '
                   '(memory_failure/madvise/all dead): ' + ', '.join(grow))
    return out


def check_times():
    """The "time:" lines of the last full make check of each kernel."""
    out = []
    for kernel in KERNELS:
        path = os.path.join(paths.LOGS, f'full-{kernel}', 'report.txt')
        if not os.path.exists(path):
            out.append(f'  {kernel}: no build/logs/full-{kernel}/report.txt')
            continue
        with open(path) as f:
            lines = [l.rstrip('\n') for l in f if 'time:' in l]
        when = time.strftime('%Y-%m-%d %H:%M',
                             time.localtime(os.path.getmtime(path)))
        out.append(f'  {kernel} (build/logs/{os.path.basename(os.path.realpath(os.path.dirname(path)))}'
                   f'/report.txt, {when}):')
        out += [f'  {l}' for l in lines] or ['    (no "time:" line)']
    return out


def render(run, facts, selected, t0, build_s):
    rows = table(run)
    hdr = ('benchmark', 'parameter', 'stock median', 'ours median',
           'ours/stock', 'spread stock/ours (n)')
    widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
    lines = [f'== hwpoison bench: ours vs stock, booted alternately '
             f'(ours first), {run.boots["ours"]} boots of ours, '
             f'{run.boots["stock"]} of stock',
             f'   base: {facts["base"]}; config: {facts["config"]}',
             f'   QEMU TCG, 2 vCPUs, {MEM_MB} MiB, append "{APPEND}"; logs: '
             f'{os.path.relpath(run.logdir, paths.REPO)}/',
             f'   {ROUNDS} full boots each, {EXTRA_ROUNDS} more for small-N '
             'sharers and single; times in us unless named; spread = '
             '(max - min) / median over all samples, n = samples',
             '']
    if rows:
        fmt = '  '.join(f'{{:{"<" if i < 2 else ">"}{w}}}'
                        for i, w in enumerate(widths))
        lines.append(fmt.format(*hdr))
        lines.append('  '.join('-' * w for w in widths))
        lines += [fmt.format(*r) for r in rows]
    head = headline(run)
    if head:
        lines += ['', 'sharers, N=4096, early kill (medians, ours / stock):']
        lines += head
    if 'sharers-8192' in selected:
        lines += ['', f'sharers, N={BIG_N}, early kill, anon, '
                  'rcupdate.rcu_cpu_stall_timeout=21, once per kernel:']
        for kernel in KERNELS:
            kv = run.big.get(kernel)
            nums = (f'memory_failure() {_fmt(_num(kv["mf_us"]) / 1000)} ms, '
                    f'madvise() {_fmt(_num(kv["madvise_us"]) / 1000)} ms, '
                    f'all dead {_fmt(_num(kv["all_dead_us"]) / 1000)} ms'
                    if kv else 'no numbers')
            if kernel not in run.stalls:
                stall = 'not run'
            elif run.stalls[kernel]:
                stall = 'RCU stall logged'
            else:
                stall = 'no RCU stall logged'
            lines.append(f'  {kernel}: {stall}; {nums}')
            if run.stalls.get(kernel):
                lines += [f'    | {l}' for l in
                          run.stalls[kernel].splitlines()]
    if 'check' in selected:
        lines += ['', 'make check stage times (last full run of each kernel):']
        lines += check_times()
    if run.notes:
        lines += ['', 'notes (the numbers count; behaviour worth knowing):']
        seen = {}
        for kernel, boot, text in run.notes:
            key = (kernel, re.sub(r'[\d.]+', 'N', text))
            seen.setdefault(key, []).append((boot, text))
        for (kernel, _), items in seen.items():
            boot, text = items[0]
            more = f' (and {len(items) - 1} more like it)' if len(items) > 1 \
                else ''
            lines.append(f'  {boot}: {text}{more}')
    if run.failures:
        lines += ['', 'FAILED (no numbers from these runs):']
        for kernel, boot, what, detail, excerpt in run.failures:
            lines.append(f'  {boot}: {what}: {detail}')
            lines += [f'     | {l}' for l in excerpt.splitlines()[:40]]
    jobs = ', '.join(f'{k} {fmt_secs(v)}' for k, v in sorted(
        run.job_s.items()))
    lines += ['', f'time: build {fmt_secs(build_s)}, boots '
              f'{fmt_secs(sum(run.boot_s))}, {jobs}; total '
              f'{fmt_secs(time.time() - t0)}',
              f'{"FAILED" if run.failures else "ok"}: '
              f'{len(run.failures)} failed run(s)']
    return '\n'.join(lines) + '\n'


def selection(glob):
    names = [b for b in BENCHES if not glob or fnmatch.fnmatchcase(b, glob)]
    if not names:
        sys.exit(f'hwpt: no benchmark matches "{glob}": '
                 + ', '.join(BENCHES))
    return names


def main(glob=''):
    t0 = time.time()
    selected = selection(glob)
    facts = {}
    for kernel in KERNELS:
        facts[kernel] = build.build_all(kernel, FLAVOUR)
    build_s = time.time() - t0
    stamp = time.strftime('%Y%m%d-%H%M%S')
    logdir = os.path.join(paths.LOGS, f'{stamp}-bench')
    os.makedirs(logdir, exist_ok=True)
    link = os.path.join(paths.LOGS, 'latest-bench')
    if os.path.islink(link):
        os.unlink(link)
    os.symlink(os.path.basename(logdir), link)
    run = Run(logdir)
    log(f'bench: {", ".join(selected)} (logs: '
        f'{os.path.relpath(logdir, paths.REPO)})')
    for rnd in range(ROUNDS + EXTRA_ROUNDS):
        extra = rnd >= ROUNDS
        for kernel in KERNELS:
            jobs = plan(selected, extra, rnd == ROUNDS - 1)
            if jobs:
                boot_and_run(run, facts[kernel], kernel, jobs)
    text = render(run, facts['ours'], selected, t0, build_s)
    with open(os.path.join(logdir, 'bench.txt'), 'w') as f:
        f.write(text)
    sys.stdout.write(text)
    return 1 if run.failures else 0


# --- for make check ------------------------------------------------------

SMOKE = (
    ('bench.sharers.anon',
     'hwpt-bench sharers --kind anon --early 1 --n 1 --trace'),
    ('bench.sharers.tmpfs', 'hwpt-bench sharers --kind tmpfs --early 0 --n 1'),
    ('bench.sharers.ext2',
     'hwpt-bench sharers --kind ext2 --early 1 --n 1 --idle 1'),
    ('bench.single', 'hwpt-bench single --count 5'),
    ('bench.burst.cec', 'hwpt-bench burst --route cec --n 16'),
    ('bench.burst.corrupt', 'hwpt-bench burst --route corrupt --n 16'),
    ('bench.soft-offline.anon', 'hwpt-bench soft-offline --kind anon --mib 1'),
    ('bench.soft-offline.tmpfs',
     'hwpt-bench soft-offline --kind tmpfs --mib 1'),
    ('bench.contention', 'hwpt-bench contention --count 5 --mib 1'),
)


def smoke_one(g, name, cmd):
    """Run one SMOKE program in the booted guest @g (a hwpt.vm.Guest):
    (ok, detail), ok when it ran and printed its BENCH lines with sane
    values and nothing unexpected (every sharer told, every page offlined
    and unpoisoned, no error of 16 lost).  The kernel log is the caller's
    to check: the console stays at its loglevel."""
    try:
        rc, text = g.sh(f'cd /mnt/disk && {cmd}', 300)
    except GuestError as e:
        return False, f'{cmd}: {e}'
    lines = parse_bench(text)
    bad = [f'BENCH {n} ' + ' '.join(f'{k}={v}' for k, v in kv.items())
           + ''.join(f' [{o}]' for o in oddities(n, kv))
           for n, kv in lines if not sane(n, kv) or oddities(n, kv)]
    if rc or not lines or bad:
        detail = (f'exit status {rc}' if rc else
                  'no BENCH line' if not lines else
                  f'insane or unexpected: {bad[0]}')
        return False, f'{cmd}: {detail}\n{text[-2000:]}'
    return True, ' | '.join(
        f'BENCH {n} ' + ' '.join(f'{k}={v}' for k, v in kv.items())
        for n, kv in lines)
