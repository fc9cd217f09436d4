// SPDX-License-Identifier: GPL-2.0
/*
 * krsi_stress: "make stress" runs this in the VM.  Each phase checks every
 * result it can and counts what it checked; any unexpected result is a
 * violation, printed when it happens, and makes the exit status 1.
 *
 *   churn     a deny policy on file_mprotect swapped back and forth with
 *             another (BPF_LINK_UPDATE, then BPF_PROG_ATTACH with
 *             BPF_F_REPLACE) while workers on every CPU call mprotect()
 *             and check it is denied, and churners attach, detach, close, pin and unpin
 *             allow-programs on the same hook and query it; after the
 *             last detach mprotect() is allowed again
 *   detach    allow-programs attached and closed or detached while the
 *             hook runs on every CPU: mprotect() is never denied
 *   capacity  threads race to attach distinct programs to one hook:
 *             exactly KRSI_MAX_PROGS succeed, the rest get E2BIG, and
 *             the query, the hook file and the programs that run agree
 *   mixed     KRSI links, trampoline links and lsm_cgroup attachments on
 *             the same hook churned together, with and without a deny
 *             policy attached through KRSI
 *   fuzz      random calls of the bpf(2) attach family with random
 *             attach types, flags, fds, counts and pointers, as root and
 *             without CAP_MAC_ADMIN; afterwards every hook file is empty,
 *             the query agrees and a fresh deny policy still works
 *   faults    every allocation on the attach, link create, update,
 *             replace, detach and query paths, and on trampoline and
 *             lsm_cgroup attach, made to fail in turn (fail-nth): each
 *             call fails with ENOMEM and changes nothing, or absorbs the
 *             failure and does all its work; kmemleak, where the kernel
 *             has it, finds nothing left behind
 *   shim      (only with -p) an lsm_cgroup program attached and detached
 *             in a loop, which frees the hook's cgroup shim each time,
 *             while four threads per CPU call the hook, so that the
 *             scheduler preempts some inside the BPF trampoline.  It needs
 *             no KRSI: the same run on the base kernel tells whether a
 *             failure is the series'
 *
 * Usage: krsi_stress [-d SECONDS] [-n MIN_SWAPS] [-f FUZZ_CALLS] [-s SEED]
 *                    [-p PHASE,...]   (default: all but shim, in the order
 *                    above)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "stress.skel.h"
#include "slot.skel.h"

#define HOOKS_DIR	"/sys/kernel/security/bpf/hooks"
#define AUDIT_SWITCH	"/sys/kernel/security/bpf/audit"
#define HOOK		"file_mprotect"
#define KRSI_MAX_PROGS	64	/* the per-hook bound of the uAPI */
#define NR_SLOTS	128	/* slot.bpf.c's hits map */
#define CAPACITY_PROGS	80
#define CAPACITY_THREADS 4
#define BPFFS		"/sys/fs/bpf"
#define CGROUP_MNT	"/sys/fs/cgroup"

static unsigned int duration = 300;	/* seconds, all phases */
static unsigned long min_swaps = 100000;
static unsigned long fuzz_calls = 100000;
static unsigned long long seed;
static const char *phases = "churn,detach,capacity,mixed,fuzz,faults";

/* Whether PHASE is among the -p list. */
static bool want(const char *phase)
{
	size_t n = strlen(phase);
	const char *p;

	for (p = phases; (p = strstr(p, phase)); p += n)
		if ((p == phases || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}
static int nr_cpus;

static struct stress *skel;
static void *page;
static long page_size;
static atomic_ulong violations;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "krsi_stress: error: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/* A violation: printed (the first 20), counted, fails the run. */
static void violation(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&violations, 1) >= 20)
		return;
	va_start(ap, fmt);
	printf("VIOLATION: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_hook(const char *hook, int flags)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), HOOKS_DIR "/%s", hook);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	return fd;
}

/* Set the audit switch to @on; what it was. */
static bool set_audit(bool on)
{
	char old[3] = {};
	ssize_t n;
	int fd;

	fd = open(AUDIT_SWITCH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", AUDIT_SWITCH, strerror(errno));
	n = read(fd, old, 2);
	if (n < 0)
		die("read %s: %s", AUDIT_SWITCH, strerror(errno));
	if (n != 2 || old[1] != '\n' || (old[0] != '0' && old[0] != '1'))
		die("read %s: '%s', not 0 or 1", AUDIT_SWITCH, old);
	close(fd);
	fd = open(AUDIT_SWITCH, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, on ? "1" : "0", 1) != 1)
		die("write %s: %s", AUDIT_SWITCH, strerror(errno));
	close(fd);
	return old[0] == '1';
}

/*
 * A hook file in @buf and its number of lines, or -1.  The counters of each
 * KRSI line ("<id> <name> krsi <runs> <denials> <mode>") are left out, so
 * that two reads compare equal while the same programs are attached.
 */
static int hook_file_lines(const char *hook, char *buf, size_t size)
{
	char raw[16384], name[32], kind[16], runs[24], mode[16], *line, *save;
	int fd = open_hook(hook, O_RDONLY), lines = 0;
	unsigned long long denials;
	size_t len = 0;
	unsigned int id;
	ssize_t n;

	n = read(fd, raw, sizeof(raw) - 1);
	close(fd);
	if (n < 0)
		return -1;
	raw[n] = '\0';
	buf[0] = '\0';
	for (line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* <runs> is a number, or "-" while runs are not counted. */
		if (sscanf(line, "%u %31s %15s %23s %llu %15s", &id, name, kind,
			   runs, &denials, mode) == 6 && !strcmp(kind, "krsi"))
			len += snprintf(buf + len, size - len, "%u %s krsi %s\n",
					id, name, mode);
		else
			len += snprintf(buf + len, size - len, "%s\n", line);
		if (len >= size)
			die("hook file %s: more than %zu bytes", hook, size);
		lines++;
	}
	return lines;
}

/* KRSI programs on a hook through BPF_PROG_QUERY, or -errno. */
static int query(int hook_fd, __u32 *ids, __u32 max)
{
	LIBBPF_OPTS(bpf_prog_query_opts, opts, .prog_ids = ids, .count = max);
	int err;

	err = bpf_prog_query_opts(hook_fd, BPF_LSM_MAC, &opts);
	return err ? -errno : (int)opts.count;
}

static __u32 prog_id(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_prog_get_info_by_fd(prog_fd, &info, &len))
		die("prog info: %s", strerror(errno));
	return info.id;
}

static unsigned long long rnd(unsigned long long *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % nr_cpus, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/*
 * What mprotect() must do now.  The main thread makes a change between
 * two increments of gen; a worker checks a result only when gen was the
 * same, and even, before and after its call.
 */
enum expect { EXPECT_DENY, EXPECT_ALLOW };
static atomic_ulong gen;
static _Atomic enum expect expect = EXPECT_ALLOW;
static atomic_bool stop_workers, stop_churn;
static atomic_ulong checks, unchecked;

static void change_begin(void)
{
	atomic_fetch_add(&gen, 1);
}

static void change_end(enum expect e)
{
	atomic_store(&expect, e);
	atomic_fetch_add(&gen, 1);
}

/* Check one mprotect() result against what must hold; WHO names the caller. */
static void check_result(const char *who, enum expect e, int ret, int err)
{
	if (e == EXPECT_DENY && (ret == 0 || (err != EPERM && err != EACCES)))
		violation("%s: mprotect() %s while a deny policy was attached",
			  who, ret ? strerror(err) : "allowed");
	if (e == EXPECT_ALLOW && ret)
		violation("%s: mprotect() denied (%s) with only allow-programs attached",
			  who, strerror(err));
}

static void *worker(void *arg)
{
	unsigned long g1, g2, n = 0, skipped = 0;
	int cpu = (int)(long)arg, ret, err;
	enum expect e;
	char who[16];

	snprintf(who, sizeof(who), "cpu %d", cpu);
	pin_cpu(cpu);
	while (!atomic_load(&stop_workers)) {
		g1 = atomic_load(&gen);
		e = atomic_load(&expect);
		ret = mprotect(page, page_size, n & 1 ? PROT_READ : PROT_READ | PROT_WRITE);
		err = errno;
		g2 = atomic_load(&gen);
		if (g1 != g2 || (g1 & 1)) {
			skipped++;
			n++;
			continue;
		}
		check_result(who, e, ret, err);
		n++;
	}
	atomic_fetch_add(&checks, n - skipped);
	atomic_fetch_add(&unchecked, skipped);
	return NULL;
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int err = pthread_create(t, NULL, fn, arg);

	if (err)
		die("pthread_create: %s", strerror(err));
}

static pthread_t workers[64];

static void start_workers(void)
{
	int i;

	atomic_store(&stop_workers, false);
	for (i = 0; i < nr_cpus && i < 64; i++)
		start_thread(&workers[i], worker, (void *)(long)i);
}

static void stop_all_workers(void)
{
	int i;

	atomic_store(&stop_workers, true);
	for (i = 0; i < nr_cpus && i < 64; i++)
		pthread_join(workers[i], NULL);
}

/* Run the workers for a moment in the current state: every call checked. */
static void settle(double seconds)
{
	double end = now() + seconds;

	while (now() < end)
		usleep(10000);
}

static int allow_fd(int i)
{
	struct bpf_program *p[] = {
		skel->progs.allow_0, skel->progs.allow_1, skel->progs.allow_2,
		skel->progs.allow_3, skel->progs.allow_4, skel->progs.allow_5,
	};

	return bpf_program__fd(p[i]);
}

#define NR_ALLOW 6
#define CHURNERS 2

static atomic_ulong churn_ops;
static int churn_hook_fd;

/*
 * One churner owns allow-programs ALLOW_PER_CHURNER * id and the next:
 * each step attaches one through a link or BPF_PROG_ATTACH, and removes
 * it again by close, BPF_LINK_DETACH, unpin or BPF_PROG_DETACH; between
 * steps it queries the hook and reads its file.  lo and hi bound the
 * number of KRSI programs it may see.
 */
struct churner {
	int id;
	int lo, hi;
	unsigned long long rs;
};

#define ALLOW_PER_CHURNER (NR_ALLOW / CHURNERS)

/*
 * Unpinning drops the pin's reference from a deferred work item, not in
 * unlink(): wait (at most 5 s) for the program to leave the hook.
 */
static bool wait_detached(int hook_fd, __u32 id)
{
	__u32 ids[KRSI_MAX_PROGS];
	double end = now() + 5;
	int n, i;
	bool listed;

	do {
		n = query(hook_fd, ids, KRSI_MAX_PROGS);
		listed = false;
		for (i = 0; i < n; i++)
			listed |= ids[i] == id;
		if (!listed)
			return true;
		usleep(1000);
	} while (now() < end);
	return false;
}

static void *churner(void *arg)
{
	struct churner *c = arg;
	char path[128], buf[8192];
	__u32 ids[KRSI_MAX_PROGS];
	int fd, link = -1, n, err, op;

	pin_cpu(c->id);
	snprintf(path, sizeof(path), BPFFS "/krsi-stress-%d", c->id);
	while (!atomic_load(&stop_churn)) {
		fd = allow_fd(c->id * ALLOW_PER_CHURNER + rnd(&c->rs) % ALLOW_PER_CHURNER);
		op = rnd(&c->rs) % 5;
		/* Operations 0 to 2 attach through a link, then remove it in turn. */
		if (op <= 2) {
			link = bpf_link_create(fd, churn_hook_fd, BPF_LSM_MAC, NULL);
			if (link < 0) {
				violation("churn: link create: %s", strerror(errno));
				atomic_fetch_add(&churn_ops, 1);
				continue;
			}
		}
		switch (op) {
		case 0:	/* link, close */
			close(link);
			break;
		case 1:	/* link, BPF_LINK_DETACH, close */
			if (bpf_link_detach(link))
				violation("churn: link detach: %s", strerror(errno));
			close(link);
			break;
		case 2:	/* link, pin, close, unpin */
			err = bpf_obj_pin(link, path);
			close(link);
			if (err) {
				violation("churn: pin: %s", strerror(errno));
				break;
			}
			if (unlink(path))
				violation("churn: unpin: %s", strerror(errno));
			else if (!wait_detached(churn_hook_fd, prog_id(fd)))
				violation("churn: still attached 5 s after the unpin");
			break;
		case 3:	/* BPF_PROG_ATTACH, BPF_PROG_DETACH */
			if (bpf_prog_attach(fd, churn_hook_fd, BPF_LSM_MAC, 0)) {
				violation("churn: prog attach: %s", strerror(errno));
				break;
			}
			if (bpf_prog_detach2(fd, churn_hook_fd, BPF_LSM_MAC))
				violation("churn: prog detach: %s", strerror(errno));
			break;
		case 4:	/* query and the hook file */
			n = query(churn_hook_fd, ids, KRSI_MAX_PROGS);
			if (n < c->lo || n > c->hi)
				violation("churn: query: %d programs, expected %d to %d",
					  n, c->lo, c->hi);
			n = hook_file_lines(HOOK, buf, sizeof(buf));
			if (n < c->lo || n > c->hi)
				violation("churn: hook file: %d lines, expected %d to %d",
					  n, c->lo, c->hi);
			break;
		}
		atomic_fetch_add(&churn_ops, 1);
	}
	return NULL;
}

static pthread_t churners[CHURNERS];
static struct churner churner_args[CHURNERS];

static void start_churners(int lo, int hi)
{
	int i;

	atomic_store(&stop_churn, false);
	for (i = 0; i < CHURNERS; i++) {
		churner_args[i] = (struct churner){
			.id = i, .lo = lo, .hi = hi,
			.rs = seed + 1000 + i,
		};
		start_thread(&churners[i], churner, &churner_args[i]);
	}
}

static void stop_churners(void)
{
	int i;

	atomic_store(&stop_churn, true);
	for (i = 0; i < CHURNERS; i++)
		pthread_join(churners[i], NULL);
}

/* After a phase: nothing of ours left on the hook, and mprotect() allowed. */
static void expect_empty_hook(const char *phase)
{
	__u32 ids[KRSI_MAX_PROGS];
	char buf[8192];
	int fd, n;

	fd = open_hook(HOOK, O_RDONLY);
	n = query(fd, ids, KRSI_MAX_PROGS);
	close(fd);
	if (n != 0)
		violation("%s: query after the last detach: %d", phase, n);
	n = hook_file_lines(HOOK, buf, sizeof(buf));
	if (n != 0)
		violation("%s: hook file after the last detach: %d lines:\n%s", phase, n, buf);
	if (mprotect(page, page_size, PROT_READ))
		violation("%s: mprotect() denied after the last detach: %s", phase, strerror(errno));
}

/*
 * One deny policy at a time, so that no other masks a gap in its swap:
 * first a link swapped with BPF_LINK_UPDATE, then a BPF_PROG_ATTACH
 * attachment swapped with BPF_F_REPLACE, each for half the time and half
 * the swaps.  Every check the workers make meanwhile is a denial: with
 * its audit record, on a sanitizer kernel, writing the records takes most
 * of the time the swaps need.  The phase checks the swaps, so the records
 * are off during it; the other phases keep them on.
 */
static void phase_churn(double seconds)
{
	int hook_fd, a, b, c, d, cur, next, link, half;
	unsigned long swaps = 0, goal;
	double start = now(), end;
	unsigned long c0 = atomic_load(&checks);
	bool audit = set_audit(false);

	hook_fd = open_hook(HOOK, O_RDWR);
	churn_hook_fd = hook_fd;
	a = bpf_program__fd(skel->progs.deny_a);
	b = bpf_program__fd(skel->progs.deny_b);
	c = bpf_program__fd(skel->progs.deny_c);
	d = bpf_program__fd(skel->progs.deny_d);

	/* Nothing attached yet: the workers start in the allowed state. */
	change_begin();
	change_end(EXPECT_ALLOW);
	start_workers();
	for (half = 0; half < 2; half++) {
		change_begin();
		if (half == 0) {
			link = bpf_link_create(a, hook_fd, BPF_LSM_MAC, NULL);
			if (link < 0)
				die("churn: link deny_a: %s", strerror(errno));
			cur = a;
		} else {
			if (bpf_prog_attach(c, hook_fd, BPF_LSM_MAC, 0))
				die("churn: attach deny_c: %s", strerror(errno));
			cur = c;
		}
		change_end(EXPECT_DENY);
		/* The deny policy, and at most one program per churner. */
		start_churners(1, 1 + CHURNERS);
		end = now() + seconds / 2;
		goal = (half + 1) * ((min_swaps + 1) / 2);
		while (now() < end || swaps < goal) {
			if (half == 0) {
				LIBBPF_OPTS(bpf_link_update_opts, uopts,
					    .flags = BPF_F_REPLACE, .old_prog_fd = cur);

				next = cur == a ? b : a;
				if (bpf_link_update(link, next, &uopts))
					violation("churn: link update: %s", strerror(errno));
				else
					cur = next;
			} else {
				LIBBPF_OPTS(bpf_prog_attach_opts, aopts,
					    .flags = BPF_F_REPLACE, .replace_prog_fd = cur);

				next = cur == c ? d : c;
				if (bpf_prog_attach_opts(next, hook_fd, BPF_LSM_MAC, &aopts))
					violation("churn: attach with BPF_F_REPLACE: %s",
						  strerror(errno));
				else
					cur = next;
			}
			swaps++;
			if (now() > end + 10 * seconds)
				break;
		}
		stop_churners();
		change_begin();
		if (half == 0)
			close(link);
		else if (bpf_prog_detach2(cur, hook_fd, BPF_LSM_MAC))
			violation("churn: detach: %s", strerror(errno));
		change_end(EXPECT_ALLOW);
		settle(0.5);
	}
	stop_all_workers();
	set_audit(audit);
	close(hook_fd);
	expect_empty_hook("churn");
	if (swaps < min_swaps)
		violation("churn: %lu swaps, fewer than %lu", swaps, min_swaps);
	printf("churn: %lu policy swaps, %lu attach/detach/query steps, %lu mprotect() checks in %.0f s (audit records off)\n",
	       swaps, atomic_load(&churn_ops), atomic_load(&checks) - c0, now() - start);
	fflush(stdout);
}

static void phase_detach(double seconds)
{
	int hook_fd, link, i, fd;
	unsigned long ops = 0, c0 = atomic_load(&checks);
	__u64 calls0 = skel->bss->allow_calls;
	double start = now(), end = start + seconds;

	hook_fd = open_hook(HOOK, O_RDWR);
	change_begin();
	change_end(EXPECT_ALLOW);
	start_workers();
	while (now() < end) {
		for (i = 0; i < NR_ALLOW; i++) {
			fd = allow_fd(i);
			if (ops & 1) {
				link = bpf_link_create(fd, hook_fd, BPF_LSM_MAC, NULL);
				if (link < 0)
					violation("detach: link create: %s", strerror(errno));
				else
					close(link);
			} else {
				if (bpf_prog_attach(fd, hook_fd, BPF_LSM_MAC, 0))
					violation("detach: attach: %s", strerror(errno));
				else if (bpf_prog_detach2(fd, hook_fd, BPF_LSM_MAC))
					violation("detach: detach: %s", strerror(errno));
			}
			ops++;
		}
	}
	stop_all_workers();
	close(hook_fd);
	expect_empty_hook("detach");
	if (skel->bss->allow_calls == calls0)
		violation("detach: the allow-programs never ran");
	printf("detach: %lu attach+detach while running (%llu program runs), %lu mprotect() checks in %.0f s\n",
	       ops, (unsigned long long)(skel->bss->allow_calls - calls0),
	       atomic_load(&checks) - c0, now() - start);
	fflush(stdout);
}

static struct slot *slots[CAPACITY_PROGS];
static int slot_links[CAPACITY_PROGS];
static int slot_err[CAPACITY_PROGS];
static pthread_barrier_t capacity_barrier;
static int capacity_hook_fd;

static void *capacity_thread(void *arg)
{
	int t = (int)(long)arg, i;

	pin_cpu(t);
	pthread_barrier_wait(&capacity_barrier);
	for (i = t; i < CAPACITY_PROGS; i += CAPACITY_THREADS) {
		slot_links[i] = bpf_link_create(bpf_program__fd(slots[i]->progs.slot_prog),
						capacity_hook_fd, BPF_LSM_MAC, NULL);
		slot_err[i] = slot_links[i] < 0 ? errno : 0;
	}
	return NULL;
}

static void phase_capacity(int rounds)
{
	pthread_t th[CAPACITY_THREADS];
	__u32 ids[NR_SLOTS], key;
	int r, i, j, ok, e2big, n, hits_fd;
	char buf[16384];
	__u64 zero = 0, v;
	double start = now();

	for (i = 0; i < CAPACITY_PROGS; i++) {
		slots[i] = slot__open();
		if (!slots[i])
			die("capacity: open slot program");
		slots[i]->rodata->slot = i;
		slots[i]->rodata->stress_tid = gettid();
		if (i && bpf_map__reuse_fd(slots[i]->maps.hits, bpf_map__fd(slots[0]->maps.hits)))
			die("capacity: reuse hits map");
		if (slot__load(slots[i]))
			die("capacity: load slot program %d", i);
	}
	hits_fd = bpf_map__fd(slots[0]->maps.hits);
	capacity_hook_fd = open_hook(HOOK, O_RDWR);
	for (r = 0; r < rounds; r++) {
		for (key = 0; key < NR_SLOTS; key++)
			bpf_map_update_elem(hits_fd, &key, &zero, BPF_ANY);
		pthread_barrier_init(&capacity_barrier, NULL, CAPACITY_THREADS);
		for (i = 0; i < CAPACITY_THREADS; i++)
			start_thread(&th[i], capacity_thread, (void *)(long)i);
		for (i = 0; i < CAPACITY_THREADS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&capacity_barrier);

		ok = e2big = 0;
		for (i = 0; i < CAPACITY_PROGS; i++) {
			if (slot_links[i] >= 0)
				ok++;
			else if (slot_err[i] == E2BIG)
				e2big++;
			else
				violation("capacity: link create: %s", strerror(slot_err[i]));
		}
		if (ok != KRSI_MAX_PROGS || e2big != CAPACITY_PROGS - KRSI_MAX_PROGS)
			violation("capacity: %d attached and %d E2BIG of %d, expected %d and %d",
				  ok, e2big, CAPACITY_PROGS, KRSI_MAX_PROGS,
				  CAPACITY_PROGS - KRSI_MAX_PROGS);
		/* The query lists exactly the attached programs. */
		n = query(capacity_hook_fd, ids, NR_SLOTS);
		if (n != ok)
			violation("capacity: query says %d programs, %d attached", n, ok);
		for (i = 0; i < CAPACITY_PROGS && n == ok; i++) {
			__u32 id = prog_id(bpf_program__fd(slots[i]->progs.slot_prog));
			bool listed = false;

			for (j = 0; j < n; j++)
				listed |= ids[j] == id;
			if (listed != (slot_links[i] >= 0))
				violation("capacity: program %u %s but %s listed", id,
					  slot_links[i] >= 0 ? "attached" : "refused",
					  listed ? "" : "not");
		}
		n = hook_file_lines(HOOK, buf, sizeof(buf));
		if (n != ok)
			violation("capacity: hook file has %d lines, %d attached", n, ok);
		/* Exactly the attached programs run, once each. */
		if (mprotect(page, page_size, PROT_READ))
			violation("capacity: mprotect(): %s", strerror(errno));
		for (i = 0; i < CAPACITY_PROGS; i++) {
			key = i;
			if (bpf_map_lookup_elem(hits_fd, &key, &v))
				die("capacity: lookup hits");
			if (v != (slot_links[i] >= 0))
				violation("capacity: slot %d ran %llu times, %s", i,
					  (unsigned long long)v,
					  slot_links[i] >= 0 ? "attached" : "refused");
		}
		for (i = 0; i < CAPACITY_PROGS; i++)
			if (slot_links[i] >= 0)
				close(slot_links[i]);
		expect_empty_hook("capacity");
	}
	close(capacity_hook_fd);
	for (i = 0; i < CAPACITY_PROGS; i++)
		slot__destroy(slots[i]);
	printf("capacity: %d rounds of %d threads racing %d programs onto one hook: %d attached, %d E2BIG each round, in %.0f s\n",
	       rounds, CAPACITY_THREADS, CAPACITY_PROGS, KRSI_MAX_PROGS,
	       CAPACITY_PROGS - KRSI_MAX_PROGS, now() - start);
	fflush(stdout);
}

/* cgroup2 for lsm_cgroup: the mounted one, or ours. */
static int cgroup_root_fd(void)
{
	int fd;

	fd = open(CGROUP_MNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;

		if (!fstat(fd, &st)) {
			char p[64];

			snprintf(p, sizeof(p), CGROUP_MNT "/cgroup.procs");
			if (!access(p, F_OK))
				return fd;
		}
		close(fd);
	}
	mkdir(CGROUP_MNT, 0755);
	if (mount("cgroup2", CGROUP_MNT, "cgroup2", 0, NULL))
		die("mount cgroup2 on %s: %s", CGROUP_MNT, strerror(errno));
	fd = open(CGROUP_MNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", CGROUP_MNT, strerror(errno));
	return fd;
}

/* One call of the hook from this thread while something is attached. */
static void hook_call(enum expect e)
{
	int ret = mprotect(page, page_size, PROT_READ);

	check_result("mixed", e, ret, errno);
}

/* shim: four threads per CPU, not checked against a policy: always allowed. */
#define SHIM_THREADS_PER_CPU 4

static void *shim_worker(void *arg)
{
	unsigned long n = 0;
	int ret;

	pin_cpu((int)(long)arg);
	while (!atomic_load(&stop_workers)) {
		ret = mprotect(page, page_size, n & 1 ? PROT_READ : PROT_READ | PROT_WRITE);
		check_result("shim", EXPECT_ALLOW, ret, errno);
		n++;
	}
	atomic_fetch_add(&checks, n);
	return NULL;
}

static void phase_shim(double seconds)
{
	unsigned long cycles = 0, c0 = atomic_load(&checks);
	int nr = nr_cpus * SHIM_THREADS_PER_CPU, i, cg_fd;
	double start = now(), end = start + seconds;
	pthread_t *t;
	struct bpf_link *l;

	t = calloc(nr, sizeof(*t));
	if (!t)
		die("shim: out of memory");
	cg_fd = cgroup_root_fd();
	atomic_store(&stop_workers, false);
	for (i = 0; i < nr; i++)
		start_thread(&t[i], shim_worker, (void *)(long)i);
	while (now() < end) {
		l = bpf_program__attach_cgroup(skel->progs.cgroup_allow, cg_fd);
		if (!l) {
			violation("shim: lsm_cgroup attach: %s", strerror(errno));
			break;
		}
		bpf_link__destroy(l);
		cycles++;
	}
	atomic_store(&stop_workers, true);
	for (i = 0; i < nr; i++)
		pthread_join(t[i], NULL);
	free(t);
	close(cg_fd);
	printf("shim: %lu lsm_cgroup attach+detach, %d threads, %lu mprotect() calls in %.0f s\n",
	       cycles, nr, atomic_load(&checks) - c0, now() - start);
	fflush(stdout);
}

static void phase_mixed(double seconds)
{
	int hook_fd, cg_fd, deny, link, k, half;
	unsigned long tramp = 0, krsi = 0, cg = 0, step = 0, c0 = atomic_load(&checks);
	__u64 t0 = skel->bss->tramp_calls, g0 = skel->bss->cgroup_calls;
	double start = now(), end;
	unsigned long long rs = seed + 77;
	struct bpf_link *l;

	hook_fd = open_hook(HOOK, O_RDWR);
	cg_fd = cgroup_root_fd();
	for (half = 0; half < 2; half++) {
		/* First with a deny policy through KRSI, then without. */
		change_begin();
		deny = -1;
		if (half == 0) {
			deny = bpf_link_create(bpf_program__fd(skel->progs.deny_a),
					       hook_fd, BPF_LSM_MAC, NULL);
			if (deny < 0)
				die("mixed: link deny_a: %s", strerror(errno));
		}
		change_end(half == 0 ? EXPECT_DENY : EXPECT_ALLOW);
		start_workers();
		end = now() + seconds / 2;
		while (now() < end) {
			k = step++ % 3;	/* each kind in turn */
			if (k != 1) {	/* a trampoline or an lsm_cgroup link */
				l = k == 0 ? bpf_program__attach_lsm(skel->progs.tramp) :
					     bpf_program__attach_cgroup(skel->progs.cgroup_allow, cg_fd);
				if (!l) {
					violation("mixed: %s attach: %s",
						  k == 0 ? "trampoline" : "lsm_cgroup", strerror(errno));
					continue;
				}
				hook_call(half == 0 ? EXPECT_DENY : EXPECT_ALLOW);
				bpf_link__destroy(l);
				if (k == 0)
					tramp++;
				else
					cg++;
			} else {
				link = bpf_link_create(allow_fd(rnd(&rs) % NR_ALLOW), hook_fd,
						       BPF_LSM_MAC, NULL);
				if (link < 0) {
					violation("mixed: KRSI link: %s", strerror(errno));
					continue;
				}
				close(link);
				krsi++;
			}
		}
		stop_all_workers();
		change_begin();
		if (deny >= 0)
			close(deny);
		change_end(EXPECT_ALLOW);
	}
	close(cg_fd);
	close(hook_fd);
	expect_empty_hook("mixed");
	if ((tramp && skel->bss->tramp_calls == t0) || (cg && skel->bss->cgroup_calls == g0))
		violation("mixed: attached trampoline or lsm_cgroup programs never ran");
	printf("mixed: %lu trampoline, %lu KRSI, %lu lsm_cgroup attach+detach (%llu and %llu runs), %lu mprotect() checks in %.0f s\n",
	       tramp, krsi, cg,
	       (unsigned long long)(skel->bss->tramp_calls - t0),
	       (unsigned long long)(skel->bss->cgroup_calls - g0),
	       atomic_load(&checks) - c0, now() - start);
	fflush(stdout);
}

/* ---- fuzz ---- */

#define POOL 48

static int pool[POOL];
static int pool_n;
static int owned[4096];	/* fds the fuzzer's calls returned */
static int owned_n;

static void pool_add(int fd)
{
	if (pool_n < POOL)
		pool[pool_n++] = fd;
}

/* Where in the pool the hook files (read-write first) and programs are. */
static int pool_hooks_rw, pool_hooks_end, pool_progs, pool_progs_end;

static int pool_pick(unsigned long long *s, int from, int to)
{
	return pool[from + rnd(s) % (to - from)];
}

static int fuzz_fd(unsigned long long *s)
{
	switch (rnd(s) % 10) {
	case 8:
		return pool_pick(s, pool_hooks_rw, pool_hooks_end);
	case 9:
		return pool_pick(s, pool_progs, pool_progs_end);
	case 0:
		return (int)(rnd(s) % 1024);		/* anything, closed or not */
	case 1:
		return -(int)(rnd(s) % 3);
	case 2:
		if (owned_n)
			return owned[rnd(s) % owned_n];
		/* fall through */
	default:
		return pool[rnd(s) % pool_n];
	}
}

static __u32 fuzz_type(unsigned long long *s)
{
	static const __u32 types[] = {
		BPF_LSM_MAC, BPF_LSM_MAC, BPF_LSM_MAC, BPF_LSM_CGROUP,
		BPF_TRACE_FENTRY, BPF_MODIFY_RETURN, BPF_CGROUP_INET_INGRESS,
	};

	if (rnd(s) % 4 == 0)
		return rnd(s) % 64;
	return types[rnd(s) % (sizeof(types) / sizeof(types[0]))];
}

static __u32 fuzz_flags(unsigned long long *s)
{
	switch (rnd(s) % 4) {
	case 0:
		return 0;
	case 1:
		return BPF_F_REPLACE;
	case 2:
		return 1U << (rnd(s) % 32);
	default:
		return (__u32)rnd(s);
	}
}

static char *bad_ptr;	/* PROT_NONE page */

static __u64 fuzz_ptr(unsigned long long *s, void *good)
{
	switch (rnd(s) % 5) {
	case 0:
		return 0;
	case 1:
		return (__u64)(unsigned long)bad_ptr;
	case 2:
		return rnd(s);
	default:
		return (__u64)(unsigned long)good;
	}
}

static const int fuzz_cmds[] = {
	BPF_LINK_CREATE, BPF_LINK_UPDATE, BPF_LINK_DETACH,
	BPF_PROG_ATTACH, BPF_PROG_DETACH, BPF_PROG_QUERY,
};

/* One random call; returns the command, stores the result. */
static int fuzz_one(unsigned long long *s, long *ret)
{
	static __u32 ids[256];
	union bpf_attr attr;
	int cmd = fuzz_cmds[rnd(s) % 6];
	unsigned int size = sizeof(attr);

	memset(&attr, 0, sizeof(attr));
	/* Half of the calls well-formed but for one field, to get deep. */
	if (rnd(s) % 2) {
		int hook = pool_pick(s, pool_hooks_rw, pool_hooks_end);
		int prog = pool_pick(s, pool_progs, pool_progs_end);

		switch (cmd) {
		case BPF_LINK_CREATE:
			attr.link_create.prog_fd = prog;
			attr.link_create.target_fd = hook;
			attr.link_create.attach_type = BPF_LSM_MAC;
			break;
		case BPF_LINK_UPDATE:
			attr.link_update.link_fd = owned_n ? owned[rnd(s) % owned_n] : hook;
			attr.link_update.new_prog_fd = prog;
			break;
		case BPF_LINK_DETACH:
			attr.link_detach.link_fd = owned_n ? owned[rnd(s) % owned_n] : hook;
			break;
		case BPF_PROG_ATTACH:
		case BPF_PROG_DETACH:
			attr.target_fd = hook;
			attr.attach_bpf_fd = prog;
			attr.attach_type = BPF_LSM_MAC;
			break;
		case BPF_PROG_QUERY:
			attr.query.target_fd = hook;
			attr.query.attach_type = BPF_LSM_MAC;
			attr.query.prog_ids = (__u64)(unsigned long)ids;
			attr.query.prog_cnt = 64;
			break;
		}
		/* ... but for one field. */
		if (rnd(s) % 4)
			((__u32 *)&attr)[rnd(s) % 8] = rnd(s) % 2 ? (__u32)fuzz_fd(s) : (__u32)rnd(s);
		goto call;
	}
	switch (cmd) {
	case BPF_LINK_CREATE:
		attr.link_create.prog_fd = fuzz_fd(s);
		attr.link_create.target_fd = fuzz_fd(s);
		attr.link_create.attach_type = fuzz_type(s);
		attr.link_create.flags = rnd(s) % 2 ? 0 : fuzz_flags(s);
		if (rnd(s) % 2)
			attr.link_create.tracing.cookie = rnd(s);
		break;
	case BPF_LINK_UPDATE:
		attr.link_update.link_fd = fuzz_fd(s);
		attr.link_update.new_prog_fd = fuzz_fd(s);
		attr.link_update.flags = rnd(s) % 2 ? 0 : fuzz_flags(s);
		attr.link_update.old_prog_fd = rnd(s) % 2 ? 0 : fuzz_fd(s);
		break;
	case BPF_LINK_DETACH:
		attr.link_detach.link_fd = fuzz_fd(s);
		break;
	case BPF_PROG_ATTACH:
	case BPF_PROG_DETACH:
		attr.target_fd = fuzz_fd(s);
		attr.attach_bpf_fd = rnd(s) % 8 ? fuzz_fd(s) : 0;
		attr.attach_type = fuzz_type(s);
		attr.attach_flags = rnd(s) % 2 ? 0 : fuzz_flags(s);
		attr.replace_bpf_fd = rnd(s) % 2 ? 0 : fuzz_fd(s);
		if (rnd(s) % 8 == 0)
			attr.relative_fd = fuzz_fd(s);
		if (rnd(s) % 8 == 0)
			attr.expected_revision = rnd(s);
		break;
	case BPF_PROG_QUERY:
		attr.query.target_fd = fuzz_fd(s);
		attr.query.attach_type = fuzz_type(s);
		attr.query.query_flags = rnd(s) % 4 ? 0 : fuzz_flags(s);
		attr.query.prog_ids = fuzz_ptr(s, ids);
		attr.query.prog_cnt = rnd(s) % 3 ? rnd(s) % 80 : (__u32)rnd(s);
		if (rnd(s) % 4 == 0)
			attr.query.prog_attach_flags = fuzz_ptr(s, ids + 128);
		break;
	}
call:
	/* Sometimes garbage after the fields, or a short or long attr. */
	if (rnd(s) % 16 == 0)
		((char *)&attr)[64 + rnd(s) % (sizeof(attr) - 64)] = (char)rnd(s);
	if (rnd(s) % 16 == 0)
		size = rnd(s) % (sizeof(attr) + 1);
	*ret = syscall(__NR_bpf, cmd, &attr, size);
	if (*ret >= 0 && cmd == BPF_LINK_CREATE) {
		if (owned_n < 4096)
			owned[owned_n++] = (int)*ret;
		else
			close((int)*ret);
	}
	return cmd;
}

static bool changes_policy(int cmd)
{
	return cmd != BPF_PROG_QUERY;
}

/* Without CAP_MAC_ADMIN, in a child: no call that changes anything succeeds. */
static void fuzz_unprivileged(unsigned long calls, unsigned long long s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	unsigned long i, ok = 0, bad = 0;
	long ret;
	int cmd, status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (syscall(SYS_capget, &h, d))
			die("capget: %s", strerror(errno));
		d[CAP_MAC_ADMIN / 32].effective &= ~(1U << (CAP_MAC_ADMIN % 32));
		d[CAP_MAC_ADMIN / 32].permitted &= ~(1U << (CAP_MAC_ADMIN % 32));
		d[CAP_MAC_ADMIN / 32].inheritable &= ~(1U << (CAP_MAC_ADMIN % 32));
		if (syscall(SYS_capset, &h, d))
			die("capset: %s", strerror(errno));
		for (i = 0; i < calls; i++) {
			cmd = fuzz_one(&s, &ret);
			if (ret >= 0) {
				ok++;
				if (changes_policy(cmd) && bad++ < 10)
					printf("VIOLATION: fuzz: bpf(%d) succeeded without CAP_MAC_ADMIN (call %lu)\n",
					       cmd, i);
			}
		}
		printf("fuzz: %lu calls without CAP_MAC_ADMIN, %lu succeeded (queries), %lu changed something\n",
		       calls, ok, bad);
		fflush(stdout);
		_exit(bad ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		violation("fuzz: the unprivileged child failed (status 0x%x)", status);
}

static int dup_fd(int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (d < 0)
		die("dup: %s", strerror(errno));
	return d;
}

static void phase_fuzz(unsigned long calls)
{
	unsigned long long s = seed;
	unsigned long i, ok = 0, per_cmd[6] = {}, ok_cmd[6] = {};
	char path[300], buf[8192];
	struct dirent *de;
	int hooks = 0, n, fd, sock, j, link, cgroup_fd;
	long ret;
	DIR *dir;
	double start = now();
	const char *some_hooks[] = { HOOK, "file_open", "bprm_check_security", "task_alloc" };
	struct bpf_program *p;
	struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	bad_ptr = mmap(NULL, page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bad_ptr == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	/*
	 * The fd pool: hook files both ways, other files, programs (copies of
	 * the skeleton's fds, which stay open), maps, links.
	 */
	pool_hooks_rw = pool_n;
	for (j = 0; j < 4; j++)
		pool_add(open_hook(some_hooks[j], O_RDWR));
	pool_hooks_end = pool_n;
	for (j = 0; j < 4; j++)
		pool_add(open_hook(some_hooks[j], O_RDONLY));
	pool_add(open("/dev/null", O_RDWR | O_CLOEXEC));
	pool_add(open(HOOKS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	pool_add(open(BPFFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	cgroup_fd = cgroup_root_fd();
	pool_add(cgroup_fd);
	sock = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "fuzz_sock", "GPL", ret0, 2, NULL);
	if (sock < 0)
		die("fuzz: load socket filter: %s", strerror(errno));
	pool_progs = pool_n;
	pool_add(sock);
	pool_add(dup_fd(bpf_program__fd(skel->progs.deny_a)));
	pool_add(dup_fd(bpf_program__fd(skel->progs.deny_b)));
	pool_add(dup_fd(bpf_program__fd(skel->progs.allow_0)));
	pool_add(dup_fd(bpf_program__fd(skel->progs.allow_1)));
	pool_add(dup_fd(bpf_program__fd(skel->progs.tramp)));
	pool_add(dup_fd(bpf_program__fd(skel->progs.cgroup_allow)));
	pool_progs_end = pool_n;
	pool_add(dup_fd(bpf_map__fd(skel->maps.bss)));
	/* A trampoline link: a link of another type. */
	link = bpf_link_create(bpf_program__fd(skel->progs.tramp), 0, BPF_LSM_MAC, NULL);
	if (link < 0)
		die("fuzz: trampoline link: %s", strerror(errno));
	pool_add(link);
	for (j = 0; j < pool_n; j++)
		if (pool[j] < 0)
			die("fuzz: an fd of the pool did not open");

	/* Half without CAP_MAC_ADMIN, in a child that shares these fds. */
	fuzz_unprivileged(calls / 2, seed ^ 0x5eed);
	for (i = 0; i < calls - calls / 2; i++) {
		int cmd = fuzz_one(&s, &ret);

		for (j = 0; j < 6; j++) {
			if (fuzz_cmds[j] != cmd)
				continue;
			per_cmd[j]++;
			ok_cmd[j] += ret >= 0;
		}
		ok += ret >= 0;
		/* Keep the fds the calls made from piling up. */
		if (owned_n >= 256) {
			while (owned_n)
				close(owned[--owned_n]);
		}
	}
	while (owned_n)
		close(owned[--owned_n]);
	/*
	 * What BPF_PROG_ATTACH attached stays: detach every program of the
	 * skeleton from every hook and from the cgroup (lsm_cgroup).  The
	 * pool's LSM programs are copies of its fds, and a random fd number
	 * can be one of its other programs; the pool's socket filter cannot
	 * attach to a hook.
	 */
	for (j = 0; j < 4; j++) {
		fd = open_hook(some_hooks[j], O_RDWR);
		bpf_object__for_each_program(p, skel->obj)
			bpf_prog_detach2(bpf_program__fd(p), fd, BPF_LSM_MAC);
		close(fd);
	}
	bpf_object__for_each_program(p, skel->obj)
		while (!bpf_prog_detach2(bpf_program__fd(p), cgroup_fd, BPF_LSM_CGROUP))
			;
	for (j = 0; j < pool_n; j++)
		close(pool[j]);
	pool_n = 0;
	munmap(bad_ptr, page_size);

	/* Everything closed: every hook file empty, every query zero. */
	dir = opendir(HOOKS_DIR);
	if (!dir)
		die("opendir %s: %s", HOOKS_DIR, strerror(errno));
	while ((de = readdir(dir))) {
		__u32 ids[KRSI_MAX_PROGS];

		if (de->d_name[0] == '.')
			continue;
		hooks++;
		n = hook_file_lines(de->d_name, buf, sizeof(buf));
		if (n != 0)
			violation("fuzz: hook file %s not empty after the run:\n%s", de->d_name, buf);
		snprintf(path, sizeof(path), "%s", de->d_name);
		fd = open_hook(path, O_RDONLY);
		n = query(fd, ids, KRSI_MAX_PROGS);
		close(fd);
		if (n != 0)
			violation("fuzz: query of %s after the run: %d", de->d_name, n);
	}
	closedir(dir);
	/* A fresh deny policy still works. */
	fd = open_hook(HOOK, O_RDWR);
	link = bpf_link_create(bpf_program__fd(skel->progs.deny_a), fd, BPF_LSM_MAC, NULL);
	if (link < 0)
		violation("fuzz: fresh deny link: %s", strerror(errno));
	else {
		if (!mprotect(page, page_size, PROT_READ))
			violation("fuzz: fresh deny policy did not deny");
		close(link);
	}
	close(fd);
	expect_empty_hook("fuzz");
	printf("fuzz: seed %llu: %lu calls as root (%lu succeeded:", seed, calls - calls / 2, ok);
	for (j = 0; j < 6; j++)
		printf(" %lu/%lu", ok_cmd[j], per_cmd[j]);
	printf(" of link_create/link_update/link_detach/prog_attach/prog_detach/prog_query), %d hook files checked empty, in %.0f s\n",
	       hooks, now() - start);
	fflush(stdout);
}

/* ---- faults ---- */

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define DEBUGFS		"/sys/kernel/debug"
#define KMEMLEAK	DEBUGFS "/kmemleak"

/* What a call can change: the hook file, the query and the decision. */
struct hook_state {
	char file[4096];
	__u32 ids[KRSI_MAX_PROGS];
	int n;
	int mprotect_err;	/* 0: allowed; < 0: mprotect() returned -this */
};

static void hook_state(int hook_fd, struct hook_state *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	if (hook_file_lines(HOOK, st->file, sizeof(st->file)) < 0)
		die("faults: read the hook file: %s", strerror(errno));
	st->n = query(hook_fd, st->ids, KRSI_MAX_PROGS);
	if (st->n < 0)
		die("faults: query: %s", strerror(-st->n));
	ret = mprotect(page, page_size, PROT_READ);
	/* A hook result that is no error code comes back as it is. */
	st->mprotect_err = ret == -1 ? errno : -ret;
}

static bool same_state(const struct hook_state *a, const struct hook_state *b)
{
	return !strcmp(a->file, b->file) && a->n == b->n &&
	       !memcmp(a->ids, b->ids, a->n * sizeof(a->ids[0])) &&
	       a->mprotect_err == b->mprotect_err;
}

/*
 * Wait up to 5 s for the hook to reach WANT: the last reference of an
 * lsm_cgroup shim is dropped from a work item.
 */
static bool reach_state(int hook_fd, const struct hook_state *want,
			struct hook_state *st)
{
	double end = now() + 5;

	for (;;) {
		hook_state(hook_fd, st);
		if (same_state(st, want))
			return true;
		if (now() > end)
			return false;
		usleep(1000);
	}
}

static void write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		die("write %s to %s: %s", val, path, strerror(errno));
	close(fd);
}

/*
 * This thread's fail-nth, opened once: reading and writing it through an
 * open fd allocates nothing, so neither uses up an armed failure.
 */
static int fail_nth_fd = -1;

/* Make the Nth fault-injection point of this thread fail (0: none). */
static void fail_nth(unsigned int n)
{
	char val[16];
	int len;

	len = snprintf(val, sizeof(val), "%u", n);
	if (pwrite(fail_nth_fd, val, len, 0) != len)
		die("write %s to %s: %s", val, FAIL_NTH, strerror(errno));
}

/* Whether the failure set up by fail_nth() happened; disarms it. */
static bool fail_nth_fired(void)
{
	char val[16] = "";
	ssize_t n;

	n = pread(fail_nth_fd, val, sizeof(val) - 1, 0);
	if (n <= 0)
		die("read %s: %s", FAIL_NTH, strerror(errno));
	fail_nth(0);
	return atoi(val) == 0;
}

static long bpf_raw(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int fh, fcg, f_deny_a, f_deny_b, f_allow_0, f_allow_1, f_tramp, f_cgroup;
static int busy_link, extra_link;

static long do_link_create(int prog, int target, int type)
{
	union bpf_attr a = {
		.link_create.prog_fd = prog, .link_create.target_fd = target,
		.link_create.attach_type = type,
	};

	return bpf_raw(BPF_LINK_CREATE, &a);
}

static long do_attach(int prog, int replace)
{
	union bpf_attr a = {
		.target_fd = fh, .attach_bpf_fd = prog, .attach_type = BPF_LSM_MAC,
		.attach_flags = replace >= 0 ? BPF_F_REPLACE : 0,
		.replace_bpf_fd = replace >= 0 ? replace : 0,
	};

	return bpf_raw(BPF_PROG_ATTACH, &a);
}

static long do_detach(int prog)
{
	union bpf_attr a = {
		.target_fd = fh, .attach_bpf_fd = prog, .attach_type = BPF_LSM_MAC,
	};

	return bpf_raw(BPF_PROG_DETACH, &a);
}

static long do_update(int link, int new_prog, int old_prog)
{
	union bpf_attr a = {
		.link_update.link_fd = link, .link_update.new_prog_fd = new_prog,
		.link_update.flags = BPF_F_REPLACE, .link_update.old_prog_fd = old_prog,
	};

	return bpf_raw(BPF_LINK_UPDATE, &a);
}

static long must(long ret, const char *what)
{
	if (ret < 0)
		die("faults: %s: %s", what, strerror(errno));
	return ret;
}

static long f_link(void) { return do_link_create(f_allow_1, fh, BPF_LSM_MAC); }
static long f_attach(void) { return do_attach(f_allow_1, -1); }
static void u_attach(long r) { must(do_detach(f_allow_1), "undo attach"); }
static long f_replace(void) { return do_attach(f_allow_1, f_allow_0); }
static void u_replace(long r) { must(do_attach(f_allow_0, f_allow_1), "undo replace"); }
static long f_update(void) { return do_update(busy_link, f_deny_b, f_deny_a); }
static void u_update(long r) { must(do_update(busy_link, f_deny_a, f_deny_b), "undo update"); }
static long f_detach(void) { return do_detach(f_allow_0); }
static void u_detach(long r) { must(do_attach(f_allow_0, -1), "undo detach"); }
static void s_link_detach(void)
{
	extra_link = must(do_link_create(f_allow_1, fh, BPF_LSM_MAC), "link allow_1");
}
static long f_link_detach(void)
{
	union bpf_attr a = { .link_detach.link_fd = extra_link };

	return bpf_raw(BPF_LINK_DETACH, &a);
}
static void t_link_detach(void) { close(extra_link); }
static long f_query(void)
{
	__u32 ids[KRSI_MAX_PROGS];
	union bpf_attr a = {
		.query.target_fd = fh, .query.attach_type = BPF_LSM_MAC,
		.query.prog_ids = (unsigned long)ids, .query.prog_cnt = KRSI_MAX_PROGS,
	};

	return bpf_raw(BPF_PROG_QUERY, &a);
}
/*
 * allow_0 attached before an allow_1 link on an idle hook: detaching it
 * with no memory for the smaller array leaves a program in its place,
 * which must allow as the hook without it does.
 */
static int allow_link = -1;
static void s_detach_first(void)
{
	must(do_attach(f_allow_0, -1), "attach allow_0");
	allow_link = must(do_link_create(f_allow_1, fh, BPF_LSM_MAC), "link allow_1");
}
static void t_detach_first(void)
{
	do_detach(f_allow_0);	/* still attached when the call failed */
	close(allow_link);
}
static long f_idle_link(void) { return do_link_create(f_deny_a, fh, BPF_LSM_MAC); }
static long f_idle_attach(void) { return do_attach(f_deny_a, -1); }
static void u_idle_attach(long r) { must(do_detach(f_deny_a), "undo attach"); }
static long f_tramp_link(void) { return do_link_create(f_tramp, 0, BPF_LSM_MAC); }
static long f_cgroup_link(void) { return do_link_create(f_cgroup, fcg, BPF_LSM_CGROUP); }
static void u_close(long r) { close(r); }

/*
 * One bpf(2) call, made under fail-nth.  "busy": the hook has a deny link
 * (deny_a) and a BPF_PROG_ATTACH program (allow_0); otherwise it is idle,
 * so that the call switches it on.
 */
struct fault_op {
	const char *name;
	bool busy;
	long (*call)(void);
	void (*undo)(long ret);		/* after a call that succeeded */
	void (*setup)(void);		/* before each call */
	void (*teardown)(void);		/* after each call */
};

static const struct fault_op fault_ops[] = {
	{ "LINK_CREATE", true, .call = f_link, .undo = u_close },
	{ "PROG_ATTACH", true, .call = f_attach, .undo = u_attach },
	{ "PROG_ATTACH BPF_F_REPLACE", true, .call = f_replace, .undo = u_replace },
	{ "LINK_UPDATE", true, .call = f_update, .undo = u_update },
	{ "PROG_DETACH", true, .call = f_detach, .undo = u_detach },
	{ "LINK_DETACH", true, .call = f_link_detach,
	  .setup = s_link_detach, .teardown = t_link_detach },
	{ "PROG_QUERY", true, .call = f_query },
	{ "PROG_DETACH, first of two allowing", false, .call = f_detach,
	  .setup = s_detach_first, .teardown = t_detach_first },
	{ "LINK_CREATE, idle hook", false, .call = f_idle_link, .undo = u_close },
	{ "PROG_ATTACH, idle hook", false, .call = f_idle_attach, .undo = u_idle_attach },
	{ "trampoline LINK_CREATE, idle hook", false, .call = f_tramp_link, .undo = u_close },
	{ "lsm_cgroup LINK_CREATE, idle hook", false, .call = f_cgroup_link, .undo = u_close },
};

/* The most failure points any one call may have before it is a bug. */
#define MAX_FAIL_POINTS 1000

/* Run OP with each of its fault-injection points failing in turn. */
static void fault_op_run(const struct fault_op *op)
{
	struct hook_state clean, base, after, st;
	unsigned int nth, failed = 0, absorbed = 0;
	bool fired;
	long ret;
	int err;

	/* A reference call without a failure: what success looks like. */
	hook_state(fh, &clean);
	if (op->setup)
		op->setup();
	hook_state(fh, &base);
	ret = op->call();
	if (ret < 0)
		die("faults: %s without a failure: %s", op->name, strerror(errno));
	hook_state(fh, &after);
	if (op->undo)
		op->undo(ret);
	if (op->teardown)
		op->teardown();
	if (!reach_state(fh, &clean, &st))
		die("faults: %s: undoing it did not restore the hook", op->name);

	for (nth = 1; nth <= MAX_FAIL_POINTS; nth++) {
		if (op->setup)
			op->setup();
		fail_nth(nth);
		ret = op->call();
		err = errno;
		fired = fail_nth_fired();
		if (ret < 0) {
			if (!fired)
				violation("faults: %s failed without an injected failure: %s",
					  op->name, strerror(err));
			else if (err != ENOMEM)
				violation("faults: %s, point %u: %s, not ENOMEM",
					  op->name, nth, strerror(err));
			failed++;
			if (!reach_state(fh, &base, &st))
				violation("faults: %s, point %u: failed with %s but changed the hook:\n%s",
					  op->name, nth, strerror(err), st.file);
		} else {
			/* It did all its work, whether a failure fired or not. */
			absorbed += fired;
			hook_state(fh, &st);
			if (!same_state(&st, &after))
				violation("faults: %s, point %u: succeeded, but the hook differs from a plain call's result:\n%s",
					  op->name, nth, st.file);
			if (op->undo)
				op->undo(ret);
		}
		if (op->teardown)
			op->teardown();
		if (!reach_state(fh, &clean, &st))
			violation("faults: %s, point %u: the hook did not return to its state",
				  op->name, nth);
		if (!fired)	/* past the call's last point */
			break;
	}
	if (nth > MAX_FAIL_POINTS)
		violation("faults: %s: more than %d failure points", op->name, MAX_FAIL_POINTS);
	printf("faults: %-34s %3u points: %3u failed with ENOMEM and changed nothing, %u absorbed\n",
	       op->name, nth - 1, failed, absorbed);
}

/* kmemleak's report after a scan, as a count of suspects (-1: none). */
static int kmemleak_scan(char *buf, size_t size)
{
	int fd, n = 0;
	ssize_t len;
	char *p;

	if (access(KMEMLEAK, F_OK))
		return -1;
	write_str(KMEMLEAK, "scan");
	fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", KMEMLEAK, strerror(errno));
	len = read(fd, buf, size - 1);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	for (p = buf; (p = strstr(p, "unreferenced object")); p++)
		n++;
	return n;
}

/*
 * Every allocation on the attach, link create, update, replace, detach
 * and query paths made to fail in turn, through this thread's fail-nth
 * with failslab and fail_page_alloc counting every allocation: each
 * call fails with ENOMEM and leaves the hook as it was, or absorbs the
 * failure and does all its work; then kmemleak, where the kernel has it,
 * finds nothing the phase left behind.
 */
static void phase_faults(void)
{
	const char *knobs[][2] = {
		{ DEBUGFS "/failslab/ignore-gfp-wait", "N" },
		{ DEBUGFS "/failslab/verbose", "0" },
		{ DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
		{ DEBUGFS "/fail_page_alloc/min-order", "0" },
		{ DEBUGFS "/fail_page_alloc/verbose", "0" },
	};
	static char leaks[65536];
	double start = now();
	unsigned int i;
	int n;

	if (access(FAIL_NTH, F_OK) || access(DEBUGFS "/failslab", F_OK))
		die("faults: no %s or %s/failslab: a kernel without CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS",
		    FAIL_NTH, DEBUGFS);
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		write_str(knobs[i][0], knobs[i][1]);
	fail_nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (fail_nth_fd < 0)
		die("open %s: %s", FAIL_NTH, strerror(errno));
	/* kmemleak: forget what was suspected before the phase. */
	if (kmemleak_scan(leaks, sizeof(leaks)) >= 0)
		write_str(KMEMLEAK, "clear");

	fh = open_hook(HOOK, O_RDWR);
	fcg = cgroup_root_fd();
	f_deny_a = bpf_program__fd(skel->progs.deny_a);
	f_deny_b = bpf_program__fd(skel->progs.deny_b);
	f_allow_0 = allow_fd(0);
	f_allow_1 = allow_fd(1);
	f_tramp = bpf_program__fd(skel->progs.tramp);
	f_cgroup = bpf_program__fd(skel->progs.cgroup_allow);

	for (i = 0; i < sizeof(fault_ops) / sizeof(fault_ops[0]); i++) {
		if (fault_ops[i].busy && !busy_link) {
			busy_link = must(do_link_create(f_deny_a, fh, BPF_LSM_MAC), "link deny_a");
			must(do_attach(f_allow_0, -1), "attach allow_0");
		} else if (!fault_ops[i].busy && busy_link) {
			must(do_detach(f_allow_0), "detach allow_0");
			close(busy_link);
			busy_link = 0;
		}
		fault_op_run(&fault_ops[i]);
	}
	if (busy_link) {
		must(do_detach(f_allow_0), "detach allow_0");
		close(busy_link);
	}
	close(fail_nth_fd);
	close(fcg);
	close(fh);
	expect_empty_hook("faults");

	/* Objects younger than 5 s are not reported: wait, then scan. */
	if (!access(KMEMLEAK, F_OK)) {
		sleep(6);
		n = kmemleak_scan(leaks, sizeof(leaks));
		if (n)
			violation("faults: kmemleak: %d suspected leaks:\n%s", n, leaks);
		printf("faults: kmemleak: %d suspected leaks\n", n);
	} else {
		printf("faults: kmemleak: not in this kernel (make stress DEBUG=1 has it)\n");
	}
	printf("faults: done in %.0f s\n", now() - start);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	double t, start = now();
	int opt;

	seed = (unsigned long long)time(NULL);
	while ((opt = getopt(argc, argv, "d:n:f:s:p:")) != -1) {
		switch (opt) {
		case 'd':
			duration = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			min_swaps = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			fuzz_calls = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			phases = optarg;
			break;
		default:
			fprintf(stderr, "usage: krsi_stress [-d SECONDS] [-n MIN_SWAPS] [-f FUZZ_CALLS] [-s SEED] [-p PHASE,...]\n");
			return 2;
		}
	}
	if (!duration || !seed)
		die("-d and -s must be positive");
	{
		static const char *const known = ",churn,detach,capacity,mixed,fuzz,faults,shim,";
		char tok[64], *save, *t, list[256];

		snprintf(list, sizeof(list), "%s", phases);
		for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			snprintf(tok, sizeof(tok), ",%s,", t);
			if (!strstr(known, tok))
				die("-p: no phase '%s' (churn, detach, capacity, mixed, fuzz, faults, shim)", t);
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	page_size = sysconf(_SC_PAGESIZE);
	/*
	 * The page the programs decide for, between two PROT_NONE pages so
	 * that its mapping never merges with another: the hook sees a vma
	 * that starts at the page.
	 */
	page = mmap(NULL, 3 * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	page = (char *)page + page_size;
	if (mprotect(page, page_size, PROT_READ))
		die("mprotect: %s", strerror(errno));
	if (strcmp(phases, "shim") && access(HOOKS_DIR, F_OK))
		die("%s missing: a kernel without KRSI, or bpf not in lsm=", HOOKS_DIR);

	skel = stress__open();
	if (!skel)
		die("open the stress programs");
	skel->bss->stress_tgid = getpid();
	skel->bss->stress_page = (unsigned long)page;
	if (stress__load(skel))
		die("load the stress programs");
	printf("krsi_stress: seed %llu, %d CPUs, %u s, at least %lu swaps, %lu fuzz calls\n",
	       seed, nr_cpus, duration, min_swaps, fuzz_calls);

	t = duration;
	if (want("churn"))
		phase_churn(t * 0.4);
	if (want("detach"))
		phase_detach(t * 0.15);
	if (want("capacity"))
		phase_capacity(3);
	if (want("mixed"))
		phase_mixed(t * 0.2);
	if (want("fuzz"))
		phase_fuzz(fuzz_calls);
	if (want("faults"))
		phase_faults();
	if (want("shim"))
		phase_shim(t);

	stress__destroy(skel);
	printf("krsi_stress: %lu mprotect() checks (%lu during changes, not checked), violations: %lu, in %.0f s\n",
	       atomic_load(&checks), atomic_load(&unchecked),
	       atomic_load(&violations), now() - start);
	return atomic_load(&violations) ? 1 : 0;
}
