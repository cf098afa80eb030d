/* SPDX-License-Identifier: BSD-3-Clause */
/* The config file schema: a table of documents with the expected outcome,
 * then round trips, copies and the compact key/endpoint forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/config.h"
#include "ctl/config_json.h"

#ifndef XGW_EXAMPLES
#error "XGW_EXAMPLES must name the examples/ folder"
#endif

/* Documents are written with ' for " to stay readable; so are the expected
 * error substrings.  expect NULL means the document must load. */
struct load_case {
	const char *desc;
	const char *json;
	const char *expect;
};

/* A service wrapper: most cases need only their one service. */
#define SVC(body) "{'services': [{'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp'" body "}]}"
#define BE(body)  SVC(", 'backends': [" body "]")
#define TUN(body)                                                                                  \
	"{'tunnel': {'local_ip': '198.18.3.1'}, 'services': [{'vip': '198.18.100.1', 'port': 80, " \
	"'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': 8080, 'tunnel': {" body        \
	"}}]}]}"
#define PORT(body) "{'ports': [{'name': 'client', 'iface': 'xgw-c'" body "}]}"
#define Q(q)	   PORT(", 'queues': [" q "]")

/* What a case with "driver": "dpdk" gets: msg (NULL: loads) where xgw has
 * the DPDK backend, the refusal otherwise. */
#define WITH_DPDK(msg) (XGW_HAVE_DPDK ? (msg) : "this xgw was built without DPDK")
#define DPORT(body)    "{'ports': [{'name': 'd', 'driver': 'dpdk'" body "}]}"

static const struct load_case cases[] = {
    /* DPDK ports (port/port_dpdk.c) */
    {"dpdk port: device, no iface, two queue pairs, EAL arguments",
     "{'ports': [{'name': 'd', 'driver': 'dpdk', 'device': 'net_ring0', 'queues': [{'queue': "
     "1, 'core': 0}, {'queue': 0, 'core': 0}]}], 'dpdk': {'eal_args': ['--no-huge', '-m', "
     "'512'], 'mbufs': 4096}}",
     WITH_DPDK(NULL)},
    {"dpdk port without a device", DPORT(", 'queues': [{'queue': 0, 'core': 0}]"),
     WITH_DPDK("ports[0].device")},
    {"dpdk port: queues not 0..N-1",
     DPORT(", 'device': 'net_null0', 'queues': [{'queue': 0, 'core': 0}, {'queue': 2, 'core': "
	   "0}]"),
     WITH_DPDK("queues are 0..1 (one per entry), not 2")},
    {"zerocopy on a dpdk port",
     DPORT(", 'device': 'net_null0', 'zerocopy': 'on', 'queues': [{'queue': 0, 'core': 0}]"),
     WITH_DPDK("ports[0].zerocopy: only for \"driver\": \"af_xdp\"")},
    {"busy_poll on a dpdk port",
     DPORT(", 'device': 'net_null0', 'busy_poll': true, 'queues': [{'queue': 0, 'core': 0}]"),
     WITH_DPDK("ports[0].busy_poll: only for \"driver\": \"af_xdp\"")},
    {"device on an af_xdp port",
     PORT(", 'device': 'net_null0', 'queues': [{'queue': 0, 'core': 0}]"),
     "ports[0].device: only for \"driver\": \"dpdk\""},
    {"unknown driver", PORT(", 'driver': 'vfio', 'queues': [{'queue': 0, 'core': 0}]"),
     "ports[0].driver"},
    {"af_xdp port still needs an iface",
     "{'ports': [{'name': 'a', 'driver': 'af_xdp', 'queues': [{'queue': 0, 'core': 0}]}]}",
     "ports[0].iface"},
    {"dpdk.mbufs below a ring's worth", "{'dpdk': {'mbufs': 100}}", "dpdk.mbufs"},
    {"dpdk.eal_args not strings", "{'dpdk': {'eal_args': ['-m', 1024]}}",
     "dpdk.eal_args: [1]: expected a string"},
    {"dpdk unknown key", "{'dpdk': {'lcores': '0-1'}}", "dpdk"},
    /* good */
    {"empty document: all defaults", "{}", NULL},
    {"null counts as absent", "{'ports': null, 'tunnel': {'local_ip': null}}", NULL},
    {"port with every field",
     PORT(", 'zerocopy': 'off', 'xdp_mode': 'skb', 'busy_poll': true, 'busy_poll_budget': 16, "
	  "'queues': [{'queue': 0, 'core': 0}, {'queue': 3, 'core': 1}]"),
     NULL},
    {"IPv6 service with IPv6 backends",
     "{'services': [{'vip': '2001:db8::1', 'port': 443, 'proto': 'udp', 'datapath': 'kernel', "
     "'algorithm': 'random', 'snat': true, 'backends': [{'ip': '2001:db8::a', 'port': 8443, "
     "'weight': 0}, {'ip': '2001:db8::b', 'port': 8443}]}]}",
     NULL},
    {"IPv4 service over an IPv6 underlay",
     "{'tunnel': {'local_ip': '2001:db8:3::1'}, 'services': [{'vip': '198.18.100.1', 'port': 80, "
     "'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': 8080, 'tunnel': {'type': "
     "'geneve', 'remote': '2001:db8:3::2', 'vni': 16777215}}]}]}",
     "services[0].backends[0].tunnel.remote: tunnels over an IPv6 underlay are not supported "
     "(IPv4 tunnel.local_ip and remote only)"},
    {"IPv6 service over an IPv4 underlay",
     "{'tunnel': {'local_ip': '198.18.3.1'}, 'services': [{'vip': '2001:db8::1', 'port': 80, "
     "'proto': 'tcp', 'backends': [{'ip': '2001:db8::a', 'port': 8080, 'tunnel': {'type': "
     "'geneve', 'remote': '198.18.3.2', 'vni': 16777215}}]}]}",
     NULL},
    {"tunnel backend in a kernel-datapath service (served in XDP)",
     "{'tunnel': {'local_ip': '198.18.3.1'}, 'services': [{'vip': '198.18.100.1', 'port': 80, "
     "'proto': 'tcp', 'datapath': 'kernel', 'backends': [{'ip': '198.18.4.10', 'port': 8080, "
     "'tunnel': {'type': 'vxlan', 'remote': '198.18.3.2', 'vni': 1}}]}]}",
     NULL},
    {"one backend with a tunnel in a kernel service and without in a user one",
     "{'tunnel': {'local_ip': '198.18.3.1'}, 'services': [{'vip': '198.18.100.1', 'port': 80, "
     "'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': 8080}]}, {'vip': "
     "'198.18.100.2', 'port': 80, 'proto': 'tcp', 'datapath': 'kernel', 'backends': [{'ip': "
     "'198.18.4.10', 'port': 8080, 'tunnel': {'type': 'vxlan', 'remote': '198.18.3.2', 'vni': "
     "1}}]}]}",
     "services[1].backends[0].tunnel: backend 198.18.4.10:8080 is reached without a tunnel in "
     "services[0]: a backend has the same tunnel (or none) in every service"},
    {"tunnel backend in a snat service",
     "{'tunnel': {'local_ip': '198.18.3.1'}, 'services': [{'vip': '198.18.100.1', 'port': 80, "
     "'proto': 'tcp', 'snat': true, 'backends': [{'ip': '198.18.4.10', 'port': 8080, "
     "'tunnel': {'type': 'vxlan', 'remote': '198.18.3.2', 'vni': 1}}]}]}",
     "services[0].backends[0].tunnel: tunnel backends are not supported in a service with snat"},
    {"one backend with and without a tunnel",
     "{'tunnel': {'local_ip': '198.18.3.1'}, 'services': [{'vip': '198.18.100.1', 'port': 80, "
     "'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': 8080}]}, {'vip': "
     "'198.18.100.2', 'port': 80, 'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': "
     "8080, 'tunnel': {'type': 'vxlan', 'remote': '198.18.3.2', 'vni': 1}}]}]}",
     "services[1].backends[0].tunnel: backend 198.18.4.10:8080 is reached without a tunnel in "
     "services[0]: a backend has the same tunnel (or none) in every service"},
    {"one backend through two tunnels",
     "{'tunnel': {'local_ip': '198.18.3.1'}, 'services': [{'vip': '198.18.100.1', 'port': 80, "
     "'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': 8080, 'tunnel': {'type': "
     "'vxlan', 'remote': '198.18.3.2', 'vni': 2}}]}, {'vip': '198.18.100.2', 'port': 80, "
     "'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': 8080, 'tunnel': {'type': "
     "'vxlan', 'remote': '198.18.3.2', 'vni': 1}}]}]}",
     "services[0].backends[0].tunnel: backend 198.18.4.10:8080 is reached through another "
     "tunnel in services[1]: a backend has the same tunnel (or none) in every service"},
    {"one backend through one tunnel in two services",
     "{'tunnel': {'local_ip': '198.18.3.1'}, 'services': [{'vip': '198.18.100.1', 'port': 80, "
     "'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': 8080, 'tunnel': {'type': "
     "'vxlan', 'remote': '198.18.3.2', 'vni': 1}}]}, {'vip': '198.18.100.2', 'port': 80, "
     "'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': 8080, 'tunnel': {'type': "
     "'vxlan', 'remote': '198.18.3.2', 'vni': 1}}]}]}",
     NULL},
    {"vxlan and geneve on one port",
     "{'tunnel': {'local_ip': '198.18.3.1', 'geneve_port': 4789}, 'services': [{'vip': "
     "'198.18.100.1', 'port': 80, 'proto': 'tcp', 'backends': [{'ip': '198.18.4.10', 'port': "
     "8080, 'tunnel': {'type': 'vxlan', 'remote': '198.18.3.2', 'vni': 1}}]}]}",
     "tunnel.geneve_port: must differ from tunnel.vxlan_port"},
    {"same vip:port on both protocols",
     "{'services': [{'vip': '198.18.100.1', 'port': 53, 'proto': 'tcp'}, {'vip': "
     "'198.18.100.1', 'port': 53, 'proto': 'udp'}]}",
     NULL},
    {"policies: ranges, integer dport, icmp, any",
     "{'policy_default': 'deny', 'policies': [{'action': 'allow', 'proto': 'tcp', 'dport': "
     "'1000-2000'}, {'action': 'allow', 'dport': 53}, {'action': 'allow', 'proto': 'icmp', "
     "'dst': '2001:db8::/32'}, {'action': 'deny'}]}",
     NULL},
    {"neighbours, routes, metrics, lb, ctl",
     "{'ports': [{'name': 'backend', 'iface': 'xgw-b', 'queues': [{'queue': 0, 'core': 0}]}], "
     "'routes': [{'dst': '2001:db8:5::/48', 'port': 'backend'}], 'neighbours': [{'ip': "
     "'198.18.2.2', 'mac': '02:AA:bb:00:00:01', 'port': 'backend'}, {'ip': '198.18.2.3', 'mac': "
     "'02:00:00:00:00:02'}], 'metrics': {'listen': '[::1]:9100'}, 'lb': {'maglev_size': 251}, "
     "'ctl': {'socket': '/tmp/x.sock', 'mode': '600'}}",
     NULL},
    {"metrics off", "{'metrics': {'listen': ''}}", NULL},

    /* document and ports */
    {"root not an object", "[]", "config: expected an object"},
    {"unknown top-level key", "{'portz': []}", "portz: unknown key (expected one of: ports,"},
    {"ports not an array", "{'ports': {}}", "ports: expected an array"},
    {"port without name", "{'ports': [{'iface': 'x', 'queues': [{'queue': 0, 'core': 0}]}]}",
     "ports[0].name: missing"},
    {"port name with a space", "{'ports': [{'name': 'a b'}]}",
     "ports[0].name: 'a b': only letters"},
    {"port name too long", "{'ports': [{'name': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}]}",
     "ports[0].name: longer than 31 characters"},
    {"iface too long", "{'ports': [{'name': 'a', 'iface': 'abcdefghijklmnopq'}]}",
     "ports[0].iface: longer than 15 characters"},
    {"iface with a slash", "{'ports': [{'name': 'a', 'iface': 'eth/0'}]}",
     "ports[0].iface: 'eth/0' is not a valid interface name"},
    {"iface not a string", "{'ports': [{'name': 'a', 'iface': 3}]}",
     "ports[0].iface: expected a string"},
    {"zerocopy typo", PORT(", 'zerocopy': 'yes'"),
     "ports[0].zerocopy: 'yes' is not one of 'auto', 'on' or 'off'"},
    {"xdp_mode not a string", PORT(", 'xdp_mode': 1"),
     "ports[0].xdp_mode: expected 'auto', 'native' or 'skb'"},
    {"busy_poll as a string", PORT(", 'busy_poll': 'true'"),
     "ports[0].busy_poll: expected true or false"},
    {"busy_poll_budget 0", PORT(", 'busy_poll_budget': 0"),
     "ports[0].busy_poll_budget: expected an integer between 1 and 65535"},
    {"no queues", PORT(""), "ports[0].queues: missing"},
    {"empty queues", Q(""), "ports[0].queues: needs at least one queue"},
    {"negative core", Q("{'queue': 0, 'core': 0}, {'queue': 1, 'core': -1}"),
     "ports[0].queues[1].core: expected an integer >= 0"},
    {"queue out of range", Q("{'queue': 70000, 'core': 0}"),
     "ports[0].queues[0].queue: expected an integer between 0 and 65535"},
    {"queue typo", Q("{'queue': 0, 'cpu': 0}"), "ports[0].queues[0].cpu: unknown key"},
    {"duplicate queue", Q("{'queue': 0, 'core': 0}, {'queue': 0, 'core': 1}"),
     "ports[0].queues[1]: duplicate queue 0 on xgw-c"},
    {"duplicate port name",
     "{'ports': [{'name': 'p', 'iface': 'a', 'queues': [{'queue': 0, 'core': 0}]}, {'name': 'p', "
     "'iface': 'b', 'queues': [{'queue': 0, 'core': 0}]}]}",
     "ports[1].name: duplicate port name 'p'"},
    {"iface used twice",
     "{'ports': [{'name': 'a', 'iface': 'xgw-c', 'queues': [{'queue': 0, 'core': 0}]}, {'name': "
     "'b', 'iface': 'xgw-c', 'queues': [{'queue': 1, 'core': 0}]}]}",
     "ports[1].iface: 'xgw-c' is already used by ports[0]"},

    /* umem, conntrack, tunnel, lb, policy_default */
    {"frames not a power of two", "{'umem': {'frames': 100}}",
     "umem.frames: must be a power of two between 64 and 1048576"},
    {"frames too large", "{'umem': {'frames': 2097152}}",
     "umem.frames: must be a power of two between 64 and 1048576"},
    {"frames too small", "{'umem': {'frames': 32}}", "umem.frames: must be a power of two"},
    {"frame_size 1024", "{'umem': {'frame_size': 1024}}", "umem.frame_size: must be 2048 or 4096"},
    {"hugepages as a number", "{'umem': {'hugepages': 1}}",
     "umem.hugepages: expected true or false"},
    {"umem not an object", "{'umem': 5}", "umem: expected an object"},
    {"max_entries 0", "{'conntrack': {'max_entries': 0}}",
     "conntrack.max_entries: expected an integer >= 1"},
    {"timeout as a real", "{'conntrack': {'udp_timeout_s': 1.5}}",
     "conntrack.udp_timeout_s: expected an integer >= 1"},
    {"timeout too large", "{'conntrack': {'tcp_timeout_s': 4294967296}}",
     "conntrack.tcp_timeout_s: expected an integer >= 1"},
    {"conntrack typo", "{'conntrack': {'tcp_timeout': 60}}", "conntrack.tcp_timeout: unknown key"},
    {"bad local_ip", "{'tunnel': {'local_ip': '198.18.3'}}",
     "tunnel.local_ip: '198.18.3' is not an IPv4 or IPv6 address"},
    {"vxlan_port 0", "{'tunnel': {'vxlan_port': 0}}",
     "tunnel.vxlan_port: expected an integer between 1 and 65535"},
    {"maglev_size not prime", "{'lb': {'maglev_size': 65536}}",
     "lb.maglev_size: must be a prime between 7 and 16777216"},
    {"maglev_size too small", "{'lb': {'maglev_size': 5}}", "lb.maglev_size: must be a prime"},
    {"policy_default typo", "{'policy_default': 'maybe'}",
     "policy_default: 'maybe' is not 'deny' or 'allow'"},

    /* services */
    {"service vip not an address", "{'services': [{'vip': '198.18.100.x'}]}",
     "services[0].vip: '198.18.100.x' is not an IPv4 or IPv6 address"},
    {"service vip null", "{'services': [{'vip': null}]}", "services[0].vip: missing"},
    {"service port 0", "{'services': [{'vip': '198.18.100.1', 'port': 0}]}",
     "services[0].port: expected an integer between 1 and 65535"},
    {"service port 65536", "{'services': [{'vip': '198.18.100.1', 'port': 65536}]}",
     "services[0].port: expected an integer between 1 and 65535"},
    {"service port as a string", "{'services': [{'vip': '198.18.100.1', 'port': '80'}]}",
     "services[0].port: expected an integer between 1 and 65535"},
    {"service without proto", "{'services': [{'vip': '198.18.100.1', 'port': 80}]}",
     "services[0].proto: missing"},
    {"service proto icmp", "{'services': [{'vip': '198.18.100.1', 'port': 80, 'proto': 'icmp'}]}",
     "services[0].proto: 'icmp' is not 'tcp' or 'udp'"},
    {"datapath typo", SVC(", 'datapath': 'xdp'"),
     "services[0].datapath: 'xdp' is not 'user' or 'kernel'"},
    {"algorithm typo", SVC(", 'algorithm': 'wrr'"),
     "services[0].algorithm: 'wrr' is not one of 'maglev', 'rr' or 'random'"},
    {"snat as a string", SVC(", 'snat': 'no'"), "services[0].snat: expected true or false"},
    {"service key typo", SVC(", 'backend': []"), "services[0].backend: unknown key"},
    {"backends not an array", SVC(", 'backends': {}"), "services[0].backends: expected an array"},
    {"duplicate service",
     "{'services': [{'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp'}, {'vip': '198.18.100.1', "
     "'port': 80, 'proto': 'tcp'}]}",
     "services[1]: duplicate service 198.18.100.1:80/tcp"},
    {"duplicate IPv6 service",
     "{'services': [{'vip': '2001:db8::1', 'port': 80, 'proto': 'udp'}, {'vip': "
     "'2001:db8:0::1', 'port': 80, 'proto': 'udp'}]}",
     "services[1]: duplicate service [2001:db8::1]:80/udp"},

    /* backends */
    {"backend ip not an address",
     BE("{'ip': '198.18.2.1', 'port': 1}, {'ip': '198.18.2.2', 'port': 1}, {'ip': '198.18.2.x', "
	"'port': 8080}"),
     "services[0].backends[2].ip: '198.18.2.x' is not an IPv4 or IPv6 address"},
    {"backend without port", BE("{'ip': '198.18.2.10'}"), "services[0].backends[0].port: missing"},
    {"backend weight too large", BE("{'ip': '198.18.2.10', 'port': 8080, 'weight': 65536}"),
     "services[0].backends[0].weight: expected an integer between 0 and 65535"},
    {"backend weight negative", BE("{'ip': '198.18.2.10', 'port': 8080, 'weight': -1}"),
     "services[0].backends[0].weight: expected an integer between 0 and 65535"},
    {"backend family differs from vip", BE("{'ip': '2001:db8::a', 'port': 8080}"),
     "services[0].backends[0].ip: 2001:db8::a is IPv6 but the vip 198.18.100.1 is IPv4"},
    {"duplicate backend",
     BE("{'ip': '198.18.2.10', 'port': 8080}, {'ip': '198.18.2.11', 'port': 8080}, {'ip': "
	"'198.18.2.10', 'port': 8080, 'weight': 5}"),
     "services[0].backends[2]: duplicate backend 198.18.2.10:8080"},
    {"more backends than Maglev slots",
     "{'lb': {'maglev_size': 7}, 'services': [{'vip': '198.18.100.1', 'port': 80, 'proto': "
     "'tcp', 'backends': [{'ip': '198.18.2.1', 'port': 1}, {'ip': '198.18.2.2', 'port': 1}, "
     "{'ip': '198.18.2.3', 'port': 1}, {'ip': '198.18.2.4', 'port': 1}, {'ip': '198.18.2.5', "
     "'port': 1}, {'ip': '198.18.2.6', 'port': 1}, {'ip': '198.18.2.7', 'port': 1}, {'ip': "
     "'198.18.2.8', 'port': 1}]}]}",
     "services[0].backends: 8 backends do not fit lb.maglev_size 7"},
    {"tunnel type typo", TUN("'type': 'gre', 'remote': '198.18.3.2', 'vni': 1"),
     "services[0].backends[0].tunnel.type: 'gre' is not 'vxlan' or 'geneve'"},
    {"vni too large", TUN("'type': 'vxlan', 'remote': '198.18.3.2', 'vni': 16777216"),
     "services[0].backends[0].tunnel.vni: expected an integer between 0 and 16777215"},
    {"tunnel without remote", TUN("'type': 'vxlan', 'vni': 1"),
     "services[0].backends[0].tunnel.remote: missing"},
    {"tunnel mac too short",
     TUN("'type': 'vxlan', 'remote': '198.18.3.2', 'vni': 1, 'mac': '02:00:00:00:04'"),
     "services[0].backends[0].tunnel.mac: '02:00:00:00:04' is not a MAC address"},
    {"tunnel mac with bad hex",
     TUN("'type': 'vxlan', 'remote': '198.18.3.2', 'vni': 1, 'mac': '02:00:00:00:04:0g'"),
     "tunnel.mac: '02:00:00:00:04:0g' is not a MAC address"},
    {"tunnel typo", TUN("'type': 'vxlan', 'remote': '198.18.3.2', 'vni': 1, 'inner_mac': 'x'"),
     "services[0].backends[0].tunnel.inner_mac: unknown key"},
    {"tunnel without local_ip",
     "{'services': [{'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp', 'backends': [{'ip': "
     "'198.18.4.10', 'port': 8080, 'tunnel': {'type': 'vxlan', 'remote': '198.18.3.2', 'vni': "
     "1}}]}]}",
     "services[0].backends[0].tunnel.remote: needs tunnel.local_ip to be set"},
    {"tunnel remote family differs from local_ip",
     TUN("'type': 'vxlan', 'remote': '2001:db8:3::2', 'vni': 1"),
     "tunnel.remote: 2001:db8:3::2 is IPv6 but tunnel.local_ip is IPv4"},

    /* steer */
    {"steer without dst", "{'steer': [{'proto': 'udp'}]}", "steer[0].dst: missing"},
    {"steer dst with host bits", "{'steer': [{'dst': '198.18.2.1/24'}]}",
     "steer[0].dst: '198.18.2.1/24' has host bits set past /24"},
    {"steer dst bad length", "{'steer': [{'dst': '198.18.2.0/33'}]}",
     "steer[0].dst: '198.18.2.0/33': prefix length must be 0..32"},
    {"steer dst not an address", "{'steer': [{'dst': 'example.com'}]}",
     "steer[0].dst: 'example.com' is not an IPv4 or IPv6 address or prefix"},
    {"steer proto icmp", "{'steer': [{'dst': '198.18.2.2', 'proto': 'icmp'}]}",
     "steer[0].proto: 'icmp' is not 'tcp' or 'udp'"},
    {"steer dport 0", "{'steer': [{'dst': '198.18.2.2', 'dport': 0}]}",
     "steer[0].dport: expected an integer between 1 and 65535"},
    {"steer id 0", "{'steer': [{'id': 0, 'dst': '198.18.2.2'}]}",
     "steer[0].id: expected an integer >= 1"},
    {"duplicate steer id",
     "{'steer': [{'id': 3, 'dst': '198.18.2.2'}, {'id': 3, 'dst': '198.18.2.3'}]}",
     "steer[1].id: duplicate id 3 (also steer[0])"},
    {"duplicate steer rule",
     "{'steer': [{'dst': '198.18.2.2', 'proto': 'udp'}, {'dst': '198.18.2.2/32', 'proto': "
     "'udp'}]}",
     "steer[1]: duplicate rule"},

    /* routes and neighbours */
    {"route to an unknown port", "{'routes': [{'dst': '198.18.5.0/24', 'port': 'nope'}]}",
     "routes[0].port: unknown port 'nope'"},
    {"route without port", "{'routes': [{'dst': '198.18.5.0/24'}]}", "routes[0].port: missing"},
    {"route via of the other family",
     "{'routes': [{'dst': '198.18.5.0/24', 'via': '2001:db8::1', 'port': 'x'}]}",
     "routes[0].via: 2001:db8::1 is IPv6 but dst is IPv4"},
    {"duplicate route",
     "{'ports': [{'name': 'b', 'iface': 'xgw-b', 'queues': [{'queue': 0, 'core': 0}]}], "
     "'routes': [{'dst': '198.18.5.0/24', 'port': 'b'}, {'dst': '198.18.5.0/24', 'via': "
     "'198.18.2.2', 'port': 'b'}]}",
     "routes[1]: duplicate route 198.18.5.0/24"},
    {"neighbour bad mac", "{'neighbours': [{'ip': '198.18.2.2', 'mac': '0200.0000.0001'}]}",
     "neighbours[0].mac: '0200.0000.0001' is not a MAC address"},
    {"neighbour unknown port",
     "{'neighbours': [{'ip': '198.18.2.2', 'mac': '02:00:00:00:00:01', 'port': 'x'}]}",
     "neighbours[0].port: unknown port 'x'"},
    {"duplicate neighbour",
     "{'neighbours': [{'ip': '198.18.2.2', 'mac': '02:00:00:00:00:01'}, {'ip': '198.18.2.2', "
     "'mac': '02:00:00:00:00:02'}]}",
     "neighbours[1]: duplicate neighbour 198.18.2.2"},

    /* policies */
    {"policy without action", "{'policies': [{'proto': 'tcp'}]}", "policies[0].action: missing"},
    {"policy action typo", "{'policies': [{'action': 'drop'}]}",
     "policies[0].action: 'drop' is not 'deny' or 'allow'"},
    {"policy dport range reversed", "{'policies': [{'action': 'deny', 'dport': '30-20'}]}",
     "policies[0].dport: expected 'N' or 'N-M' with 1 <= N <= M <= 65535"},
    {"policy dport 0", "{'policies': [{'action': 'deny', 'dport': '0'}]}",
     "policies[0].dport: expected 'N' or 'N-M'"},
    {"policy dport junk", "{'policies': [{'action': 'deny', 'dport': '22-'}]}",
     "policies[0].dport: expected 'N' or 'N-M'"},
    {"policy dport too large", "{'policies': [{'action': 'deny', 'dport': '1-65536'}]}",
     "policies[0].dport: expected 'N' or 'N-M'"},
    {"policy dport with icmp", "{'policies': [{'action': 'deny', 'proto': 'icmp', 'dport': 1}]}",
     "policies[0].dport: needs proto 'tcp' or 'udp'"},
    {"policy src and dst families differ",
     "{'policies': [{'action': 'deny', 'src': '198.18.0.0/24', 'dst': '2001:db8::/32'}]}",
     "policies[0].dst: 2001:db8::/32 is IPv6 but src is IPv4"},
    {"duplicate policy id",
     "{'policies': [{'id': 7, 'action': 'deny'}, {'id': 7, 'action': 'allow'}]}",
     "policies[1].id: duplicate id 7"},
    {"policy id as a string", "{'policies': [{'id': '7', 'action': 'deny'}]}",
     "policies[0].id: expected an integer >= 1"},

    /* ctl and metrics */
    {"ctl mode not octal", "{'ctl': {'mode': 'rw'}}", "ctl.mode: expected an octal string"},
    {"ctl mode as a number", "{'ctl': {'mode': 432}}", "ctl.mode: expected an octal string"},
    {"ctl mode too wide", "{'ctl': {'mode': '01777'}}", "ctl.mode: expected an octal string"},
    {"ctl group unknown", "{'ctl': {'group': 'no-such-group-xgw'}}",
     "ctl.group: no group \"no-such-group-xgw\" on this host"},
    {"ctl group as a number", "{'ctl': {'group': 0}}", "ctl.group: expected a string"},
    {"ctl socket empty", "{'ctl': {'socket': ''}}", "ctl.socket: must not be empty"},
    {"ctl socket too long",
     "{'ctl': {'socket': "
     "'/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaa'}}",
     "ctl.socket: longer than 107 characters"},
    {"metrics listen without port", "{'metrics': {'listen': 'localhost:9100'}}",
     "metrics.listen: 'localhost:9100' is not ip:port"},
    {"metrics typo", "{'metrics': {'port': 9100}}", "metrics.port: unknown key"},
    /* announce */
    {"announce through BIRD", "{'announce': {'speaker': 'bird', 'table': 200}}", NULL},
    {"announce: a speaker not wired", "{'announce': {'speaker': 'frr', 'table': 200}}",
     "announce.speaker"},
    {"announce: the main table", "{'announce': {'speaker': 'bird', 'table': 254}}",
     "announce.table: 254 is a system table"},
    {"announce: no table", "{'announce': {'speaker': 'bird'}}", "announce.table"},
};

static char *unquote(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void run_case(void **state)
{
	const struct load_case *t = *state;
	char *text = unquote(t->json), err[256] = "";
	struct xgw_config c;
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		fail_msg("%s: test JSON does not parse: %s", t->desc, jerr.text);
	memset(&c, 0xa5, sizeof(c)); /* the loader must not rely on a zeroed struct */
	rc = xgw_config_load_json(&c, root, err, sizeof(err));
	json_decref(root);
	if (!t->expect) {
		if (rc)
			fail_msg("%s: expected ok, got %d: %s", t->desc, rc, err);
		xgw_config_free(&c);
	} else {
		char *want = unquote(t->expect);

		if (rc != -EINVAL)
			fail_msg("%s: expected -EINVAL with \"%s\", got %d", t->desc, want, rc);
		if (!strstr(err, want))
			fail_msg("%s:\n  expected \"%s\"\n  got      \"%s\"", t->desc, want, err);
		/* A failed load leaves nothing behind to free or to use. */
		assert_true(all_zero(&c, sizeof(c)));
		free(want);
	}
	free(text);
}

static int load_text(struct xgw_config *c, const char *squoted, char *err, size_t errlen)
{
	char *text = unquote(squoted);
	json_t *root = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(root);
	rc = xgw_config_load_json(c, root, err, errlen);
	json_decref(root);
	free(text);
	return rc;
}

static int load_example(struct xgw_config *c)
{
	char err[256] = "";
	int rc = xgw_config_load_file(c, XGW_EXAMPLES "/xgw.json", err, sizeof(err));

	if (rc)
		fail_msg("examples/xgw.json: %s", err);
	return rc;
}

static char *dump(const struct xgw_config *c)
{
	json_t *j = xgw_config_to_json(c);
	char *s;

	assert_non_null(j);
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(s);
	json_decref(j);
	return s;
}

static void test_defaults(void **state)
{
	struct xgw_config c;
	char err[256];

	assert_int_equal(load_text(&c, "{}", err, sizeof(err)), 0);
	assert_int_equal(c.n_ports, 0);
	assert_int_equal(c.umem.frames, 8192);
	assert_int_equal(c.umem.frame_size, 2048);
	assert_false(c.umem.hugepages);
	assert_int_equal(c.conntrack.max_entries, 1048576);
	assert_int_equal(c.conntrack.tcp_timeout_s, 21600);
	assert_int_equal(c.conntrack.tcp_syn_timeout_s, 60);
	assert_int_equal(c.conntrack.tcp_close_timeout_s, 10);
	assert_int_equal(c.conntrack.udp_timeout_s, 60);
	assert_int_equal(c.conntrack.other_timeout_s, 60);
	assert_int_equal(c.tunnel.local_ip.family, 0);
	assert_int_equal(c.tunnel.vxlan_port, 4789);
	assert_int_equal(c.tunnel.geneve_port, 6081);
	assert_int_equal(c.maglev_size, 65537);
	assert_true(c.policy_default_allow);
	assert_string_equal(c.ctl.socket, "/run/xgw/xgw.sock");
	assert_int_equal(c.ctl.mode, 0660);
	assert_string_equal(c.metrics_listen, "");
	assert_int_equal(c.next_policy_id, 1);
	assert_int_equal(c.next_steer_id, 1);
	xgw_config_free(&c);
}

/* The DESIGN.md example, field by field where the loader does real work. */
static void test_example(void **state)
{
	struct xgw_config c;
	const struct xgw_backend_cfg *b;
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0x04, 0x0a};
	char buf[64];

	load_example(&c);
	assert_int_equal(c.n_ports, 2);
	assert_string_equal(c.ports[1].name, "backend");
	assert_string_equal(c.ports[1].iface, "xgw-b");
	assert_int_equal(c.ports[1].zerocopy, XGW_ZC_AUTO);
	assert_int_equal(c.ports[1].busy_poll_budget, 64);
	assert_int_equal(c.ports[1].n_queues, 1);
	assert_int_equal(c.ports[1].queues[0].core, 1);
	assert_int_equal(c.conntrack.tcp_timeout_s, 7440);
	assert_int_equal(c.conntrack.tcp_syn_timeout_s, 60); /* default kept */
	assert_string_equal(xgw_addr_str(&c.tunnel.local_ip, buf, sizeof(buf)), "198.18.3.1");
	assert_int_equal(c.n_services, 1);
	assert_int_equal(c.services[0].port, 80);
	assert_int_equal(c.services[0].proto, IPPROTO_TCP);
	assert_int_equal(c.services[0].algo, XGW_ALGO_MAGLEV);
	assert_int_equal(c.services[0].n_backends, 2);
	b = &c.services[0].backends[1];
	assert_int_equal(b->port, 8080);
	assert_int_equal(b->tun, XGW_TUN_VXLAN);
	assert_int_equal(b->vni, 42);
	assert_true(b->has_inner_mac);
	assert_memory_equal(b->inner_mac, mac, 6);
	assert_false(c.services[0].backends[0].has_inner_mac);
	assert_int_equal(c.services[0].backends[0].tun, XGW_TUN_NONE);
	assert_int_equal(c.n_steer, 1);
	assert_int_equal(c.steer[0].id, 1);
	assert_int_equal(c.steer[0].dst.len, 32);
	assert_int_equal(c.steer[0].proto, IPPROTO_UDP);
	assert_int_equal(c.steer[0].dport, 7000);
	assert_string_equal(c.routes[0].port, "backend");
	assert_string_equal(xgw_addr_str(&c.routes[0].via, buf, sizeof(buf)), "198.18.2.2");
	assert_int_equal(c.n_policies, 1);
	assert_false(c.policies[0].allow);
	assert_int_equal(c.policies[0].dport_lo, 22);
	assert_int_equal(c.policies[0].dport_hi, 22);
	assert_string_equal(xgw_prefix_str(&c.policies[0].src, buf, sizeof(buf)), "198.18.0.0/24");
	assert_int_equal(c.next_policy_id, 2);
	assert_int_equal(c.ctl.mode, 0660);
	assert_int_equal(xgw_config_validate(&c, 2, buf, sizeof(buf)), 0);
	xgw_config_free(&c);
	assert_true(all_zero(&c, sizeof(c)));
}

/* ctl.group: a name resolved when loaded, or a number; written back as
 * given. */
static void test_ctl_group(void **state)
{
	struct xgw_config c;
	char err[256];
	json_t *j;

	assert_int_equal(load_text(&c, "{'ctl': {'group': 'root'}}", err, sizeof(err)), 0);
	assert_string_equal(c.ctl.group, "root");
	assert_int_equal(c.ctl.gid, 0);
	j = xgw_config_to_json(&c);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "ctl"), "group")),
			    "root");
	json_decref(j);
	xgw_config_free(&c);
	assert_int_equal(load_text(&c, "{'ctl': {'group': '4242'}}", err, sizeof(err)), 0);
	assert_int_equal(c.ctl.gid, 4242);
	xgw_config_free(&c);
	assert_int_equal(load_text(&c, "{}", err, sizeof(err)), 0);
	assert_string_equal(c.ctl.group, "");
	j = xgw_config_to_json(&c);
	assert_null(json_object_get(json_object_get(j, "ctl"), "group"));
	json_decref(j);
	xgw_config_free(&c);
}

/* Explicit ids are kept; the others continue after the largest. */
static void test_ids(void **state)
{
	struct xgw_config c;
	char err[256];

	assert_int_equal(
	    load_text(&c,
		      "{'policies': [{'action': 'deny'}, {'id': 10, 'action': 'deny'}, "
		      "{'action': 'allow'}], 'steer': [{'dst': '198.18.2.2'}, {'dst': "
		      "'198.18.2.3'}]}",
		      err, sizeof(err)),
	    0);
	assert_int_equal(c.policies[0].id, 11);
	assert_int_equal(c.policies[1].id, 10);
	assert_int_equal(c.policies[2].id, 12);
	assert_int_equal(c.next_policy_id, 13);
	assert_int_equal(c.steer[0].id, 1);
	assert_int_equal(c.steer[1].id, 2);
	assert_int_equal(c.next_steer_id, 3);
	assert_int_equal(c.policies[2].dport_lo, 0); /* absent dport = any */
	assert_int_equal(c.policies[2].dport_hi, 65535);
	xgw_config_free(&c);
}

static void roundtrip(const char *squoted)
{
	struct xgw_config a, b;
	char err[256] = "", *d1, *d2;
	json_t *j;

	if (squoted)
		assert_int_equal(load_text(&a, squoted, err, sizeof(err)), 0);
	else
		load_example(&a);
	d1 = dump(&a);
	j = xgw_config_to_json(&a);
	if (xgw_config_load_json(&b, j, err, sizeof(err)))
		fail_msg("dump does not load back: %s\n%s", err, d1);
	json_decref(j);
	d2 = dump(&b);
	assert_string_equal(d1, d2);
	/* Not just equal dumps: the structs agree where it matters. */
	assert_int_equal(a.n_services, b.n_services);
	assert_int_equal(a.next_policy_id, b.next_policy_id);
	assert_int_equal(a.next_steer_id, b.next_steer_id);
	free(d1);
	free(d2);
	xgw_config_free(&a);
	xgw_config_free(&b);
}

static void test_roundtrip_example(void **state)
{
	roundtrip(NULL);
}

static void test_roundtrip_everything(void **state)
{
	roundtrip("{'ports': [{'name': 'c', 'iface': 'xgw-c', 'zerocopy': 'on', 'xdp_mode': "
		  "'native', 'busy_poll': true, 'busy_poll_budget': 32, 'queues': [{'queue': 0, "
		  "'core': 0}, {'queue': 5, 'core': 1}]}], 'umem': {'frames': 64, 'frame_size': "
		  "4096, 'hugepages': true}, 'conntrack': {'max_entries': 1, 'tcp_timeout_s': 2, "
		  "'tcp_syn_timeout_s': 3, 'tcp_close_timeout_s': 4, 'udp_timeout_s': 5, "
		  "'other_timeout_s': 6}, 'tunnel': {'local_ip': '198.18.3.1', 'vxlan_port': 1, "
		  "'geneve_port': 2}, 'lb': {'maglev_size': 7}, 'policy_default': 'deny', "
		  "'services': [{'vip': '2001:db8::1', 'port': 443, 'proto': 'udp', 'datapath': "
		  "'kernel', 'algorithm': 'rr', 'snat': true, 'backends': [{'ip': '2001:db8::c', "
		  "'port': 2, 'weight': 0}]}, {'vip': '2001:db8::2', 'port': 443, 'proto': 'udp', "
		  "'algorithm': 'rr', 'backends': [{'ip': '2001:db8::a', "
		  "'port': 1, 'weight': 0, 'tunnel': {'type': 'geneve', 'remote': '198.18.3.2', "
		  "'vni': 0}}, {'ip': '2001:db8::b', 'port': 65535, 'weight': 65535, 'tunnel': "
		  "{'type': 'vxlan', 'remote': '198.18.3.3', 'vni': 7, 'mac': "
		  "'02:AB:cd:00:00:01'}}]}, {'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp'}], "
		  "'steer': [{'id': 9, 'dst': '198.18.2.0/24'}, {'dst': '2001:db8::/32', 'proto': "
		  "'tcp', 'dport': 22}], 'routes': [{'dst': '0.0.0.0/0', 'via': '198.18.2.1', "
		  "'port': 'c'}, {'dst': '2001:db8:5::/48', 'port': 'c'}], 'neighbours': [{'ip': "
		  "'198.18.2.1', 'mac': '02:00:00:00:00:01', 'port': 'c'}, {'ip': '2001:db8::9', "
		  "'mac': '02:00:00:00:00:02'}], 'policies': [{'action': 'allow', 'src': "
		  "'198.18.0.0/15', 'proto': 'udp', 'dport': '1000-2000'}, {'id': 4, 'action': "
		  "'deny', 'proto': 'icmp'}, {'action': 'deny', 'dport': 1}], 'ctl': {'socket': "
		  "'/tmp/xgw-test.sock', 'mode': '0600'}, 'metrics': {'listen': "
		  "'127.0.0.1:9100'}}");
}

static void test_roundtrip_dpdk(void **state)
{
	if (!XGW_HAVE_DPDK)
		skip();
	roundtrip("{'ports': [{'name': 'd', 'driver': 'dpdk', 'iface': 'xgw-d', 'device': "
		  "'net_af_xdp0,iface=xgw-d', 'queues': [{'queue': 0, 'core': 0}]}], 'dpdk': "
		  "{'eal_args': ['--no-huge', '-m', '1024'], 'mbufs': 8192}}");
}

/* Run the copy under ASan: every array must be the copy's own. */
static void test_copy_free(void **state)
{
	struct xgw_config a, b;
	char *d1, *d2;
	char err[256];

	load_example(&a);
	d1 = dump(&a);
	memset(&b, 0xa5, sizeof(b));
	assert_int_equal(xgw_config_copy(&b, &a), 0);
	assert_ptr_not_equal(a.services, b.services);
	assert_ptr_not_equal(a.services[0].backends, b.services[0].backends);
	assert_ptr_not_equal(a.ports[0].queues, b.ports[0].queues);
	/* Edits to the copy stay in the copy. */
	b.services[0].backends[0].weight = 9;
	b.ports[0].queues[0].core = 0;
	assert_int_equal(a.services[0].backends[0].weight, 1);
	assert_int_equal(a.ports[0].queues[0].core, 1);
	b.services[0].backends[0].weight = 1;
	b.ports[0].queues[0].core = 1;
	xgw_config_free(&a);
	assert_true(all_zero(&a, sizeof(a)));
	d2 = dump(&b); /* reads every array of b after a is gone */
	assert_string_equal(d1, d2);
	assert_int_equal(xgw_config_validate(&b, -1, err, sizeof(err)), 0);
	xgw_config_free(&b);
	assert_true(all_zero(&b, sizeof(b)));
	xgw_config_free(&b); /* freeing twice is harmless once zeroed */

	/* An empty config copies to an empty one. */
	xgw_config_defaults(&a);
	assert_int_equal(xgw_config_copy(&b, &a), 0);
	assert_null(b.services);
	assert_int_equal(b.maglev_size, 65537);
	xgw_config_free(&b);
	free(d1);
	free(d2);
}

/* Checks that need ncpus or that code, not a file, can break. */
static void test_validate(void **state)
{
	struct xgw_config c, d;
	struct xgw_backend_cfg be;
	char err[256];

	load_example(&c);
	assert_int_equal(xgw_config_validate(&c, -1, err, sizeof(err)), 0);
	assert_int_equal(xgw_config_validate(&c, 2, err, sizeof(err)), 0);
	assert_int_equal(xgw_config_validate(&c, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ports[0].queues[0].core: core 1 does not exist"));

	/* What a control-socket handler might do to a copy. */
	assert_int_equal(xgw_config_copy(&d, &c), 0);
	d.services[0].backends[1] = d.services[0].backends[0];
	assert_int_equal(xgw_config_validate(&d, -1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "services[0].backends[1]: duplicate backend 198.18.2.10:8080");
	xgw_config_free(&d);

	assert_int_equal(xgw_config_copy(&d, &c), 0);
	snprintf(d.routes[0].port, sizeof(d.routes[0].port), "client2");
	assert_int_equal(xgw_config_validate(&d, -1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "routes[0].port: unknown port \"client2\"");
	xgw_config_free(&d);

	/* A write's validation checks what changed against the config it
	 * was made from: the same refusals as a whole validation. */
	assert_int_equal(xgw_config_copy(&d, &c), 0);
	assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), 0);
	d.services[0].backends[1] = d.services[0].backends[0];
	assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "services[0].backends[1]: duplicate backend 198.18.2.10:8080");
	xgw_config_free(&d);
	/* An unchanged service is checked again when its context changed. */
	assert_int_equal(xgw_config_copy(&d, &c), 0);
	memset(&d.tunnel.local_ip, 0, sizeof(d.tunnel.local_ip));
	assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs tunnel.local_ip to be set"));
	xgw_config_free(&d);
	/* A service appended after the unchanged ones. */
	assert_int_equal(xgw_config_copy(&d, &c), 0);
	{
		struct xgw_service_cfg *sv = realloc(d.services, (d.n_services + 1) * sizeof(*sv));
		struct xgw_service_cfg *n;

		assert_non_null(sv);
		d.services = sv;
		n = &d.services[d.n_services];
		*n = d.services[0];
		n->backends = malloc(n->n_backends * sizeof(*n->backends));
		assert_non_null(n->backends);
		memcpy(n->backends, d.services[0].backends, n->n_backends * sizeof(*n->backends));
		n->port = 81;
		d.n_services++;
		assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), 0);
		n->backends[0].port = 0;
		assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "services[1].backends[0].port"));
		/* A changed service taking an unchanged one's key: found by
		 * the changed services' pass, named as a whole search names
		 * it (the later of the two). */
		n->backends[0].port = 8080;
		n->port = d.services[0].port;
		assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "services[1]: duplicate service"));
		char whole[256];
		assert_int_equal(xgw_config_validate(&d, -1, whole, sizeof(whole)), -EINVAL);
		assert_string_equal(err, whole);
	}
	xgw_config_free(&d);

	/* The changes named by the writer (d.delta): those services alone
	 * are checked on their own, the checks across services still hold. */
	{
		struct xgw_svc_delta dl = {.prev_services = c.services, .n_prev = c.n_services};
		unsigned idx0 = 0;
		char whole[256];

		for (unsigned i = 0; i < c.n_services; i++)
			dl.n_tun += xgw_service_n_tun(&c.services[i]);
		assert_int_equal(dl.n_tun, 1);
		/* A service added that reaches the tunnel backend without it. */
		assert_int_equal(xgw_config_copy(&d, &c), 0);
		struct xgw_service_cfg *sv = realloc(d.services, (d.n_services + 1) * sizeof(*sv));
		assert_non_null(sv);
		d.services = sv;
		struct xgw_service_cfg *n = &d.services[d.n_services];
		*n = d.services[0];
		n->port = 81;
		n->backends = malloc(n->n_backends * sizeof(*n->backends));
		assert_non_null(n->backends);
		memcpy(n->backends, d.services[0].backends, n->n_backends * sizeof(*n->backends));
		d.n_services++;
		d.delta = &dl;
		assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), 0);
		n->backends[1].tun = XGW_TUN_NONE;
		assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "is reached"));
		d.delta = NULL;
		assert_int_equal(xgw_config_validate(&d, -1, whole, sizeof(whole)), -EINVAL);
		assert_string_equal(err, whole);
		/* Without the tunnel in service 0 (named): no tunnel left. */
		d.services[0].backends[1].tun = XGW_TUN_NONE;
		dl.idx = &idx0;
		dl.n_idx = 1;
		d.delta = &dl;
		assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), 0);
		/* A named change checked on its own. */
		d.services[0].backends[0].port = 0;
		assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "services[0].backends[0].port"));
		/* A delta made from another config is not used: the pass
		 * finds the change. */
		dl.n_idx = 0;
		assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), 0);
		dl.prev_services = NULL;
		assert_int_equal(xgw_config_validate_since(&d, &c, -1, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "services[0].backends[0].port"));
		d.delta = NULL;
		xgw_config_free(&d);
	}

	/* The data plane's port arrays hold 16: --check must say so. */
	assert_int_equal(xgw_config_copy(&d, &c), 0);
	d.n_ports = XGW_CONFIG_MAX_PORTS + 1;
	assert_int_equal(xgw_config_validate(&d, -1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "ports: 17 ports, at most 16");
	d.n_ports = c.n_ports;
	xgw_config_free(&d);

	assert_int_equal(xgw_config_copy(&d, &c), 0);
	d.steer[0].id = 0;
	assert_int_equal(xgw_config_validate(&d, -1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "steer[0].id: expected an integer >= 1");
	xgw_config_free(&d);

	/* xgw_service_check_backend, as "backend.add" uses it. */
	memset(&be, 0, sizeof(be));
	xgw_addr_parse(&be.ip, "198.18.4.10");
	be.port = 8080;
	assert_int_equal(xgw_service_check_backend(&c.services[0], &be, "args", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "args: duplicate backend 198.18.4.10:8080");
	be.port = 8081;
	assert_int_equal(xgw_service_check_backend(&c.services[0], &be, "args", err, sizeof(err)),
			 0);
	xgw_addr_parse(&be.ip, "2001:db8::1");
	assert_int_equal(xgw_service_check_backend(&c.services[0], &be, "args", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "args.ip: 2001:db8::1 is IPv6"));

	assert_int_equal(xgw_config_find_service(&c, &c.services[0].vip, 80, IPPROTO_TCP), 0);
	assert_int_equal(xgw_config_find_service(&c, &c.services[0].vip, 80, IPPROTO_UDP), -1);
	xgw_config_free(&c);
}

/* Single objects as the control socket gets them, with its "args" prefix. */
static void test_objects(void **state)
{
	struct xgw_service_cfg s;
	struct xgw_policy_cfg p;
	struct xgw_steer_cfg st;
	char err[256];
	json_t *j, *out;

	j = json_loads("{\"vip\":\"198.18.100.9\",\"port\":53,\"proto\":\"udp\"}", 0, NULL);
	assert_int_equal(xgw_service_from_json(&s, j, "args", err, sizeof(err)), 0);
	assert_int_equal(s.n_backends, 0);
	assert_int_equal(s.datapath, XGW_DP_USER);
	out = xgw_service_to_json(&s);
	assert_string_equal(json_string_value(json_object_get(out, "algorithm")), "maglev");
	assert_int_equal(json_array_size(json_object_get(out, "backends")), 0);
	json_decref(out);
	xgw_service_free(&s);
	json_decref(j);

	j = json_loads("{\"vip\":\"198.18.100.9\",\"port\":53,\"proto\":\"udp\",\"x\":1}", 0, NULL);
	assert_int_equal(xgw_service_from_json(&s, j, "args", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "args.x: unknown key"));
	assert_true(all_zero(&s, sizeof(s)));
	json_decref(j);

	j = json_loads("{\"action\":\"allow\",\"dport\":\"80-90\"}", 0, NULL);
	assert_int_equal(xgw_policy_from_json(&p, j, "args", err, sizeof(err)), 0);
	assert_int_equal(p.id, 0); /* the caller assigns it */
	assert_true(p.allow);
	out = xgw_policy_to_json(&p);
	assert_string_equal(json_string_value(json_object_get(out, "dport")), "80-90");
	assert_null(json_object_get(out, "src"));
	json_decref(out);
	json_decref(j);

	j = json_loads("{\"dst\":\"198.18.2.0/24\",\"dport\":7000}", 0, NULL);
	assert_int_equal(xgw_steer_from_json(&st, j, "args", err, sizeof(err)), 0);
	assert_int_equal(st.proto, 0);
	assert_int_equal(st.dport, 7000);
	json_decref(j);

	/* Embedded NULs (JSON_ALLOW_NUL on the socket side) must not be cut. */
	j = json_loads("{\"vip\":\"198.18.100.9\",\"port\":53}", 0, NULL);
	json_object_set_new(j, "proto", json_stringn("udp\0x", 5));
	assert_int_equal(xgw_service_from_json(&s, j, "args", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "args.proto: expected \"tcp\" or \"udp\"");
	json_object_set_new(j, "proto", json_string("udp"));
	json_object_set_new(j, "vip", json_stringn("198.18.100.9\0junk", 17));
	assert_int_equal(xgw_service_from_json(&s, j, "args", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "args.vip: expected an IPv4 or IPv6 address string");
	json_decref(j);

	j = json_loads("[1]", 0, NULL);
	assert_int_equal(xgw_steer_from_json(&st, j, "args", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "args: expected an object");
	json_decref(j);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/xgw-test-config-XXXXXX";
	struct xgw_config c;
	char err[256];
	FILE *f;
	int fd;

	assert_int_equal(xgw_config_load_file(&c, "/nonexistent/xgw.json", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "cannot open"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	/* A key given twice is refused, not resolved silently. */
	fputs("{\"umem\": {\"frames\": 64},\n \"umem\": {\"frames\": 128}}\n", f);
	fclose(f);
	assert_int_equal(xgw_config_load_file(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "duplicate"));

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"umem\": {\"frames\": 64,}}", f);
	fclose(f);
	assert_int_equal(xgw_config_load_file(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 1"));
	unlink(path);
}

static void test_endpoint_parse(void **state)
{
	static const struct {
		const char *s;
		const char *addr; /* NULL: must fail */
		uint16_t port;
	} t[] = {
	    {"198.18.2.10:8080", "198.18.2.10", 8080},
	    {"[2001:db8::a]:8080", "2001:db8::a", 8080},
	    {"198.18.2.10:1", "198.18.2.10", 1},
	    {"198.18.2.10:65535", "198.18.2.10", 65535},
	    {"198.18.2.10:65536", NULL, 0},
	    {"198.18.2.10:0", NULL, 0},
	    {"198.18.2.10:", NULL, 0},
	    {"198.18.2.10", NULL, 0},
	    {"198.18.2.10:80x", NULL, 0},
	    {"198.18.2.10:+80", NULL, 0},
	    {"198.18.2.10:080080", NULL, 0},
	    {"2001:db8::a:8080", NULL, 0},   /* IPv6 needs brackets */
	    {"[198.18.2.10]:8080", NULL, 0}, /* brackets are for IPv6 */
	    {"[2001:db8::a]8080", NULL, 0},
	    {"[2001:db8::a:8080", NULL, 0},
	    {"198.18.2.x:8080", NULL, 0},
	    {":8080", NULL, 0},
	    {"", NULL, 0},
	};
	char buf[XGW_KEY_STRLEN], want[XGW_ADDR_STRLEN];
	struct xgw_addr a;
	uint16_t port;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = xgw_endpoint_parse(t[i].s, &a, &port);

		if (!t[i].addr) {
			if (rc != -EINVAL)
				fail_msg("\"%s\" parsed, expected -EINVAL", t[i].s);
			continue;
		}
		if (rc)
			fail_msg("\"%s\" did not parse", t[i].s);
		assert_string_equal(xgw_addr_str(&a, want, sizeof(want)), t[i].addr);
		assert_int_equal(port, t[i].port);
		assert_string_equal(xgw_endpoint_str(&a, port, buf, sizeof(buf)), t[i].s);
	}
	assert_int_equal(xgw_endpoint_parse(NULL, &a, &port), -EINVAL);
}

static void test_service_key_parse(void **state)
{
	static const struct {
		const char *s;
		const char *addr; /* NULL: must fail */
		uint16_t port;
		uint8_t proto;
	} t[] = {
	    {"198.18.100.1:80/tcp", "198.18.100.1", 80, IPPROTO_TCP},
	    {"[2001:db8::1]:80/udp", "2001:db8::1", 80, IPPROTO_UDP},
	    {"198.18.100.1:53/udp", "198.18.100.1", 53, IPPROTO_UDP},
	    {"198.18.100.1:80", NULL, 0, 0},
	    {"198.18.100.1:80/", NULL, 0, 0},
	    {"198.18.100.1:80/icmp", NULL, 0, 0},
	    {"198.18.100.1:80/TCP", NULL, 0, 0},
	    {"198.18.100.1/tcp", NULL, 0, 0},
	    {"198.18.100.1:0/tcp", NULL, 0, 0},
	    {"2001:db8::1:80/tcp", NULL, 0, 0},
	    {"198.18.100.1:80/tcp/", NULL, 0, 0},
	    {"/tcp", NULL, 0, 0},
	};
	char buf[XGW_KEY_STRLEN], want[XGW_ADDR_STRLEN];
	struct xgw_addr a;
	uint16_t port;
	uint8_t proto;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = xgw_service_key_parse(t[i].s, &a, &port, &proto);

		if (!t[i].addr) {
			if (rc != -EINVAL)
				fail_msg("\"%s\" parsed, expected -EINVAL", t[i].s);
			continue;
		}
		if (rc)
			fail_msg("\"%s\" did not parse", t[i].s);
		assert_string_equal(xgw_addr_str(&a, want, sizeof(want)), t[i].addr);
		assert_int_equal(port, t[i].port);
		assert_int_equal(proto, t[i].proto);
		assert_string_equal(xgw_service_key_str(&a, port, proto, buf, sizeof(buf)), t[i].s);
	}
}

static void test_mac_parse(void **state)
{
	uint8_t m[6];

	assert_int_equal(xgw_mac_parse(m, "02:00:00:00:04:0a"), 0);
	assert_int_equal(m[0], 0x02);
	assert_int_equal(m[5], 0x0a);
	assert_int_equal(xgw_mac_parse(m, "FF:ee:00:00:04:0A"), 0);
	assert_int_equal(m[0], 0xff);
	assert_int_equal(m[1], 0xee);
	assert_int_equal(xgw_mac_parse(m, "02-00-00-00-04-0a"), -EINVAL);
	assert_int_equal(xgw_mac_parse(m, "02:00:00:00:04:0a:"), -EINVAL);
	assert_int_equal(xgw_mac_parse(m, "2:0:0:0:4:a"), -EINVAL);
	assert_int_equal(xgw_mac_parse(m, ""), -EINVAL);
}

/* cfg_find_dup against the obvious definition (the earliest key equal to
 * an earlier one, and that earlier one's first index), on both of its
 * paths: pairwise up to 16 keys, a hash set beyond. */
static void test_find_dup(void **state)
{
	uint32_t keys[64];

	(void)state;
	srand(7);
	for (int round = 0; round < 2000; round++) {
		size_t n = 2 + (size_t)rand() % 60, first = 99, ref_first = 0;
		long ref = -1;

		for (size_t i = 0; i < n; i++)
			keys[i] = (uint32_t)rand() % (uint32_t)(n * 3);
		for (size_t i = 1; i < n && ref < 0; i++)
			for (size_t j = 0; j < i; j++)
				if (keys[i] == keys[j]) {
					ref = (long)i;
					ref_first = j;
					break;
				}
		long got = cfg_find_dup(keys, n, sizeof(keys[0]), &first);
		assert_int_equal(got, ref);
		if (ref >= 0)
			assert_int_equal(first, ref_first);
	}
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_example),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_roundtrip_example),
	    cmocka_unit_test(test_roundtrip_everything),
	    cmocka_unit_test(test_roundtrip_dpdk),
	    cmocka_unit_test(test_copy_free),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_objects),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_ctl_group),
	    cmocka_unit_test(test_endpoint_parse),
	    cmocka_unit_test(test_service_key_parse),
	    cmocka_unit_test(test_mac_parse),
	    cmocka_unit_test(test_find_dup),
	};
	const size_t nc = sizeof(cases) / sizeof(cases[0]);
	const size_t nf = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *tests = calloc(nc + nf, sizeof(*tests));
	size_t n = 0;
	int rc;

	if (!tests)
		return 1;
	/* One cmocka test per table row, named by its description. */
	for (size_t i = 0; i < nc; i++) {
		tests[n].name = cases[i].desc;
		tests[n].test_func = run_case;
		tests[n].initial_state = (void *)&cases[i];
		n++;
	}
	for (size_t i = 0; i < nf; i++)
		tests[n++] = fixed[i];
	rc = _cmocka_run_group_tests("config", tests, n, NULL, NULL);
	free(tests);
	return rc;
}
