/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The 8139too driver's zero-copy receive for PF_ZEROCOPY: the RTL8139 has
 * no descriptors, it DMAs every frame behind a 4-byte header into one
 * contiguous buffer that wraps, and the stock driver copies each out into
 * an skb. While a PF_ZEROCOPY socket in contiguous-ring mode is bound to
 * the device (include/uapi/pf_zerocopy.h, "Contiguous ring"), the NIC
 * writes into that socket's buffer instead of the driver's own, the
 * driver checks each record it completed and publishes it, and the NIC's
 * read pointer (CAPR) follows what the application hands back: no skb, no
 * copy. Without one, the driver is the stock 8139too.
 *
 * The hooks below are called from Debian's own 8139too.c, patched at build
 * time (8139too-pfzc.patch); everything else is here.
 *
 * Ownership of the buffer in zero-copy mode, positions as in the uapi:
 *   [cons, pos)     published records, the application's;
 *   [pos, CBR)      written by the NIC, not checked yet: the driver's;
 *   [CBR, cons + size) the NIC's to write (it stops short of CAPR + 16,
 *                   which is cons, and counts what it misses).
 * po is set only between rtl8139_pfzc_hw_start() and the stop, the
 * restart or the bad record that ends the ring; the NIC is pointed at the
 * socket's buffer exactly while it is.
 */
#ifndef _RTL8139_PFZC_H_
#define _RTL8139_PFZC_H_

#include <linux/netdevice.h>
#include <linux/pci.h>

#include "pfzc_driver.h"

struct rtl8139_pfzc {
	struct pfzc_dev pd;
	bool registered;
	struct net_device *dev;
	void __iomem *ioaddr;
	struct napi_struct *napi;
	spinlock_t *irq_lock;		/* the driver's, over IntrMask */
	u16 norx_intr_mask;		/* IntrMask while NAPI polls */
	struct pfzc_sock *po;		/* zero-copy mode: the receiver */
	struct pfzc_cring_buf buf;
	u32 pos;			/* the next record's position */
	unsigned long early_until;	/* jiffies: a frame still copied in */
	bool warned;
};

extern bool rtl8139_pfzc_cplus;

/* in 8139too.c (the patch): the chip stopped and started again */
void rtl8139_pfzc_restart(struct net_device *dev);

void rtl8139_pfzc_probe(struct rtl8139_pfzc *z, struct net_device *dev,
			struct pci_dev *pdev, void __iomem *ioaddr,
			struct napi_struct *napi, spinlock_t *irq_lock,
			u16 norx_intr_mask, u32 size, u32 pad);
void rtl8139_pfzc_remove(struct rtl8139_pfzc *z);
void rtl8139_pfzc_hw_start(struct rtl8139_pfzc *z);
void rtl8139_pfzc_stop(struct rtl8139_pfzc *z);
int rtl8139_pfzc_rx(struct rtl8139_pfzc *z, int budget, u64 *packets, u64 *bytes);

/* __set_rx_mode(): the receiver takes every frame in zero-copy mode */
static inline bool rtl8139_pfzc_promisc(const struct rtl8139_pfzc *z)
{
	return z->po != NULL;
}

#endif /* _RTL8139_PFZC_H_ */
