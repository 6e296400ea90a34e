# SPDX-License-Identifier: GPL-2.0
#
# The hwpoison series on Linux 6.12: build, boot under QEMU, test.
#   make check [KERNEL=stock|next] [T=GLOB] [VARIANT=NAME]
#                                       all tests (or those matching GLOB);
#                                       next = ours + patches/*-next;
#                                       VARIANT: configs/variants/NAME.config
#                                       on top (e.g. preempt-rt)
#   make run                            live demo of the subsystem at work
#   make shell [HOSTROOT=1]             interactive guest shell (HOSTROOT=1:
#                                       host root at /host, see hwpt-host)
#   make build [KERNEL=stock]           just build the kernel and the guest
#   make stress [KERNEL=stock] [DUR=300] [KASAN=1] [FAULTS=1]
#                                       races: errors on busy pages, hotplug,
#                                       machine checks, invariants checked
#   make bench [B=GLOB]                 ours against stock, booted alternately:
#                                       hwpoison benchmarks (B: sharers,
#                                       single, burst, soft-offline, ...;
#                                       see hwpt/bench.py), table in
#                                       build/logs/latest-bench/bench.txt
#   make series [V=N]                   the series as git format-patch, in
#                                       build/series/ (signed with your git
#                                       identity)
#   make series-check [FULL=1]          git am it on the base, checkpatch and
#                                       build every patch, compare the result
#   make build-matrix [KERNEL=stock]    build with each configs/variants/*.config
#                                       (MEMORY_FAILURE=n, HWPOISON_INJECT=m,
#                                       HUGETLB_PAGE=n) and print the results
# Everything is built under build/ (ignored by git).

KERNEL ?= ours
T ?=
VARIANT ?=
HOSTROOT ?=
HARNESS := tools/testing/hwpoison/hwpoison-harness
DEPS := tools/testing/hwpoison/deps.sh

DUR ?= 300
# KASAN=1 is the kasan flavour (configs/flavours/kasan.config).
ifneq ($(KASAN),)
VARIANT := kasan
endif

.PHONY: check run shell build build-matrix assemble bench series series-check stress deps clean

check: deps
	@python3 $(HARNESS) check --kernel $(KERNEL) --tests '$(T)' \
		--variant '$(VARIANT)'

run: deps
	@python3 $(HARNESS) run --kernel $(KERNEL)

shell: deps
	@python3 $(HARNESS) shell --kernel $(KERNEL) $(if $(HOSTROOT),--hostroot)

build: deps
	@python3 $(HARNESS) build --kernel $(KERNEL) --variant '$(VARIANT)'

build-matrix: deps
	@python3 $(HARNESS) build-matrix --kernel $(KERNEL)

stress: deps
	@python3 $(HARNESS) stress --kernel $(KERNEL) --dur $(DUR) \
		--variant '$(VARIANT)' $(if $(FAULTS),--faults)

bench: deps
	@python3 $(HARNESS) bench --bench '$(B)'

series: deps
	@python3 $(HARNESS) series --version $(or $(V),1)

series-check: deps
	@python3 $(HARNESS) series-check $(if $(FULL),--full)

assemble: deps
	@python3 $(HARNESS) assemble --kernel $(KERNEL)

deps:
	@sh $(DEPS)

# Keeps the pristine base (build/stock/src) and the logs.
clean:
	rm -rf build/ours build/next build/stock/obj* build/stock/kmod* \
		build/stock/initramfs*.cpio.gz build/stock/build*.log \
		build/stock/guest* build/guest
