/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target for the handling of rtnetlink messages (routes,
 * neighbours, interface addresses), as a dump or an event stream delivers
 * them: the input is a buffer of messages that libmnl walks as it walks
 * what the kernel sends (mnl_cb_run), each handed to the parser xgwd uses.
 * A thin target over pipeline/netlink.c's own functions, included here so
 * that its static callbacks (neighbours, addresses) are reached as they
 * are.  Beyond "no crash": a route the FIB takes is a unicast route of the
 * main table with its prefix length within the family and the address
 * masked to it, an output interface or at most XGW_FIB_MAX_PATHS paths; a
 * neighbour has an address and a link-layer address; an address has a
 * family.  The seed corpus (corpus/netlink) is real dumps of a namespace
 * with multipath, IPv6 and gateway routes (gen_netlink_corpus.py). */
#include "pipeline/netlink.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int msg_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct xgw_nl_tables *t = arg;
	struct xgw_path paths[XGW_FIB_MAX_PATHS];
	struct xgw_route r;
	unsigned n = t->n_neigh, a = t->n_addrs;
	int rc = MNL_CB_OK;

	switch (nlh->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (!xgw_nl_route_parse(nlh, &r, paths))
			break;
		check(r.dst.addr.family == AF_INET || r.dst.addr.family == AF_INET6);
		check(r.dst.len <= xgw_addr_bits(&r.dst.addr));
		struct xgw_addr m = r.dst.addr;
		xgw_addr_mask(&m, r.dst.len);
		check(xgw_addr_eq(&m, &r.dst.addr));
		check(r.n_paths <= XGW_FIB_MAX_PATHS && r.n_paths != 1);
		check(r.n_paths > 1 ? r.paths == paths : r.oif != 0);
		break;
	case RTM_NEWNEIGH:
		rc = neigh_cb(nlh, t);
		if (t->n_neigh > n)
			check(t->neigh[n].ip.family == AF_INET ||
			      t->neigh[n].ip.family == AF_INET6);
		break;
	case RTM_NEWADDR:
		rc = addr_cb(nlh, t);
		if (t->n_addrs > a)
			check(t->addrs[a].addr.family == AF_INET ||
			      t->addrs[a].addr.family == AF_INET6);
		break;
	default:
		break;
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xgw_nl_tables t = {0};
	/* An aligned copy, as a recv buffer is.  libmnl walks a message's
	 * attributes up to NLMSG_ALIGN(nlmsg_len), and the kernel's messages
	 * are padded to it; the receive buffer xgwd hands libmnl is larger
	 * than any message, so the pad bytes are there: zeros here. */
	size_t alloc = NLMSG_ALIGN(size ? size : 1);
	void *buf = calloc(1, alloc);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* The framing is the kernel's and always right; what is fuzzed is
	 * the messages.  libmnl's walk trusts nlmsg_len (a length past the
	 * buffer wraps its int counter), so only the prefix of well-framed
	 * messages is handed on, as the kernel would send it. */
	size_t ok = 0;
	while (size - ok >= sizeof(struct nlmsghdr)) {
		uint32_t len;

		memcpy(&len, (const uint8_t *)buf + ok, sizeof(len));
		if (len < sizeof(struct nlmsghdr) || len > size - ok)
			break;
		ok += NLMSG_ALIGN(len) < size - ok ? NLMSG_ALIGN(len) : size - ok;
	}
	mnl_cb_run(buf, ok, 0, 0, msg_cb, &t);
	xgw_nl_tables_free(&t);
	free(buf);
	return 0;
}
