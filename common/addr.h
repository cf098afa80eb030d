/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4-or-IPv6 address used in every xgw structure (conntrack keys,
 * services, backends, routes, rules), so that no layer assumes 4 bytes. */
#ifndef XGW_ADDR_H
#define XGW_ADDR_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* Network byte order.  IPv4 lives in b[0..3] with b[4..15] zero, so that
 * two addresses compare and hash with memcmp over the whole struct. */
struct xgw_addr {
	uint8_t family; /* AF_INET or AF_INET6; 0 = unset */
	uint8_t pad[3];
	union {
		uint8_t b[16];
		uint32_t w[4];
		uint64_t q[2];
	};
};

/* An address with a prefix length: routes, policy and steering CIDRs. */
struct xgw_prefix {
	struct xgw_addr addr; /* host bits are zero */
	uint8_t len;
};

/* Whole 8-byte stores, not a memset and then narrower stores: the fast
 * path hashes and compares the address as 8-byte words right after
 * building it, and a load spanning two stores defeats store forwarding
 * (a stall of a dozen cycles or more per load). */
static inline void xgw_addr_v4(struct xgw_addr *a, uint32_t be_addr)
{
	uint8_t lo[8] = {0}, hb[8] = {AF_INET}; /* family, then zero padding */
	uint64_t head, q0;

	_Static_assert(sizeof(struct xgw_addr) == 24, "family word + 16 bytes");
	memcpy(lo, &be_addr, 4);
	memcpy(&q0, lo, 8);
	memcpy(&head, hb, 8);
	memcpy(a, &head, 8);
	a->q[0] = q0;
	a->q[1] = 0;
}

static inline void xgw_addr_v6(struct xgw_addr *a, const void *b16)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	memcpy(a->b, b16, 16);
}

static inline bool xgw_addr_eq(const struct xgw_addr *a, const struct xgw_addr *b)
{
	return a->family == b->family && a->q[0] == b->q[0] && a->q[1] == b->q[1];
}

static inline int xgw_addr_bits(const struct xgw_addr *a)
{
	return a->family == AF_INET6 ? 128 : 32;
}

/* Parse "198.18.0.1" or "2001:db8::1"; 0 or -EINVAL. */
int xgw_addr_parse(struct xgw_addr *a, const char *s);
/* Parse "198.18.0.0/15", "2001:db8::/32" or a bare address (full length).
 * Host bits set in the address are an error, as in `ip route`. */
int xgw_prefix_parse(struct xgw_prefix *p, const char *s);
/* The same form as an interface address ("198.18.1.1/24"): host bits are
 * the point, not an error. */
int xgw_ifaddr_parse(struct xgw_prefix *p, const char *s);
/* Format into buf (at least XGW_ADDR_STRLEN); returns buf. */
#define XGW_ADDR_STRLEN 48
const char *xgw_addr_str(const struct xgw_addr *a, char *buf, size_t len);
const char *xgw_prefix_str(const struct xgw_prefix *p, char *buf, size_t len);
/* Zero the bits past len (0..128).  By 64-bit words: the FIB masks every
 * destination once per prefix length it probes, and a byte loop cost ~100
 * instructions per level. */
static inline void xgw_addr_mask(struct xgw_addr *a, int len)
{
	for (int i = 0; i < 2; i++) {
		int lo = 64 * i;

		if (len >= lo + 64)
			continue;
		a->q[i] &= len <= lo ? 0 : htobe64(~0ull << (64 - (len - lo)));
	}
}
bool xgw_prefix_contains(const struct xgw_prefix *p, const struct xgw_addr *a);

#endif
