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
 *    the checks' range.  The device has the MTU of the way to the
 *    endpoints' remote less the tunnel headers, and a link-local address
 *    of its own (XGW_HCT_DEV_ADDR: a loose reverse-path filter accepts
 *    answers only on a device with an address; a strict one drops them,
 *    which is reported);
 *  - the checker's thread reads each packet the stack puts into the
 *    device, finds the probe by its source port, and sends it,
 *    encapsulated for the backend's endpoint (type, VNI, inner MAC), to the
 *    remote from a UDP socket bound to tunnel.local_ip and the tunnel's
 *    port;
 *  - the backend answers through its tunnel.  The steering program (and
 *    the kernel datapath) hands a tunnel packet whose inner packet goes to
 *    tunnel.local_ip and a check port, or is an ICMP error about a check's
 *    packet, to the kernel instead of the workers, so that it reaches that
 *    UDP socket; the thread validates it as the workers would
 *    (tunnel/codec.c) and checks that it answers an open probe, from that
 *    probe's backend and through its endpoint, then writes the inner IP
 *    packet into the device, where the check's socket gets it.
 * A device lost or failed (deleted, an I/O error) is closed and opened
 * again XGW_HCT_RETRY_MS later, as is one that could not be opened;
 * meanwhile the checks through tunnels fail with the reason.  Geneve needs
 * no kernel module: the codec is xgw's.  IPv4 backends only: the checks
 * leave from tunnel.local_ip (IPv4, as the underlay). */
#ifndef XGW_HEALTH_TUN_PATH_H
#define XGW_HEALTH_TUN_PATH_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "steer-bpf/steer_maps.h"

#define XGW_HCT_PORTS	 (XGW_CHECK_PORT_MAX - XGW_CHECK_PORT_MIN + 1)
#define XGW_HCT_DEV_ADDR "169.254.64.1"
#define XGW_HCT_RETRY_MS 1000

/* A tunnel endpoint as the checks need it. */
struct xgw_hct_ep {
	uint32_t remote; /* network order; 0: no endpoint */
	uint32_t vni;
	uint8_t type; /* enum xgw_tun_type */
	bool has_mac;
	uint8_t mac[6];
};

/* What the probe on one source port went to. */
struct xgw_hct_probe {
	struct xgw_hct_ep ep;
	uint32_t be_ip;	  /* the backend (network order) */
	uint16_t be_port; /* the port checked (host order) */
	bool open;	  /* answers accepted: the probe is in flight */
};

/* Drop reasons and counts of the relay (xgw_hct_json names them). */
enum {
	XGW_HCT_SENT,	    /* packets encapsulated towards a backend */
	XGW_HCT_RECEIVED,   /* answers written into the device */
	XGW_HCT_NOT_CHECK,  /* from the device: not a check's TCP/UDP packet */
	XGW_HCT_NO_PROBE,   /* no open probe there, or not from its backend and endpoint */
	XGW_HCT_BAD_HEADER, /* tunnel header refused (as the workers' decap) */
	XGW_HCT_NOT_IPV4,   /* inner frame not IPv4, or truncated */
	XGW_HCT_IO_ERROR,   /* a send or write failed */
	XGW_HCT__MAX,
};

struct xgw_hct {
	int tun, udp[2];  /* udp[0]: VXLAN port, udp[1]: Geneve port; -1: closed */
	int err;	  /* why the device is not running (retried), or 0 */
	int uerr[2];	  /* why udp[k] could not be opened (retried), or 0 */
	const char *warn; /* a setting of the host that defeats it, or NULL */
	char ifname[IF_NAMESIZE];
	/* what it was opened for (kept for the retry) */
	uint32_t local;	  /* network order */
	uint16_t port[2]; /* host order */
	unsigned types;	  /* bit 0: VXLAN, bit 1: Geneve: the sockets needed */
	uint32_t remote;  /* an endpoint's: the way whose MAC and MTU count */
	int ep;
	uint64_t ev_tun, ev_udp;
	uint64_t retry_ms; /* CLOCK_MONOTONIC ms of the next attempt while err */
	int mtu;	   /* the device's */
	uint8_t smac[6];   /* of the way to remote: the inner source */
	uint8_t *buf;	   /* 2 x 64 KiB: the relay's frames */
	struct xgw_hct_probe probe[XGW_HCT_PORTS]; /* by source port - XGW_CHECK_PORT_MIN */
	uint64_t cnt[XGW_HCT__MAX];
};

/* The endpoint of a backend (its tun fields); all zero without one. */
void xgw_hct_ep_of(struct xgw_hct_ep *ep, const struct xgw_backend_cfg *b);

/* Nothing open yet (fds -1, no probes). */
void xgw_hct_init(struct xgw_hct *h);
/* Open (or keep, if nothing changed) the device and the sockets of the
 * tunnel types in `types` (bit 0 VXLAN, bit 1 Geneve) for tunnel section
 * t, with the fds in the epoll set ep under the keys ev_tun, ev_udp + 0/1;
 * remote: an endpoint's, whose way gives the device's MTU and the inner
 * source MAC.  On failure h->err says why (the checks through tunnels fail
 * with it), the error is logged, and xgw_hct_retry opens it again later. */
void xgw_hct_open(struct xgw_hct *h, const struct xgw_tunnel_cfg *t, unsigned types,
		  uint32_t remote, int ep, uint64_t ev_tun, uint64_t ev_udp);
/* Whether something needed failed (h->err, or a needed socket's): then
 * xgw_hct_retry opens it again once h->retry_ms has come. */
bool xgw_hct_failed(const struct xgw_hct *h);
void xgw_hct_retry(struct xgw_hct *h, uint64_t now_ms);
/* The device failed (err): close it all, retry later. */
void xgw_hct_fail(struct xgw_hct *h, int err, uint64_t now_ms);
/* Close the device and sockets (the device goes with its fd) and forget
 * the probes; xgw_hct_fini also frees the buffers. */
void xgw_hct_close(struct xgw_hct *h);
void xgw_hct_fini(struct xgw_hct *h);

/* Make fd (a fresh socket of a check through a tunnel of type) leave
 * through the device: bound to it; the caller then binds tunnel.local_ip
 * and a check port.  0 or -errno (the device's or the type's socket's
 * failure). */
int xgw_hct_bind_device(const struct xgw_hct *h, int fd, unsigned type);

/* A probe of backend be_ip:be_port through ep now owns source port
 * `port`: its packets go to ep, and the backend's answers through ep are
 * accepted until xgw_hct_done.  The way out stays after it (the probe's
 * closing RST is read later). */
void xgw_hct_use(struct xgw_hct *h, uint16_t port, const struct xgw_hct_ep *ep, uint32_t be_ip,
		 uint16_t be_port);
void xgw_hct_done(struct xgw_hct *h, uint16_t port);

/* The device became readable / the UDP socket k did: relay what is there.
 * xgw_hct_from_device: 0, or -errno when the device failed (the caller
 * calls xgw_hct_fail). */
int xgw_hct_from_device(struct xgw_hct *h);
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
 * IPv4 packet starts (*off, *ilen).  It must answer an open probe, from
 * that probe's backend (an ICMP error: quoting a packet to it) and through
 * its endpoint.  XGW_HCT_RECEIVED or the drop reason. */
int xgw_hct_decap(const struct xgw_hct *h, unsigned type, uint32_t remote, const uint8_t *pl,
		  size_t len, size_t *off, size_t *ilen);

/* {"device", "mtu", "sent", "received", "drops": {reason: n}, "error"?,
 * "warning"?} */
json_t *xgw_hct_json(const struct xgw_hct *h);

#endif
