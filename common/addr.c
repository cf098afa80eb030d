/* SPDX-License-Identifier: BSD-3-Clause */
#include "common/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int xgw_addr_parse(struct xgw_addr *a, const char *s)
{
	uint8_t buf[16];

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, buf) == 1) {
		uint32_t v;
		memcpy(&v, buf, 4);
		xgw_addr_v4(a, v);
		return 0;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		xgw_addr_v6(a, buf);
		return 0;
	}
	return -EINVAL;
}

int xgw_ifaddr_parse(struct xgw_prefix *p, const char *s)
{
	char tmp[64];
	const char *slash;
	long len;
	char *end;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash) {
		if (xgw_addr_parse(&p->addr, s))
			return -EINVAL;
		p->len = (uint8_t)xgw_addr_bits(&p->addr);
		return 0;
	}
	if ((size_t)(slash - s) >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, (size_t)(slash - s));
	tmp[slash - s] = '\0';
	if (xgw_addr_parse(&p->addr, tmp))
		return -EINVAL;
	if (!slash[1])
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || len < 0 || len > xgw_addr_bits(&p->addr))
		return -EINVAL;
	p->len = (uint8_t)len;
	return 0;
}

int xgw_prefix_parse(struct xgw_prefix *p, const char *s)
{
	struct xgw_addr masked;

	if (xgw_ifaddr_parse(p, s))
		return -EINVAL;
	masked = p->addr;
	xgw_addr_mask(&masked, p->len);
	if (!xgw_addr_eq(&masked, &p->addr))
		return -EINVAL; /* host bits set */
	return 0;
}

const char *xgw_addr_str(const struct xgw_addr *a, char *buf, size_t len)
{
	if (a->family == AF_INET || a->family == AF_INET6) {
		if (inet_ntop(a->family, a->b, buf, (socklen_t)len))
			return buf;
	}
	snprintf(buf, len, "-");
	return buf;
}

const char *xgw_prefix_str(const struct xgw_prefix *p, char *buf, size_t len)
{
	char a[XGW_ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", xgw_addr_str(&p->addr, a, sizeof(a)), p->len);
	return buf;
}

bool xgw_prefix_contains(const struct xgw_prefix *p, const struct xgw_addr *a)
{
	struct xgw_addr m;

	if (a->family != p->addr.family)
		return false;
	m = *a;
	xgw_addr_mask(&m, p->len);
	return xgw_addr_eq(&m, &p->addr);
}
