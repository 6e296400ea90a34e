# SPDX-License-Identifier: GPL-2.0
"""Where things live: the repo, build/ and the per-kernel artefacts."""

import os

HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.abspath(os.path.join(HARNESS, '..', '..', '..'))
BUILD = os.path.join(REPO, 'build')
LOGS = os.path.join(BUILD, 'logs')
CONFIG_FRAGMENT = os.path.join(REPO, 'configs', 'hwpoison-test.config')
# ours: the default series; stock: the pristine base; next: ours plus the
# steps not yet default (patches/series-next, patches/replaced-next).
KERNELS = ('ours', 'stock', 'next')


# Each kernel has build/KERNEL/{src,obj}: the same relative path from objects
# to sources, so ccache (with CCACHE_BASEDIR=build) shares every unchanged
# object between the two kernels.  The stock source is the pristine base.
# A variant (configs/variants/NAME.config on top of the test config) builds
# from the same source into build/KERNEL/obj-NAME, with its own modules
# and initramfs.
VARIANTS = os.path.join(REPO, 'configs', 'variants')
# Flavours are variants for make check and make stress only, not for the
# build matrix (KASAN).
FLAVOURS = os.path.join(REPO, 'configs', 'flavours')


def variant_fragment(variant):
    path = os.path.join(VARIANTS, f'{variant}.config')
    if not os.path.exists(path):
        path = os.path.join(FLAVOURS, f'{variant}.config')
    return path


def _suffix(variant):
    return f'-{variant}' if variant else ''


def kdir(kernel):
    return os.path.join(BUILD, kernel)


def src(kernel):
    return os.path.join(kdir(kernel), 'src')


def obj(kernel, variant=None):
    return os.path.join(kdir(kernel), 'obj' + _suffix(variant))


def bzimage(kernel, variant=None):
    return os.path.join(obj(kernel, variant), 'arch', 'x86', 'boot', 'bzImage')


def initramfs(kernel, variant=None):
    return os.path.join(kdir(kernel), f'initramfs{_suffix(variant)}.cpio.gz')


def kmod(kernel, variant=None):
    return os.path.join(kdir(kernel), 'kmod' + _suffix(variant))


def kmod_core(kernel, variant=None):
    """Where the core's own KUnit module is built (a copy of its tests/)."""
    return os.path.join(kdir(kernel), 'kmod-core' + _suffix(variant))


def guest_bin(kernel, variant=None):
    return os.path.join(kdir(kernel), 'guest' + _suffix(variant))


BASE = src('stock')
