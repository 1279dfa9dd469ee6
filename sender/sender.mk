# sender/: sekisho-sender, the send-only server on the recipients' side.
SENDER_SRCS := \
	sender/acct.c \
	sender/download.c \
	sender/keeper.c \
	sender/net.c \
	sender/publish.c \
	sender/sender.c \
	sender/store.c

SENDER_OBJS := $(SENDER_SRCS:%.c=$(BUILD)/obj/%.o)
SENDER_BIN := $(BUILD)/bin/sekisho-sender
PROGRAMS += $(SENDER_BIN)

# Like the receiver, it links no firewall code (sekisho-firewall verify).
$(SENDER_BIN): $(SENDER_OBJS) $(DAEMON_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(SENDER_OBJS) \
		$(DAEMON_LIB) $(COMMON_LIB) $(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP)

# sekisho-pusher: the push process, a program of its own so that
# sekisho-sender links no connect(2) (tests/construction.sh looks).
PUSHER_OBJS := $(BUILD)/obj/sender/pusher.o
PUSHER_BIN := $(BUILD)/bin/sekisho-pusher
PROGRAMS += $(PUSHER_BIN)

$(PUSHER_BIN): $(PUSHER_OBJS) $(DAEMON_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(PUSHER_OBJS) \
		$(DAEMON_LIB) $(COMMON_LIB) $(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP)
