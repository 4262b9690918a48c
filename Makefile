# floatip: see README.md. The test, demo and bench targets need root: they
# build network namespaces.

GO        ?= go
PREFIX    ?= /usr
OCF_ROOT  ?= /usr/lib/ocf
DESTDIR   ?=
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN       := bin/floatip
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# What the tests drive: heartbeat:IPaddr2 and ocf-tester (resource-agents),
# crm_resource, pcs, xmllint, ip, tcpdump and strace; cluster-test also
# runs the cluster itself (pacemaker, corosync) and unshare and nsenter
# (util-linux). floatip itself needs none of them at run time.
DEB_PACKAGES := resource-agents pacemaker-cli-utils pcs crmsh pacemaker corosync libxml2-utils iproute2 tcpdump strace util-linux

export PATH := $(PATH):/usr/local/go/bin

.PHONY: all build demo bench test unit lint fuzz deps man install uninstall clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/floatip

# deps installs the Debian packages the tests use, only when one is missing,
# so that a second run is fast.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# demo runs the failover scenario live: AGENT=heartbeat runs it with
# heartbeat:IPaddr2 instead.
AGENT ?= floatip
demo: deps build
	$(GO) run ./tests/demo -agent $(AGENT) -binary $(BIN)

# bench measures floatip against heartbeat:IPaddr2 side by side in network
# namespaces and prints the table of the README's Benchmarks section
# (go run ./tests/bench -h for the repetition counts).
bench: deps build
	$(GO) run ./tests/bench -binary $(BIN)

test: deps lint build
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz FUZZTIME=10s

# cluster-test runs two real Pacemaker+Corosync nodes and a client in
# namespaces on this machine, moves the VIP (ocf:floatip:IPaddr2) by pcs,
# by a node's death and by a node's shutdown, and checks that the client
# follows each time; it prints the timings (README: Live cluster test).
.PHONY: cluster-test
cluster-test: deps build
	$(GO) run ./tests/cluster -binary $(BIN)

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /tests)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(GO) run $(STATICCHECK) ./...

FUZZTIME ?= 30s
# fuzz runs each fuzz target for FUZZTIME: the parameter parser, the
# command line over the actions that change nothing (FuzzRun), and the
# netlink address parser (FuzzDecodeAddr). Their seed
# corpora are kept in testdata/fuzz/ beside them.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzRun$$' -fuzztime $(FUZZTIME) ./cmd/floatip
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeAddr$$' -fuzztime $(FUZZTIME) ./internal/netif

# man renders floatip(8) from the meta-data, with the binary itself.
MAN := $(BIN).8
man: build
	$(BIN) man > $(MAN)

install: build man
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/floatip
	install -D -m 0644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man8/floatip.8
	install -d -m 0755 $(DESTDIR)$(OCF_ROOT)/resource.d/floatip
	ln -sf $(PREFIX)/sbin/floatip $(DESTDIR)$(OCF_ROOT)/resource.d/floatip/IPaddr2

uninstall:
	rm -f $(DESTDIR)$(OCF_ROOT)/resource.d/floatip/IPaddr2 $(DESTDIR)$(PREFIX)/sbin/floatip $(DESTDIR)$(PREFIX)/share/man/man8/floatip.8
	-rmdir $(DESTDIR)$(OCF_ROOT)/resource.d/floatip

# deb builds $(DEB_DIR)/floatip_<version>_<arch>.deb from $(BIN) with
# nfpm (packaging/nfpm.yaml): /usr/sbin/floatip and the provider path, and
# no run-time dependency. A Debian version must start with a digit, so a
# version that is not a tag (git describe gives a commit hash) becomes
# 0~<hash>, and its dashes become pluses.
NFPM       := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
DEB_DIR    ?= bin
DEB_VERSION = $(shell echo '$(VERSION)' | sed -e 's/^v//' -e 's/^\([^0-9]\)/0~\1/' -e 's/-/+/g')
.PHONY: deb
deb: build man
	mkdir -p $(DEB_DIR)
	FLOATIP_BIN='$(BIN)' FLOATIP_MAN='$(MAN)' FLOATIP_ARCH=$$($(GO) env GOARCH) FLOATIP_VERSION='$(DEB_VERSION)' \
		$(GO) run $(NFPM) package --config packaging/nfpm.yaml --packager deb --target $(DEB_DIR)/

clean:
	rm -rf bin
