/* SPDX-License-Identifier: BSD-3-Clause */
/* Health checks through tunnels: the TUN device and the relay
 * (tun_path.h). */
#define XGW_LOG_COMP "health"
#include "health/tun_path.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/iface.h"
#include "common/log.h"
#include "tunnel/tunnel.h"

#define ETH_LEN	 14
#define ETH_IPV4 0x0800

void xgw_hct_ep_of(struct xgw_hct_ep *ep, const struct xgw_backend_cfg *b)
{
	memset(ep, 0, sizeof(*ep));
	if (b->tun == XGW_TUN_NONE)
		return;
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
	struct xgw_tun_ep t;

	if (cap < XGW_TUN_HDR_LEN + ETH_LEN || len > cap - XGW_TUN_HDR_LEN - ETH_LEN)
		return 0;
	/* The workers' template (tunnel/codec.c); the relay needs its last
	 * 22 bytes, the tunnel header and the inner Ethernet header (the
	 * outer ones are the kernel's).  The inner destination as the
	 * workers write it: the endpoint's MAC, or, without one, the
	 * gateway's own (a remote that bridges ignores it; one that
	 * terminates needs tunnel.mac). */
	xgw_tun_ep_init(&t, ep->type, 0, ep->remote, 0, ep->vni, ep->has_mac ? ep->mac : smac);
	memcpy(out, t.tmpl + XGW_TUN_OUTER_LEN - XGW_TUN_HDR_LEN, XGW_TUN_HDR_LEN + ETH_LEN);
	memcpy(out + XGW_TUN_HDR_LEN + 6, smac, 6);
	memcpy(out + XGW_TUN_HDR_LEN + ETH_LEN, ip, len);
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

/* The TCP or UDP ports after the IPv4 header at ip (len bytes), host
 * order: false if it is not such a packet (or a later fragment). */
static bool ports_of(const uint8_t *ip, size_t len, uint16_t *sport, uint16_t *dport)
{
	size_t hl = ipv4_hlen(ip, len);

	if (!hl || (ip[9] != IPPROTO_TCP && ip[9] != IPPROTO_UDP) || len < hl + 4)
		return false;
	/* A later fragment has no ports: the checks' packets are small. */
	if ((ip[6] & 0x1f) || ip[7])
		return false;
	*sport = (uint16_t)(ip[hl] << 8 | ip[hl + 1]);
	*dport = (uint16_t)(ip[hl + 2] << 8 | ip[hl + 3]);
	return true;
}

uint16_t xgw_hct_sport(const uint8_t *ip, size_t len)
{
	uint16_t sp, dp;

	return ports_of(ip, len, &sp, &dp) && sp >= XGW_CHECK_PORT_MIN ? sp : 0;
}

/* What an inner packet from a backend answers: the check port it goes to
 * (*port), from the backend *be:*be_port; for an ICMP error, about the
 * check's packet it quotes (from the check port to the backend).  False:
 * neither. */
static bool answer_of(const uint8_t *ip, size_t len, uint16_t *port, uint32_t *be,
		      uint16_t *be_port)
{
	size_t hl = ipv4_hlen(ip, len);
	const uint8_t *icmp = ip + hl, *q;

	if (!hl)
		return false;
	if (ip[9] != IPPROTO_ICMP) {
		memcpy(be, ip + 12, 4);
		return ports_of(ip, len, be_port, port) && *port >= XGW_CHECK_PORT_MIN;
	}
	/* destination unreachable, time exceeded, parameter problem */
	if (len < hl + 8 || (icmp[0] != 3 && icmp[0] != 11 && icmp[0] != 12))
		return false;
	q = icmp + 8;
	if (!ipv4_hlen(q, len - hl - 8))
		return false;
	memcpy(be, q + 16, 4);
	return ports_of(q, len - hl - 8, port, be_port) && *port >= XGW_CHECK_PORT_MIN;
}

int xgw_hct_decap(const struct xgw_hct *h, unsigned type, uint32_t remote, const uint8_t *pl,
		  size_t len, size_t *off, size_t *ilen)
{
	uint32_t vni, hlen, be;
	const struct xgw_hct_probe *pr;
	const uint8_t *ip;
	uint16_t port, be_port;
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
	if (memcmp(ip + 16, &h->local, 4) || !answer_of(ip, n, &port, &be, &be_port))
		return XGW_HCT_NO_PROBE;
	/* Only the backend of the open probe on that port, through that
	 * probe's endpoint, may answer: nothing else is written into the
	 * gateway's stack. */
	pr = &h->probe[port - XGW_CHECK_PORT_MIN];
	if (!pr->open || pr->ep.remote != remote || pr->ep.vni != vni || pr->ep.type != type ||
	    pr->be_ip != be || pr->be_port != be_port)
		return XGW_HCT_NO_PROBE;
	*off = (size_t)(ip - pl);
	*ilen = n;
	return XGW_HCT_RECEIVED;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int oif_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct rtmsg)) if (mnl_attr_get_type(a) == RTA_OIF &&
							    !mnl_attr_validate(a, MNL_TYPE_U32)) *
	    (int *)data = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* The device the kernel routes dst through (RTM_GETROUTE): 0 or -errno. */
static int route_dev(uint32_t dst, char name[IF_NAMESIZE])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned seq = (unsigned)mono_ms();
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int oif = 0, rc = 0;
	ssize_t n;

	if (!nl)
		return -errno;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_DST, dst);
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		rc = -errno;
	else if ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) < 0)
		rc = -errno;
	else if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), oif_cb, &oif) < 0)
		rc = -errno; /* the kernel's answer: no route */
	mnl_socket_close(nl);
	if (!rc && (!oif || !if_indextoname((unsigned)oif, name)))
		rc = -ENETUNREACH;
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

/* net.ipv4.conf.all.rp_filter: the effective value for the device is the
 * larger of it and the device's own (0 here). */
static int rp_filter_all(void)
{
	char v[8] = "";
	int fd = open("/proc/sys/net/ipv4/conf/all/rp_filter", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, v, sizeof(v) - 1) < 0)
		v[0] = 0;
	close(fd);
	return atoi(v);
}

static int set_addr(int fd, const char *name, unsigned long req, const char *a)
{
	struct ifreq ifr = {0};
	struct sockaddr_in *sa = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	sa->sin_family = AF_INET;
	inet_pton(AF_INET, a, &sa->sin_addr);
	return ioctl(fd, req, &ifr) ? -errno : 0;
}

/* The TUN device: MTU = the way's less the tunnel headers, a link-local
 * /32 of its own (a loose reverse-path filter drops what arrives on a
 * device without an address), up; no IPv6 (its router solicitations would
 * only be read and dropped); its own reverse-path filter off (the
 * backends' addresses are routed elsewhere, or not at all). */
static int open_device(struct xgw_hct *h)
{
	struct ifreq ifr = {0};
	int fd, rc;

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
	ifr.ifr_mtu = h->mtu;
	rc = ioctl(fd, SIOCSIFMTU, &ifr) ? -errno : 0;
	if (!rc)
		rc = set_addr(fd, h->ifname, SIOCSIFADDR, XGW_HCT_DEV_ADDR);
	if (!rc)
		rc = set_addr(fd, h->ifname, SIOCSIFNETMASK, "255.255.255.255");
	if (!rc && ioctl(fd, SIOCGIFFLAGS, &ifr))
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!rc && ioctl(fd, SIOCSIFFLAGS, &ifr))
		rc = -errno;
	close(fd);
	return rc;
}

static int watch(int ep, int fd, uint64_t key)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = key};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int open_udp(struct xgw_hct *h, unsigned k)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(h->port[k])};
	int rc;

	sa.sin_addr.s_addr = h->local;
	h->udp[k] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->udp[k] < 0)
		return -errno;
	rc = bind(h->udp[k], (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	if (!rc)
		rc = watch(h->ep, h->udp[k], h->ev_udp + k);
	if (rc) {
		close(h->udp[k]);
		h->udp[k] = -1;
	}
	return rc;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd); /* also leaves the epoll set */
	*fd = -1;
}

void xgw_hct_init(struct xgw_hct *h)
{
	memset(h, 0, sizeof(*h));
	h->tun = h->udp[0] = h->udp[1] = -1;
}

void xgw_hct_close(struct xgw_hct *h)
{
	/* Closing a non-persistent TUN device's fd removes the device. */
	close_fd(&h->tun);
	close_fd(&h->udp[0]);
	close_fd(&h->udp[1]);
	h->ifname[0] = 0;
	h->err = h->uerr[0] = h->uerr[1] = 0;
	h->warn = NULL;
	memset(h->probe, 0, sizeof(h->probe));
}

void xgw_hct_fini(struct xgw_hct *h)
{
	xgw_hct_close(h);
	free(h->buf);
	h->buf = NULL;
}

static void log_failure(const struct xgw_hct *h, const char *what, int err)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &h->local, a, sizeof(a));
	pr_err("health checks through tunnels: %s (tunnel.local_ip %s): %s%s; retried in %d ms",
	       what, a, strerror(err),
	       err == EADDRINUSE ? " (a kernel vxlan/geneve device or another program holds it?)"
				 : "",
	       XGW_HCT_RETRY_MS);
}

/* Open what is needed and not open: the device, then each needed
 * socket; record what failed and when to try again.  A failure is logged
 * when it is new, not at every retry. */
static void open_needed(struct xgw_hct *h, uint64_t now)
{
	char a[INET_ADDRSTRLEN], dev[IF_NAMESIZE];
	int rc = 0;

	if (!h->buf && !(h->buf = malloc(2 * 65536)))
		rc = -ENOMEM;
	if (!rc && h->tun < 0) {
		/* MAC and MTU of the way to the endpoint: the interface
		 * holding local_ip may be a loopback or a dummy. */
		uint32_t mtu = 1500;

		rc = route_dev(h->remote, dev);
		if (!rc)
			rc = xgw_iface_mac_mtu(dev, h->smac, &mtu);
		h->mtu = (int)mtu - XGW_TUN_OVERHEAD;
		if (!rc)
			rc = open_device(h);
		if (!rc)
			rc = watch(h->ep, h->tun, h->ev_tun);
		if (rc) {
			close_fd(&h->tun);
			h->ifname[0] = 0;
			if (-rc != h->err)
				log_failure(h, "no device", -rc);
		} else {
			h->warn = rp_filter_all() == 1
				      ? "net.ipv4.conf.all.rp_filter is 1 (strict): it drops the "
					"answers arriving on the device; set it to 2 (loose) or 0"
				      : NULL;
			if (h->warn)
				pr_warn("health checks through tunnels: %s", h->warn);
			inet_ntop(AF_INET, &h->local, a, sizeof(a));
			pr_info("health checks through tunnels leave by %s (MTU %d, the way to the "
				"remotes by %s) from %s",
				h->ifname, h->mtu, dev, a);
		}
	}
	h->err = -rc;
	for (unsigned k = 0; k < 2 && !rc; k++) {
		int e;

		if (!(h->types & 1u << k) || h->udp[k] >= 0) {
			h->uerr[k] = 0;
			continue;
		}
		e = -open_udp(h, k);
		if (e && e != h->uerr[k]) {
			char what[64];

			snprintf(what, sizeof(what), "%s port %u", k ? "Geneve" : "VXLAN",
				 h->port[k]);
			log_failure(h, what, e);
		}
		h->uerr[k] = e;
	}
	/* A socket no longer needed is closed. */
	for (unsigned k = 0; k < 2; k++)
		if (!(h->types & 1u << k))
			close_fd(&h->udp[k]);
	h->retry_ms = now + XGW_HCT_RETRY_MS;
}

bool xgw_hct_failed(const struct xgw_hct *h)
{
	return h->err || ((h->types & 1) && h->uerr[0]) || ((h->types & 2) && h->uerr[1]);
}

void xgw_hct_open(struct xgw_hct *h, const struct xgw_tunnel_cfg *t, unsigned types,
		  uint32_t remote, int ep, uint64_t ev_tun, uint64_t ev_udp)
{
	uint32_t local;

	memcpy(&local, t->local_ip.b, 4);
	/* Another address or port: everything anew.  Another set of tunnel
	 * types: only the sockets (probes in flight keep the device).
	 * Another remote alone changes nothing: the device keeps the MAC and
	 * MTU of the way it was opened for. */
	if (h->tun >= 0 &&
	    (h->local != local || h->port[0] != t->vxlan_port || h->port[1] != t->geneve_port))
		xgw_hct_close(h);
	h->local = local;
	h->port[0] = t->vxlan_port;
	h->port[1] = t->geneve_port;
	h->types = types;
	h->remote = remote;
	h->ep = ep;
	h->ev_tun = ev_tun;
	h->ev_udp = ev_udp;
	open_needed(h, mono_ms());
}

void xgw_hct_retry(struct xgw_hct *h, uint64_t now_ms)
{
	if (xgw_hct_failed(h) && now_ms >= h->retry_ms)
		open_needed(h, now_ms);
}

void xgw_hct_fail(struct xgw_hct *h, int err, uint64_t now_ms)
{
	log_failure(h, h->ifname[0] ? h->ifname : "the device", err);
	xgw_hct_close(h);
	h->err = err;
	h->retry_ms = now_ms + XGW_HCT_RETRY_MS;
}

int xgw_hct_bind_device(const struct xgw_hct *h, int fd, unsigned type)
{
	int e = h->err ? h->err : h->tun < 0 ? ENODEV : h->uerr[type == XGW_TUN_GENEVE];

	if (e)
		return -e;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, h->ifname, (socklen_t)strlen(h->ifname)))
		return -errno;
	return 0;
}

void xgw_hct_use(struct xgw_hct *h, uint16_t port, const struct xgw_hct_ep *ep, uint32_t be_ip,
		 uint16_t be_port)
{
	if (port >= XGW_CHECK_PORT_MIN)
		h->probe[port - XGW_CHECK_PORT_MIN] = (struct xgw_hct_probe){
		    .ep = *ep, .be_ip = be_ip, .be_port = be_port, .open = true};
}

void xgw_hct_done(struct xgw_hct *h, uint16_t port)
{
	if (port >= XGW_CHECK_PORT_MIN)
		h->probe[port - XGW_CHECK_PORT_MIN].open = false;
}

/* Bounded per event: a busy device does not starve the probes' events. */
#define RELAY_BURST 64

int xgw_hct_from_device(struct xgw_hct *h)
{
	uint8_t *ip = h->buf, *out = h->buf + 65536;

	for (int i = 0; i < RELAY_BURST; i++) {
		ssize_t n = read(h->tun, ip, 65536);
		const struct xgw_hct_ep *ep;
		struct sockaddr_in to = {.sin_family = AF_INET};
		uint16_t port;
		size_t len;
		unsigned k;

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		port = xgw_hct_sport(ip, (size_t)n);
		ep = port ? &h->probe[port - XGW_CHECK_PORT_MIN].ep : NULL;
		if (!ep || !ep->remote) {
			h->cnt[!port ? XGW_HCT_NOT_CHECK : XGW_HCT_NO_PROBE]++;
			continue;
		}
		k = ep->type == XGW_TUN_GENEVE;
		len = xgw_hct_encap(out, 65536, ep, h->smac, ip, (size_t)n);
		to.sin_addr.s_addr = ep->remote;
		to.sin_port = htons(h->port[k]);
		if (!len || h->udp[k] < 0 ||
		    sendto(h->udp[k], out, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			h->cnt[XGW_HCT_IO_ERROR]++;
			continue;
		}
		h->cnt[XGW_HCT_SENT]++;
	}
	return 0;
}

void xgw_hct_from_tunnel(struct xgw_hct *h, unsigned k)
{
	uint8_t *pl = h->buf;

	for (int i = 0; i < RELAY_BURST && h->udp[k] >= 0; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(h->udp[k], pl, 65536, 0, (struct sockaddr *)&from, &fl);
		size_t off, len;
		int r;

		/* EAGAIN; or an ICMP error about a datagram sent (reported
		 * once, nothing to do: the probe times out). */
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
	json_object_set_new(j, "mtu", json_integer(h->mtu));
	json_object_set_new(j, "sent", json_integer((json_int_t)h->cnt[XGW_HCT_SENT]));
	json_object_set_new(j, "received", json_integer((json_int_t)h->cnt[XGW_HCT_RECEIVED]));
	json_object_set_new(j, "drops", d);
	if (xgw_hct_failed(h))
		json_object_set_new(j, "error",
				    json_string(strerror(h->err	      ? h->err
							 : h->uerr[0] ? h->uerr[0]
								      : h->uerr[1])));
	if (h->warn)
		json_object_set_new(j, "warning", json_string(h->warn));
	return j;
}
