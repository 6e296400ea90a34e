# SPDX-License-Identifier: GPL-2.0
"""Base tree, assembly of our series, kernel and guest builds.

Layout under build/ (ignored by git):
  stock/src/                 pristine Debian base, unpacked once
  ours/src/                  base + our files + patches/series (assembled)
  KERNEL/obj/                O= objects of each kernel (same config)
  KERNEL/kmod/               out-of-tree KUnit modules built against it,
                             and copies of its in-tree KUnit modules
  KERNEL/initramfs.cpio.gz   the guest's root
  KERNEL/build.log           the kernel build's output
  guest/                     static guest programs (kernel-independent)
"""

import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

from . import paths
from .util import log, run, sh_out

BASE_PACKAGE = 'linux-source-6.12'
BASE_TARBALL = '/usr/src/linux-source-6.12.tar.xz'

# Top-level kernel directories: files of ours under them are overlaid whole.
KERNEL_TOP_DIRS = ('arch', 'block', 'Documentation', 'drivers', 'fs',
                   'include', 'init', 'kernel', 'lib', 'mm', 'samples',
                   'scripts', 'security', 'tools', 'virt')
# Our own host-side harness is not part of the kernel tree.
NOT_OVERLAID = ('tools/testing/hwpoison/',)


def base_version():
    """Return (kernelversion, Debian package version) of the base."""
    kver = sh_out(['make', '-s', '-C', paths.BASE, 'kernelversion'])
    try:
        dver = sh_out(['dpkg-query', '-W', '-f=${Version}', BASE_PACKAGE])
    except subprocess.CalledProcessError:
        dver = 'unknown'
    return kver, dver


def ensure_base():
    """Unpack Debian's linux-source-6.12 into build/base once."""
    if os.path.exists(os.path.join(paths.BASE, 'Makefile')):
        return
    if not os.path.exists(BASE_TARBALL):
        run(['apt-get', 'install', '-y', '-q', BASE_PACKAGE])
    log(f'unpacking {BASE_TARBALL}')
    tmp = paths.BASE + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)      # also creates build/stock/
    run(['tar', '-xJf', BASE_TARBALL, '-C', tmp])
    shutil.rmtree(paths.BASE, ignore_errors=True)
    os.rename(os.path.join(tmp, BASE_PACKAGE), paths.BASE)
    os.rmdir(tmp)


def _overlay_files():
    """Our files that go into the kernel tree, as repo-relative paths."""
    out = []
    for top in KERNEL_TOP_DIRS:
        root = os.path.join(paths.REPO, top)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                rel = os.path.relpath(os.path.join(dirpath, name), paths.REPO)
                if not rel.startswith(NOT_OVERLAID):
                    out.append(rel)
    return out


def _list_file(name):
    """Non-comment lines of patches/NAME ([] if it does not exist)."""
    path = os.path.join(paths.REPO, 'patches', name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.split('#', 1)[0].strip() for l in f
                if l.split('#', 1)[0].strip()]


# The 'next' kernel is ours plus the steps not yet made default:
# patches/series-next and patches/replaced-next on top of the usual lists.
def _series(kernel='ours'):
    """The ordered patch files of @kernel's series."""
    names = _list_file('series')
    if kernel == 'next':
        names += _list_file('series-next')
    return [os.path.join(paths.REPO, 'patches', n) for n in names]


def _replaced(kernel='ours'):
    """Upstream files that ours take the place of (patches/replaced)."""
    names = _list_file('replaced')
    if kernel == 'next':
        names += _list_file('replaced-next')
    return names


def _patch_paths(patch):
    """Files a git-format patch touches."""
    touched = set()
    with open(patch, errors='replace') as f:
        for line in f:
            if line.startswith(('--- a/', '+++ b/')):
                touched.add(line[6:].rstrip('\n').split('\t')[0])
    return touched


def _same(a, b):
    if not os.path.exists(b) or os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        return fa.read() == fb.read()


def assemble(kernel='ours'):
    """Assemble build/KERNEL/src = base + our files - replaced + our patches.

    Only files whose content changes are rewritten, so the O= objects stay
    valid and an edit to one of our files rebuilds only what depends on it.
    A patch that does not apply exactly (fuzz or reject) stops the build.
    """
    ensure_base()
    src = paths.src(kernel)
    if not os.path.exists(os.path.join(src, 'Makefile')):
        log(f'copying the base to build/{kernel}/src (once)')
        tmp = src + '.tmp'
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(os.path.dirname(src), exist_ok=True)
        run(['cp', '-a', paths.BASE, tmp])
        os.rename(tmp, src)

    overlay = _overlay_files()
    patches = _series(kernel)
    replaced = _replaced(kernel)
    touched = set(overlay) | set(replaced)
    for p in patches:
        touched |= _patch_paths(p)

    stage = os.path.join(paths.kdir(kernel), 'stage')
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    for rel in sorted(touched):
        b = os.path.join(paths.BASE, rel)
        if os.path.isfile(b):
            os.makedirs(os.path.dirname(os.path.join(stage, rel)), exist_ok=True)
            shutil.copy2(b, os.path.join(stage, rel))
    for rel in overlay:
        dst = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(paths.REPO, rel), dst)
    for rel in replaced:
        if os.path.exists(os.path.join(stage, rel)):
            os.unlink(os.path.join(stage, rel))
    for p in patches:
        with open(p) as f:
            if '\ndiff --git ' not in f.read():
                continue        # a commit of our files only
        res = subprocess.run(['patch', '-p1', '--fuzz=0', '--forward',
                              '--batch', '--no-backup-if-mismatch',
                              '--reject-file=-', '-d', stage, '-i', p],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        if res.returncode:
            sys.exit(f'hwpt: patch {os.path.relpath(p, paths.REPO)} does not '
                     f'apply to the base:\n{res.stdout}')

    manifest_path = os.path.join(src, '.hwpt-manifest.json')
    try:
        with open(manifest_path) as f:
            old = set(json.load(f))
    except (OSError, ValueError):
        old = set()

    changed = 0
    for rel in sorted(touched):
        s, d = os.path.join(stage, rel), os.path.join(src, rel)
        if os.path.exists(s):
            if not _same(s, d):
                os.makedirs(os.path.dirname(d), exist_ok=True)
                shutil.copyfile(s, d)
                shutil.copymode(s, d)
                changed += 1
        elif os.path.exists(d):
            os.unlink(d)
            changed += 1
    # Files we no longer touch go back to the base's version.
    for rel in sorted(old - touched):
        b, d = os.path.join(paths.BASE, rel), os.path.join(src, rel)
        if os.path.exists(b):
            shutil.copy2(b, d)
        elif os.path.exists(d):
            os.unlink(d)
        changed += 1
    with open(manifest_path, 'w') as f:
        json.dump(sorted(touched), f)
    shutil.rmtree(stage)
    log(f'assembled {kernel}: {len(overlay)} files of ours, {len(patches)} '
        f'patches, {len(replaced)} upstream files replaced, '
        f'{changed} files changed since last time')


def kernel_src(kernel):
    return paths.src(kernel)


def _make_env():
    env = dict(os.environ)
    env.setdefault('CCACHE_DIR', os.path.expanduser('~/.cache/ccache'))
    env['CCACHE_BASEDIR'] = paths.BUILD
    env['CCACHE_NOHASHDIR'] = '1'
    env['KBUILD_BUILD_TIMESTAMP'] = '2024-01-01'
    env['KBUILD_BUILD_USER'] = 'hwpt'
    env['KBUILD_BUILD_HOST'] = 'hwpt'
    return env


def _make(kernel, *targets, extra=(), obj=None, logfile=None):
    obj = obj or paths.obj(kernel)
    cmd = ['make', '-C', kernel_src(kernel), f'O={obj}', 'CC=ccache gcc',
           f'-j{os.cpu_count() or 2}', *extra, *targets]
    return run(cmd, env=_make_env(), quiet=True,
               logfile=logfile or os.path.join(paths.kdir(kernel), 'build.log'))


def _fragment_settings(frag):
    """{CONFIG_X: 'y'/'m'/value/None for 'is not set'} of a fragment."""
    out = {}
    with open(frag) as f:
        for line in f:
            line = line.strip()
            m = re.match(r'# (CONFIG_\w+) is not set$', line)
            if m:
                out[m.group(1)] = None
            elif line.startswith('CONFIG_') and '=' in line:
                k, v = line.split('=', 1)
                out[k] = v
    return out


# Our core's Kconfig, once mm/Kconfig sources it.
CORE_KCONFIG = re.compile(r'^\s*source\s+"mm/memory-failure/Kconfig"', re.M)


def has_core(kernel):
    """Whether @kernel's assembled tree configures our mm/memory-failure/."""
    try:
        with open(os.path.join(kernel_src(kernel), 'mm', 'Kconfig')) as f:
            return bool(CORE_KCONFIG.search(f.read()))
    except OSError:
        return False


def config_fragments(kernel, variant=None):
    """The fragments merged on allnoconfig for @kernel: the test config,
    then @variant.  Every kernel gets the same: with the same config the
    kernels' autoconf.h is the same, and ccache shares every object whose
    sources the series does not change (direct hits)."""
    return [paths.CONFIG_FRAGMENT] + ([variant] if variant else [])


def configure(kernel, obj=None, variant=None, logfile=None):
    """allnoconfig + our fragments (see config_fragments()).

    Regenerated only when one of the fragments changes.  Fails when a
    setting of @variant, or of the test config when there is none, did
    not take (a missing dependency).
    """
    obj = obj or paths.obj(kernel)
    os.makedirs(obj, exist_ok=True)
    frags = config_fragments(kernel, variant)
    digest = hashlib.sha256()
    for frag in frags:
        with open(frag, 'rb') as f:
            digest.update(f.read())
    digest = digest.hexdigest()
    stamp = os.path.join(obj, '.hwpt-config-stamp')
    if os.path.exists(os.path.join(obj, '.config')) and \
            os.path.exists(stamp) and open(stamp).read() == digest:
        return
    names = ' + '.join(os.path.relpath(f, paths.REPO) for f in frags)
    log(f'configuring {kernel}: allnoconfig + {names}')
    _make(kernel, 'allnoconfig', obj=obj, logfile=logfile)
    run([os.path.join(kernel_src(kernel), 'scripts/kconfig/merge_config.sh'),
         '-m', '-O', obj, os.path.join(obj, '.config'), *frags], quiet=True,
        cwd=kernel_src(kernel))
    _make(kernel, 'olddefconfig', obj=obj, logfile=logfile)
    with open(os.path.join(obj, '.config')) as f:
        have = {}
        for line in f:
            if line.startswith('CONFIG_') and '=' in line:
                k, v = line.strip().split('=', 1)
                have[k] = v
    last = frags[-1]
    want = _fragment_settings(last)
    missing = [f'{k}={v}' if v else f'{k} off'
               for k, v in want.items() if have.get(k) != v]
    if missing:
        sys.exit('hwpt: the config fragment did not take ('
                 + os.path.relpath(last, paths.REPO) + '): '
                 + ', '.join(missing))
    with open(stamp, 'w') as f:
        f.write(digest)


def _build_log(kernel, variant=None):
    name = f'build-{variant}.log' if variant else 'build.log'
    return os.path.join(paths.kdir(kernel), name)


def build_kernel(kernel, variant=None):
    """Build bzImage (and modules) for @kernel, or its @variant; returns
    the seconds taken."""
    if kernel == 'stock':
        ensure_base()
    else:
        assemble(kernel)
    obj, blog = paths.obj(kernel, variant), _build_log(kernel, variant)
    configure(kernel, obj, paths.variant_fragment(variant) if variant else None,
              blog)
    t = time.time()
    log(f'building {kernel}{"-" + variant if variant else ""} kernel (log: '
        f'{os.path.relpath(blog, paths.REPO)})')
    _make(kernel, 'bzImage', 'modules', 'headers', obj=obj, logfile=blog)
    return time.time() - t


# The core's KUnit suites (mm/memory-failure/tests/) are built as an
# external module with their Kconfig symbols given to make, not set in the
# kernel's config: so the kernel's config stays the test config, as for
# stock (see config_fragments()).
CORE_KUNIT = os.path.join('mm', 'memory-failure', 'tests')
CORE_KUNIT_SYMBOLS = ('CONFIG_MEMORY_FAILURE_KUNIT_TEST=m',
                      'CONFIG_MEMORY_FAILURE_INTEGRATION_KUNIT_TEST=y')


def build_core_kunit(kernel, variant=None, logfile=None):
    """Build memory_failure_kunit.ko from @kernel's tree against its
    objects; returns its path, or None when the tree has no such tests."""
    tests = os.path.join(kernel_src(kernel), CORE_KUNIT)
    if not has_core(kernel) or not os.path.exists(os.path.join(tests,
                                                               'Makefile')):
        return None
    with open(os.path.join(paths.obj(kernel, variant), '.config')) as f:
        config = f.read()
    if not re.search(r'^CONFIG_MEMORY_FAILURE=y$', config, re.M) or \
            not re.search(r'^CONFIG_KUNIT=y$', config, re.M):
        return None
    mdir = paths.kmod_core(kernel, variant)
    os.makedirs(mdir, exist_ok=True)
    names = [n for n in os.listdir(tests)
             if os.path.isfile(os.path.join(tests, n))]
    for n in os.listdir(mdir):
        if os.path.isfile(os.path.join(mdir, n)) and n not in names and \
                n.endswith(('.c', '.h')):
            os.unlink(os.path.join(mdir, n))
    for n in names:
        if not _same(os.path.join(tests, n), os.path.join(mdir, n)):
            shutil.copy2(os.path.join(tests, n), os.path.join(mdir, n))
    # "../memory-failure.h" and "../../internal.h" resolve from the tree's
    # tests/ directory, named with -I.
    _make(kernel, 'modules', extra=[f'M={mdir}', f'KCFLAGS=-I{tests}',
                                    *CORE_KUNIT_SYMBOLS],
          obj=paths.obj(kernel, variant),
          logfile=logfile or _build_log(kernel, variant))
    return os.path.join(mdir, 'memory_failure_kunit.ko')


def build_kunit_modules(kernel, variant=None):
    """Build the out-of-tree KUnit modules against @kernel and add the
    in-tree ones it built; returns the .ko files to load."""
    mdir = paths.kmod(kernel, variant)
    os.makedirs(mdir, exist_ok=True)
    kdir = os.path.join(paths.HARNESS, 'kunit')
    for name in os.listdir(kdir):
        s, d = os.path.join(kdir, name), os.path.join(mdir, name)
        if not _same(s, d):
            shutil.copy2(s, d)
    _make(kernel, 'modules', extra=[f'M={mdir}'],
          obj=paths.obj(kernel, variant), logfile=_build_log(kernel, variant))
    core = build_core_kunit(kernel, variant)
    dst = os.path.join(mdir, 'memory_failure_kunit.ko')
    if core and not _same(core, dst):
        shutil.copy2(core, dst)
    elif not core and os.path.exists(dst):
        os.unlink(dst)
    return sorted(os.path.join(mdir, n) for n in os.listdir(mdir)
                  if n.endswith('.ko'))


# Harness helpers that run in the guest (tools/testing/hwpoison/guest/).
HELPERS = ('hwpt-victim', 'hwpt-write', 'hwpt-pfn', 'hwpt-stress',
           'hwpt-bench')
SELFTESTS = os.path.join('tools', 'testing', 'selftests', 'mm')
# What the kselftest mm Makefile links into every test.
SELFTEST_LIBS = ('vm_util.c', 'thp_settings.c')


def selftest_names():
    """Our kselftest programs: tools/testing/selftests/mm/memory-failure*.c."""
    d = os.path.join(paths.REPO, SELFTESTS)
    return sorted(n[:-2] for n in os.listdir(d) if n.startswith('memory-failure')
                  and n.endswith('.c'))


def _compile(out, srcs, flags, deps=(), fatal=True):
    """Static build of @srcs into @out when any input is newer.

    Returns '' or, when not @fatal, the compiler's output on failure (and
    @out is removed, so a stale binary never runs).
    """
    deps = list(srcs) + list(deps)
    if os.path.exists(out) and all(os.path.getmtime(out) >= os.path.getmtime(d)
                                   for d in deps):
        return ''
    tmp = f'{out}.{os.getpid()}.tmp'
    cmd = ['gcc', '-static', '-O2', '-g', '-Wall', '-o', tmp, *flags, *srcs]
    if fatal:
        run(cmd, quiet=True)
    else:
        res = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        if res.returncode:
            if os.path.exists(out):
                os.unlink(out)
            return res.stdout
    os.replace(tmp, out)
    return ''


def build_guest_programs(kernel, variant=None):
    """Static guest programs, against @kernel's exported uapi headers.

    Returns {selftest name: compiler output} for selftests that did not
    build; the harness reports those as failures and runs the others.
    """
    out = paths.guest_bin(kernel, variant)
    os.makedirs(out, exist_ok=True)
    hdrs = os.path.join(paths.obj(kernel, variant), 'usr', 'include')
    mm = os.path.join(paths.BASE, SELFTESTS)
    ours = os.path.join(paths.REPO, SELFTESTS)
    headers = [os.path.join(ours, n) for n in os.listdir(ours)
               if n.endswith('.h')]
    for name in HELPERS:
        _compile(os.path.join(out, name),
                 [os.path.join(paths.HARNESS, 'guest', f'{name}.c')],
                 ['-isystem', hdrs], deps=headers)
    # The base's page-types, the injector's companion (-b hwpoison, -X, -x).
    tools = os.path.join(paths.src(kernel), 'tools')
    _compile(os.path.join(out, 'page-types'),
             [os.path.join(tools, 'mm', 'page-types.c'),
              os.path.join(tools, 'lib', 'api', 'fs', 'fs.c')],
             ['-isystem', hdrs, '-I', os.path.join(tools, 'lib'),
              '-I', os.path.join(tools, 'include'),
              '-I', os.path.join(tools, 'lib', 'api'), '-w'])
    libs = [os.path.join(mm, n) for n in SELFTEST_LIBS]
    errors = {}
    for name in selftest_names():
        # Our directory first: its files are newer than the base's.
        err = _compile(os.path.join(out, name),
                       [os.path.join(ours, f'{name}.c')] + libs,
                       ['-isystem', hdrs, '-I', ours, '-I', mm], deps=headers,
                       fatal=False)
        if err:
            errors[name] = err
    return errors


def _cpio_entry(out, name, mode, data=b'', rdev=(0, 0), ino=[1000]):
    """One newc cpio member (no root or mknod needed for device nodes)."""
    ino[0] += 1
    name_b = name.encode() + b'\0'
    hdr = '070701' + ''.join(f'{v:08x}' for v in (
        ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
        len(name_b), 0))
    out.write(hdr.encode() + name_b)
    out.write(b'\0' * ((4 - (110 + len(name_b)) % 4) % 4))
    out.write(data)
    out.write(b'\0' * ((4 - len(data) % 4) % 4))


def build_initramfs(kernel, modules, variant=None):
    """Write a gzipped newc cpio: busybox, init, agent, our programs, modules.

    Returns (path, {selftest: compiler output} of those that did not build).
    """
    errors = build_guest_programs(kernel, variant)
    bindir = paths.guest_bin(kernel, variant)
    files = {
        'init': (0o100755, os.path.join(paths.HARNESS, 'guest', 'init')),
        'hwpt/agent.sh': (0o100755, os.path.join(paths.HARNESS, 'guest', 'agent.sh')),
        'etc/profile': (0o100644, os.path.join(paths.HARNESS, 'guest', 'profile')),
        'hwpt/bin/hwpt-host': (0o100755, os.path.join(paths.HARNESS, 'guest',
                                                      'hwpt-host')),
        'bin/busybox': (0o100755, '/bin/busybox'),
    }
    for name in sorted(os.listdir(bindir)):
        files[f'hwpt/bin/{name}'] = (0o100755, os.path.join(bindir, name))
    for m in modules:
        files[f'hwpt/modules/{os.path.basename(m)}'] = (0o100644, m)
    dirs = sorted({os.path.dirname(n) for n in files if os.path.dirname(n)} |
                  {'dev', 'proc', 'sys', 'tmp', 'mnt', 'root', 'etc', 'sbin'})
    out_path = paths.initramfs(kernel, variant)
    with gzip.open(out_path + '.tmp', 'wb', compresslevel=1) as out:
        for d in dirs:
            _cpio_entry(out, d, 0o040755)
        _cpio_entry(out, 'dev/console', 0o020600, rdev=(5, 1))
        for name in sorted(files):
            mode, src = files[name]
            with open(src, 'rb') as f:
                _cpio_entry(out, name, mode, f.read())
        _cpio_entry(out, 'TRAILER!!!', 0)
    os.replace(out_path + '.tmp', out_path)
    return out_path, errors


def check_variant(variant):
    """Exit with a clear message unless configs/variants/@variant exists."""
    if variant and not os.path.exists(paths.variant_fragment(variant)):
        names = sorted(n[:-len('.config')]
                       for d in (paths.VARIANTS, paths.FLAVOURS)
                       if os.path.isdir(d) for n in os.listdir(d)
                       if n.endswith('.config'))
        sys.exit(f'hwpt: no variant "{variant}": configs/variants/ and '
                 'configs/flavours/ have ' + ', '.join(names))


def build_all(kernel, variant=None):
    """Everything a boot of @kernel (in @variant) needs; returns a dict of
    facts.

    Holds build/KERNEL/.lock meanwhile, so that concurrent runs (two
    shells, or helpers) wait for each other instead of sharing an O= tree
    or the assembled source.
    """
    check_variant(variant)
    t0 = time.time()
    os.makedirs(paths.kdir(kernel), exist_ok=True)
    with open(os.path.join(paths.kdir(kernel), '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        secs = build_kernel(kernel, variant)
        mods = build_kunit_modules(kernel, variant)
        initrd, selftest_errors = build_initramfs(kernel, mods, variant)
    kver, dver = base_version()
    frag = paths.variant_fragment(variant) if variant else None
    config = ' + '.join(os.path.relpath(f, paths.REPO)
                        for f in config_fragments(kernel, frag))
    return {'kernel': kernel, 'variant': variant,
            'bzimage': paths.bzimage(kernel, variant),
            'config': config, 'initrd': initrd,
            'selftest_errors': selftest_errors, 'kernel_build_s': secs,
            'build_s': time.time() - t0, 'base': f'{BASE_PACKAGE} {kver} '
            f'(Debian {dver})'}


def build_matrix(kernel):
    """Build @kernel in each configs/variants/*.config on top of the test
    config, each in build/KERNEL/obj-VARIANT; print a line per variant.
    Returns the number of variants that did not build."""
    failed = 0
    variants = sorted(n[:-len('.config')] for n in os.listdir(paths.VARIANTS)
                      if n.endswith('.config'))
    os.makedirs(paths.kdir(kernel), exist_ok=True)
    with open(os.path.join(paths.kdir(kernel), '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if kernel == 'stock':
            ensure_base()
        else:
            assemble(kernel)
        print(f'== build matrix: kernel={kernel}, base '
              f'{" ".join(base_version())}', flush=True)
        for variant in variants:
            obj, blog = paths.obj(kernel, variant), _build_log(kernel, variant)
            t = time.time()
            try:
                configure(kernel, obj, paths.variant_fragment(variant), blog)
                _make(kernel, 'bzImage', 'modules', obj=obj, logfile=blog)
                status = 'OK'
            except SystemExit as e:
                status = f'FAILED ({str(e).splitlines()[0]})'
                failed += 1
            print(f'{variant:28s} {status}  {int(time.time() - t)} s  '
                  f'(log: {os.path.relpath(blog, paths.REPO)})', flush=True)
    print(f'{len(variants) - failed} built, {failed} failed')
    return failed
