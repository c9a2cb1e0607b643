// SPDX-License-Identifier: GPL-2.0
/*
 * The 8139too driver's zero-copy receive for PF_ZEROCOPY: see
 * rtl8139_pfzc.h.
 *
 * Why the ring never restarts: the RTL8139 goes back to the start of its
 * buffer whenever its receive side is reset (open, a transmit timeout, a
 * resume, the recovery from a bad record, and on some models any write of
 * its receive configuration), whatever the application still holds
 * there. So a ring starts once, at rtl8139_pfzc_hw_start(), and any of
 * those ends it (pfzc_cring_end): the NIC goes back to the driver's own
 * buffer and the socket gets POLLERR. For the same reason the receive
 * configuration is fixed while the ring runs: promiscuous, so that turning
 * promiscuous mode on for the capture writes nothing.
 *
 * Switching. The module calls rx_switch under RTNL when the device's
 * direct receiver comes or goes; the driver then stops the chip and starts
 * it again as it does after a transmit timeout (rtl8139_pfzc_restart(), in
 * the patch: NAPI off, the chip's DMA stopped, rtl8139_hw_start()), where
 * rtl8139_pfzc_hw_start() ends the old ring and points the NIC at the new
 * receiver's buffer, or back at the driver's own. The interface stays up:
 * no down and up for the stack to see. So the NIC writes into a socket's
 * buffer only between two restarts (or a restart and rtl8139_close(),
 * where rtl8139_pfzc_stop() ends the ring), and never after rx_switch
 * returned for the receiver that left: the module frees the buffer only
 * after that.
 */
#include <linux/module.h>

#include "pfzc_ring.h"
#include "rtl8139_pfzc.h"

/* RTL8139 registers and bits (the datasheet's names) */
#define RTL_RBSTART	0x30	/* receive buffer start: a 32-bit bus address */
#define RTL_CAPR	0x38	/* current address of packet read, - 16 */
#define RTL_CBR		0x3a	/* current buffer address: the NIC's write */
#define RTL_IMR		0x3c
#define RTL_ISR		0x3e
#define RTL_ISR_ROK	0x0001
#define RTL_ISR_RXOVW	0x0010
#define RTL_ISR_FOVW	0x0040
#define RTL_ISR_RX	(RTL_ISR_ROK | RTL_ISR_RXOVW | RTL_ISR_FOVW)
#define RTL_RX_EARLY	0xfff0	/* header length while the NIC still copies */

/*
 * An RTL8139C+ (revision 0x20 on, qemu's model among them) also works as
 * an RTL8139, buffer and all; the stock driver leaves it to 8139cp, which
 * drives its descriptor mode. cplus=1 takes it here instead.
 */
bool rtl8139_pfzc_cplus;
module_param_named(cplus, rtl8139_pfzc_cplus, bool, 0444);
MODULE_PARM_DESC(cplus, "also drive RTL8139C+ chips in the RTL8139's buffer mode (default 0: leave them to 8139cp)");

static struct rtl8139_pfzc *pd_z(struct pfzc_dev *pd)
{
	return container_of(pd, struct rtl8139_pfzc, pd);
}

/*
 * NAPI: the records the NIC completed, up to its write address, each
 * checked as the uapi's reader checks it, then published; then the NIC
 * may write again up to where the application read. Returns the NAPI
 * work done (the records published, into *packets and their bytes into
 * *bytes), or -1 when a bad record ended the ring: the caller resets the
 * receiver onto its own buffer, as the stock driver does on one.
 */
int rtl8139_pfzc_rx(struct rtl8139_pfzc *z, int budget, u64 *packets, u64 *bytes)
{
	void __iomem *io = z->ioaddr;
	u32 mask = z->buf.size - 1, pos = z->pos, avail, cons;
	bool early = false;
	int n = 0;

	/* acknowledged first: a record completed after the read of CBR
	 * below raises ROK again, and the next poll takes it */
	iowrite16(RTL_ISR_RX, io + RTL_ISR);
	ioread16(io + RTL_ISR);
	/* what the NIC wrote since pos: it never fills the whole buffer */
	avail = (ioread16(io + RTL_CBR) - pos) & mask;
	rmb();	/* the NIC's records before its write address */

	while (n < budget && avail) {
		u32 off = pos & mask;
		u32 hdr = le32_to_cpu(READ_ONCE(*(__le32 *)(z->buf.data + off)));
		u32 step;

		if ((hdr >> 16) == RTL_RX_EARLY) {
			/* still being copied in: poll again, as the stock
			 * driver does, for two jiffies at most */
			if (!z->early_until)
				z->early_until = jiffies + 2;
			if (time_before_eq(jiffies, z->early_until)) {
				early = true;
				break;
			}
		}
		z->early_until = 0;
		step = pfzc_cring_validate_rec(hdr, off, z->buf.data_len);
		/* a record running past the NIC's write address is one it
		 * did not write: stale bytes of an earlier lap */
		if (unlikely(!step || step > avail)) {
			/* lost in its own buffer (the stock driver's "rx
			 * err"): what came before stays readable */
			*packets += n;
			pfzc_cring_publish(z->po, pos, n);
			pfzc_cring_end(z->po, EIO);
			if (!z->warned)
				netdev_err(z->dev, "pf_zerocopy: bad record %08x at %u: the ring ends\n",
					   hdr, off);
			z->warned = true;
			z->po = NULL;
			return -1;
		}
		*bytes += (hdr >> 16) - 4;
		pos += step;
		avail -= step;
		n++;
	}
	z->pos = pos;
	*packets += n;
	pfzc_cring_publish(z->po, pos, n);
	cons = pfzc_cring_consumer(z->po);
	/* CAPR sits 16 bytes behind what the NIC may not overwrite */
	iowrite16((u16)(cons - 16), io + RTL_CAPR);
	/* a whole budget keeps NAPI polling, as the stock driver does while
	 * the NIC still copies a frame in (no interrupt would say when) */
	return early ? budget : n;
}

/* From rtl8139_hw_start(), the chip just reset, its receiver not enabled
 * yet: the NIC's write and read pointers are at 0. */
void rtl8139_pfzc_hw_start(struct rtl8139_pfzc *z)
{
	struct pfzc_sock *po;

	if (z->po) {	/* a reset under a running ring */
		pfzc_cring_end(z->po, ENETRESET);
		z->po = NULL;
	}
	if (!z->registered)
		return;
	rcu_read_lock();
	/* stays until rx_switch, which restarts this driver, under RTNL */
	po = pfzc_rx_get(&z->pd);
	rcu_read_unlock();
	if (!po || !pfzc_cring_buf(po, &z->buf))
		return;
	z->pos = 0;
	z->early_until = 0;
	/* buf and pos before po, which rx_kick reads from another CPU */
	smp_store_release(&z->po, po);
	iowrite32(lower_32_bits(z->buf.dma), z->ioaddr + RTL_RBSTART);
	ioread32(z->ioaddr + RTL_RBSTART);
}

/* From rtl8139_close(), the chip stopped: the ring ends (ENETDOWN). */
void rtl8139_pfzc_stop(struct rtl8139_pfzc *z)
{
	if (z->po)
		pfzc_cring_end(z->po, ENETDOWN);
	z->po = NULL;
}

/* Under RTNL: the chip restarted, or, the device down, the next open
 * picks the receiver. */
static void rtl8139_pfzc_rx_switch(struct pfzc_dev *pd)
{
	struct net_device *dev = pd_z(pd)->dev;

	if (netif_running(dev))
		rtl8139_pfzc_restart(dev);
}

/*
 * poll() found nothing to read: the application may have handed bytes
 * back that the NIC waits for. A NAPI poll moves CAPR; scheduled as the
 * interrupt handler does, with the receive interrupts masked, under the
 * driver's lock that orders it with the poll's own unmasking.
 */
static void rtl8139_pfzc_rx_kick(struct pfzc_dev *pd)
{
	struct rtl8139_pfzc *z = pd_z(pd);
	unsigned long flags;

	if (!smp_load_acquire(&z->po) || !netif_running(z->dev))
		return;
	spin_lock_irqsave(z->irq_lock, flags);
	if (napi_schedule_prep(z->napi)) {
		iowrite16(z->norx_intr_mask, z->ioaddr + RTL_IMR);
		__napi_schedule(z->napi);
	}
	spin_unlock_irqrestore(z->irq_lock, flags);
}

static const struct pfzc_dev_ops rtl8139_pfzc_ops = {
	.rx_switch = rtl8139_pfzc_rx_switch,
	.rx_kick = rtl8139_pfzc_rx_kick,
};

/* Before register_netdev(). A buffer too short for a record to run on
 * past its end (the 64 KiB one) gets no contiguous ring. */
void rtl8139_pfzc_probe(struct rtl8139_pfzc *z, struct net_device *dev,
			struct pci_dev *pdev, void __iomem *ioaddr,
			struct napi_struct *napi, spinlock_t *irq_lock,
			u16 norx_intr_mask, u32 size, u32 pad)
{
	z->dev = dev;
	z->ioaddr = ioaddr;
	z->napi = napi;
	z->irq_lock = irq_lock;
	z->norx_intr_mask = norx_intr_mask;
	z->po = NULL;
	z->pd.dma_dev = &pdev->dev;
	z->pd.cring_size = pfzc_cring_size_valid(size, size + pad) ? size : 0;
	z->pd.cring_pad = pad;
	pfzc_dev_register(&z->pd, dev, &rtl8139_pfzc_ops);
	z->registered = true;
}

/* After unregister_netdev(), or when register_netdev() failed. */
void rtl8139_pfzc_remove(struct rtl8139_pfzc *z)
{
	if (!z->registered)
		return;
	pfzc_dev_unregister(&z->pd);
	z->registered = false;
}
