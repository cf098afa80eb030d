/* SPDX-License-Identifier: BSD-3-Clause */
#include "common/iface.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int xgw_iface_mac_mtu(const char *name, uint8_t mac[6], uint32_t *mtu)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		rc = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!rc && ioctl(fd, SIOCGIFMTU, &ifr))
		rc = -errno;
	else if (!rc)
		*mtu = (uint32_t)ifr.ifr_mtu;
	close(fd);
	return rc;
}
