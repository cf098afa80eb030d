/* SPDX-License-Identifier: BSD-3-Clause */
/* The one way the hot path reads packet headers: the kernel's structs
 * (linux/ip.h, ...) through aligned(1) typedefs, or offsetof() into those
 * structs where a single field is loaded or patched; type values are the
 * kernel's constants (ICMP_ECHO, ICMPV6_ECHO_REQUEST, ...), TCP flags the
 * byte values below.
 * Headers sit at l3_off, 14 (18, 22 with VLAN tags) bytes into the frame:
 * never 4-byte aligned, so plain struct pointers there are undefined. */
#ifndef XGW_HDR_H
#define XGW_HDR_H

#include <netinet/in.h> /* first: makes linux/in6.h defer to glibc */
#include <stddef.h>

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

typedef struct iphdr iphdr_u __attribute__((aligned(1)));
typedef struct ipv6hdr ipv6hdr_u __attribute__((aligned(1)));
typedef struct icmphdr icmphdr_u __attribute__((aligned(1)));
typedef struct icmp6hdr icmp6hdr_u __attribute__((aligned(1)));

/* Byte offsets of single fields, from the start of their header. */
#define XGW_IP4_TTL   offsetof(struct iphdr, ttl)
#define XGW_IP4_PROTO offsetof(struct iphdr, protocol)
#define XGW_IP4_CSUM  offsetof(struct iphdr, check)
#define XGW_IP4_SRC   offsetof(struct iphdr, saddr)
#define XGW_IP4_DST   offsetof(struct iphdr, daddr)
#define XGW_IP6_HLIM  offsetof(struct ipv6hdr, hop_limit)
#define XGW_IP6_SRC   offsetof(struct ipv6hdr, saddr)
#define XGW_IP6_DST   offsetof(struct ipv6hdr, daddr)
#define XGW_IP4_MF	0x2000 /* frag_off, host order (the kernel's IP_MF, net/ip.h) */
#define XGW_IP4_OFFMASK 0x1fff
#define XGW_TCP_DOFF  12 /* data offset in the high 4 bits */
#define XGW_TCP_FLAGS 13 /* the byte after doff: struct tcphdr's bit-fields */
#define XGW_TCP_CSUM  offsetof(struct tcphdr, check)
#define XGW_UDP_CSUM  offsetof(struct udphdr, check)
#define XGW_ICMP_CSUM offsetof(struct icmphdr, checksum)

/* TCP flags, as the byte at XGW_TCP_FLAGS holds them. */
#define XGW_TCP_FIN 0x01
#define XGW_TCP_SYN 0x02
#define XGW_TCP_RST 0x04
#define XGW_TCP_PSH 0x08
#define XGW_TCP_ACK 0x10

#endif
