/* SPDX-License-Identifier: BSD-3-Clause */
/* Every drop has a named reason and a counter: one X-macro list makes the
 * enum and the strings (as cilium's drop_reasons.h and VPP's
 * foreach_af_xdp_input_error do). Append only; names are API (stats). */
#ifndef XGW_DROP_H
#define XGW_DROP_H

#define XGW_FOREACH_DROP(_)                                                                        \
	_(NONE, "none")                                                                            \
	_(ETH_TRUNC, "eth_truncated")                                                              \
	_(VLAN_TRUNC, "vlan_truncated")                                                            \
	_(VLAN_TOO_DEEP, "vlan_too_deep")                                                          \
	_(NOT_IP, "not_ip")                                                                        \
	_(IP4_TRUNC, "ipv4_truncated")                                                             \
	_(IP4_VERSION, "ipv4_bad_version")                                                         \
	_(IP4_IHL, "ipv4_bad_ihl")                                                                 \
	_(IP4_LEN, "ipv4_bad_total_length")                                                        \
	_(IP4_CSUM, "ipv4_bad_checksum")                                                           \
	_(IP6_TRUNC, "ipv6_truncated")                                                             \
	_(IP6_VERSION, "ipv6_bad_version")                                                         \
	_(IP6_LEN, "ipv6_bad_payload_length")                                                      \
	_(IP6_EXT, "ipv6_bad_ext_header")                                                          \
	_(TCP_TRUNC, "tcp_truncated")                                                              \
	_(TCP_DOFF, "tcp_bad_data_offset")                                                         \
	_(UDP_TRUNC, "udp_truncated")                                                              \
	_(UDP_LEN, "udp_bad_length")                                                               \
	_(ICMP_TRUNC, "icmp_truncated")                                                            \
	_(TTL_EXCEEDED, "ttl_exceeded")                                                            \
	_(NO_ROUTE, "no_route")                                                                    \
	_(NO_NEIGH, "no_neighbour")                                                                \
	_(NO_PORT, "egress_not_xgw_port")                                                          \
	_(MTU, "exceeds_mtu")                                                                      \
	_(TX_RING_FULL, "tx_ring_full")                                                            \
	_(NO_FRAME, "no_free_frame")                                                               \
	_(NOT_STEERED, "not_steered")                                                              \
	_(POLICY, "policy_denied")                                                                 \
	_(NO_SERVICE, "no_service")                                                                \
	_(NO_BACKEND, "no_backend")                                                                \
	_(CT_FULL, "conntrack_full")                                                               \
	_(CT_INVALID, "conntrack_invalid")                                                         \
	_(SNAT_NO_PORT, "snat_no_port")                                                            \
	_(TUNNEL_UNKNOWN, "tunnel_unknown_vni")                                                    \
	_(FRAGMENT, "fragment_unsupported")                                                        \
	_(TUNNEL_TRUNC, "tunnel_truncated")                                                        \
	_(TUNNEL_FLAGS, "tunnel_bad_flags")                                                        \
	_(TUNNEL_PROTO, "tunnel_bad_protocol")                                                     \
	_(GENEVE_VERSION, "geneve_bad_version")                                                    \
	_(GENEVE_OPT_LEN, "geneve_bad_option_length")                                              \
	_(GENEVE_CRITICAL, "geneve_critical_option")                                               \
	_(TUNNEL_HEADROOM, "tunnel_no_headroom")                                                   \
	_(TCP_FLAGS, "tcp_bad_flags")                                                              \
	_(BAD_SOURCE, "source_is_gateway")                                                         \
	_(TUNNEL_NESTED, "tunnel_nested")

enum xgw_drop {
#define _(n, s) XGW_DROP_##n,
	XGW_FOREACH_DROP(_)
#undef _
	XGW_DROP__MAX
};

const char *xgw_drop_name(unsigned reason);

#endif
