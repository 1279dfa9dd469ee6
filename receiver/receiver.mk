# receiver/: sekisho-receiver, the receive-only DMZ server: receiver.c is
# the parent, net.c (with upload.c, dav.c and handover.c) the net process,
# store.c the store process.
RECEIVER_SRCS := \
	receiver/dav.c \
	receiver/handover.c \
	receiver/net.c \
	receiver/receiver.c \
	receiver/store.c \
	receiver/upload.c

RECEIVER_OBJS := $(RECEIVER_SRCS:%.c=$(BUILD)/obj/%.o)
RECEIVER_BIN := $(BUILD)/bin/sekisho-receiver
PROGRAMS += $(RECEIVER_BIN)

# The firewall check is sekisho-firewall's own verify, run as a program:
# no netlink code is linked here.
$(RECEIVER_BIN): $(RECEIVER_OBJS) $(DAEMON_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(RECEIVER_OBJS) \
		$(DAEMON_LIB) $(COMMON_LIB) $(LIBS_CONFIG) $(LIBS_CRYPTO) $(LIBS_SECCOMP)
