// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: the contiguous ring, the NIC's own receive buffer shared
 * read-only with the application (include/uapi/pf_zerocopy.h, "Contiguous
 * ring"), and the driver API over it (pfzc_driver.h).
 *
 * The buffer is the socket's, not the driver's: allocated at bind as
 * coherent DMA memory of the NIC, freed at release, when no vma maps it
 * any more (each holds the socket's file) and the driver, restarted by
 * rx_switch at detach, writes into it no more. So a driver that frees and
 * reallocates its own buffer (ifdown, ifup) never frees this one, and a
 * mapping never outlives its memory. The NIC's struct device is held until
 * then, so the free after the NIC's removal still has it.
 *
 * prod and cons are the driver's poll's alone (NAPI: one CPU at a time);
 * the shared producer is written only here, the shared consumer only read.
 */
#include <linux/dma-mapping.h>
#include <linux/mm.h>

#include "pfzc.h"

int pfzc_cring_set(struct pfzc_sock *po, sockptr_t optval, unsigned int optlen)
{
	struct pfzc_cring_shared *ctl;
	u32 flags;
	int err;

	if (optlen != sizeof(flags))
		return -EINVAL;
	if (copy_from_sockptr(&flags, optval, sizeof(flags)))
		return -EFAULT;
	if (flags)
		return -EINVAL;
	ctl = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!ctl)
		return -ENOMEM;
	ctl->abi_version = PFZC_ABI_VERSION;

	mutex_lock(&po->lock);
	if (po->state != PFZC_UNBOUND || po->cring.ctl)
		err = -EBUSY;
	else if (po->umem || po->rx.map || po->tx.map)
		err = -EINVAL;
	else
		err = 0;
	if (!err) {
		/* poll() looks at it without the lock */
		smp_store_release(&po->cring.ctl, ctl);
		ctl = NULL;
	}
	mutex_unlock(&po->lock);
	if (ctl)
		free_page((unsigned long)ctl);
	return err;
}

/* At bind, under po->lock and RTNL: pd has a contiguous ring. */
int pfzc_cring_alloc(struct pfzc_sock *po, struct pfzc_dev *pd)
{
	struct pfzc_cring *c = &po->cring;
	u32 len = pd->cring_size + pd->cring_pad;

	if (WARN_ON_ONCE(!pd->dma_dev ||
			 !pfzc_cring_size_valid(pd->cring_size, len)))
		return -EOPNOTSUPP;
	c->alloc = PAGE_ALIGN(len);
	c->data = dma_alloc_coherent(pd->dma_dev, c->alloc, &c->dma,
				     GFP_KERNEL | __GFP_NOWARN);
	if (!c->data)
		return -ENOMEM;
	c->dev = get_device(pd->dma_dev);
	WRITE_ONCE(c->size, pd->cring_size);	/* poll() reads it unlocked */
	c->data_len = len;
	c->prod = 0;
	c->cons = 0;
	c->ctl->size = pd->cring_size;
	c->ctl->data_len = len;
	return 0;
}

/* Release: the driver stopped writing (detach), no vma is left. */
void pfzc_cring_free(struct pfzc_sock *po)
{
	struct pfzc_cring *c = &po->cring;

	if (c->data) {
		dma_free_coherent(c->dev, c->alloc, c->data, c->dma);
		put_device(c->dev);
		c->data = NULL;
		c->dev = NULL;
	}
	if (c->ctl)
		free_page((unsigned long)c->ctl);
	c->ctl = NULL;
}

/* Under po->lock. */
int pfzc_cring_mmap(struct pfzc_sock *po, struct vm_area_struct *vma)
{
	struct pfzc_cring *c = &po->cring;
	unsigned long size = vma->vm_end - vma->vm_start;
	int err;

	if (!c->ctl)
		return -EINVAL;
	if (vma->vm_pgoff == PFZC_PGOFF_CRING) {
		if (size > PAGE_SIZE)
			return -EINVAL;
		return vm_insert_page(vma, vma->vm_start, virt_to_page(c->ctl));
	}
	/* the buffer exists from bind on; the NIC's, to read only */
	if (vma->vm_pgoff != PFZC_PGOFF_CRING_DATA || !c->data ||
	    size > c->alloc)
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	vma->vm_flags &= ~VM_MAYWRITE;
	/* the offset named the buffer; the helper reads it as one into it */
	vma->vm_pgoff = 0;
	err = dma_mmap_coherent(c->dev, vma, c->data, c->dma, c->alloc);
	vma->vm_pgoff = PFZC_PGOFF_CRING_DATA;
	return err;
}

bool pfzc_cring_readable(struct pfzc_sock *po)
{
	struct pfzc_cring_shared *ctl = smp_load_acquire(&po->cring.ctl);
	u32 prod, cons;

	if (!ctl)
		return false;
	/* whatever user space wrote there only changes its own answer */
	prod = READ_ONCE(ctl->producer);
	cons = READ_ONCE(ctl->consumer);
	return prod != cons && prod - cons < READ_ONCE(po->cring.size);
}

/* ---- the driver's side (pfzc_driver.h) ---- */

bool pfzc_cring_buf(struct pfzc_sock *po, struct pfzc_cring_buf *b)
{
	struct pfzc_cring *c = &po->cring;

	if (!c->data || READ_ONCE(c->ended))
		return false;
	b->data = c->data;
	b->dma = c->dma;
	b->size = c->size;
	b->data_len = c->data_len;
	return true;
}
EXPORT_SYMBOL_GPL(pfzc_cring_buf);

void pfzc_cring_publish(struct pfzc_sock *po, u32 prod, u32 packets)
{
	struct pfzc_cring *c = &po->cring;

	if (prod == c->prod)
		return;
	c->prod = prod;
	smp_store_release(&c->ctl->producer, prod);	/* B, matches C */
	atomic64_add(packets, &po->rx_packets);
	atomic64_add(packets, &po->rx_dma_frames);
	po->sk.sk_data_ready(&po->sk);
}
EXPORT_SYMBOL_GPL(pfzc_cring_publish);

u32 pfzc_cring_consumer(struct pfzc_sock *po)
{
	struct pfzc_cring *c = &po->cring;
	u32 cons = smp_load_acquire(&c->ctl->consumer);	/* A, matches D */

	if (pfzc_cring_validate_cons(cons, c->cons, c->prod))
		c->cons = cons;
	return c->cons;
}
EXPORT_SYMBOL_GPL(pfzc_cring_consumer);

/* The NIC writes no more into the buffer: from the driver, BH off or
 * under RTNL, once. What was published stays readable. */
void pfzc_cring_end(struct pfzc_sock *po, int err)
{
	struct pfzc_cring *c = &po->cring;

	if (READ_ONCE(c->ended))
		return;
	WRITE_ONCE(c->ended, true);
	/* after the producer: a reader that sees it has every record */
	smp_store_release(&c->ctl->flags, READ_ONCE(c->ctl->flags) | PFZC_CRING_ENDED);
	WRITE_ONCE(po->sk.sk_err, err);
	sk_error_report(&po->sk);
}
EXPORT_SYMBOL_GPL(pfzc_cring_end);
