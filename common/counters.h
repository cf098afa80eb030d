/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker counters other than drop reasons (common/drop.h): one X-macro
 * list makes the worker's fields, the offline counters, the stats JSON keys,
 * the metrics (xgw_worker_<name>_total) and xgw-replay's report.
 * _(name, scope, help): scope PKT counts packets (reported offline too),
 * POLL counts the poll loop (live workers only).  Names are API. */
#ifndef XGW_COUNTERS_H
#define XGW_COUNTERS_H

#define XGW_FOREACH_WORKER_COUNTER(_)                                                              \
	_(bursts, POLL, "Non-empty receive bursts of a worker.")                                   \
	_(empty_polls, POLL, "Polls of a worker that found no packet.")                            \
	_(busy_cycles, POLL,                                                                       \
	  "Cycle-counter ticks a worker spent in polls that found packets (see tsc_hz).")          \
	_(idle_sleeps, POLL, "Times a worker slept for lack of traffic.")                          \
	_(forwarded, PKT, "Packets forwarded by a worker.")                                        \
	_(icmp_sent, PKT, "ICMP errors sent by a worker (TTL exceeded, unreachable, too big).")    \
	_(icmp_echo_replies, PKT,                                                                  \
	  "ICMP echo replies sent by a worker for its addresses and VIPs.")                        \
	_(ct_created, PKT, "Conntrack entries created by a worker.")                               \
	_(vxlan_encapsulated, PKT, "Packets a worker encapsulated in VXLAN.")                      \
	_(vxlan_decapsulated, PKT, "VXLAN packets a worker decapsulated.")                         \
	_(geneve_encapsulated, PKT, "Packets a worker encapsulated in Geneve.")                    \
	_(geneve_decapsulated, PKT, "Geneve packets a worker decapsulated.")

#define XGW_COUNTER_SCOPE_POLL 0
#define XGW_COUNTER_SCOPE_PKT  1

#endif
