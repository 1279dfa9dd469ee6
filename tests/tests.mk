# tests/: cmocka unit tests (one per module) and libFuzzer targets.
UNIT_TESTS := sk http config netaddr seal audit json jsonr sandbox proc proto nfc log plausible tls

# Syscalls a test fakes with -Wl,--wrap to reach failure paths.
UNIT_WRAP_seal := -Wl,--wrap=fdatasync -Wl,--wrap=renameat2
UNIT_WRAP_audit := -Wl,--wrap=fdatasync -Wl,--wrap=time
UNIT_WRAP_sandbox := $(foreach f,geteuid getpwnam setgroups setresgid \
	setresuid setuid setgid getresuid getresgid getgroups syscall,\
	-Wl,--wrap=$(f))

UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/test_%)
TEST_PROGRAMS += $(UNIT_BINS)

# The vault engine's modules (vault/anon/), linked with its library.
VAULT_UNIT_TESTS := csv action policy anon search
VAULT_UNIT_BINS := $(VAULT_UNIT_TESTS:%=$(BUILD)/tests/test_%)
TEST_PROGRAMS += $(VAULT_UNIT_BINS)

$(VAULT_UNIT_BINS): $(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o \
		$(ANON_LIB) $(DAEMON_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(ANON_LIB) $(DAEMON_LIB) $(COMMON_LIB) \
		-lcmocka $(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP) -lm

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(DAEMON_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) $(UNIT_WRAP_$*) -o $@ $< $(DAEMON_LIB) $(COMMON_LIB) \
		-lcmocka $(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP)

# The firewall's pure core (no kernel).
FW_UNIT_BIN := $(BUILD)/tests/test_fw
TEST_PROGRAMS += $(FW_UNIT_BIN)

$(FW_UNIT_BIN): $(BUILD)/obj/tests/unit/test_fw.o $(FIREWALL_CORE_OBJS) \
		$(DAEMON_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(FIREWALL_CORE_OBJS) $(DAEMON_LIB) $(COMMON_LIB) \
		-lcmocka $(LIBS_NFT) $(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP)

# The sender's pure parts (store and accounting, without main).
SENDER_UNIT_BIN := $(BUILD)/tests/test_sender
SENDER_CORE_OBJS := $(BUILD)/obj/sender/store.o $(BUILD)/obj/sender/acct.o
TEST_PROGRAMS += $(SENDER_UNIT_BIN)

$(SENDER_UNIT_BIN): $(BUILD)/obj/tests/unit/test_sender.o $(SENDER_CORE_OBJS) \
		$(DAEMON_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(SENDER_CORE_OBJS) $(DAEMON_LIB) $(COMMON_LIB) \
		-lcmocka $(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP)

tests-bin: $(TEST_PROGRAMS)

# libFuzzer targets, built with clang, ASan and UBSan: the sources are
# compiled once (instrumented for coverage, fuzzer-no-link) and each target
# links them with its own entry point.
FUZZ_TARGETS := http config content_digest csv reply proc plausible
FUZZ_CC := clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Icommon -Icommon/unicode -Icommon/daemon -Ivault -Ivault/anon \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_BINS := $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
FUZZ_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(COMMON_SRCS) $(DAEMON_SRCS) $(VAULT_CORE_SRCS))

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) \
		$(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP) -lpthread -lm

fuzz-bin: $(FUZZ_BINS)
