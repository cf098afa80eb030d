/* SPDX-License-Identifier: BSD-3-Clause */
/* The compact textual forms xgwctl uses on its command line:
 * "198.18.100.1:80/tcp", "[2001:db8::1]:80/udp", "198.18.2.10:8080". */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"

/* Strict decimal min..65535: no sign, no spaces, no leading junk. */
static int parse_port(const char *s, uint16_t *port, unsigned long min)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (!n || v < min || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int endpoint_parse(const char *s, struct xgw_addr *ip, uint16_t *port,
			  unsigned long min_port)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *colon;
	struct xgw_addr a;
	size_t len;
	int family;

	if (!s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		s++;
		len = (size_t)(end - s);
		colon = end + 1;
		family = AF_INET6; /* brackets are for IPv6 only, as in URLs */
	} else {
		colon = strchr(s, ':');
		/* A second colon means a bare IPv6 address: its port would be
		 * ambiguous ("2001:db8::1:80"), so brackets are required. */
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		len = (size_t)(colon - s);
		family = AF_INET;
	}
	if (!len || len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (xgw_addr_parse(&a, addr) || a.family != family)
		return -EINVAL;
	if (parse_port(colon + 1, port, min_port))
		return -EINVAL;
	*ip = a;
	return 0;
}

int xgw_endpoint_parse(const char *s, struct xgw_addr *ip, uint16_t *port)
{
	return endpoint_parse(s, ip, port, 1);
}

int xgw_listen_parse(const char *s, struct xgw_addr *ip, uint16_t *port)
{
	return endpoint_parse(s, ip, port, 0);
}

int xgw_service_key_parse(const char *s, struct xgw_addr *vip, uint16_t *port, uint8_t *proto)
{
	char ep[INET6_ADDRSTRLEN + 16];
	const char *slash;
	uint8_t p;

	if (!s)
		return -EINVAL;
	slash = strrchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(ep))
		return -EINVAL;
	if (!strcmp(slash + 1, "tcp"))
		p = IPPROTO_TCP;
	else if (!strcmp(slash + 1, "udp"))
		p = IPPROTO_UDP;
	else
		return -EINVAL;
	memcpy(ep, s, (size_t)(slash - s));
	ep[slash - s] = '\0';
	if (xgw_endpoint_parse(ep, vip, port))
		return -EINVAL;
	*proto = p;
	return 0;
}

const char *xgw_endpoint_str(const struct xgw_addr *ip, uint16_t port, char *buf, size_t len)
{
	char a[XGW_ADDR_STRLEN];

	xgw_addr_str(ip, a, sizeof(a));
	if (ip->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
	return buf;
}

const char *xgw_service_key_str(const struct xgw_addr *vip, uint16_t port, uint8_t proto, char *buf,
				size_t len)
{
	char ep[XGW_KEY_STRLEN];

	snprintf(buf, len, "%s/%s", xgw_endpoint_str(vip, port, ep, sizeof(ep)),
		 xgw_proto_name(proto));
	return buf;
}

const char *xgw_proto_name(uint8_t proto)
{
	switch (proto) {
	case 0:
		return "any";
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	default:
		return "?";
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int xgw_mac_parse(uint8_t mac[6], const char *s)
{
	uint8_t m[6];

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + i * 3;
		int hi = hexval(p[0]), lo = hexval(p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, 6);
	return 0;
}
