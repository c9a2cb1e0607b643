# zcap: zero-copy packet capture for Linux.
#
#   make            build the library and the tools into build/
#   make demo       install what is missing, build, capture 1,000,000 frames
#   make deps       install every Debian package and the VM kernel
#   make check      every test (installs nothing); ends with "N passed, N failed"
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

# The soname changes only when the ABI breaks; see "ABI" in README.md.
VERSION     := 1.0.0
SOVERSION   := 1
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      := $(PREFIX)/bin
LIBDIR      := $(PREFIX)/lib
INCDIR      := $(PREFIX)/include

CC          ?= gcc
CFLAGS      ?= -O2 -g
CFLAGS      += -std=gnu11 -Wall -Wextra -Werror $(SAN)
CPPFLAGS    += -Iinclude
DEPFLAGS     = -MMD -MP
# What each target links, and no more.
LIB_LDLIBS  := -lpcap -lxdp -lbpf -pthread
PCAP_LDLIBS := -lpcap

B           ?= build
LIB_SRCS    := $(wildcard lib/*.c)
LIB_OBJS    := $(LIB_SRCS:lib/%.c=$(B)/lib/%.o)
LIB_A       := $(B)/libzcap.a
LIB_SO      := $(B)/libzcap.so.$(VERSION)
LIB_SONAME  := libzcap.so.$(SOVERSION)
TOOLS       := $(B)/zcap $(B)/zcap-gen $(B)/zcap-verify $(B)/zcap-arpd
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_TESTS  := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
VM_SRCS     := $(wildcard tests/vm/*.c)
VM_BINS     := $(VM_SRCS:tests/vm/%.c=$(B)/vm/%)

.PHONY: all check san demo install clean deps vm-check vm-bins kmod bench bench-ring bench-fig5 bench-fig5-nic bench-fig5-rtl8139 \
	vm-debug-kernel vm-check-debug

PCAP_SO     := $(B)/libzcap-pcap.so
RUN_SH      := $(B)/zcap-run

all: $(LIB_A) $(LIB_SO) $(B)/libzcap.pc $(TOOLS) $(PCAP_SO) $(RUN_SH)

# zcap-run's LD_PRELOAD library: libpcap's live API on libzcap (linked in
# statically from the -fPIC objects), the rest handed to the system libpcap.
$(B)/pcap/%.o: pcap/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(PCAP_SO): $(B)/pcap/zcap_pcap.o $(LIB_OBJS) pcap/libzcap-pcap.map
	$(CC) $(CFLAGS) -shared -Wl,--version-script=pcap/libzcap-pcap.map -o $@ \
		$(B)/pcap/zcap_pcap.o $(LIB_OBJS) -ldl $(LIB_LDLIBS)

# In the tree, zcap-run finds build/libzcap-pcap.so beside it; installed,
# $(LIBDIR)/libzcap-pcap.so.
$(RUN_SH): tools/zcap-run Makefile
	@mkdir -p $(@D)
	sed -e 's|@LIBDIR@|$(LIBDIR)|' $< > $@
	chmod 755 $@

$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# Every exported symbol carries a version node of lib/libzcap.map.
$(LIB_SO): $(LIB_OBJS) lib/libzcap.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=lib/libzcap.map -o $@ $(LIB_OBJS) $(LIB_LDLIBS)
	ln -sf libzcap.so.$(VERSION) $(B)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(B)/libzcap.so

$(B)/libzcap.pc: libzcap.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# The tools link libzcap statically: they run from the tree without
# LD_LIBRARY_PATH, and an installed zcap does not depend on the .so.
# One object per source, so that each has its own dependency file.
$(B)/tools/%.o: tools/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itools $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(B)/zcap: $(B)/tools/zcap.o $(B)/tools/print.o $(B)/tools/rotate.o $(B)/tools/stats_json.o $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LIB_LDLIBS)

$(B)/zcap-gen: $(B)/tools/zcap-gen.o $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LIB_LDLIBS)
$(B)/zcap-arpd: $(B)/tools/zcap-arpd.o $(B)/tools/arp_cache.o $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LIB_LDLIBS)

# zcap-verify reads files with libpcap only: it does not link libzcap.
$(B)/zcap-verify: $(B)/tools/zcap-verify.o
	$(CC) $(CFLAGS) -o $@ $^ $(PCAP_LDLIBS)

$(B)/tests/%: tests/unit/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itools $(CFLAGS) $(DEPFLAGS) -pthread -o $@ $< $(LIB_A) $(LIB_LDLIBS)

# zcap-arpd's cache is the tool's, not the library's.
$(B)/tests/test_arp: tests/unit/test_arp.c $(B)/tools/arp_cache.o
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itools $(CFLAGS) $(DEPFLAGS) -o $@ $^
# The ABI test links the shared library, as an installed program would.
$(B)/tests/test_abi: tests/unit/test_abi.c $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itools $(CFLAGS) $(DEPFLAGS) -o $@ $< -L$(B) -l:$(LIB_SONAME) \
		-Wl,-rpath,'$$ORIGIN/..'

deps:
	@sh scripts/install-deps.sh

# Test programs that run inside the VM, against the module.
$(B)/vm/%: tests/vm/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itools $(CFLAGS) $(DEPFLAGS) -pthread -o $@ $<

vm-bins: $(VM_BINS)

check:
	@sh scripts/install-deps.sh --check
	@$(MAKE) --no-print-directory all $(UNIT_TESTS) $(VM_BINS)
	@$(MAKE) --no-print-directory san
	@sh tests/run.sh

# The library, the tools and the unit tests again with AddressSanitizer and
# UBSan, in build-san/ (tests/run.sh runs the unit and integration tests on
# them too). Not libzcap-pcap.so: an LD_PRELOADed ASan library needs the
# program itself built with ASan.
SAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
san:
	@$(MAKE) --no-print-directory B=build-san SAN="$(SAN_FLAGS)" \
		build-san/libzcap.a build-san/zcap build-san/zcap-gen build-san/zcap-verify build-san/zcap-arpd \
		$(UNIT_SRCS:tests/unit/%.c=build-san/tests/%)

# The pf_zerocopy module, built against Debian bookworm's 6.1 headers and
# tested in a qemu VM (the build host need not load modules).
vm-check: all vm-bins
	@sh tests/vm/run.sh

# The debug kernel (KASAN, KFENCE, lockdep, PROVE_RCU...; KVARIANT=kcsan for
# KCSAN instead of KASAN), built once into .cache/kernel-debug (most of an
# hour on 2 cores: see README), and every VM suite on it, failing on any splat.
KVARIANT ?= kasan
vm-debug-kernel:
	@sh scripts/install-deps.sh vm debug
	@sh scripts/vm-debug-kernel.sh $(KVARIANT) >/dev/null

vm-check-debug: all vm-bins
	@sh scripts/vm-debug-kernel.sh --vm-check $(KVARIANT)

# pf_zerocopy.ko, then the patched e1000.ko and 8139too.ko (Debian's sources from
# linux-source-6.1 with kmod/e1000/e1000-pfzc.patch, kmod/8139too/8139too-pfzc.patch)
# in build/kmod/e1000/ and build/kmod/8139too/,
# against the VM's kernel.
kmod:
	@sh scripts/vm-deps.sh >/dev/null
	@. .cache/kernel/env.sh && $(MAKE) -C kmod KDIR="$$KDIR" && \
		sh kmod/e1000/build.sh "$$KDIR" "$(CURDIR)/$(B)/kmod/e1000" && \
		sh kmod/8139too/build.sh "$$KDIR" "$(CURDIR)/$(B)/kmod/8139too"

# Benchmarks (never part of check; check runs their smoke modes):
# capturers side by side, then the ring accessors. Results in bench/results/
# and bench/ring/results.md.
bench:
	@sh scripts/install-deps.sh build test bench
	@$(MAKE) --no-print-directory all
	@bash bench/run.sh
	@sh bench/ring/run.sh

bench-ring:
	@sh bench/ring/run.sh

# The paper's Figure 5, in the VM: the rate the sender reaches with each
# receive path beside it (the module's driver path, libpcap, tcpdump), and
# a loss-free rate where one is lost (bench/results/fig5.md).
bench-fig5:
	@sh scripts/install-deps.sh build test vm fig5
	@bash bench/fig5/run.sh

# Figure 5 on the NIC, in the VM: the capturers on the patched e1000 with
# traffic from a host tap device (bench/results/fig5_nic.md).
bench-fig5-nic:
	@sh scripts/install-deps.sh build test vm fig5
	@bash bench/fig5/nic.sh

# ... and on the RTL8139 (the patched 8139too's contiguous ring)
bench-fig5-rtl8139:
	@sh scripts/install-deps.sh build test vm fig5
	@bash bench/fig5/nic.sh --nic rtl8139

demo:
	@sh scripts/install-deps.sh build test
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCDIR)/zcap/uapi
	install -m 755 $(TOOLS) $(RUN_SH) $(DESTDIR)$(BINDIR)/
	install -m 755 $(PCAP_SO) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libzcap.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libzcap.so
	install -m 644 include/zcap.h $(DESTDIR)$(INCDIR)/
	install -m 644 include/uapi/pf_zerocopy.h $(DESTDIR)$(INCDIR)/zcap/uapi/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' libzcap.pc.in \
		> $(DESTDIR)$(LIBDIR)/pkgconfig/libzcap.pc

clean:
	rm -rf $(B) build-san demo-out
	-$(MAKE) -C kmod clean >/dev/null 2>&1

-include $(wildcard $(B)/lib/*.d $(B)/pcap/*.d $(B)/tools/*.d $(B)/tests/*.d $(B)/vm/*.d)
