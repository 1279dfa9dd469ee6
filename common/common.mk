# common/: the pure library every program links: configuration, the
# protocol's formats (HTTP, JSON, the receipt), sealed storage, the audit
# log, logging. common/daemon/: the daemons' edge, a second library: their
# processes and messages, sandbox, TLS, the listeners and the client.
COMMON_SRCS := \
	common/audit.c \
	common/audit_schema.c \
	common/config_read.c \
	common/config_show.c \
	common/http.c \
	common/json.c \
	common/jsonr.c \
	common/local.c \
	common/log.c \
	common/msg_ja.c \
	common/netaddr.c \
	common/plausible.c \
	common/proto.c \
	common/seal.c \
	common/site.c \
	common/sk.c \
	common/unicode/nfc.c \
	common/util.c

COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
COMMON_LIB := $(BUILD)/lib/libsekisho-common.a

$(COMMON_LIB): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

DAEMON_SRCS := \
	common/daemon/check.c \
	common/daemon/daemon.c \
	common/daemon/daemon_parent.c \
	common/daemon/hclient.c \
	common/daemon/health.c \
	common/daemon/inspect.c \
	common/daemon/proc.c \
	common/daemon/reload.c \
	common/daemon/sandbox.c \
	common/daemon/server.c \
	common/daemon/tls.c \
	common/daemon/tls_client.c \
	common/daemon/tls_server.c \
	common/daemon/tls_trust.c

DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/obj/%.o)
DAEMON_LIB := $(BUILD)/lib/libsekisho-daemon.a

$(DAEMON_LIB): $(DAEMON_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^
