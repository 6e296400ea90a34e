# SPDX-License-Identifier: GPL-2.0
"""Test results from the three layers, kernel-log verdicts and the report."""

import fnmatch
import json
import os
import re
import subprocess
import tempfile

from . import paths

PASS, FAIL, SKIP, XFAIL = 'pass', 'fail', 'skip', 'xfail'

# Kernel log lines that fail a run wherever they appear, unless the test
# that is running expects them.
BAD_LOG = re.compile(
    r'WARNING:|BUG:|kernel BUG at|Oops|Kernel panic|general protection fault|'
    r'invalid opcode:|UBSAN:|KASAN:|possible circular locking|'
    r'possible recursive locking|inconsistent lock state|'
    r'suspicious RCU usage|INFO: task .* blocked for more than|'
    r'self-detected stall|detected stalls on CPUs|list_add corruption|'
    r'list_del corruption|page dumped because|Bad page state|'
    r'hung_task: blocked')


class Result:
    def __init__(self, name, status, detail='', excerpt=''):
        self.name, self.status = name, status
        self.detail, self.excerpt = detail, excerpt

    def __repr__(self):
        return f'Result({self.name!r}, {self.status!r})'


def _bad_lines(lines, allow):
    allowed = [re.compile(a) for a in allow]
    return [i for i, line in enumerate(lines)
            if BAD_LOG.search(line) and not any(a.search(line) for a in allowed)]


def log_problems(text, allow=()):
    """Return the bad lines of a kernel log slice, with context, or ''."""
    lines = text.splitlines()
    hits = _bad_lines(lines, allow)
    if not hits:
        return ''
    first = hits[0]
    excerpt = lines[max(0, first - 3):first + 30]
    return f'{len(hits)} bad kernel log line(s); first:\n' + '\n'.join(excerpt)


# KTAP of a KUnit run on the console.  _KTAP_TOP matches what precedes a
# top-level line (the plan, one test per suite, and the suites' results):
# printk's [time] (and [caller]) and a space.  Cases are indented 4 more
# spaces, the parameters of a parameterised case 8.
_KTAP_TOP = r'^(?:\[[^\]]*\])* ?'
_KTAP_PLAN = re.compile(_KTAP_TOP + r'1\.\.(\d+)\s*$', re.M)
_KTAP_RESULT = re.compile(_KTAP_TOP + r'(?:not )?ok \d+ \S', re.M)


def kunit_case_after_problem(text, allow=()):
    """SUITE.CASE of the KUnit case whose result follows the first bad line
    (CASE alone if its suite's header is not in @text)."""
    lines = text.splitlines()
    hits = _bad_lines(lines, allow)
    if not hits:
        return None
    # The next case-level result (indented once: not a parameter's, nor a
    # suite's), and the header of the suite it belongs to.
    for i in range(hits[0], len(lines)):
        m = re.search(_KTAP_TOP + r' {4}(?:not )?ok \d+ (\S+)', lines[i])
        if not m:
            continue
        for j in range(i - 1, -1, -1):
            h = re.search(_KTAP_TOP + r' {4}# Subtest: (\S+)', lines[j])
            if h:
                return f'{h.group(1)}.{m.group(1)}'
        return m.group(1)
    return None


_TAP_LINE = re.compile(r'^(ok|not ok) \d+ (\S.*?)(?:\s+#\s*(SKIP|skip|XFAIL|TODO)\b(.*))?$')


def parse_tap(text, prefix):
    """Results of one kselftest_harness binary's TAP output."""
    results = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _TAP_LINE.match(line.strip())
        if not m:
            continue
        status = PASS if m.group(1) == 'ok' else FAIL
        detail = ''
        if m.group(3) and m.group(3).upper() == 'SKIP':
            status, detail = SKIP, m.group(4).strip()
        excerpt = ''
        if status == FAIL:
            # The harness prints the failing checks as '#' lines above.
            j = i
            while j > 0 and not lines[j - 1].startswith(('ok ', 'not ok ', '#  RUN')):
                j -= 1
            excerpt = '\n'.join(lines[max(j - 1, 0):i])
        results.append(Result(f'{prefix}.{m.group(2).strip()}', status, detail,
                              excerpt))
    return results


def ktap_complete(console_text):
    """Whether a KUnit run in @console_text is complete: its top-level plan
    1..N is followed by N top-level results (one per suite)."""
    plan = _KTAP_PLAN.search(console_text)
    if not plan:
        return False
    return len(_KTAP_RESULT.findall(console_text, plan.end())) >= \
        int(plan.group(1))


_KUNIT_STATUS = {'PASS': PASS, 'SKIP': SKIP}


def parse_ktap(console_text, prefix='kunit'):
    """KUnit results of a console log slice, parsed by the tree's kunit.py.

    One result per case, named PREFIX.SUITE.CASE, for every suite in the
    slice; a parameterised case is one result too (it fails if any of its
    parameters does, and the detail names those).  A suite that reported
    no cases (its init failed, or it was skipped) is PREFIX.SUITE.
    """
    kunit = os.path.join(paths.BASE, 'tools', 'testing', 'kunit', 'kunit.py')
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, 'ktap.log')
        json_path = os.path.join(tmp, 'ktap.json')
        with open(log_path, 'w') as f:
            f.write(console_text)
        res = subprocess.run(['python3', kunit, 'parse', f'--json={json_path}',
                              log_path], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        try:
            with open(json_path) as f:
                tree = json.load(f)
        except (OSError, ValueError):
            return [Result(f'{prefix}.parse', FAIL, 'kunit.py parse produced '
                           'no results', res.stdout[-2000:])]
    results = []

    def add(name, case, status, detail='', within=()):
        excerpt = ''
        if status == FAIL:
            excerpt = _kunit_case_excerpt(console_text, case, within)
        results.append(Result(name, status, detail, excerpt))

    def leaves(group):
        out = [(c['name'], c['status']) for c in group.get('test_cases', [])]
        for sub in group.get('sub_groups', []):
            out += leaves(sub)
        return out

    # The JSON tree: the run, its suites (sub_groups), their cases
    # (test_cases, or sub_groups for parameterised ones).
    for suite in tree.get('sub_groups', []):
        for case in suite.get('test_cases', []):
            add(f'{prefix}.{suite["name"]}.{case["name"]}', case['name'],
                _KUNIT_STATUS.get(case['status'], FAIL),
                within=[suite['name']])
        for case in suite.get('sub_groups', []):
            params = leaves(case)
            failed = [n for n, st in params if st not in _KUNIT_STATUS]
            name = f'{prefix}.{suite["name"]}.{case["name"]}'
            if failed:
                detail = 'failed: ' + ', '.join(failed[:5]) + \
                    (f' and {len(failed) - 5} more' if len(failed) > 5 else '')
                add(name, failed[0], FAIL, detail,
                    within=[suite['name'], case['name']])
            elif params and all(st == 'SKIP' for _, st in params):
                add(name, case['name'], SKIP)
            else:
                add(name, case['name'], PASS)
    for suite in tree.get('test_cases', []):
        add(f'{prefix}.{suite["name"]}', suite['name'],
            _KUNIT_STATUS.get(suite['status'], FAIL))
    if not results:
        results.append(Result(f'{prefix}.parse', FAIL, 'no KUnit results in '
                              'the log', res.stdout[-2000:]))
    return results


def _kunit_case_excerpt(text, case, within=()):
    """The log lines of a failed case (or parameter, or suite) @case, looked
    for after the '# Subtest:' headers of the groups @within, in order."""
    lines = text.splitlines()
    start = 0
    for group in within:
        for k in range(start, len(lines)):
            if re.search(rf'# Subtest: {re.escape(group)}$', lines[k]):
                start = k + 1
                break
    for i in range(start, len(lines)):
        line = lines[i]
        if re.search(rf'not ok \d+ {re.escape(case)}(?=\s|$)', line):
            j = i
            while j > 0 and not re.search(r'(^|\] )\s*(ok|not ok) \d+ ', lines[j - 1]):
                j -= 1
            return '\n'.join(lines[max(j, i - 25):i + 1])
    return ''


def load_known_failures(kernel):
    """(glob, reason) pairs of tools/testing/hwpoison/known-failures."""
    known = []
    with open(os.path.join(paths.HARNESS, 'known-failures')) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            k, glob, reason = (line.split(None, 2) + ['', ''])[:3]
            if fnmatch.fnmatchcase(kernel, k):
                known.append((glob, reason))
    return known


def apply_known_failures(results, kernel):
    """Turn listed failures into XFAIL, and listed passes into failures."""
    known = load_known_failures(kernel)
    for r in results:
        for glob, reason in known:
            if not fnmatch.fnmatchcase(r.name, glob):
                continue
            if r.status == FAIL:
                r.status, r.detail = XFAIL, f'known {kernel} failure: {reason}'
            elif r.status == PASS:
                r.status = FAIL
                r.detail = (f'XPASS: listed in known-failures ({reason}) but '
                            'passed: update the list')
            break


def report(results, facts, out):
    """Print the report; the last line is 'N passed, N failed[, N skipped]'."""
    w = out.write
    variant = f', variant={facts["variant"]}' if facts.get('variant') else ''
    w(f'== hwpoison check: kernel={facts["kernel"]}{variant} '
      f'({facts["implementation"]})\n')
    w(f'   base: {facts["base"]}\n')
    w(f'   config: {facts["config"]}; logs: '
      f'{os.path.relpath(facts["logdir"], paths.REPO)}/\n')
    for r in results:
        tag = {PASS: 'PASS', FAIL: 'FAIL', SKIP: 'SKIP', XFAIL: 'XFAIL'}[r.status]
        line = f'{tag} {r.name}'
        if r.detail:
            line += f'  ({r.detail})'
        w(line + '\n')
        if r.status == FAIL and r.excerpt:
            for ex in r.excerpt.rstrip().splitlines()[:60]:
                w(f'     | {ex}\n')
    for k in ('timing',):
        if facts.get(k):
            w(f'   {facts[k]}\n')
    nxfail = sum(r.status == XFAIL for r in results)
    if nxfail:
        w(f'   {nxfail} known failure(s) of this kernel, listed with their '
          'reasons in tools/testing/hwpoison/known-failures\n')
    npass = sum(r.status in (PASS, XFAIL) for r in results)
    nfail = sum(r.status == FAIL for r in results)
    nskip = sum(r.status == SKIP for r in results)
    last = f'{npass} passed, {nfail} failed'
    if nskip:
        last += f', {nskip} skipped'
    w(last + '\n')
    return nfail
