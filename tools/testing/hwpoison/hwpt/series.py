# SPDX-License-Identifier: GPL-2.0
"""`make series` and `make series-check`: the series as git format-patch.

patches/series lists the commits of the series, in order, one file each in
patches/.  A commit file reads like a patch mail:

  Subject: mm/memory-failure: imperative summary

  Body of the commit message.
  ---
  Adds: PATH...        our files (whole, from the repo) this commit adds
  Interim: PATH...     our files this commit adds in an interim form, from
                       patches/interim/SLUG/PATH; a later commit Adds them
  Removes: PATH...     upstream files this commit deletes

  diff --git a/... b/...   its edits to upstream files, if any

The same files drive `make check`'s assembly (build.assemble()), so the
series and the tested tree cannot disagree: series-check proves the last
commit's tree is byte-identical to build/ours/src.
"""

import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import time

from . import build, paths
from .util import fmt_secs, log

SERIES_DIR = os.path.join(paths.BUILD, 'series')        # the output
HISTORY = os.path.join(paths.BUILD, 'series-git')       # the history
CHECK_KERNEL = 'series-check'                           # build/series-check/
COVER = os.path.join(paths.REPO, 'patches', 'cover-letter')
INTERIM = os.path.join(paths.REPO, 'patches', 'interim')
FIELDS = ('Adds', 'Interim', 'Removes')


class Commit:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.slug = re.sub(r'\.patch$', '', self.name)
        with open(path) as f:
            text = f.read()
        head, sep, rest = text.partition('\n---\n')
        if not sep or not head.startswith('Subject: '):
            sys.exit(f'hwpt: {self.name}: expected "Subject: ..." and a "---" '
                     'line after the message')
        lines = head.split('\n')
        self.subject = lines[0][len('Subject: '):].strip()
        self.body = '\n'.join(lines[1:]).strip('\n')
        notes, _, diff = rest.partition('\ndiff --git ')
        if rest.startswith('diff --git '):
            notes, diff = '', rest[len('diff --git '):]
        self.diff = ('diff --git ' + diff) if diff else ''
        self.fields = {k: [] for k in FIELDS}
        key = None
        for line in notes.split('\n'):
            m = re.match(r'^(\w+):\s*(.*)$', line)
            if m and m.group(1) in FIELDS:
                key = m.group(1)
                self.fields[key] += m.group(2).split()
            elif line.startswith((' ', '\t')) and key:
                self.fields[key] += line.split()
            elif line.strip():
                key = None
        self.adds = self._expand(self.fields['Adds'])
        self.interim = self.fields['Interim']
        self.removes = self.fields['Removes']

    def _expand(self, globs):
        """Paths of our files matching @globs (in the order given)."""
        ours = build._overlay_files()
        out = []
        for g in globs:
            hit = [f for f in ours if fnmatch.fnmatchcase(f, g)]
            if not hit:
                sys.exit(f'hwpt: {self.name}: "Adds: {g}" matches none of our '
                         'files')
            out += [f for f in hit if f not in out]
        return out

    def interim_file(self, rel):
        return os.path.join(INTERIM, self.slug, rel)


def load():
    """The commits of patches/series, checked against each other."""
    commits = [Commit(p) for p in build._series('ours')]
    ours = set(build._overlay_files())
    added = {}
    for c in commits:
        for f in c.adds:
            if f in added:
                sys.exit(f'hwpt: {f} is added by {added[f]} and {c.name}')
            added[f] = c.name
    missing = sorted(ours - set(added))
    if missing:
        sys.exit('hwpt: no commit in patches/series adds: ' + ' '.join(missing))
    for i, c in enumerate(commits):
        for f in c.interim:
            if not os.path.exists(c.interim_file(f)):
                sys.exit(f'hwpt: {c.name}: no interim file '
                         f'{os.path.relpath(c.interim_file(f), paths.REPO)}')
            if not any(f in later.adds or f in later.interim
                       for later in commits[i + 1:]):
                sys.exit(f'hwpt: {c.name}: interim {f} is never replaced')
    removed = sorted(f for c in commits for f in c.removes)
    if removed != sorted(build._replaced('ours')):
        sys.exit('hwpt: the Removes: of patches/series and patches/replaced '
                 'disagree')
    return commits


def apply_commit(c, tree):
    """Bring the work tree @tree from the commit before @c to @c."""
    for rel in c.removes:
        if os.path.exists(os.path.join(tree, rel)):
            os.unlink(os.path.join(tree, rel))
    for rel, src in ([(f, c.interim_file(f)) for f in c.interim] +
                     [(f, os.path.join(paths.REPO, f)) for f in c.adds]):
        dst = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        shutil.copymode(src, dst)
    if c.diff:
        res = subprocess.run(['patch', '-p1', '--fuzz=0', '--forward',
                              '--batch', '--no-backup-if-mismatch',
                              '--reject-file=-', '-d', tree],
                             input=c.diff, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        if res.returncode:
            sys.exit(f'hwpt: {c.name} does not apply:\n{res.stdout}')


def git(tree, *args, env=None, capture=True):
    res = subprocess.run(['git', '-C', tree, *args], env=env,
                         stdout=subprocess.PIPE if capture else None,
                         stderr=subprocess.PIPE if capture else None,
                         text=True)
    if res.returncode:
        sys.exit(f'hwpt: git {" ".join(args)} failed in {tree}:\n'
                 f'{(res.stderr or "")[-2000:]}')
    return (res.stdout or '').strip()


def base_tag():
    kver, _ = build.base_version()
    return f'v{kver}'


def identity(required=True):
    """(name, email) of whoever runs `make series`, from git; without one,
    exit (or return None when not @required)."""
    def conf(key, env):
        if os.environ.get(env):
            return os.environ[env]
        res = subprocess.run(['git', '-C', paths.REPO, 'config', key],
                             stdout=subprocess.PIPE, text=True)
        return res.stdout.strip()
    name = conf('user.name', 'GIT_AUTHOR_NAME')
    email = conf('user.email', 'GIT_AUTHOR_EMAIL')
    if (not name or not email) and not required:
        return None
    if not name or not email:
        sys.exit('hwpt: make series signs the patches as you: set your git '
                 'identity first (git config --global user.name "Your Name"; '
                 'git config --global user.email you@example.org)')
    return name, email


def ensure_history():
    """build/series-git: a git repository whose first commit is the
    pristine base, tagged with its version.  Made once; reused."""
    build.ensure_base()
    tag = base_tag()
    if os.path.isdir(os.path.join(HISTORY, '.git')):
        res = subprocess.run(['git', '-C', HISTORY, 'rev-parse', '-q',
                              '--verify', f'refs/tags/{tag}'],
                             stdout=subprocess.PIPE, text=True)
        if res.returncode == 0:
            return tag
        shutil.rmtree(HISTORY)
    log(f'making the base commit in {os.path.relpath(HISTORY, paths.REPO)} '
        '(once)')
    tmp = HISTORY + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(['cp', '-a', paths.BASE, tmp], check=True)
    _, dver = build.base_version()
    env = dict(os.environ, GIT_AUTHOR_NAME='Debian', GIT_COMMITTER_NAME='Debian',
               GIT_AUTHOR_EMAIL='debian-kernel@lists.debian.org',
               GIT_COMMITTER_EMAIL='debian-kernel@lists.debian.org',
               GIT_AUTHOR_DATE='2024-01-01T00:00:00Z',
               GIT_COMMITTER_DATE='2024-01-01T00:00:00Z')
    git(tmp, 'init', '-q')
    # The package's .gitignore ignores /*: add everything by force.
    git(tmp, 'add', '-A', '-f')
    git(tmp, 'commit', '-q', '-m', f'Linux {tag[1:]} ({build.BASE_PACKAGE} '
        f'{dver})', env=env)
    git(tmp, 'tag', '-a', tag, '-m', f'{build.BASE_PACKAGE} {dver}', env=env)
    os.rename(tmp, HISTORY)
    return tag


def make_history(commits, who):
    """Rebuild build/series-git's branch 'series' from the base; return
    the base tag."""
    tag = ensure_history()
    git(HISTORY, 'checkout', '-q', '-f', '-B', 'series', tag)
    git(HISTORY, 'clean', '-q', '-f', '-d', '-x')
    date = git(paths.REPO, 'log', '-1', '--format=%cI')
    env = dict(os.environ, GIT_AUTHOR_NAME=who[0], GIT_AUTHOR_EMAIL=who[1],
               GIT_COMMITTER_NAME=who[0], GIT_COMMITTER_EMAIL=who[1],
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    for c in commits:
        apply_commit(c, HISTORY)
        git(HISTORY, 'add', '-A', '-f')
        msg = f'{c.subject}\n\n{c.body}\n\nSigned-off-by: {who[0]} <{who[1]}>\n'
        res = subprocess.run(['git', '-C', HISTORY, 'commit', '-q', '-F', '-'],
                             input=msg, text=True, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if res.returncode:
            sys.exit(f'hwpt: committing {c.name} failed:\n{res.stdout}')
    return tag


def _report_summary(kernel):
    """(last line, path) of the latest make check report of @kernel."""
    path = os.path.join(paths.LOGS, f'full-{kernel}', 'report.txt')
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    last = lines[-1] if lines else ''
    kunit = sum(1 for l in lines if l.startswith('PASS kunit.memory_failure_')
                and not l.startswith('PASS kunit.memory_failure_contract'))
    return last, kunit, os.path.realpath(path)


def _testing_section():
    out = []
    for kernel in ('ours', 'stock'):
        s = _report_summary(kernel)
        if s:
            stamp = os.path.basename(os.path.dirname(s[2]))
            out.append(f'  make check KERNEL={kernel}: {s[0]}  ({stamp})')
    ours = _report_summary('ours')
    if ours:
        out.append(f'  KUnit cases of our core that passed: {ours[1]}')
    bench = os.path.join(paths.LOGS, 'latest-bench', 'bench.txt')
    if os.path.exists(bench):
        with open(bench) as f:
            out.append('\n' + f.read().rstrip())
    if not out:
        out.append('  (no full make check report under build/logs/ yet)')
    return '\n'.join(out)


def write_cover(path, tag):
    with open(COVER) as f:
        template = f.read()
    subject, _, blurb = template.partition('\n\n')
    subject = subject.replace('Subject: ', '', 1).strip()
    _, dver = build.base_version()
    blurb = (blurb.rstrip('\n')
             .replace('@BASE@', f'{build.BASE_PACKAGE} {tag[1:]}\n(Debian '
                               f'{dver}), the base commit tagged {tag}')
             .replace('@TESTING@', _testing_section()))
    with open(path) as f:
        text = f.read()
    text = text.replace('*** SUBJECT HERE ***', subject, 1)
    text = text.replace('*** BLURB HERE ***', blurb, 1)
    with open(path, 'w') as f:
        f.write(text)


def make_series(version=1, who=None, out_dir=SERIES_DIR):
    """Write @out_dir (build/series/): the cover letter and one patch per
    commit."""
    commits = load()
    who = who or identity()
    log(f'series: {len(commits)} commits, signed by {who[0]} <{who[1]}>')
    tag = make_history(commits, who)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    args = ['format-patch', '-q', '--cover-letter', f'--base={tag}',
            '--no-signature', '-o', out_dir]
    if version > 1:
        args.append(f'-v{version}')
    git(HISTORY, *args, f'{tag}..series')
    cover = glob.glob(os.path.join(out_dir, '*0000-cover-letter.patch'))[0]
    write_cover(cover, tag)
    return out_dir


def series_patches(series_dir=SERIES_DIR):
    return sorted(p for p in glob.glob(os.path.join(series_dir, '*.patch'))
                  if not p.endswith('0000-cover-letter.patch'))


def _checkpatch(tree, patch):
    """(errors, warnings, checks, text) of checkpatch --strict on @patch.

    checkpatch asks "does MAINTAINERS need updating?" of every patch that
    adds or removes a file without touching MAINTAINERS.  That question is
    answered here: if get_maintainer.pl puts every such file in the HWPOISON
    entry, the warning is not counted.
    """
    # Debian's python3 first: scripts/spdxcheck.py needs its python3-ply.
    env = dict(os.environ, PATH='/usr/bin:' + os.environ.get('PATH', ''))
    res = subprocess.run(['perl', 'scripts/checkpatch.pl', '--strict',
                          '--no-color', '--show-types', patch], cwd=tree,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=env)
    if 'Traceback' in res.stdout:
        return 1, 0, 0, res.stdout + '(checkpatch could not run a helper)\n'

    text = res.stdout
    m = re.search(r'total: (\d+) errors, (\d+) warnings, (\d+) checks', text)
    if not m:
        return 1, 0, 0, text
    err, warn, chk = (int(x) for x in m.groups())
    if 'WARNING:FILE_PATH_CHANGES' in text:
        with open(patch) as f:
            files = re.findall(r'^diff --git a/\S+ b/(\S+)\n(?:new|deleted) '
                               r'file mode', f.read(), re.M)
        covered = all('HWPOISON MEMORY FAILURE HANDLING' in subprocess.run(
            ['perl', 'scripts/get_maintainer.pl', '--no-git',
             '--no-git-fallback', '--sections', '-f', f], cwd=tree,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True).stdout for f in files)
        if covered:
            warn -= 1
            text += ('(FILE_PATH_CHANGES not counted: get_maintainer.pl puts '
                     'every added or removed file in HWPOISON MEMORY FAILURE '
                     'HANDLING)\n')
    return err, warn, chk, text


def _same_tree(tree):
    """Paths where @tree (the series applied) and build/ours/src differ."""
    build.assemble('ours')
    ours = paths.src('ours')
    changed = set(git(tree, 'diff', '--name-only', f'{base_tag()}',
                      'HEAD').split())
    with open(os.path.join(ours, '.hwpt-manifest.json')) as f:
        import json
        changed |= set(json.load(f))
    differ = []
    for rel in sorted(changed):
        a, b = os.path.join(tree, rel), os.path.join(ours, rel)
        if os.path.exists(a) != os.path.exists(b) or \
                (os.path.exists(a) and not build._same(a, b)):
            differ.append(rel)
    return differ


def series_check(full=False, out=sys.stdout, series_dir=SERIES_DIR):
    """Apply the series with git am on the pristine base, checkpatch and
    build every patch, compare the result with the harness's tree.

    Prints one line per patch; returns a list of (name, ok, detail)."""
    patches = series_patches(series_dir)
    if not patches:
        sys.exit(f'hwpt: no series in {os.path.relpath(series_dir, paths.REPO)}'
                 '/: run make series first')
    tag = ensure_history()
    tree = paths.src(CHECK_KERNEL)
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(os.path.dirname(tree), exist_ok=True)
    git(paths.BUILD, 'clone', '-q', '--no-checkout', HISTORY, tree)
    git(tree, 'checkout', '-q', '-B', 'check', tag)
    results = []

    def say(line):
        print(line, file=out, flush=True)

    env = dict(os.environ, GIT_COMMITTER_NAME='series-check',
               GIT_COMMITTER_EMAIL='series-check@localhost')
    res = subprocess.run(['git', '-C', tree, 'am', '-q', *patches], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    applied = int(git(tree, 'rev-list', '--count', f'{tag}..HEAD'))
    say(f'== series-check: {len(patches)} patches on {tag} '
        f'({os.path.relpath(series_dir, paths.REPO)}/)')
    results.append(('series.apply', applied == len(patches) and
                    not res.returncode,
                    f'{applied} of {len(patches)} patches applied with git am'
                    + ('' if not res.returncode else f'\n{res.stdout[-2000:]}')))
    shas = git(tree, 'rev-list', '--reverse', f'{tag}..HEAD').split()
    variants = [None]
    if full:
        variants += sorted(n[:-len('.config')]
                           for n in os.listdir(paths.VARIANTS)
                           if n.endswith('.config'))
    for i, (patch, sha) in enumerate(zip(patches, shas), 1):
        git(tree, 'checkout', '-q', sha)
        err, warn, chk, text = _checkpatch(tree, patch)
        subject = git(tree, 'log', '-1', '--format=%s', sha)
        builds = []
        for variant in variants:
            t = time.time()
            try:
                obj = paths.obj(CHECK_KERNEL, variant)
                build.configure(CHECK_KERNEL, obj,
                                paths.variant_fragment(variant)
                                if variant else None,
                                os.path.join(paths.kdir(CHECK_KERNEL),
                                             'build.log'))
                build._make(CHECK_KERNEL, 'bzImage', 'modules', obj=obj)
                build.build_core_kunit(CHECK_KERNEL, variant)
                builds.append((variant or 'test', True,
                               fmt_secs(time.time() - t)))
            except SystemExit as e:
                builds.append((variant or 'test', False,
                               str(e).splitlines()[-1][:200]))
        built = all(b[1] for b in builds)
        cp_ok = not err and not warn
        say(f'{i:02d}/{len(patches):02d} {subject[:58]:58s} applied, '
            f'checkpatch {err}/{warn}/{chk}, build '
            + ', '.join(f'{v} {"OK" if ok else "FAILED"} ({d})'
                        for v, ok, d in builds))
        results.append((f'series.checkpatch.{i:02d}', cp_ok,
                        f'{os.path.basename(patch)}: {err} errors, {warn} '
                        f'warnings, {chk} checks'
                        + ('' if cp_ok else '\n' + text[-3000:])))
        results.append((f'series.build.{i:02d}', built,
                        f'{os.path.basename(patch)}: ' + ', '.join(
                            f'{v} {"OK" if ok else "FAILED: " + d}'
                            for v, ok, d in builds)))
    differ = _same_tree(tree) if applied == len(patches) else ['(not applied)']
    say('final tree: ' + ('identical to build/ours/src' if not differ else
                          'DIFFERS from build/ours/src: ' + ' '.join(differ[:20])))
    results.append(('series.identical', not differ,
                    'the last patch\'s tree ' + ('is' if not differ else
                                                 'is not') +
                    ' byte-identical to the harness\'s ours'
                    + ('' if not differ else ': ' + ' '.join(differ[:50]))))
    nfail = sum(1 for _, ok, _ in results if not ok)
    say(f'{len(results) - nfail} passed, {nfail} failed')
    return results
