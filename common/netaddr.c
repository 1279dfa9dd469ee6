/*
 * netaddr.c: CIDR parsing and matching.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "sk.h"

int
netaddr_parse(const char *text, struct netaddr *out)
{
	struct netaddr na;
	char buf[64], *slash, *end;
	unsigned long plen;
	unsigned maxlen, i;

	if (strlen(text) >= sizeof(buf))
		return SK_EFORMAT;
	memset(&na, 0, sizeof(na));
	strncpy(buf, text, sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, na.addr) == 1) {
		na.family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, na.addr) == 1) {
		na.family = AF_INET6;
		maxlen = 128;
	} else
		return SK_EFORMAT;
	plen = maxlen;
	if (slash != NULL) {
		if (*slash < '0' || *slash > '9')
			return SK_EFORMAT;
		plen = strtoul(slash, &end, 10);
		if (*end != '\0' || plen > maxlen)
			return SK_EFORMAT;
	}
	na.prefixlen = (unsigned)plen;
	/* Host bits must be zero: "192.0.2.1/24" is probably a typo. */
	for (i = na.prefixlen; i < maxlen; i++)
		if (na.addr[i / 8] & (0x80 >> (i % 8)))
			return SK_EFORMAT;
	*out = na;
	return 0;
}

static int
prefix_match(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	uint8_t mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int
netaddr_contains(const struct netaddr *net, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	const uint8_t *addr;

	if (sa->sa_family == AF_INET) {
		if (net->family != AF_INET)
			return 0;
		addr = (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return prefix_match(net->addr, addr, net->prefixlen);
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	addr = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	/* An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d. */
	if (net->family == AF_INET && memcmp(addr, v4mapped, 12) == 0)
		return prefix_match(net->addr, addr + 12, net->prefixlen);
	if (net->family != AF_INET6)
		return 0;
	return prefix_match(net->addr, addr, net->prefixlen);
}

void
netaddr_sockaddr_str(const struct sockaddr *sa, char *out, size_t outcap)
{
	const void *addr;

	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else {
		snprintf(out, outcap, "?");
		return;
	}
	if (inet_ntop(sa->sa_family, addr, out, (socklen_t)outcap) == NULL)
		snprintf(out, outcap, "?");
}

void
netaddr_str(const struct netaddr *n, char *out, size_t outcap)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(n->family, n->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(out, outcap, "%s/%u", a, n->prefixlen);
}
