/* SPDX-License-Identifier: BSD-3-Clause */
/* xgwctl internals: the CLI command table, argv -> request JSON (no socket
 * involved, so it is unit-tested on its own) and the human-readable
 * formatting of replies. */
#ifndef XGW_XGWCTL_H
#define XGW_XGWCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct xgwctl_cmd;

/* One parsed command line. */
struct xgwctl_inv {
	const char *socket;	      /* -s PATH, else the default */
	const struct xgwctl_cmd *cmd; /* NULL when only usage was asked for */
	json_t *req;		      /* {"cmd":..., "args":{...}} */
	bool json;		      /* --json: print the raw result */
	bool watch;		      /* stats --watch */
	bool load;		      /* workers: two stats reads, interval s apart */
	double interval;	      /* workers --interval (default 1 s) */
	bool tap;		      /* trace or capture: start, read until done, stop */
	const char *write;	      /* capture -w FILE */
	bool usage;		      /* -h/--help or no command: print usage, exit 0 */
	bool version;		      /* --version: print it, exit 0 */
	const char *file;	      /* -f FILE: requests from a file, in batches */
	unsigned batch;		      /* --batch N: requests per batch (default 1000) */
};

/* argv as main() gets it.  0, or -EINVAL with err saying what is wrong
 * ("backend add: --vni needs --vxlan or --geneve").  Release with
 * xgwctl_inv_free, also after a failure. */
int xgwctl_parse(int argc, char **argv, struct xgwctl_inv *inv, char *err, size_t errlen);
void xgwctl_inv_free(struct xgwctl_inv *inv);
/* -f: every command line of f as a request (*reqs) with its line number
 * (*lines, same index).  0, or -EINVAL with err "NAME:LINE: what". */
int xgwctl_file_requests(FILE *f, const char *name, json_t **reqs, json_t **lines, char *err,
			 size_t errlen);
void xgwctl_usage(FILE *f);

/* Print a successful result the way the command's table wants it. */
void xgwctl_print(FILE *f, const struct xgwctl_cmd *cmd, json_t *result);

/* Formatters, one per kind of result (xgwctl_fmt.c). */
void xgwctl_fmt_services(FILE *f, json_t *r);
void xgwctl_fmt_backends(FILE *f, json_t *r);
void xgwctl_fmt_policies(FILE *f, json_t *r);
void xgwctl_fmt_steer(FILE *f, json_t *r);
void xgwctl_fmt_routes(FILE *f, json_t *r);
void xgwctl_fmt_route(FILE *f, json_t *r);
void xgwctl_fmt_neigh(FILE *f, json_t *r);
void xgwctl_fmt_ct(FILE *f, json_t *r);
void xgwctl_fmt_stats(FILE *f, json_t *r);
void xgwctl_fmt_ports(FILE *f, json_t *r);
void xgwctl_fmt_help(FILE *f, json_t *r);
void xgwctl_fmt_json(FILE *f, json_t *r);
void xgwctl_fmt_added(FILE *f, json_t *r);
/* Worker load between two stats results taken dt seconds apart (xgwctl
 * workers, like `vppctl show runtime`): per worker busy %, packets per
 * burst, cycles per packet, packets and polls per second.  New array. */
json_t *xgwctl_load(json_t *prev, json_t *cur, double dt);
void xgwctl_fmt_load(FILE *f, json_t *load);
/* Rates between two stats results taken dt seconds apart (stats --watch). */
/* capture -w: a pcap file of the records of capture.read (xgwctl_pcap.c). */
struct xgwctl_pcap;
struct xgwctl_pcap *xgwctl_pcap_open(const char *file, char *err, size_t errlen);
int xgwctl_pcap_write(struct xgwctl_pcap *p, json_t *rec);
int xgwctl_pcap_close(struct xgwctl_pcap *p);

void xgwctl_fmt_rates(FILE *f, json_t *prev, json_t *cur, double dt);

#endif
