/*
 * netaddr.h: IPv4 and IPv6 addresses and networks (CIDR prefixes).
 */
#ifndef SK_NETADDR_H
#define SK_NETADDR_H

#include <stdint.h>
#include <sys/socket.h>

struct netaddr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; IPv4 in the first 4 */
	unsigned prefixlen;	/* 32 or 128 for a single address */
};

/*
 * Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (a host prefix).
 * Host bits beyond the prefix must be zero. Returns 0 or SK_EFORMAT.
 */
int netaddr_parse(const char *text, struct netaddr *out);

/* Returns 1 if the socket address lies inside the network, else 0. */
int netaddr_contains(const struct netaddr *net, const struct sockaddr *sa);

/* "192.0.2.0/24", "2001:db8::/48": the network as a site file writes it. */
void netaddr_str(const struct netaddr *n, char *out, size_t outcap);

/* Formats a socket address (without port) into out. */
void netaddr_sockaddr_str(const struct sockaddr *sa, char *out, size_t outcap);

#endif
