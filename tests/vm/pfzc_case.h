/* SPDX-License-Identifier: MIT */
/*
 * How the VM test programs run and judge their cases: the kernel log
 * watched around each case, the TAP verdicts, children that report
 * their steps through a pipe, and the capability sets.
 */
#ifndef PFZC_CASE_H
#define PFZC_CASE_H

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pfzc_test.h"

/* ---- the kernel log ------------------------------------------------------ */

/*
 * A program that never calls kmsg_open() (pfzc_policy, pfzc_smoke) does
 * not watch the log: end() is then tap().
 */
static int kmsg_fd = -1;
static int stray_kmsg;		/* messages that appeared between cases */

static inline void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0 || lseek(kmsg_fd, 0, SEEK_END) < 0) {
		printf("not ok - open /dev/kmsg: %s\n", strerror(errno));
		exit(1);
	}
}

/* Reads every record that is new since the last call; prints each. */
static inline int kmsg_new(const char *when)
{
	char buf[8192];
	int n = 0;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		ssize_t r = read(kmsg_fd, buf, sizeof(buf) - 1);
		char *msg, *nl;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {	/* overwritten before we read */
				printf("# kmsg%s: (records lost)\n", when);
				n++;
				continue;
			}
			break;		/* EAGAIN: nothing more */
		}
		buf[r] = '\0';
		/* "prio,seq,usec,flags;text\n" then " KEY=value" lines */
		msg = strchr(buf, ';');
		msg = msg ? msg + 1 : buf;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		/* logged once per boot, whenever the VM gets there, and not
		 * the module's doing: the timer interrupt's first overrun (how
		 * slow qemu's emulation is), the random pool ready (late on a
		 * debug kernel under TCG, with little entropy: seen in the
		 * middle of pfzc_race's 180 s on the kcsan kernel) */
		if (!strncmp(msg, "hrtimer: interrupt took ", 24) ||
		    !strcmp(msg, "random: crng init done")) {
			printf("# kmsg%s (the VM's, once per boot, not counted): %s\n", when, msg);
			continue;
		}
		/* CONFIG_DEBUG_STACK_USAGE (the debug kernels): a task exited
		 * with less stack untouched than any before it, a watermark,
		 * not an error (seen when pfzc_race's threads end, 11272 of
		 * 16384 bytes left). Counted only if the stack came near its
		 * end: under 4 KiB left. */
		if (strstr(msg, " used greatest stack depth: ")) {
			unsigned long left = strtoul(strstr(msg, "depth: ") + 7, NULL, 10);

			if (left >= 4096) {
				printf("# kmsg%s (a stack watermark, not counted): %s\n", when, msg);
				continue;
			}
		}
		printf("# kmsg%s: %s\n", when, msg);
		n++;
	}
	return n;
}

static inline void begin(void)
{
	stray_kmsg += kmsg_new(" (between cases)");
}

/* One TAP line: ok when the case held and the kernel said nothing. */
static inline void __attribute__((format(printf, 2, 3)))
end(bool ok, const char *fmt, ...)
{
	int n = kmsg_new("");
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n)
		tap(false, "%s [%d new kernel message%s]", line, n, n > 1 ? "s" : "");
	else
		tap(ok, "%s", line);
}

/*
 * Starts watching the kernel log (from now on: nothing before counts) and
 * returns how many pages are pinned now, for watch_end().
 */
static inline long watch_start(void)
{
	long p;

	kmsg_open();
	p = pins();
	printf("# pinned pages at the start: %ld\n", p);
	return p;
}

/*
 * The last two cases of a watched run: no kernel message came between the
 * cases, and the pins are back to pins0. Returns the exit status.
 */
static inline int watch_end(long pins0)
{
	long p;

	/* anything the kernel logs late (RCU, workqueues) lands here */
	sleep(1);
	begin();
	end(stray_kmsg == 0, "no kernel message between the cases either (%d)", stray_kmsg);
	p = pins_wait(pins0);
	tap(p == pins0, "nothing left pinned at the end (%ld, at the start %ld)", p, pins0);
	return failures ? 1 : 0;
}

/* ---- verdicts ------------------------------------------------------------ */

static inline const char *ename(int e)
{
	const char *s = e ? strerrorname_np(e) : "success";

	return s ? s : "?";
}

/*
 * rc must be -1 with errno want, or >= 0 when want is 0. The call goes in
 * a statement of its own before: an argument list may read errno first.
 */
static inline void __attribute__((format(printf, 4, 5)))
result(long rc, int e, int want, const char *fmt, ...)
{
	char name[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (want == 0)
		end(rc >= 0, "%s: success%s%s", name, rc < 0 ? ", got " : "",
		    rc < 0 ? ename(e) : "");
	else if (rc >= 0)
		end(false, "%s: %s, got success", name, ename(want));
	else
		end(e == want, "%s: %s%s%s", name, ename(want),
		    e == want ? "" : ", got ", e == want ? "" : ename(e));
}

/* ---- children that report steps through a pipe -------------------------- */

/* one int per step: 0 for success or the errno, SETUP_FAILED when the
 * step could not be set up */
#define SETUP_FAILED	-1000
#define MAX_STEPS	8

struct child {
	int fd;
	pid_t pid;
};

static inline void child_start(struct child *c)
{
	int p[2];

	if (pipe(p))	/* no O_CLOEXEC: pfzc_umem's exec case reports through it */
		die("pipe");
	fflush(stdout);
	c->pid = fork();
	if (c->pid < 0)
		die("fork");
	if (c->pid == 0) {
		close(p[0]);
		c->fd = p[1];
		return;
	}
	close(p[1]);
	c->fd = p[0];
}

static inline void child_say(struct child *c, int v)
{
	if (write(c->fd, &v, sizeof(v)) != sizeof(v))
		_exit(3);
}

/* In the child: the step's result from rc and errno. */
static inline void child_step(struct child *c, long rc)
{
	child_say(c, rc < 0 ? errno : 0);
}

/* In the parent: waits for the child, returns how many steps it reported. */
static inline int child_finish(struct child *c, int *v, int max)
{
	int n = 0, status;

	while (n < max && read(c->fd, &v[n], sizeof(v[n])) == sizeof(v[n]))
		n++;
	close(c->fd);
	waitpid(c->pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		printf("# child exited with status %#x\n", status);
	for (int i = n; i < max; i++)
		v[i] = SETUP_FAILED;
	return n;
}

/* A reported step's verdict, as result() gives it. */
static inline void __attribute__((format(printf, 3, 4)))
step_result(int v, int want, const char *fmt, ...)
{
	char name[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (v == SETUP_FAILED)
		end(false, "%s: %s, but the step did not run", name, ename(want));
	else
		result(v ? -1 : 0, v, want, "%s", name);
}

/* ---- capabilities -------------------------------------------------------- */

enum { CAP_EFF = 1, CAP_PERM = 2, CAP_INH = 4 };

/* Clears (raise false) or sets cap in the chosen sets of this process. */
static inline int cap_change(int cap, int sets, bool raise)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint32_t bit = 1u << (cap % 32);

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (sets & CAP_EFF)
		d[cap / 32].effective = raise ? d[cap / 32].effective | bit
					      : d[cap / 32].effective & ~bit;
	if (sets & CAP_PERM)
		d[cap / 32].permitted = raise ? d[cap / 32].permitted | bit
					      : d[cap / 32].permitted & ~bit;
	if (sets & CAP_INH)
		d[cap / 32].inheritable = raise ? d[cap / 32].inheritable | bit
						: d[cap / 32].inheritable & ~bit;
	return syscall(SYS_capset, &h, d);
}

/* Whether cap is in any of the chosen sets of this process: 1, 0, or -1. */
static inline int cap_has(int cap, int sets)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint32_t bit = 1u << (cap % 32), in = 0;

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (sets & CAP_EFF)
		in |= d[cap / 32].effective;
	if (sets & CAP_PERM)
		in |= d[cap / 32].permitted;
	if (sets & CAP_INH)
		in |= d[cap / 32].inheritable;
	return !!(in & bit);
}

#endif
