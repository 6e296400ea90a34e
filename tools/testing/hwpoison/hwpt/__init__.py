# SPDX-License-Identifier: GPL-2.0
"""hwpt: host-side harness for the hwpoison series (build, boot, inject, report)."""
