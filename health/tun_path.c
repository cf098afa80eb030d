/* SPDX-License-Identifier: BSD-3-Clause */
/* Health checks through tunnels: the TUN device and the relay
 * (tun_path.h). */
#define XGW_LOG_COMP "health"
#include "health/tun_path.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "tunnel/tunnel.h"

#define ETH_LEN	 14
#define ETH_IPV4 0x0800

void xgw_hct_ep_of(struct xgw_hct_ep *ep, const struct xgw_backend_cfg *b)
{
	memset(ep, 0, sizeof(*ep));
	memcpy(&ep->remote, b->tun_remote.b, 4);
	ep->vni = b->vni;
	ep->type = (uint8_t)b->tun;
	ep->has_mac = b->has_inner_mac;
	if (b->has_inner_mac)
		memcpy(ep->mac, b->inner_mac, 6);
}

size_t xgw_hct_encap(uint8_t *out, size_t cap, const struct xgw_hct_ep *ep, const uint8_t smac[6],
		     const uint8_t *ip, size_t len)
{
	uint16_t et = htons(ETH_IPV4), gp = htons(XGW_GENEVE_PROTO_ETH);
	uint8_t *eth = out + XGW_TUN_HDR_LEN;

	if (cap < XGW_TUN_HDR_LEN + ETH_LEN || len > cap - XGW_TUN_HDR_LEN - ETH_LEN)
		return 0;
	memset(out, 0, XGW_TUN_HDR_LEN);
	if (ep->type == XGW_TUN_VXLAN) {
		out[0] = 0x08; /* I: the VNI is valid (RFC 7348 5) */
	} else {
		memcpy(out + 2, &gp, 2); /* version 0, no options, Ethernet inside */
	}
	out[4] = (uint8_t)(ep->vni >> 16);
	out[5] = (uint8_t)(ep->vni >> 8);
	out[6] = (uint8_t)ep->vni;
	/* The inner destination as the workers write it: the endpoint's MAC,
	 * or, without one, the gateway's own (a remote that bridges ignores
	 * it; one that terminates needs tunnel.mac). */
	memcpy(eth, ep->has_mac ? ep->mac : smac, 6);
	memcpy(eth + 6, smac, 6);
	memcpy(eth + 12, &et, 2);
	memcpy(eth + ETH_LEN, ip, len);
	return XGW_TUN_HDR_LEN + ETH_LEN + len;
}

/* The IPv4 header at ip (len bytes): its length, or 0 if it is not one. */
static size_t ipv4_hlen(const uint8_t *ip, size_t len)
{
	size_t hl;

	if (len < 20 || ip[0] >> 4 != 4)
		return 0;
	hl = (size_t)(ip[0] & 0xf) * 4;
	return hl >= 20 && hl <= len ? hl : 0;
}

/* The port at offset `at` (0: source, 2: destination) of the TCP or UDP
 * header after the IPv4 header at ip, if it is a check port; else 0. */
static uint16_t check_port(const uint8_t *ip, size_t len, unsigned at)
{
	size_t hl = ipv4_hlen(ip, len);
	uint16_t p;

	if (!hl || (ip[9] != IPPROTO_TCP && ip[9] != IPPROTO_UDP) || len < hl + 4)
		return 0;
	/* A later fragment has no ports: the checks' packets are small. */
	if ((ip[6] & 0x1f) || ip[7])
		return 0;
	p = (uint16_t)(ip[hl + at] << 8 | ip[hl + at + 1]);
	return p >= XGW_CHECK_PORT_MIN ? p : 0;
}

uint16_t xgw_hct_sport(const uint8_t *ip, size_t len)
{
	return check_port(ip, len, 0);
}

/* The check port an inner packet from a backend is for: its destination
 * port, or for an ICMP error the source port of the check's packet it
 * quotes.  0: neither. */
static uint16_t answer_port(const uint8_t *ip, size_t len)
{
	size_t hl = ipv4_hlen(ip, len);
	const uint8_t *icmp = ip + hl;

	if (!hl)
		return 0;
	if (ip[9] != IPPROTO_ICMP)
		return check_port(ip, len, 2);
	/* destination unreachable, time exceeded, parameter problem */
	if (len < hl + 8 || (icmp[0] != 3 && icmp[0] != 11 && icmp[0] != 12))
		return 0;
	return check_port(icmp + 8, len - hl - 8, 0);
}

int xgw_hct_decap(const struct xgw_hct *h, unsigned type, uint32_t remote, const uint8_t *pl,
		  size_t len, size_t *off, size_t *ilen)
{
	uint32_t vni, hlen;
	const struct xgw_hct_ep *ep;
	const uint8_t *ip;
	uint16_t port;
	size_t n;
	int rc;

	if (len > UINT32_MAX)
		return XGW_HCT_BAD_HEADER;
	rc = type == XGW_TUN_VXLAN ? xgw_vxlan_check(pl, (uint32_t)len, &vni, &hlen)
				   : xgw_geneve_check(pl, (uint32_t)len, &vni, &hlen);
	if (rc) /* the same rules as the workers' decap (tunnel/codec.c) */
		return XGW_HCT_BAD_HEADER;
	/* The codec checked that the inner Ethernet header is there. */
	if (pl[hlen + 12] != ETH_IPV4 >> 8 || pl[hlen + 13] != (ETH_IPV4 & 0xff))
		return XGW_HCT_NOT_IPV4;
	ip = pl + hlen + ETH_LEN;
	n = len - hlen - ETH_LEN;
	if (!ipv4_hlen(ip, n))
		return XGW_HCT_NOT_IPV4;
	/* Trailing bytes (Ethernet padding) are not the packet's. */
	if ((size_t)(ip[2] << 8 | ip[3]) > n || (ip[2] << 8 | ip[3]) < 20)
		return XGW_HCT_NOT_IPV4;
	n = (size_t)(ip[2] << 8 | ip[3]);
	if (memcmp(ip + 16, &h->local, 4))
		return XGW_HCT_NO_PROBE;
	port = answer_port(ip, n);
	if (!port)
		return XGW_HCT_NO_PROBE;
	/* Only the endpoint the probe on that port went to may answer it:
	 * nothing else gets written into the gateway's stack. */
	ep = &h->probe[port - XGW_CHECK_PORT_MIN];
	if (!ep->remote || ep->remote != remote || ep->vni != vni || ep->type != type)
		return XGW_HCT_NO_PROBE;
	*off = (size_t)(ip - pl);
	*ilen = n;
	return XGW_HCT_RECEIVED;
}

/* The interface holding addr: its MAC and MTU.  0 or -errno. */
static int local_iface(uint32_t addr, uint8_t mac[6], int *mtu)
{
	struct ifaddrs *ifa, *i;
	struct ifreq ifr = {0};
	int fd, rc = -EADDRNOTAVAIL;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == addr)
			break;
	if (i)
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->ifa_name);
	freeifaddrs(ifa);
	if (!i)
		return rc;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = 0;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		rc = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!rc && ioctl(fd, SIOCGIFMTU, &ifr))
		rc = -errno;
	else if (!rc)
		*mtu = ifr.ifr_mtu;
	close(fd);
	return rc;
}

static void write_sysctl(const char *fmt, const char *ifname, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), fmt, ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		pr_warn("%s: %s", path, strerror(errno));
	close(fd);
}

/* The TUN device: up, MTU = the underlay's less the tunnel headers, no
 * IPv6 (its router solicitations would only be read and dropped), no
 * reverse-path filter (the backends' addresses are routed elsewhere, or
 * not at all). */
static int open_device(struct xgw_hct *h, int mtu)
{
	struct ifreq ifr = {0};
	int fd;

	h->tun = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (h->tun < 0)
		return -errno;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "xgwhc%%d");
	if (ioctl(h->tun, TUNSETIFF, &ifr))
		return -errno;
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifr.ifr_name);
	write_sysctl("/proc/sys/net/ipv6/conf/%s/disable_ipv6", h->ifname, "1");
	write_sysctl("/proc/sys/net/ipv4/conf/%s/rp_filter", h->ifname, "0");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ifr.ifr_mtu = mtu - XGW_TUN_OVERHEAD;
	if (ioctl(fd, SIOCSIFMTU, &ifr) || ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		close(fd);
		return -errno;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

static int open_udp(struct xgw_hct *h, unsigned k)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(h->port[k])};

	sa.sin_addr.s_addr = h->local;
	h->udp[k] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->udp[k] < 0)
		return -errno;
	if (bind(h->udp[k], (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	return 0;
}

static int watch(int ep, int fd, uint64_t key)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = key};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

void xgw_hct_close(struct xgw_hct *h)
{
	/* Closing a non-persistent TUN device's fd removes the device. */
	if (h->tun >= 0)
		close(h->tun);
	for (unsigned k = 0; k < 2; k++)
		if (h->udp[k] >= 0)
			close(h->udp[k]);
	h->tun = h->udp[0] = h->udp[1] = -1;
	h->ifname[0] = 0;
}

void xgw_hct_init(struct xgw_hct *h)
{
	memset(h, 0, sizeof(*h));
	h->tun = h->udp[0] = h->udp[1] = -1;
}

void xgw_hct_open(struct xgw_hct *h, const struct xgw_config *cfg, int ep, uint64_t ev_tun,
		  uint64_t ev_udp)
{
	char a[INET_ADDRSTRLEN];
	uint32_t local;
	int mtu = 1500, rc;

	memcpy(&local, cfg->tunnel.local_ip.b, 4);
	if (h->ifname[0] && !h->err && h->local == local && h->port[0] == cfg->tunnel.vxlan_port &&
	    h->port[1] == cfg->tunnel.geneve_port)
		return; /* as it is */
	xgw_hct_close(h);
	h->local = local;
	h->port[0] = cfg->tunnel.vxlan_port;
	h->port[1] = cfg->tunnel.geneve_port;
	rc = local_iface(local, h->smac, &mtu);
	if (!rc)
		rc = open_device(h, mtu);
	for (unsigned k = 0; k < 2 && !rc; k++)
		rc = open_udp(h, k);
	if (!rc)
		rc = watch(ep, h->tun, ev_tun);
	for (unsigned k = 0; k < 2 && !rc; k++)
		rc = watch(ep, h->udp[k], ev_udp + k);
	h->err = -rc;
	inet_ntop(AF_INET, &local, a, sizeof(a));
	if (rc) {
		pr_err("health checks through tunnels cannot run (device %s, tunnel.local_ip %s, "
		       "ports %u/%u): %s",
		       h->ifname[0] ? h->ifname : "xgwhc*", a, h->port[0], h->port[1],
		       strerror(-rc));
		xgw_hct_close(h);
		return;
	}
	pr_info("health checks through tunnels leave by %s (MTU %d) from %s", h->ifname,
		mtu - XGW_TUN_OVERHEAD, a);
}

int xgw_hct_bind_device(const struct xgw_hct *h, int fd)
{
	if (h->err || !h->ifname[0])
		return -(h->err ? h->err : ENODEV);
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, h->ifname, (socklen_t)strlen(h->ifname)))
		return -errno;
	return 0;
}

void xgw_hct_use(struct xgw_hct *h, uint16_t port, const struct xgw_hct_ep *ep)
{
	if (port >= XGW_CHECK_PORT_MIN)
		h->probe[port - XGW_CHECK_PORT_MIN] = *ep;
}

/* Bounded per event: a busy device does not starve the probes' events. */
#define RELAY_BURST 64

void xgw_hct_from_device(struct xgw_hct *h)
{
	uint8_t ip[65536], out[65536];

	for (int i = 0; i < RELAY_BURST; i++) {
		ssize_t n = read(h->tun, ip, sizeof(ip));
		const struct xgw_hct_ep *ep;
		struct sockaddr_in to = {.sin_family = AF_INET};
		uint16_t port;
		size_t len;

		if (n <= 0)
			return;
		port = xgw_hct_sport(ip, (size_t)n);
		ep = port ? &h->probe[port - XGW_CHECK_PORT_MIN] : NULL;
		if (!ep || !ep->remote) {
			h->cnt[!port ? XGW_HCT_NOT_CHECK : XGW_HCT_NO_PROBE]++;
			continue;
		}
		len = xgw_hct_encap(out, sizeof(out), ep, h->smac, ip, (size_t)n);
		to.sin_addr.s_addr = ep->remote;
		to.sin_port = htons(h->port[ep->type == XGW_TUN_VXLAN ? 0 : 1]);
		if (!len || sendto(h->udp[ep->type == XGW_TUN_VXLAN ? 0 : 1], out, len, 0,
				   (struct sockaddr *)&to, sizeof(to)) < 0) {
			h->cnt[XGW_HCT_IO_ERROR]++;
			continue;
		}
		h->cnt[XGW_HCT_SENT]++;
	}
}

void xgw_hct_from_tunnel(struct xgw_hct *h, unsigned k)
{
	uint8_t pl[65536];

	for (int i = 0; i < RELAY_BURST; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(h->udp[k], pl, sizeof(pl), 0, (struct sockaddr *)&from, &fl);
		size_t off, len;
		int r;

		if (n < 0)
			return;
		r = xgw_hct_decap(h, k ? XGW_TUN_GENEVE : XGW_TUN_VXLAN, from.sin_addr.s_addr, pl,
				  (size_t)n, &off, &len);
		if (r == XGW_HCT_RECEIVED && write(h->tun, pl + off, len) != (ssize_t)len)
			r = XGW_HCT_IO_ERROR;
		h->cnt[r]++;
	}
}

json_t *xgw_hct_json(const struct xgw_hct *h)
{
	static const char *const name[XGW_HCT__MAX] = {[XGW_HCT_NOT_CHECK] = "not_check",
						       [XGW_HCT_NO_PROBE] = "no_probe",
						       [XGW_HCT_BAD_HEADER] = "bad_header",
						       [XGW_HCT_NOT_IPV4] = "not_ipv4",
						       [XGW_HCT_IO_ERROR] = "io_error"};
	json_t *j = json_object(), *d = json_object();

	if (!j || !d) {
		json_decref(j);
		json_decref(d);
		return NULL;
	}
	for (int i = XGW_HCT_NOT_CHECK; i < XGW_HCT__MAX; i++)
		json_object_set_new(d, name[i], json_integer((json_int_t)h->cnt[i]));
	json_object_set_new(j, "device", json_string(h->ifname));
	json_object_set_new(j, "sent", json_integer((json_int_t)h->cnt[XGW_HCT_SENT]));
	json_object_set_new(j, "received", json_integer((json_int_t)h->cnt[XGW_HCT_RECEIVED]));
	json_object_set_new(j, "drops", d);
	if (h->err)
		json_object_set_new(j, "error", json_string(strerror(h->err)));
	return j;
}
