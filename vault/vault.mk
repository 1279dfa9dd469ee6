# vault/: sekisho-vault, the isolated processing host.
# The engine (everything but vault.c) is pure and shared with the tests.
VAULT_CORE_SRCS := \
	vault/action.c \
	vault/anon.c \
	vault/cp932.c \
	vault/csv.c \
	vault/dict.c \
	vault/policy.c

VAULT_CORE_OBJS := $(VAULT_CORE_SRCS:%.c=$(BUILD)/obj/%.o)
# The daemon and the console around it.
VAULT_DAEMON_SRCS := \
	vault/approve.c \
	vault/check.c \
	vault/console.c \
	vault/engine.c \
	vault/envelope.c \
	vault/job.c \
	vault/vault.c \
	vault/vaultd.c

VAULT_OBJS := $(VAULT_DAEMON_SRCS:%.c=$(BUILD)/obj/%.o) $(VAULT_CORE_OBJS)
VAULT_BIN := $(BUILD)/bin/sekisho-vault
PROGRAMS += $(VAULT_BIN)

# The firewall check is sekisho-firewall's own verify, run as a program:
# no netlink code is linked here.
$(VAULT_BIN): $(VAULT_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(VAULT_OBJS) \
		$(COMMON_LIB) $(LIBS_CONFIG) $(LIBS_CRYPTO) \
		$(LIBS_SECCOMP) -lm
