# Sekisho: one non-recursive Makefile; each folder lists its sources in its
# own .mk. `make` builds the hardened programs into build/bin/; `make SAN=1`
# builds the same with ASan and UBSan into build/san/. `make V=1` shows
# every command.

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
else
BUILD ?= build
endif

CC ?= cc
ifeq ($(origin CC),default)
CC = cc
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Wcast-qual \
	-Wno-cast-qual
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -pthread -MMD -MP $(WARNINGS) \
	-Icommon -Icommon/unicode -Icommon/daemon -Ivault -Ivault/anon -Ifirewall -Isender
HARDEN_CFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-fstack-clash-protection -fcf-protection -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--as-needed
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# The sandbox lets the sanitizers' runtime do its work in this build only.
SAN_DEFS := -DSK_SANITIZER_BUILD

ifeq ($(SAN),1)
ALL_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN_FLAGS) $(SAN_DEFS) -fPIE $(CFLAGS)
ALL_LDFLAGS := $(SAN_FLAGS) -pie -pthread $(LDFLAGS)
else
ALL_CFLAGS := $(BASE_CFLAGS) -O2 $(HARDEN_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(HARDEN_LDFLAGS) -pthread $(LDFLAGS)
endif

LIBS_CRYPTO := -lssl -lcrypto
LIBS_CONFIG := -lconfig
LIBS_SECCOMP := -lseccomp

PROGRAMS :=
TEST_PROGRAMS :=

.PHONY: all test check fuzz fuzz-bin soak deps bench demo demo-up \
	demo-down clean tests-bin install check-reqs deb
all:

include common/common.mk
include firewall/firewall.mk
include receiver/receiver.mk
include sender/sender.mk
include vault/vault.mk
include tests/tests.mk

all: $(PROGRAMS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# `make test`: what CI runs. Installs missing Debian packages (as root),
# builds the hardened and the sanitizer builds, and runs unit tests (ASan
# and UBSan, then valgrind), the fuzz targets on their corpora, and the
# integration tests against the sanitizer-built daemons.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

test: deps
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) SAN=1 all tests-bin
	$(MAKE) -j$(JOBS) tests-bin
	tests/run-tests.sh

# `make soak`: the namespace bed with 1,000 uploads through the whole
# pipeline (`make test` sends 300).
soak: all
	BED_UPLOADS=1000 tests/integration/test_bed.sh

# `make fuzz`: every fuzz target for FUZZ_SECONDS (600) on its corpus, one
# after another; what it finds new is left in build/fuzz/found-TARGET/ to
# look at (and to add to the corpus by hand), crashes as crash-* there.
FUZZ_SECONDS ?= 600
fuzz: fuzz-bin
	@for f in build/fuzz/fuzz_*; do \
		t=$${f##*/fuzz_}; mkdir -p build/fuzz/found-$$t; \
		echo "=== $$f ($(FUZZ_SECONDS) s)"; \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
		$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=build/fuzz/found-$$t/ -close_fd_mask=3 \
			build/fuzz/found-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# `make check`: the unit tests alone, built with ASan and UBSan; fails
# when one does (the full suite is `make test`).
check: deps
	$(MAKE) SAN=1 tests-bin
	@failed=0; for t in build/san/tests/test_*; do \
		echo "=== $$t"; "$$t" || failed=$$((failed + 1)); \
	done; echo "check: $$failed unit test program(s) failed"; \
	[ $$failed -eq 0 ]

deps:
	@tests/deps.sh

# `make demo`: the whole appliance in network namespaces, its story, and
# everything removed again. `make demo-up` leaves it running (and writes
# build/demo/env.sh); `make demo-down` removes it.
demo: deps
	$(MAKE) all
	tests/bed/demo.sh run

demo-up: deps
	$(MAKE) all
	tests/bed/demo.sh up

demo-down:
	tests/bed/demo.sh down

# `make bench`: each case against a peer measured in the same run (nginx,
# pandas); BENCH=upload, download, push, anonymize, search, pipeline or slow
# runs one group.
# `make check-reqs`: docs/requirements-map.md, every requirement ID with
# the tests named after it; fails while an ID has none (see its last line).
check-reqs:
	python3 tests/check_reqs.py

bench: all
	@tests/deps.sh bench
	tests/bench/run.sh $(BENCH)

# `make install DESTDIR=... PREFIX=/usr`: the programs, systemd units,
# sysusers.d and tmpfiles.d entries, man pages and the example site, in
# Debian's places. Configuration and keys are the administrator's: see
# docs/admin-guide.md.
PREFIX ?= /usr
SBINDIR := $(PREFIX)/sbin
UNITDIR := $(PREFIX)/lib/systemd/system
MANDIR := $(PREFIX)/share/man
DOCDIR := $(PREFIX)/share/doc/sekisho
SYSCONFDIR ?= /etc
COMPLDIR := $(PREFIX)/share/bash-completion/completions
INSTALL_UNITS := $(wildcard deploy/systemd/*.service deploy/systemd/*.timer)
INSTALL_EXAMPLES := $(wildcard deploy/examples/site/*.conf)

install: all
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(PREFIX)/lib/tmpfiles.d \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/examples/policies $(DESTDIR)$(SYSCONFDIR)/sekisho
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(SBINDIR)/
	install -m 0755 deploy/pki.sh $(DESTDIR)$(SBINDIR)/sekisho-pki
	for u in $(INSTALL_UNITS); do \
		sed 's|/usr/sbin/|$(SBINDIR)/|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	install -m 0644 deploy/sysusers.d/*.conf $(DESTDIR)$(PREFIX)/lib/sysusers.d/
	install -m 0644 deploy/tmpfiles.d/*.conf $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/
	install -m 0644 docs/man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(INSTALL_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 deploy/examples/site/policies/*.policy \
		$(DESTDIR)$(DOCDIR)/examples/policies/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -d -m 0755 $(DESTDIR)$(COMPLDIR)
	install -m 0644 deploy/bash-completion/sekisho \
		$(DESTDIR)$(COMPLDIR)/sekisho-firewall
	for p in receiver vault sender pki; do \
		ln -sf sekisho-firewall $(DESTDIR)$(COMPLDIR)/sekisho-$$p || exit 1; \
	done

# `make deb`: the Debian packages in build/deb/: sekisho (the firewall and
# PKI tools, timers, manual pages, example site) and one per role
# (sekisho-receiver, -vault, -sender), built by dpkg-buildpackage in a copy
# of the tree where deploy/debian/ becomes debian/ (the top level keeps its
# layout); each role's sysusers.d and tmpfiles.d entries go to its own
# package. Install on a host with `apt install ./sekisho_*.deb
# ./sekisho-ROLE_*.deb` (docs/admin-guide.md).
VERSION := $(shell sed -n 's/^\#define SK_VERSION "\(.*\)"$$/\1/p' common/version.h)
DEB_DIR := build/deb
DEB_SRC := $(DEB_DIR)/sekisho-$(VERSION)

deb: deps
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	tar --exclude=./build --exclude=./.git -cf - . | tar -C $(DEB_SRC) -xf -
	cp -r deploy/debian $(DEB_SRC)/debian
	cp deploy/tmpfiles.d/sekisho.conf $(DEB_SRC)/debian/sekisho.tmpfiles
	for r in receiver vault sender; do \
		cp deploy/sysusers.d/sekisho-$$r.conf $(DEB_SRC)/debian/sekisho-$$r.sysusers && \
		cp deploy/tmpfiles.d/sekisho-$$r.conf $(DEB_SRC)/debian/sekisho-$$r.tmpfiles || exit 1; \
	done
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b -j$(JOBS) >../build.log 2>&1 || \
		{ tail -40 ../build.log; exit 1; }
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf build

-include $(shell find build -path build/deb -prune -o -type f -name '*.d' -print 2>/dev/null)
