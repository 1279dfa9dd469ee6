# sender/: sekisho-sender, the send-only server on the recipients' side.
SENDER_SRCS := \
	sender/acct.c \
	sender/download.c \
	sender/publish.c \
	sender/sender.c \
	sender/store.c

SENDER_OBJS := $(SENDER_SRCS:%.c=$(BUILD)/obj/%.o)
SENDER_BIN := $(BUILD)/bin/sekisho-sender
PROGRAMS += $(SENDER_BIN)

# Like the receiver, it links the firewall check, never its apply.
$(SENDER_BIN): $(SENDER_OBJS) $(FIREWALL_CHECK_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(SENDER_OBJS) $(FIREWALL_CHECK_OBJS) \
		$(COMMON_LIB) $(LIBS_NFT) $(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP)
