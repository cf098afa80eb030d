/* SPDX-License-Identifier: BSD-3-Clause */
/* Health checks of tunnel backends: the way through the tunnel.
 *
 * A backend behind VXLAN or Geneve is reached only encapsulated, so its
 * checks cannot simply leave from the gateway's stack.  They still run on
 * that stack (real TCP, HTTP, UDP, as for any backend), over a TUN device
 * of the checker's own (xgwhcN):
 *  - the check's socket is bound to the device (SO_BINDTODEVICE: with no
 *    route through it, the kernel takes the backend as on-link there, so
 *    no route is added to the host) and to tunnel.local_ip with a port of
 *    the checks' range;
 *  - the checker's thread reads each packet the stack puts into the
 *    device, finds the probe by its source port, and sends it,
 *    encapsulated for the backend's endpoint (type, VNI, inner MAC), to the
 *    remote from a UDP socket bound to tunnel.local_ip and the tunnel's
 *    port;
 *  - the backend answers through its tunnel.  The steering program (and
 *    the kernel datapath) hands a tunnel packet whose inner packet goes to
 *    a check port, or is an ICMP error about a check's packet, to the
 *    kernel instead of the workers, so that it reaches that UDP socket;
 *    the thread validates it as the workers would (tunnel/codec.c) and
 *    checks that it comes from the endpoint of the probe on that port,
 *    then writes the inner IP packet into the device, where the check's
 *    socket gets it.
 * Geneve needs no kernel module: the codec is xgw's.  IPv4 backends only:
 * the checks leave from tunnel.local_ip (IPv4, as the underlay). */
#ifndef XGW_HEALTH_TUN_PATH_H
#define XGW_HEALTH_TUN_PATH_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "steer-bpf/steer_maps.h"

#define XGW_HCT_PORTS (XGW_CHECK_PORT_MAX - XGW_CHECK_PORT_MIN + 1)

/* A tunnel endpoint as the checks need it. */
struct xgw_hct_ep {
	uint32_t remote; /* network order; 0: no endpoint */
	uint32_t vni;
	uint8_t type; /* enum xgw_tun_type */
	bool has_mac;
	uint8_t mac[6];
};

/* Drop reasons and counts of the relay (xgw_hct_json names them). */
enum {
	XGW_HCT_SENT,	    /* packets encapsulated towards a backend */
	XGW_HCT_RECEIVED,   /* answers written into the device */
	XGW_HCT_NOT_CHECK,  /* from the device: not a check's TCP/UDP packet */
	XGW_HCT_NO_PROBE,   /* no probe on that port, or another endpoint's */
	XGW_HCT_BAD_HEADER, /* tunnel header refused (as the workers' decap) */
	XGW_HCT_NOT_IPV4,   /* inner frame not IPv4, or truncated */
	XGW_HCT_IO_ERROR,   /* a send or write failed */
	XGW_HCT__MAX,
};

struct xgw_hct {
	int tun, udp[2]; /* udp[0]: VXLAN port, udp[1]: Geneve port; -1: closed */
	int err;	 /* why the device or a socket could not be opened, or 0 */
	char ifname[IF_NAMESIZE];
	uint32_t local;				/* network order */
	uint16_t port[2];			/* host order */
	uint8_t smac[6];			/* of the interface holding local: inner source */
	struct xgw_hct_ep probe[XGW_HCT_PORTS]; /* by source port - XGW_CHECK_PORT_MIN */
	uint64_t cnt[XGW_HCT__MAX];
};

/* The endpoint of a backend (its tun fields). */
void xgw_hct_ep_of(struct xgw_hct_ep *ep, const struct xgw_backend_cfg *b);

/* Nothing open yet (fds -1, no endpoints). */
void xgw_hct_init(struct xgw_hct *h);
/* Open (or keep) the device and sockets for cfg's tunnel section, with
 * its fds in the epoll set ep under the keys ev_tun, ev_udp + 0/1.  On
 * failure h->err says why (the tunnel backends' checks then fail with it)
 * and the error is logged.  The device goes when the checks through
 * tunnels do: xgw_hct_close. */
void xgw_hct_open(struct xgw_hct *h, const struct xgw_config *cfg, int ep, uint64_t ev_tun,
		  uint64_t ev_udp);
void xgw_hct_close(struct xgw_hct *h);

/* Make fd (a fresh socket of a check) leave through the device from
 * tunnel.local_ip: bound to the device; the caller then binds the
 * address and a check port.  0 or -errno. */
int xgw_hct_bind_device(const struct xgw_hct *h, int fd);

/* A probe to ep now owns source port `port`: its packets, and the answers
 * to it, belong to that endpoint (kept after the probe: its closing RST is
 * read later). */
void xgw_hct_use(struct xgw_hct *h, uint16_t port, const struct xgw_hct_ep *ep);

/* The device became readable / the UDP socket k did: relay what is there. */
void xgw_hct_from_device(struct xgw_hct *h);
void xgw_hct_from_tunnel(struct xgw_hct *h, unsigned k);

/* The frame work, without I/O (unit-tested):
 * the UDP payload for ip[0..len) to ep into out (tunnel header, inner
 * Ethernet, the packet): its length, or 0 if it does not fit cap. */
size_t xgw_hct_encap(uint8_t *out, size_t cap, const struct xgw_hct_ep *ep, const uint8_t smac[6],
		     const uint8_t *ip, size_t len);
/* The check port (host order) an IPv4 packet from the device comes from,
 * or 0 (not TCP/UDP, not from a check port, truncated). */
uint16_t xgw_hct_sport(const uint8_t *ip, size_t len);
/* A UDP payload of type (XGW_TUN_VXLAN/GENEVE) from remote: where its inner
 * IPv4 packet starts (*off, *ilen) and the probe it answers must be ep's.
 * XGW_HCT_RECEIVED or the drop reason. */
int xgw_hct_decap(const struct xgw_hct *h, unsigned type, uint32_t remote, const uint8_t *pl,
		  size_t len, size_t *off, size_t *ilen);

/* {"device", "sent", "received", "drops": {reason: n}, "error"?} */
json_t *xgw_hct_json(const struct xgw_hct *h);

#endif
