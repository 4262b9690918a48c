# floatip: see README.md. The test, demo and bench targets need root: they
# build network namespaces.

GO        ?= go
PREFIX    ?= /usr
OCF_ROOT  ?= /usr/lib/ocf
DESTDIR   ?=
BIN       := bin/floatip
# The tools go run takes by version; make lint fails when one is behind
# (tools/modcheck).
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
NFPM_VERSION        := v2.48.0
NFPM                := github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

# VERSION is floatip's one version, without the tag's v: 0.9.0 on the tag
# v0.9.0, 0.9.0-3-gabc1234 three commits after it (git describe). The
# binary prints it (floatip version) and the packages and the tarball are
# named by it. packaging/version.sh says where it comes from: git describe
# when a tag is reachable; in a clone without tags (CI), the newest release
# in CHANGELOG.md plus git describe's -N-gHASH, counted from the commit
# that added that release, so that it sorts after that release and before
# the next one, as a build after the tag does; in a source tarball (no
# git), its VERSION file. make VERSION=1.2.3 overrides it; the environment
# does not, as VERSION is too common a name there.
VERSION   := $(shell packaging/version.sh)
ifeq ($(VERSION),)
$(error packaging/version.sh gave no version)
endif

# SOURCE_DATE_EPOCH is the time of the source: the commit's, or a
# tarball's. It dates a build's changelog entry and every file in the
# packages, so that the same source makes the same packages.
ifeq ($(origin SOURCE_DATE_EPOCH),undefined)
SOURCE_DATE_EPOCH := $(shell packaging/version.sh date)
endif
export SOURCE_DATE_EPOCH

# The Debian packages that each target uses, installed by the deps targets
# when missing. floatip itself needs none of them at run time.
#  - make demo: ip (iproute2), to build the namespaces; with AGENT=heartbeat
#    also heartbeat:IPaddr2 (resource-agents).
#  - make cluster-test: the cluster itself (pacemaker, corosync, pcs,
#    crm_* in pacemaker-cli-utils), heartbeat:IPaddr2 beside floatip,
#    unshare and nsenter (util-linux) and ip.
#  - make test: all of that, and ocf-tester (resource-agents), crm (crmsh),
#    xmllint (libxml2-utils), tcpdump, strace, setpriv (util-linux), groff
#    and man (groff-base, man-db) for the man page; git for the version and
#    release tests; lintian, rpm, rpmlint and cpio for the package tests,
#    which check the .deb and the .rpm and install the .rpm into a scratch
#    root; nft (nftables) to run heartbeat:IPaddr2's clone mode and to read
#    the rules of floatip's own in the clone tests.
#  - make failover-bench: the cluster's packages and keepalived, which it
#    runs in the lab's namespaces only (Debian's unit starts nothing
#    without /etc/keepalived/keepalived.conf), and fence_heuristics_ping
#    (fence-agents, which pacemaker only recommends) for its ping setup.
DEMO_PACKAGES      := iproute2
HEARTBEAT_PACKAGES := resource-agents
CLUSTER_PACKAGES   := $(DEMO_PACKAGES) $(HEARTBEAT_PACKAGES) pacemaker corosync pcs pacemaker-cli-utils util-linux
FBENCH_PACKAGES    := keepalived fence-agents
TEST_PACKAGES      := $(CLUSTER_PACKAGES) $(FBENCH_PACKAGES) crmsh libxml2-utils tcpdump strace groff-base man-db git lintian rpm rpmlint cpio nftables

export PATH := $(PATH):/usr/local/go/bin

.PHONY: all build version demo bench test unit lint fuzz deps demo-deps cluster-deps man completion install uninstall clean

all: build

# DATE is the release date the man page carries: the source's, like
# SOURCE_DATE_EPOCH, so that a rebuild makes the same page.
DATE    := $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%F)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.date=$(DATE)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/floatip

# version prints VERSION (make -s version), for scripts and the tests.
version:
	@echo '$(VERSION)'

# install-packages installs the Debian packages $(1) that are missing, and
# only those, so that a second run is fast.
define install-packages
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi
endef

# make test also compiles the confinement profiles of packaging/confinement
# without loading them: apparmor_parser (apparmor) and checkmodule
# (checkpolicy).
TEST_PACKAGES += apparmor checkpolicy

# deps installs what make test uses (TEST_PACKAGES); demo-deps and
# cluster-deps what make demo and make cluster-test use.
deps:
	$(call install-packages,$(TEST_PACKAGES))

# demo runs the failover scenario live: AGENT=heartbeat runs it with
# heartbeat:IPaddr2 instead, which resource-agents brings.
AGENT ?= floatip
demo-deps:
	$(call install-packages,$(DEMO_PACKAGES) $(if $(filter heartbeat,$(AGENT)),$(HEARTBEAT_PACKAGES)))

demo: demo-deps build
	$(GO) run ./tests/demo -agent $(AGENT) -binary $(BIN)

cluster-deps:
	$(call install-packages,$(CLUSTER_PACKAGES))

# bench measures floatip against heartbeat:IPaddr2 side by side in network
# namespaces and prints the table of docs/dev/benchmarks.md
# (go run ./tests/bench -h for the repetition counts). It counts processes
# with strace.
bench: build
	$(call install-packages,$(DEMO_PACKAGES) $(HEARTBEAT_PACKAGES) strace)
	$(GO) run ./tests/bench -binary $(BIN)

test: deps lint build
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz FUZZTIME=50000x

# cluster-test runs two real Pacemaker+Corosync nodes and a client in
# namespaces on this machine, with fencing on (the lab's own fence agent),
# moves the VIP (ocf:floatip:IPaddr2) by pcs, by a node's death, by
# fencing and by a node's shutdown, and checks that a dead node is fenced
# before the VIP starts elsewhere and that the client follows each time,
# and shares a load-shared clone over three nodes through a node's death;
# it prints the timings (docs/dev/cluster-test.md). AGENT=heartbeat runs the
# same scenarios with ocf:heartbeat:IPaddr2 instead, and says what it skips
# for lack of reload-agent, kill_connections and the depth-10 monitor.
#
# STACK=debian13 runs the same scenarios with every node's corosync,
# Pacemaker 3, pcs, crm tools, fence and resource agents from a Debian 13
# root, which stack-debian13 builds first (docs/dev/cluster-test.md);
# debian12, this machine's own stack, is the default; cluster-bench and
# cluster-chaos take STACK too. ONLY names the scenarios to run
# (two-node,quorum,splitring,clone; default all).
STACK ?= debian12
ONLY  ?=
STACK_DEP   = $(if $(filter debian13,$(STACK)),stack-debian13)
STACK_FLAGS = -stack $(STACK) $(if $(filter debian13,$(STACK)),-stack-root $(STACK_DEBIAN13))
.PHONY: cluster-test
cluster-test: cluster-deps build $(STACK_DEP)
	$(GO) run ./tests/cluster -agent $(AGENT) -binary $(BIN) $(STACK_FLAGS) -only "$(ONLY)"

# stack-debian13 (root) builds STACK_DEBIAN13, a Debian 13 root with the
# cluster stack, with debootstrap and apt from deb.debian.org, once: it is
# kept outside the tree, so that it outlives make clean and a CI step, and
# a second run checks that it is complete and returns
# (tests/cluster/stack/debian13.sh).
STACK_DEBIAN13 ?= /var/cache/floatip/debian13
.PHONY: stack-debian13
stack-debian13:
	$(call install-packages,debootstrap util-linux)
	tests/cluster/stack/debian13.sh $(STACK_DEBIAN13)

# tool-test (root) runs the tests that drive the admins' tools
# (crm_resource, pcs, crmsh, ocf-tester) with the Debian 13 root's, which
# stack-debian13 builds first; make test runs them with this machine's,
# and with the root's when it is there. FLOATIP_REQUIRE_STACKS=debian13
# makes a missing root fail them instead of skipping them
# (tests/internal/labtest/stacks.go). TOOL_STACKS=. runs both stacks.
TOOL_TESTS  = TestCrmResource|TestPcs|TestCIBFile|TestCrm|TestOCFTester
TOOL_STACKS = debian13
.PHONY: tool-test
tool-test: deps stack-debian13
	FLOATIP_REQUIRE_ROOT=1 FLOATIP_REQUIRE_STACKS=debian13 FLOATIP_STACK_DEBIAN13=$(STACK_DEBIAN13) \
		$(GO) test -count=1 -timeout 20m -run '($(TOOL_TESTS))/$(TOOL_STACKS)' ./tests

# cluster-bench (root) runs BENCH_VIPS VIPs (a count, or a list such as
# 10,100) on cluster-test's two-node lab, under the floor (examples/dummy,
# an agent that does nothing: Pacemaker's own cost), floatip and
# heartbeat:IPaddr2 on the same cluster, and prints their failover by
# pcs node standby and by a hard kill, and each node's steady-state CPU
# over BENCH_WINDOW at each BENCH_INTERVAL (a list such as 10s,2s), by a
# cpuacct cgroup per node (cgroup v1); docs/dev/cluster-bench.md.
# cluster-bench-ci is its small run for CI: 10 VIPs, 20 s windows, under
# 4 minutes; it fails as the bench does, and asserts no time.
BENCH_VIPS     ?= 100
BENCH_WINDOW   ?= 120s
BENCH_INTERVAL ?= 10s
DUMMY          := bin/dummy
.PHONY: cluster-bench cluster-bench-ci
cluster-bench: cluster-deps build $(STACK_DEP)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(DUMMY) ./examples/dummy
	$(GO) run ./tests/cluster bench $(STACK_FLAGS) -binary $(BIN) -dummy $(DUMMY) -vips $(BENCH_VIPS) -window $(BENCH_WINDOW) -interval $(BENCH_INTERVAL)

cluster-bench-ci:
	$(MAKE) cluster-bench BENCH_VIPS=10 BENCH_WINDOW=20s BENCH_INTERVAL=10s

# cluster-chaos runs CHAOS_ROUNDS faults in a row (hard kills, cut cables
# and rings, moves, standby, restarts, a killed executor, a VIP deleted by
# hand, a link flap during a start) on a three-node cluster with fencing and
# quorum, and after each checks every node's addresses, the client's
# neighbour entry and pings, the agent's leftovers and the failed actions;
# CHAOS_SEED repeats a run, CHAOS_DURATION bounds it (docs/dev/cluster-chaos.md).
CHAOS_ROUNDS   ?= 40
CHAOS_SEED     ?= 0
CHAOS_DURATION ?= 0
.PHONY: cluster-chaos
cluster-chaos: cluster-deps build $(STACK_DEP)
	$(GO) run ./tests/cluster chaos $(STACK_FLAGS) -agent $(AGENT) -binary $(BIN) -rounds $(CHAOS_ROUNDS) -seed $(CHAOS_SEED) -duration $(CHAOS_DURATION)

# failover-bench (root) measures the failover a client feels with the VIP
# under Pacemaker (floatip and heartbeat:IPaddr2, corosync's default token
# and FB_TOKEN ms) and under keepalived (VRRPv3, advert_int 1 and 0.1), one
# setup after the other on one lab: a graceful move, a hard kill of the
# holder, a cut of its link and a 300 ms flap, FB_REPS times each per
# setup (docs/choosing.md). It fails when a setup loses the VIP for good
# or ends a fault with two holders. FB_SETUPS picks setups:
# keepalived-1,keepalived-0.1,floatip-3000,floatip-tuned,heartbeat-3000,
# heartbeat-tuned, with a second corosync ring on a cable between the
# nodes floatip-tuned-2ring,heartbeat-tuned-2ring, and with one ring and
# fence_heuristics_ping before the fence device floatip-tuned-ping;
# FB_FAULTS faults: graceful,hard-kill,link-cut,flap-300ms. FB_MONITOR is
# the VIP's monitor interval under Pacemaker.
# failover-bench-short is one run of each. failover-bench-ci, what CI runs,
# is one run of each fault on keepalived at advert_int 0.1 and on floatip
# with token 1000 and two rings, the setups that never lose the VIP in the
# lab, in about four minutes: it fails on a lost VIP or two holders, and
# asserts no time.
FB_REPS   ?= 5
FB_SETUPS ?= keepalived-1,keepalived-0.1,floatip-3000,floatip-tuned,heartbeat-3000,heartbeat-tuned,floatip-tuned-2ring,heartbeat-tuned-2ring,floatip-tuned-ping
FB_FAULTS ?= graceful,hard-kill,link-cut,flap-300ms
FB_TOKEN  ?= 1000
FB_MONITOR ?= 10s
.PHONY: failover-bench failover-bench-short failover-bench-ci
failover-bench: cluster-deps build $(STACK_DEP)
	$(call install-packages,$(FBENCH_PACKAGES))
	$(GO) run ./tests/cluster failover-bench $(STACK_FLAGS) -binary $(BIN) -reps $(FB_REPS) -setups $(FB_SETUPS) -faults $(FB_FAULTS) -tuned-token $(FB_TOKEN) -monitor $(FB_MONITOR)

failover-bench-short:
	$(MAKE) failover-bench FB_REPS=1

failover-bench-ci:
	$(MAKE) failover-bench FB_REPS=1 FB_SETUPS=keepalived-0.1,floatip-tuned-2ring

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /tests)

# lint checks the layout's rules (tools/layoutcheck: docs/dev/layout.md), and
# also names each direct dependency or pinned tool that is behind its
# newest release (tools/modcheck), as a warning: a release upstream must
# not turn a green tree red by itself. MODCHECK=strict fails on it. That
# asks the module proxy, which CI has; without one it fails and says so,
# and MODCHECK=off skips it.
MODCHECK ?= on
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	@# Builds everywhere, runs on Linux: a build for another system says at
	@# run time that floatip needs Linux; the labs are Linux only.
	GOOS=darwin $(GO) build ./...
	$(GO) mod tidy -diff
	$(GO) run $(STATICCHECK) ./...
	$(GO) run ./tools/layoutcheck
ifneq ($(MODCHECK),off)
	$(GO) run ./tools/modcheck -go $(GO) $(if $(filter strict,$(MODCHECK)),-strict) honnef.co/go/tools@$(STATICCHECK_VERSION) github.com/goreleaser/nfpm/v2@$(NFPM_VERSION)
endif

FUZZTIME ?= 30s
# make test gives each target a count of inputs (50000x) rather than a
# time: with a time, Go 1.26's fuzzing coordinator can fail a target with
# "context deadline exceeded" when a busy machine makes a worker miss the
# deadline (go.dev/issue/75804, fixed in Go 1.27), with no input to blame.
# fuzz runs each fuzz target for FUZZTIME: the parameter parser, the
# command line over the actions that change nothing (FuzzRun), and the
# netlink address parser (FuzzDecodeAddr). Their seed
# corpora are kept in testdata/fuzz/ beside them.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzRun$$' -fuzztime $(FUZZTIME) ./cmd/floatip
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeAddr$$' -fuzztime $(FUZZTIME) ./internal/netif

# man renders floatip(8) from the meta-data, with the binary itself;
# completion the bash completion, likewise. Both come from the host's
# binary, also for the packages of another architecture: they are the
# same text.
MAN        := $(BIN).8
COMPLETION := $(BIN).bash
man: build
	$(BIN) man > $(MAN).tmp && mv $(MAN).tmp $(MAN)

completion: build
	$(BIN) completion bash > $(COMPLETION).tmp && mv $(COMPLETION).tmp $(COMPLETION)

install: build man completion
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/floatip
	install -D -m 0644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man8/floatip.8
	install -D -m 0644 $(COMPLETION) $(DESTDIR)$(PREFIX)/share/bash-completion/completions/floatip
	install -d -m 0755 $(DESTDIR)$(OCF_ROOT)/resource.d/floatip
	ln -sf $(PREFIX)/sbin/floatip $(DESTDIR)$(OCF_ROOT)/resource.d/floatip/IPaddr2

uninstall:
	rm -f $(DESTDIR)$(OCF_ROOT)/resource.d/floatip/IPaddr2 $(DESTDIR)$(PREFIX)/sbin/floatip \
		$(DESTDIR)$(PREFIX)/share/man/man8/floatip.8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/floatip
	-rmdir $(DESTDIR)$(OCF_ROOT)/resource.d/floatip

# deb and rpm build $(PKG_DIR)/floatip_<version>_<arch>.deb and
# $(PKG_DIR)/floatip-<version>-1.<arch>.rpm of PKG_BIN (by default the
# binary make build made, for this machine's architecture; make release
# sets PKG_BIN and ARCH for the others) with nfpm (packaging/nfpm.yaml):
# /usr/sbin/floatip, the agent's symlink, floatip(8), the bash completion,
# the copyright and the changelog, and no run-time dependency. The version
# is VERSION made Debian- and rpm-safe by packaging/version.sh deb: no "-",
# a pre-release after "~" (before its release), git describe's -N-gHASH
# after "+" (after its tag): 0.9.0, 1.0.0~rc.1, 0.9.0+3.gabc1234. The RPM's
# Release is 1.
#
# The files made for the packages go into STAGE, beside BIN, where nfpm
# runs (packaging/nfpm.yaml names them relative to it).
PKG_DIR ?= bin
PKG_BIN ?= $(BIN)
ARCH    ?=
STAGE   := $(BIN).pkg
.PHONY: deb rpm packages pkgfiles release tarball
packages: deb rpm

pkgfiles: build man completion
	@set -e; deb_version=$$(packaging/version.sh deb '$(VERSION)'); \
	rm -rf $(STAGE); mkdir -p $(STAGE); \
	gzip -9n < $(MAN) > $(STAGE)/floatip.8.gz; \
	cp $(COMPLETION) $(STAGE)/floatip.bash; \
	$(GO) run ./packaging/changelog -format deb -version "$$deb_version" -upstream '$(VERSION)' -date '$(SOURCE_DATE_EPOCH)' CHANGELOG.md > $(STAGE)/changelog; \
	gzip -9n < $(STAGE)/changelog > $(STAGE)/changelog.gz; \
	$(GO) run ./packaging/changelog -format rpm -version "$$deb_version" -upstream '$(VERSION)' -date '$(SOURCE_DATE_EPOCH)' CHANGELOG.md > $(STAGE)/changelog.yml; \
	{ cat packaging/nfpm.yaml; echo 'changelog: changelog.yml'; } > $(STAGE)/nfpm-rpm.yaml

# nfpm-package runs nfpm for packager $(1) with config $(2).
define nfpm-package
	@set -e; mkdir -p $(PKG_DIR); \
	arch='$(ARCH)'; arch=$${arch:-$$($(GO) env GOARCH)}; \
	echo "nfpm: $(1) of $(PKG_BIN) for $$arch into $(PKG_DIR)"; \
	cd $(STAGE) && FLOATIP_BIN='$(abspath $(PKG_BIN))' FLOATIP_TOP='$(CURDIR)' FLOATIP_ARCH="$$arch" \
		FLOATIP_VERSION="$$(cd '$(CURDIR)' && packaging/version.sh deb '$(VERSION)')" \
		$(GO) run $(NFPM) package --config $(2) --packager $(1) --target '$(abspath $(PKG_DIR))/'
endef

deb: pkgfiles
	$(call nfpm-package,deb,'$(CURDIR)/packaging/nfpm.yaml')

rpm: pkgfiles
	$(call nfpm-package,rpm,nfpm-rpm.yaml)

# release makes in RELEASE_DIR, for each of RELEASE_ARCHES: the static
# binary floatip-<VERSION>-linux-<arch>, its .deb and its .rpm; then the
# source tarball floatip-<VERSION>.tar.gz and SHA256SUMS of them all
# (sha256sum -c SHA256SUMS checks them).
RELEASE_DIR    ?= bin/release
RELEASE_ARCHES ?= amd64 arm64
release: tarball build
	@set -e; for arch in $(RELEASE_ARCHES); do \
		bin='$(RELEASE_DIR)/floatip-$(VERSION)-linux-'$$arch; \
		echo "build $$bin"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o "$$bin" ./cmd/floatip; \
		$(MAKE) --no-print-directory deb rpm VERSION='$(VERSION)' BIN='$(BIN)' PKG_BIN="$$bin" ARCH=$$arch PKG_DIR='$(RELEASE_DIR)'; \
	done
	cd $(RELEASE_DIR) && rm -f SHA256SUMS && sha256sum floatip* > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS
	@ls -1 $(RELEASE_DIR)

# tarball makes $(RELEASE_DIR)/floatip-<VERSION>.tar.gz: git archive of
# HEAD with a VERSION file, from which make builds without git. A tree
# with changes (git status not empty) would give binaries that the
# tarball's source does not make, so tarball refuses it, unless
# RELEASE_DIRTY_OK=1: then the tarball holds the work tree's files that git
# tracks or would track, the source the binaries were built from.
TARBALL := floatip-$(VERSION).tar.gz
tarball:
	@set -e; \
	if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" != "$$(pwd -P)" ]; then \
		echo "tarball: the source tarball is made from git, and this tree is no git work tree" >&2; exit 1; fi; \
	mkdir -p $(RELEASE_DIR); \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo '$(VERSION)' > "$$tmp/VERSION"; touch -d @$(SOURCE_DATE_EPOCH) "$$tmp/VERSION"; \
	if [ -z "$$(git status --porcelain)" ]; then \
		git archive --format=tar --prefix=floatip-$(VERSION)/ --add-file="$$tmp/VERSION" HEAD > "$$tmp/src.tar"; \
	elif [ "$(RELEASE_DIRTY_OK)" = 1 ]; then \
		echo "tarball: the work tree has changes: the tarball holds them (RELEASE_DIRTY_OK=1)" >&2; \
		git ls-files -z --cached --others --exclude-standard | \
			xargs -0 -r sh -c 'for f; do if [ -e "$$f" ] || [ -L "$$f" ]; then printf "%s\0" "$$f"; fi; done' sh > "$$tmp/list"; \
		tar='tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH) --transform=flags=rhS;s,^,floatip-$(VERSION)/,'; \
		$$tar --null --no-recursion -T "$$tmp/list" -cf "$$tmp/src.tar"; \
		$$tar -C "$$tmp" -rf "$$tmp/src.tar" VERSION; \
	else \
		echo "tarball: the work tree has changes that git archive HEAD would leave out; commit them, or RELEASE_DIRTY_OK=1" >&2; \
		git status --short >&2; exit 1; \
	fi; \
	gzip -9n < "$$tmp/src.tar" > '$(RELEASE_DIR)/$(TARBALL).tmp'; mv '$(RELEASE_DIR)/$(TARBALL).tmp' '$(RELEASE_DIR)/$(TARBALL)'; \
	echo "$(RELEASE_DIR)/$(TARBALL)"

clean:
	rm -rf bin

# support-matrix writes docs/admin/support.md, the support matrix, from
# the versions in each stack's dpkg database (this machine's, and the
# Debian 13 root's, read-only) and the suites .ci/run runs on each
# (tools/supportmatrix); TestSupportMatrix fails when the committed page
# or the README's table differs from it.
.PHONY: support-matrix
support-matrix:
	$(GO) run ./tools/supportmatrix -ci .ci/run -root debian13=$(STACK_DEBIAN13) > docs/admin/support.md.tmp
	mv docs/admin/support.md.tmp docs/admin/support.md
