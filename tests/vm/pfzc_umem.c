// SPDX-License-Identifier: MIT
/*
 * pfzc_umem: what memory a umem may be, and to whom its pins are charged,
 * for the VM tests (tests/vm/guest/70-pfzc-umem.sh). Issue 13, defects 1
 * and 7. Each case expects an exact errno AND no new kernel message
 * (/dev/kmsg is read before and after every case). Prints TAP lines;
 * exits 1 if one failed.
 *
 *   pfzc_umem RAMFS_DIR     RAMFS_DIR: a ramfs mount (page cache that is
 *                           not shmem) to map files from
 *
 * RLIMIT_MEMLOCK: the cases run in children that set a limit of LIMIT
 * pages and then become a uid of their own (no capability left, so no
 * CAP_IPC_LOCK), after creating the sockets they need (socket() wants
 * CAP_NET_RAW). A fresh uid per case keeps one case's charge out of the
 * next's. The charge must follow the user through fork, execve and an fd
 * passed over SCM_RIGHTS: before the fix it was current->mm's, and a new
 * mm starts at zero.
 *
 * The rx ring's own memory is charged to the memory cgroup of its creator
 * (defect 9): memory.current grows by its size, and memory.max below it
 * makes the ring fail with ENOMEM.
 *
 * PFZC_FAMILY in the environment overrides the family (default 27).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pfzc_ring.h"

#include "pfzc_case.h"
#include "pfzc_test.h"

#define LIMIT		16	/* pages of RLIMIT_MEMLOCK in the charged cases */
#define UID_BASE	4200	/* + case number: a user per case */
#define HUGE_SZ		(2UL << 20)

static const uint32_t fs = PFZC_FRAME_SIZE;

static int pfzc_socket(void)
{
	return socket(family, SOCK_RAW, htons(ETH_P_ALL));
}

static void *anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ---- a capability-less user with a small RLIMIT_MEMLOCK ------------------ */

static int memlock_limit(void)
{
	struct rlimit rl = { LIMIT * pg, LIMIT * pg };

	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

/* Becomes uid (every capability goes with root); 0 when CAP_IPC_LOCK is gone. */
static int become(uid_t uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -1;
	return cap_has(CAP_IPC_LOCK, CAP_EFF | CAP_PERM) ? -1 : 0;
}

/* n sockets into s[], a buffer of pages pages; false if any is missing */
static bool setup(int *s, int n, void **buf, long pages)
{
	for (int i = 0; i < n; i++)
		if ((s[i] = pfzc_socket()) < 0)
			return false;
	*buf = anon(pages * pg);
	return *buf != NULL;
}

/*
 * In child c: the limit, n sockets and a buffer of LIMIT pages, then uid;
 * reports SETUP_FAILED and exits when one of them fails.
 */
static void limited_user(struct child *c, int *s, int n, void **buf, uid_t uid)
{
	if (memlock_limit() || !setup(s, n, buf, LIMIT) || become(uid))
		child_say(c, SETUP_FAILED), _exit(0);
}

/* A one-byte datagram with room for one SCM_RIGHTS fd. */
struct fd_msg {
	char c;
	struct iovec iov;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m;
};

static struct msghdr *fd_msg_init(struct fd_msg *f, char c)
{
	memset(f, 0, sizeof(*f));
	f->c = c;
	f->iov.iov_base = &f->c;
	f->iov.iov_len = 1;
	f->m.msg_iov = &f->iov;
	f->m.msg_iovlen = 1;
	f->m.msg_control = f->u.buf;
	f->m.msg_controllen = sizeof(f->u.buf);
	return &f->m;
}

static int send_fd(int sock, int fd)
{
	struct fd_msg f;
	struct msghdr *m = fd_msg_init(&f, 'F');
	struct cmsghdr *cm = CMSG_FIRSTHDR(m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	struct fd_msg f;
	struct msghdr *m = fd_msg_init(&f, 0);
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, m, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* ---- defect 1: the RLIMIT_MEMLOCK charge follows the user ------------- */

/* Baseline: one process, two sockets, one limit. */
static void test_same_process(void)
{
	struct child c;
	int v[MAX_STEPS], s[2];
	void *buf;

	begin();
	child_start(&c);
	if (c.pid == 0) {
		limited_user(&c, s, 2, &buf, UID_BASE + 1);
		child_step(&c, umem_reg(s[0], buf, LIMIT * pg, fs, 0));
		child_step(&c, umem_reg(s[1], buf, pg, fs, 0));
		_exit(0);
	}
	child_finish(&c, v, 2);
	step_result(v[0], 0, "memlock: uid %d registers the whole limit (%d pages)", UID_BASE + 1, LIMIT);
	step_result(v[1], ENOBUFS, "memlock: 1 page more on a second socket of the same process");
}

/* The child of a fork has an mm of its own. */
static void test_fork(void)
{
	struct child c;
	int v[MAX_STEPS], s[2], st;
	void *buf;
	pid_t p;

	begin();
	child_start(&c);
	if (c.pid == 0) {
		limited_user(&c, s, 2, &buf, UID_BASE + 2);
		child_step(&c, umem_reg(s[0], buf, LIMIT * pg, fs, 0));
		p = fork();
		if (p == 0) {
			child_step(&c, umem_reg(s[1], buf, pg, fs, 0));
			_exit(0);
		}
		if (p < 0 || waitpid(p, &st, 0) != p)
			child_say(&c, SETUP_FAILED);
		_exit(0);
	}
	child_finish(&c, v, 2);
	step_result(v[0], 0, "memlock fork: the parent registers the whole limit");
	step_result(v[1], ENOBUFS, "memlock fork: its child (socket inherited) registers 1 page more");
}

/* execve() gives a fresh mm; the sockets (no FD_CLOEXEC) live on. */
static void test_exec(const char *self)
{
	struct child c;
	int v[MAX_STEPS], s[3];
	char a[4][16];
	void *buf;

	begin();
	child_start(&c);
	if (c.pid == 0) {
		limited_user(&c, s, 3, &buf, UID_BASE + 3);
		child_step(&c, umem_reg(s[0], buf, LIMIT * pg, fs, 0));
		snprintf(a[0], sizeof(a[0]), "%d", c.fd);
		for (int i = 0; i < 3; i++)
			snprintf(a[i + 1], sizeof(a[i + 1]), "%d", s[i]);
		execl(self, self, "--exec-stage", a[0], a[1], a[2], a[3], (char *)NULL);
		child_say(&c, SETUP_FAILED);
		_exit(0);
	}
	child_finish(&c, v, 3);
	step_result(v[0], 0, "memlock exec: uid %d registers the whole limit, then execs itself", UID_BASE + 3);
	step_result(v[1], ENOBUFS, "memlock exec: the new image registers 1 page more");
	step_result(v[2], 0, "memlock exec: once the first socket is closed, the whole limit");
}

/*
 * The new image of test_exec: the pipe, the registered socket and two
 * empty ones (this uid may not create sockets: no CAP_NET_RAW).
 */
static int exec_stage(char **argv)
{
	struct child out = { .fd = atoi(argv[0]), .pid = 0 };
	int s0 = atoi(argv[1]), s1 = atoi(argv[2]), s2 = atoi(argv[3]);
	void *buf = anon(LIMIT * pg);

	if (!buf)
		child_say(&out, SETUP_FAILED), _exit(0);
	child_step(&out, umem_reg(s1, buf, pg, fs, 0));
	close(s0);
	child_step(&out, umem_reg(s2, buf, LIMIT * pg, fs, 0));
	return 0;
}

/*
 * A registers the whole limit and passes the socket to B over
 * SCM_RIGHTS, then exits. B, a process of the same user with an mm that
 * never pinned anything, may not pin more; once it closes the passed
 * socket the user's charge is back to zero.
 */
static void test_fd_passing(void)
{
	struct child a, b;
	int va[MAX_STEPS], vb[MAX_STEPS], u[2], s[2], fd;
	uid_t uid = UID_BASE + 4;
	void *buf;
	char go;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, u))
		die("socketpair");
	begin();
	child_start(&b);
	if (b.pid == 0) {
		close(u[0]);
		limited_user(&b, s, 2, &buf, uid);
		fd = recv_fd(u[1]);
		child_step(&b, fd);
		/* A has exited when the next datagram comes */
		if (read(u[1], &go, 1) != 1)
			child_say(&b, SETUP_FAILED), _exit(0);
		child_step(&b, umem_reg(s[0], buf, pg, fs, 0));
		close(fd);
		child_step(&b, umem_reg(s[1], buf, LIMIT * pg, fs, 0));
		_exit(0);
	}
	child_start(&a);
	if (a.pid == 0) {
		close(u[1]);
		limited_user(&a, s, 1, &buf, uid);
		child_step(&a, umem_reg(s[0], buf, LIMIT * pg, fs, 0));
		child_step(&a, send_fd(u[0], s[0]));
		_exit(0);
	}
	child_finish(&a, va, 2);
	if (write(u[0], "G", 1) != 1)
		die("write to B");
	child_finish(&b, vb, 3);
	close(u[0]);
	close(u[1]);
	step_result(va[0], 0, "memlock SCM_RIGHTS: A (uid %d) registers the whole limit", uid);
	step_result(va[1], 0, "memlock SCM_RIGHTS: A passes the socket to B and exits");
	step_result(vb[0], 0, "memlock SCM_RIGHTS: B receives it");
	step_result(vb[1], ENOBUFS, "memlock SCM_RIGHTS: B (same uid, fresh process) registers 1 page on a socket of its own");
	step_result(vb[2], 0, "memlock SCM_RIGHTS: B closes the passed socket, then registers the whole limit (charge back to 0)");
}

/*
 * With CAP_IPC_LOCK nothing is charged (as mlock and AF_XDP): a process
 * that pinned over the limit with it may still pin the whole limit once
 * it dropped it. Root's own user: the other guest scripts charge nothing
 * to it while this runs.
 */
static void test_capable(void)
{
	struct child c;
	int v[MAX_STEPS], s[3];
	void *buf;

	begin();
	child_start(&c);
	if (c.pid == 0) {
		if (memlock_limit() || !setup(s, 3, &buf, 2 * LIMIT))
			child_say(&c, SETUP_FAILED), _exit(0);
		child_step(&c, umem_reg(s[0], buf, 2 * LIMIT * pg, fs, 0));
		if (cap_change(CAP_IPC_LOCK, CAP_EFF | CAP_PERM, false))
			child_say(&c, SETUP_FAILED), _exit(0);
		child_step(&c, umem_reg(s[1], buf, LIMIT * pg, fs, 0));
		child_step(&c, umem_reg(s[2], buf, pg, fs, 0));
		_exit(0);
	}
	child_finish(&c, v, 3);
	step_result(v[0], 0, "memlock: with CAP_IPC_LOCK, twice the limit");
	step_result(v[1], 0, "memlock: then without it, the whole limit (the first was not charged)");
	step_result(v[2], ENOBUFS, "memlock: and 1 page more");
}

/* ---- defect 7: anonymous, shmem or hugetlb memory only --------------------- */

static int reg_try(void *p, size_t len)
{
	int s = pfzc_socket(), rc, e;

	if (s < 0)
		return -1;
	rc = umem_reg(s, p, len, fs, 0);
	e = errno;
	close(s);
	errno = e;
	return rc;
}

/* a file of len bytes in dir, mapped with flags; NULL and errno on failure */
static void *file_map(const char *dir, size_t len, int flags, void *at)
{
	char path[256];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/pfzc-umem.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	if (ftruncate(fd, len)) {
		close(fd);
		return NULL;
	}
	p = mmap(at, len, PROT_READ | PROT_WRITE, flags | (at ? MAP_FIXED : 0), fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static long fs_type(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) ? -1 : (long)sf.f_type;
}

/* the case: register [p, p + len); want is its errno; pins unchanged after */
static void map_case(void *p, size_t len, int want, const char *what)
{
	long p0, p1;
	int rc, e;

	begin();
	if (!p) {
		end(false, "%s: setup: %s", what, strerror(errno));
		return;
	}
	p0 = pins();
	errno = 0;
	rc = reg_try(p, len);
	e = errno;
	p1 = pins_wait(p0);
	if (p1 != p0)
		end(false, "%s: %s, and %ld pages left pinned after close", what,
		    rc < 0 ? ename(e) : "success", p1 - p0);
	else
		result(rc, e, want, "%s", what);
	munmap(p, len);
}

static void test_memory_kinds(const char *ramfs)
{
	size_t len = LIMIT * pg;
	long t;
	void *p;
	int fd;

	map_case(anon(len), len, 0, "umem: MAP_PRIVATE|MAP_ANONYMOUS");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	map_case(p == MAP_FAILED ? NULL : p, len, 0, "umem: MAP_SHARED|MAP_ANONYMOUS (shmem)");
	p = NULL;
	fd = memfd_create("pfzc-umem", MFD_CLOEXEC);
	if (fd >= 0 && !ftruncate(fd, len)) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		p = p == MAP_FAILED ? NULL : p;
	}
	if (fd >= 0)
		close(fd);
	map_case(p, len, 0, "umem: memfd, MAP_SHARED (shmem)");

	t = fs_type("/tmp");
	if (t == TMPFS_MAGIC) {
		map_case(file_map("/tmp", len, MAP_SHARED, NULL), len, 0,
			 "umem: tmpfs file, MAP_SHARED (shmem)");
		map_case(file_map("/tmp", len, MAP_PRIVATE, NULL), len, 0,
			 "umem: tmpfs file, MAP_PRIVATE (shmem)");
	} else {
		tap(true, "umem: tmpfs file # SKIP /tmp is not tmpfs (f_type %#lx)", t);
	}

	t = fs_type(ramfs);
	if (t != RAMFS_MAGIC) {
		tap(false, "umem: %s is a ramfs mount (f_type %#lx)", ramfs, t);
	} else {
		map_case(file_map(ramfs, len, MAP_SHARED, NULL), len, EOPNOTSUPP,
			 "umem: ramfs file, MAP_SHARED (page cache)");
		map_case(file_map(ramfs, len, MAP_PRIVATE, NULL), len, EOPNOTSUPP,
			 "umem: ramfs file, MAP_PRIVATE (page cache until written)");
		/* only the second half is a file: every vma is looked at */
		p = anon(len);
		if (p && !file_map(ramfs, len / 2, MAP_SHARED, (char *)p + len / 2)) {
			munmap(p, len);
			p = NULL;
		}
		map_case(p, len, EOPNOTSUPP,
			 "umem: anonymous first half, ramfs MAP_SHARED second half");
	}

	/* rootfs is tmpfs unless the kernel has no tmpfs or root= is given */
	t = fs_type("/");
	if (t == TMPFS_MAGIC)
		tap(true, "umem: file of the initramfs root, MAP_SHARED # SKIP the root is tmpfs (shmem)");
	else
		map_case(file_map("/", len, MAP_SHARED, NULL), len, EOPNOTSUPP,
			 "umem: file of the initramfs root (not tmpfs), MAP_SHARED");
}

/* The socket's own ring, mapped from the socket file: not a umem. */
static void test_ring_mapping(void)
{
	size_t ml = (pfzc_ring_map_size(PFZC_RING_MIN) + pg - 1) & ~(size_t)(pg - 1);
	void *buf = anon(PFZC_RING_MIN * fs), *m = NULL;
	int s = pfzc_socket();

	if (s >= 0 && buf && !umem_reg(s, buf, PFZC_RING_MIN * fs, fs, 0) &&
	    !ring_set(s, PFZC_RX_RING, PFZC_RING_MIN)) {
		m = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_SHARED, s,
			 PFZC_PGOFF_RX_RING);
		if (m == MAP_FAILED)
			m = NULL;
	}
	begin();
	if (!m) {
		end(false, "umem: over the socket's own rx ring mapping: setup: %s", strerror(errno));
	} else {
		int rc;

		errno = 0;
		rc = reg_try(m, ml);
		result(rc, errno, EOPNOTSUPP, "umem: over a socket's rx ring mapping");
		munmap(m, ml);
	}
	if (s >= 0)
		close(s);
	if (buf)
		munmap(buf, PFZC_RING_MIN * fs);
}

static void test_hugetlb(void)
{
	void *p;
	int fd;

	p = mmap(NULL, HUGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED) {
		char nr[32] = "?";
		int e = errno;
		FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");

		if (f) {
			if (!fgets(nr, sizeof(nr), f))
				snprintf(nr, sizeof(nr), "?");
			nr[strcspn(nr, "\n")] = '\0';
			fclose(f);
		}
		tap(true, "umem: MAP_HUGETLB # SKIP no 2 MiB huge page (mmap: %s; nr_hugepages %s)",
		    strerror(e), nr);
		return;
	}
	map_case(p, HUGE_SZ, 0, "umem: MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB (hugetlb)");

	p = NULL;
	fd = memfd_create("pfzc-umem-huge", MFD_CLOEXEC | MFD_HUGETLB);
	if (fd >= 0 && !ftruncate(fd, HUGE_SZ)) {
		p = mmap(NULL, HUGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		p = p == MAP_FAILED ? NULL : p;
	}
	if (fd >= 0)
		close(fd);
	map_case(p, HUGE_SZ, 0, "umem: memfd MFD_HUGETLB, MAP_SHARED (hugetlb)");
}

/* ---- ring memory and the memory cgroup ------------------------------------ */

#define CG_ROOT		"/sys/fs/cgroup"
#define CG		CG_ROOT "/pfzc-ring"
#define CG_RING		(1u << 15)	/* entries: a 1 MiB ring */

static int cg_write(const char *file, const char *v)
{
	char path[256];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", CG, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = write(fd, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : -1;
	close(fd);
	return rc;
}

static long long cg_current(void)
{
	long long v = -1;
	FILE *f = fopen(CG "/memory.current", "r");

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* A cgroup v2 with the memory controller, or a reason there is none. */
static const char *cg_setup(void)
{
	struct statfs sf;
	int fd;

	if (statfs(CG_ROOT, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)
		if (mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
			return "cannot mount cgroup2";
	fd = open(CG_ROOT "/cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "+memory", 7) != 7) {
		if (fd >= 0)
			close(fd);
		return "no memory controller";
	}
	close(fd);
	if (mkdir(CG, 0755) && errno != EEXIST)
		return "mkdir " CG " failed";
	return NULL;
}

/*
 * In child c: a socket with a umem for CG_RING frames, made outside the
 * cgroup (the umem's pages stay charged where they were faulted in), then
 * into the cgroup; reports the ring's setsockopt and the growth of the
 * cgroup's memory.current, in KiB.
 */
static void ring_in_cgroup(struct child *c)
{
	size_t len = (size_t)CG_RING * fs;
	void *buf = anon(len);
	int s = pfzc_socket();
	char pid[32];
	long long before;

	if (!buf || s < 0 || umem_reg(s, buf, len, fs, 0))
		child_say(c, SETUP_FAILED), _exit(0);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (cg_write("cgroup.procs", pid))
		child_say(c, SETUP_FAILED), _exit(0);
	before = cg_current();
	child_step(c, ring_set(s, PFZC_RX_RING, CG_RING));
	child_say(c, (int)((cg_current() - before) / 1024));
	_exit(0);
}

/* ring_in_cgroup() in a child, with the cgroup's memory.max at max */
static void ring_in_cgroup_under(const char *max, int r[2])
{
	struct child c;

	cg_write("memory.max", max);
	child_start(&c);
	if (!c.pid)
		ring_in_cgroup(&c);
	child_finish(&c, r, 2);
}

/*
 * The ring's pages are charged to the memory cgroup of whoever creates it
 * (issue 13, defect 9): within memory.max it grows memory.current by the
 * ring's size; under a memory.max below that size it fails with ENOMEM,
 * where an uncharged ring would be made anyway.
 */
static void test_ring_memcg(void)
{
	long ring_kib = (long)(map_len(CG_RING) / 1024);
	const char *why = cg_setup();
	int r[2];

	if (why) {
		tap(true, "ring memory charged to the memory cgroup # SKIP %s", why);
		return;
	}
	begin();
	ring_in_cgroup_under("max", r);
	if (r[0] == SETUP_FAILED) {
		end(false, "ring in a memory cgroup: setup failed");
	} else {
		step_result(r[0], 0, "rx ring of %u entries in a memory cgroup", CG_RING);
		begin();
		/* memory.current moves in the per-CPU charge batches of the
		 * memcg (64 pages): it may show up to one batch less */
		end(r[1] >= ring_kib - 64 * pg / 1024,
		    "the ring's %ld KiB are charged to the cgroup: memory.current grew by %d KiB",
		    ring_kib, r[1]);
	}

	begin();
	ring_in_cgroup_under("524288", r);
	step_result(r[0], ENOMEM, "rx ring of %ld KiB in a cgroup with memory.max 512 KiB", ring_kib);
	rmdir(CG);
}

int main(int argc, char **argv)
{
	char self[4096];
	long p0;
	ssize_t n;

	test_init();
	if (argc == 6 && !strcmp(argv[1], "--exec-stage"))
		return exec_stage(argv + 2);
	if (argc != 2) {
		fprintf(stderr, "usage: pfzc_umem RAMFS_DIR\n");
		return 2;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		die("readlink /proc/self/exe");
	self[n] = '\0';
	p0 = watch_start();

	test_same_process();
	test_fork();
	test_exec(self);
	test_fd_passing();
	test_capable();

	test_memory_kinds(argv[1]);
	test_ring_mapping();
	test_hugetlb();
	test_ring_memcg();
	return watch_end(p0);
}
