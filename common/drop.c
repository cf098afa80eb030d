/* SPDX-License-Identifier: BSD-3-Clause */
#include "common/drop.h"

static const char *const names[] = {
#define _(n, s) [XGW_DROP_##n] = s,
	XGW_FOREACH_DROP(_)
#undef _
};

const char *xgw_drop_name(unsigned reason)
{
	return reason < XGW_DROP__MAX ? names[reason] : "unknown";
}
