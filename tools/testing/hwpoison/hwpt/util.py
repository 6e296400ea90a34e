# SPDX-License-Identifier: GPL-2.0
"""Small helpers shared by the harness modules."""

import subprocess
import sys
import time

_T0 = time.time()


def log(msg):
    """A progress line on stderr, so stdout stays the report."""
    print(f'[hwpt {time.time() - _T0:6.1f}s] {msg}', file=sys.stderr, flush=True)


def run(cmd, quiet=False, logfile=None, **kw):
    """Run @cmd; on failure show the tail of its output and exit."""
    if not quiet:
        return subprocess.run(cmd, check=True, **kw)
    if logfile:
        # Stream into the log, so a long build can be followed with tail -f.
        with open(logfile, 'a') as f:
            f.write(f'$ {" ".join(cmd)}\n')
            f.flush()
            res = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, **kw)
        if res.returncode:
            with open(logfile, errors='replace') as f:
                tail = '\n'.join(f.read().splitlines()[-40:])
            sys.exit(f'hwpt: command failed ({res.returncode}): '
                     f'{" ".join(cmd)}\n{tail}')
        return res
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, errors='replace', **kw)
    if res.returncode:
        tail = '\n'.join(res.stdout.splitlines()[-40:])
        sys.exit(f'hwpt: command failed ({res.returncode}): {" ".join(cmd)}\n'
                 f'{tail}')
    return res


def sh_out(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True,
                          **kw).stdout.strip()


def fmt_secs(s):
    return f'{int(s) // 60}m{int(s) % 60:02d}s'
