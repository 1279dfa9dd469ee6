# common/: the static library every program links.
COMMON_SRCS := \
	common/audit.c \
	common/config.c \
	common/daemon.c \
	common/daemon_parent.c \
	common/hclient.c \
	common/http.c \
	common/json.c \
	common/jsonr.c \
	common/log.c \
	common/netaddr.c \
	common/proc.c \
	common/proto.c \
	common/sandbox.c \
	common/seal.c \
	common/server.c \
	common/sk.c \
	common/tls.c \
	common/tls_client.c \
	common/tls_server.c \
	common/util.c

COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
COMMON_LIB := $(BUILD)/lib/libsekisho-common.a

$(COMMON_LIB): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^
