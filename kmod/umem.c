// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: the user frame buffer (umem), pinned for the socket's life.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pfzc.h"

/* Pin in slices so a huge umem neither hogs the CPU nor fails on one call. */
#define PFZC_PIN_BATCH	(1UL << 16)

static int pfzc_umem_pin(struct pfzc_umem *umem, unsigned long addr)
{
	unsigned long done = 0;
	int n;

	while (done < umem->npages) {
		n = min(umem->npages - done, PFZC_PIN_BATCH);
		n = pin_user_pages_fast(addr + done * PAGE_SIZE, n,
					FOLL_WRITE | FOLL_LONGTERM,
					umem->pages + done);
		if (n <= 0) {
			if (done)
				unpin_user_pages(umem->pages, done);
			return n == -ENOMEM ? -ENOMEM : -EFAULT;
		}
		done += n;
		cond_resched();
	}
	return 0;
}

/*
 * Called without the socket lock: pinning and accounting take mmap_lock,
 * which mmap() holds when it takes the socket lock.
 */
int pfzc_umem_create(const struct pfzc_umem_reg *reg, struct pfzc_umem **out)
{
	struct mm_struct *mm = current->mm;
	struct pfzc_umem *umem;
	u32 fs = reg->frame_size;
	int err;

	BUILD_BUG_ON(PFZC_FRAME_SIZE_MAX > PAGE_SIZE);

	if (reg->flags || (fs != PFZC_FRAME_SIZE && fs != PFZC_FRAME_SIZE_MAX))
		return -EINVAL;
	if (!reg->len || reg->len > PFZC_UMEM_MAX || reg->len & (fs - 1))
		return -EINVAL;
	if (!PAGE_ALIGNED(reg->addr))
		return -EINVAL;
	if (reg->addr + reg->len < reg->addr ||
	    !access_ok(u64_to_user_ptr(reg->addr), reg->len))
		return -EFAULT;
	if (!mm)
		return -EFAULT;

	umem = kzalloc(sizeof(*umem), GFP_KERNEL);
	if (!umem)
		return -ENOMEM;
	umem->len = reg->len;
	umem->frame_size = fs;
	umem->nframes = div_u64(reg->len, fs);
	umem->npages = PAGE_ALIGN(reg->len) >> PAGE_SHIFT;
	umem->pages = kvcalloc(umem->npages, sizeof(*umem->pages),
			       GFP_KERNEL_ACCOUNT);
	if (!umem->pages) {
		err = -ENOMEM;
		goto err_free;
	}

	/* -ENOMEM here means over RLIMIT_MEMLOCK, which the ABI calls ENOBUFS */
	err = account_locked_vm(mm, umem->npages, true);
	if (err) {
		err = -ENOBUFS;
		goto err_free;
	}
	mmgrab(mm);
	umem->mm = mm;

	err = pfzc_umem_pin(umem, reg->addr);
	if (err)
		goto err_unaccount;

	*out = umem;
	return 0;

err_unaccount:
	account_locked_vm(mm, umem->npages, false);
	mmdrop(mm);
err_free:
	kvfree(umem->pages);
	kfree(umem);
	return err;
}

/*
 * May run after the owning process exited (fd closed in do_exit): the mm
 * is kept alive by mmgrab() only to give back its locked_vm charge.
 */
void pfzc_umem_destroy(struct pfzc_umem *umem)
{
	/* the kernel wrote packets into them through kmap */
	unpin_user_pages_dirty_lock(umem->pages, umem->npages, true);
	account_locked_vm(umem->mm, umem->npages, false);
	mmdrop(umem->mm);
	kvfree(umem->pages);
	kfree(umem);
}
