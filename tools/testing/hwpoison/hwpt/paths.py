# SPDX-License-Identifier: GPL-2.0
"""Where things live: the repo, build/ and the per-kernel artefacts."""

import os

HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.abspath(os.path.join(HARNESS, '..', '..', '..'))
BUILD = os.path.join(REPO, 'build')
LOGS = os.path.join(BUILD, 'logs')
CONFIG_FRAGMENT = os.path.join(REPO, 'configs', 'hwpoison-test.config')
# Applied after it to kernels whose tree has our mm/memory-failure/ core.
CORE_CONFIG_FRAGMENT = os.path.join(REPO, 'configs', 'core.config')
# ours: the default series; stock: the pristine base; next: ours plus the
# steps not yet default (patches/series-next, patches/replaced-next).
KERNELS = ('ours', 'stock', 'next')


# Each kernel has build/KERNEL/{src,obj}: the same relative path from objects
# to sources, so ccache (with CCACHE_BASEDIR=build) shares every unchanged
# object between the two kernels.  The stock source is the pristine base.
def kdir(kernel):
    return os.path.join(BUILD, kernel)


def src(kernel):
    return os.path.join(kdir(kernel), 'src')


def obj(kernel):
    return os.path.join(kdir(kernel), 'obj')


def bzimage(kernel):
    return os.path.join(obj(kernel), 'arch', 'x86', 'boot', 'bzImage')


def initramfs(kernel):
    return os.path.join(kdir(kernel), 'initramfs.cpio.gz')


def kmod(kernel):
    return os.path.join(kdir(kernel), 'kmod')


BASE = src('stock')
