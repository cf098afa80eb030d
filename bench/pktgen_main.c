/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-pktgen: packet generator (live frames or AF_XDP) and sink. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bench/pktgen.h"
#include "bench/pktgen_out.h"

static void on_signal(int sig)
{
	(void)sig;
	pg_stop = 1;
}

static int transmit(struct pg_opts *o)
{
	struct pg_tx_result r;
	int err = -EOPNOTSUPP;

	memset(&r, 0, sizeof(r));
	if (!o->have_src_mac && pg_iface_mac(o->ifname, o->pkt.src_mac))
		fprintf(stderr, "xgw-pktgen: no MAC address on %s: using zeros\n", o->ifname);
	if (o->mode != PG_MODE_XSK)
		err = pg_tx_live(o, &r);
	if (err == -EOPNOTSUPP && o->mode == PG_MODE_AUTO) {
		fprintf(stderr, "xgw-pktgen: falling back to AF_XDP transmit\n");
		memset(&r, 0, sizeof(r));
		r.fell_back = true;
		err = pg_tx_xsk(o, &r);
	} else if (o->mode == PG_MODE_XSK) {
		err = pg_tx_xsk(o, &r);
	}
	if (err)
		return err;
	pg_print_tx(o, &r);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct pg_opts o;
	int err;

	if (pg_opts_parse(&o, argc, argv))
		return 2;
	/* No SA_RESTART: a signal must cut BPF_PROG_RUN and poll() short. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o.core >= 0 && (err = pg_pin_core(o.core))) {
		fprintf(stderr, "xgw-pktgen: pinning to CPU %d: %s\n", o.core, strerror(-err));
		return 1;
	}
	err = o.sink ? pg_sink(&o) : transmit(&o);
	return err ? 1 : 0;
}
