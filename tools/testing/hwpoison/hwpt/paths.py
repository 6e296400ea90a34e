# SPDX-License-Identifier: GPL-2.0
"""Where things live: the repo, build/ and the per-kernel artefacts."""

import os

HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.abspath(os.path.join(HARNESS, '..', '..', '..'))
BUILD = os.path.join(REPO, 'build')
BASE_DIR = os.path.join(BUILD, 'base')
BASE = os.path.join(BASE_DIR, 'linux-source-6.12')
SRC_OURS = os.path.join(BUILD, 'src-ours')
LOGS = os.path.join(BUILD, 'logs')
CONFIG_FRAGMENT = os.path.join(REPO, 'configs', 'hwpoison-test.config')
KERNELS = ('ours', 'stock')


def obj(kernel):
    return os.path.join(BUILD, f'obj-{kernel}')


def bzimage(kernel):
    return os.path.join(obj(kernel), 'arch', 'x86', 'boot', 'bzImage')


def initramfs(kernel):
    return os.path.join(BUILD, f'initramfs-{kernel}.cpio.gz')
