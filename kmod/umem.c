// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: the user frame buffer (umem), pinned for the socket's life.
 */
#include <linux/capability.h>
#include <linux/dma-mapping.h>
#include <linux/cred.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pfzc.h"

/* Pin in slices so a huge umem neither hogs the CPU nor fails on one call. */
#define PFZC_PIN_BATCH	(1UL << 16)

/*
 * The kernel writes packets into the umem: it must be memory that belongs
 * to the process and to those it shares it with, never a file's page
 * cache (packets would reach the file, and writeback does not expect a
 * page pinned for the long term), as io_uring's registered buffers.
 * No vm_file: private anonymous memory (MAP_PRIVATE of a file has one,
 * and its pages are page cache until written). shmem: tmpfs files, memfd,
 * MAP_SHARED|MAP_ANONYMOUS, SysV shm. hugetlb: hugetlbfs and MAP_HUGETLB.
 */
static bool pfzc_vma_ok(struct vm_area_struct *vma)
{
	return !vma->vm_file || is_vm_hugetlb_page(vma) ||
	       shmem_mapping(vma->vm_file->f_mapping);
}

/* Under mmap_lock: every vma over [start, end) acceptable; holes fault. */
static int pfzc_vmas_check(struct mm_struct *mm, unsigned long start,
			   unsigned long end)
{
	struct vm_area_struct *vma;

	while (start < end) {
		vma = vma_lookup(mm, start);
		if (!vma)
			return -EFAULT;
		if (!pfzc_vma_ok(vma))
			return -EOPNOTSUPP;
		start = vma->vm_end;
	}
	return 0;
}

/*
 * Each slice is checked and pinned under one hold of mmap_read_lock
 * (pin_user_pages() with no "locked" argument never drops it), so no
 * mmap/munmap/mremap, which take it for writing, can put a file mapping
 * there in between; checking vmas first and then pin_user_pages_fast()
 * would leave that window. Once pinned, the pages are what the umem
 * holds: remapping the range later changes the addresses, not them.
 */
static int pfzc_umem_pin(struct pfzc_umem *umem, struct mm_struct *mm,
			 unsigned long addr)
{
	unsigned long done = 0, start, n;
	long got = 0;
	int err;

	while (done < umem->npages) {
		n = min(umem->npages - done, PFZC_PIN_BATCH);
		start = addr + done * PAGE_SIZE;
		mmap_read_lock(mm);
		err = pfzc_vmas_check(mm, start, start + n * PAGE_SIZE);
		if (!err) {
			got = pin_user_pages(start, n,
					     FOLL_WRITE | FOLL_LONGTERM,
					     umem->pages + done, NULL);
			if (got <= 0)
				err = got == -ENOMEM ? -ENOMEM : -EFAULT;
		}
		mmap_read_unlock(mm);
		if (err) {
			if (done)
				unpin_user_pages(umem->pages, done);
			return err;
		}
		done += got;
		cond_resched();
	}
	return 0;
}

/*
 * Pins are charged to the user, not to current->mm: the socket, and its
 * pins, outlive the mm through fork, execve and SCM_RIGHTS, and a new mm
 * starts from zero. As mlock(), CAP_IPC_LOCK lifts the limit; then nothing
 * is charged (umem->user stays NULL) and nothing is given back.
 */
static int pfzc_umem_charge(struct pfzc_umem *umem)
{
	unsigned long limit;
	struct user_struct *user;
	long old, new;

	if (capable(CAP_IPC_LOCK))
		return 0;

	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	user = get_uid(current_user());
	old = atomic_long_read(&user->locked_vm);
	do {
		new = old + umem->npages;
		if ((unsigned long)new > limit) {
			free_uid(user);
			return -ENOBUFS;	/* the ABI's errno for it */
		}
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &old, new));
	umem->user = user;
	return 0;
}

/* May run long after the charged process exited: only the user is used. */
static void pfzc_umem_uncharge(struct pfzc_umem *umem)
{
	if (!umem->user)
		return;
	atomic_long_sub(umem->npages, &umem->user->locked_vm);
	free_uid(umem->user);
	umem->user = NULL;
}

/*
 * Called without the socket lock: pinning takes mmap_lock, which mmap()
 * holds when it takes the socket lock.
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

	/* before pinning: a umem over the limit pins nothing */
	err = pfzc_umem_charge(umem);
	if (err)
		goto err_free;

	err = pfzc_umem_pin(umem, mm, reg->addr);
	if (err)
		goto err_uncharge;

	*out = umem;
	return 0;

err_uncharge:
	pfzc_umem_uncharge(umem);
err_free:
	kvfree(umem->pages);
	kfree(umem);
	return err;
}

/* May run after the owning process exited (fd closed in do_exit). */
void pfzc_umem_destroy(struct pfzc_umem *umem)
{
	/* the kernel wrote packets into them through kmap */
	unpin_user_pages_dirty_lock(umem->pages, umem->npages, true);
	pfzc_umem_uncharge(umem);
	kvfree(umem->pages);
	kfree(umem);
}

void pfzc_dma_pages_unmap(struct pfzc_dma_pages *m)
{
	while (m->npages--)
		dma_unmap_page(m->dev, m->page[m->npages], PAGE_SIZE, m->dir);
	kvfree(m->page);
	m->page = NULL;
	m->npages = 0;
	m->dev = NULL;
}

/* Process context: maps umem pages [first, first + n) for dev's DMA. */
int pfzc_dma_pages_map(struct pfzc_dma_pages *m, const struct pfzc_umem *umem,
		       struct device *dev, u32 first, u32 n,
		       enum dma_data_direction dir)
{
	if (WARN_ON_ONCE(m->dev) || !dev || !n || first > umem->npages ||
	    n > umem->npages - first)
		return -EINVAL;
	m->page = kvcalloc(n, sizeof(*m->page), GFP_KERNEL);
	if (!m->page)
		return -ENOMEM;
	m->dev = dev;
	m->dir = dir;
	m->first = first;
	for (m->npages = 0; m->npages < n; m->npages++) {
		dma_addr_t a = dma_map_page(dev, umem->pages[first + m->npages],
					    0, PAGE_SIZE, dir);

		if (dma_mapping_error(dev, a)) {
			pfzc_dma_pages_unmap(m);
			return -ENOMEM;
		}
		m->page[m->npages] = a;
	}
	return 0;
}
