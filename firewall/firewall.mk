# firewall/: sekisho-firewall. fwkernel.c is the only file with a socket.
FIREWALL_CORE_SRCS := \
	firewall/fwbatch.c \
	firewall/fwrender.c \
	firewall/fwrule.c \
	firewall/fwunit.c

# What a daemon links to check its host's firewall at start-up.
FIREWALL_CHECK_OBJS := $(FIREWALL_CORE_SRCS:%.c=$(BUILD)/obj/%.o) \
	$(BUILD)/obj/firewall/fwverify.o $(BUILD)/obj/firewall/fwkernel.o

FIREWALL_CORE_OBJS := $(FIREWALL_CORE_SRCS:%.c=$(BUILD)/obj/%.o)
FIREWALL_OBJS := $(BUILD)/obj/firewall/firewall.o $(FIREWALL_CHECK_OBJS)
FIREWALL_BIN := $(BUILD)/bin/sekisho-firewall
LIBS_NFT := -lnftnl -lmnl
PROGRAMS += $(FIREWALL_BIN)

$(FIREWALL_BIN): $(FIREWALL_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(FIREWALL_OBJS) $(COMMON_LIB) \
		$(LIBS_NFT) $(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP)
