# vault/: sekisho-vault, the isolated processing host.
# vault/anon/: the anonymization engine and the checker, pure (strings,
# descriptors and memory in, no network, no daemon), a library of their
# own that the engine and checker processes, the console and the tests
# link.
VAULT_CORE_SRCS := \
	vault/anon/action.c \
	vault/anon/anon.c \
	vault/anon/check.c \
	vault/anon/cp932.c \
	vault/anon/csv.c \
	vault/anon/dict.c \
	vault/anon/model.c \
	vault/anon/policy.c \
	vault/anon/policy_show.c \
	vault/anon/search.c

VAULT_CORE_OBJS := $(VAULT_CORE_SRCS:%.c=$(BUILD)/obj/%.o)
ANON_LIB := $(BUILD)/lib/libsekisho-anon.a

$(ANON_LIB): $(VAULT_CORE_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^
# The daemon and the console around it.
VAULT_DAEMON_SRCS := \
	vault/approve.c \
	vault/backup.c \
	vault/codebook.c \
	vault/report_html.c \
	vault/text.c \
	vault/console.c \
	vault/diff.c \
	vault/engine.c \
	vault/envelope.c \
	vault/job.c \
	vault/ledger.c \
	vault/logbook.c \
	vault/process.c \
	vault/publish.c \
	vault/pull.c \
	vault/review.c \
	vault/roster.c \
	vault/route.c \
	vault/trust.c \
	vault/vault.c \
	vault/vaultd.c

VAULT_OBJS := $(VAULT_DAEMON_SRCS:%.c=$(BUILD)/obj/%.o)
VAULT_BIN := $(BUILD)/bin/sekisho-vault
PROGRAMS += $(VAULT_BIN)

# The firewall check is sekisho-firewall's own verify, run as a program:
# no netlink code is linked here.
$(VAULT_BIN): $(VAULT_OBJS) $(ANON_LIB) $(DAEMON_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(VAULT_OBJS) $(ANON_LIB) \
		$(DAEMON_LIB) $(COMMON_LIB) $(LIBS_CONFIG) $(LIBS_CRYPTO) \
		$(LIBS_SECCOMP) -lm
