// SPDX-License-Identifier: GPL-2.0
/*
 * krsi_bench: what an LSM hook costs with nothing, trampoline programs or
 * KRSI programs on it, and what attaching costs.  Runs in the VM; prints
 * "BENCH..." lines that scripts/bench-report.py turns into a table.
 *
 *   krsi_bench [--icount] ops LABEL
 *                             time the operations as the system is
 *   krsi_bench [--icount] scenarios
 *                             check the hooks, then S1 (nothing attached),
 *                             S2 (trampolines), S3 (KRSI), S3s (KRSI with
 *                             BPF statistics on, which KRSI's run counters
 *                             need), S4 (8 x KRSI), S5 (lsm_cgroup on the
 *                             root cgroup)
 *   krsi_bench [--icount] trampolines LABEL
 *                             one nop program per hook through trampolines
 *                             (S2b, on the base kernel)
 *   krsi_bench [--icount] latency [--trampoline-only]
 *                             attach + detach of one program on
 *                             file_mprotect, idle and busy hook
 *
 * Operations: getpid() (no LSM hook: the control), open("/dev/null") +
 * close(), mprotect() of an anonymous page, fork() of a child that exits at
 * once + wait(), and fork() + execve() of a static binary that exits +
 * wait().  The last two go through many hooks (task, cred, exec, mmap and
 * file hooks) that no program of the benchmark is attached to: they show
 * what the idle bpf LSM costs where many hooks are called.  The emulator's speed drifts by
 * tens of percent within seconds, so the operations are timed in short
 * interleaved slices (getpid, open+close, mprotect, getpid), each costly
 * operation is divided by the mean of the two getpid slices around it, and
 * the medians over SLICES slices are printed: ns per operation and the
 * ratios to getpid.
 *
 * Every measurement is made by one process, forked at start (before
 * libbpf loads anything) and with address-space randomisation off, so that
 * fork() and execve() copy and build the same address space in every
 * scenario and every boot.
 *
 * With --icount the VM counts instructions (scripts/vmtest.sh -I): the
 * guest clock advances one nanosecond per instruction, so the same loops
 * give instructions per operation, the same from run to run.  Each
 * operation is then counted in ICOUNT_ROUNDS short loops of about
 * ICOUNT_LOOP instructions, less than a timer tick's period, and the
 * fewest instructions per operation of any loop are printed: the loops
 * that no interrupt landed in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench_hooks.h"
#include "bench_nop.skel.h"
#include "bench_count.skel.h"
#include "bench_cgroup.skel.h"

#define SLICE_NS	20000000LL	/* one timed slice of one operation */
#define SLICES		25
#define MEASURES	2		/* per scenario and boot */
#define BATCH		64
#define NR_PROGS_S4	8
#define LATENCY_ROUNDS	100
#define CGROUP_DIR	"/tmp/krsi_bench_cgroup"	/* a cgroup2 mount of ours */
#define ICOUNT_ROUNDS	25
#define ICOUNT_LOOP	500000LL	/* instructions; a 250 Hz tick is 4000000 */
#define ICOUNT_SINGLES	101		/* calls of an operation longer than a loop */
#define LABEL_MAX	64		/* a measurement's label, with its NUL */

enum op { OP_GETPID, OP_OPEN_CLOSE, OP_MPROTECT, OP_FORK_WAIT, OP_EXEC, NR_OPS };
static const char * const op_names[NR_OPS] = {
	"getpid", "open_close", "mprotect", "fork_wait", "exec"
};

#define BENCH_HOOK_NAME(hook, op) #hook,
static const char * const hook_names[] = { BENCH_HOOKS(BENCH_HOOK_NAME) };
#define BENCH_HOOK_OP(hook, op) op,
static const enum op hook_ops[] = { BENCH_HOOKS(BENCH_HOOK_OP) };

static void *page;
static long page_size;
static bool icount;
/*
 * The static binary that OP_EXEC runs: a copy on /tmp (a tmpfs in the VM)
 * of bench_true, which is beside krsi_bench.  Run from the 9p root, each
 * exec would wait for the host, and the guest's clock jumps over waits.
 */
#define TRUE_PATH	"/tmp/krsi_bench_true"

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "krsi_bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A child that exits at once, or that runs bench_true, and its wait(). */
static void fork_wait(bool exec)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (exec)
			execl(TRUE_PATH, TRUE_PATH, (char *)NULL);
		_exit(exec ? 127 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("the child%s ended with status %#x", exec ? " running " TRUE_PATH : "",
		    status);
}

/* Copy bench_true, found beside krsi_bench, to TRUE_PATH. */
static void install_true(void)
{
	char path[4096], buf[65536];
	int in, out;
	ssize_t len;
	char *slash;

	len = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (len < 0)
		die("cannot find where krsi_bench is: %s", strerror(errno));
	path[len] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "bench_true");
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die("%s: %s (scripts/bench.sh builds it)", path, strerror(errno));
	out = open(TRUE_PATH, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0)
		die("%s: %s", TRUE_PATH, strerror(errno));
	while ((len = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, len) != len)
			die("writing %s: %s", TRUE_PATH, strerror(errno));
	if (len < 0 || close(out))
		die("copying %s to %s: %s", path, TRUE_PATH, strerror(errno));
	close(in);
}

static void do_op(enum op op, unsigned int i)
{
	int fd;

	switch (op) {
	case OP_GETPID:
		syscall(SYS_getpid);
		break;
	case OP_OPEN_CLOSE:
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open(/dev/null): %s", strerror(errno));
		close(fd);
		break;
	case OP_MPROTECT:
		if (mprotect(page, page_size, i & 1 ? PROT_READ : PROT_READ | PROT_WRITE))
			die("mprotect: %s", strerror(errno));
		break;
	case OP_FORK_WAIT:
	case OP_EXEC:
		fork_wait(op == OP_EXEC);
		break;
	default:
		break;
	}
}

/* ns per operation over one slice of SLICE_NS. */
static double time_op(enum op op)
{
	long long start, elapsed;
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i < BATCH; i++)	/* warm up */
		do_op(op, i);
	start = now_ns();
	do {
		for (i = 0; i < BATCH; i++)
			do_op(op, i);
		n += BATCH;
		elapsed = now_ns() - start;
	} while (elapsed < SLICE_NS);
	return (double)elapsed / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return v[n / 2];
}

/*
 * --icount: instructions per operation, the fewest over ICOUNT_ROUNDS loops
 * each sized to about ICOUNT_LOOP instructions from one first call.  An
 * operation longer than that (fork, exec) is counted one call at a time,
 * ICOUNT_SINGLES times, and the median is returned: its cost varies by
 * itself by tenths of a percent, with the work the kernel defers to
 * whichever call comes next (freeing the last child's task and memory),
 * so that the fewest of a few calls is an outlier rather than the cost.
 */
static double count_op(enum op op)
{
	long long start, n, best = -1;
	double one[ICOUNT_SINGLES];
	unsigned int i, r, calls;

	for (i = 0; i < BATCH; i++)	/* warm up */
		do_op(op, i);
	start = now_ns();
	do_op(op, 0);
	n = now_ns() - start;
	calls = n > 0 && n < ICOUNT_LOOP ? ICOUNT_LOOP / n : 1;
	if (calls == 1) {
		for (r = 0; r < ICOUNT_SINGLES; r++) {
			start = now_ns();
			do_op(op, r);
			one[r] = now_ns() - start;
		}
		return median(one, ICOUNT_SINGLES);
	}
	for (r = 0; r < ICOUNT_ROUNDS; r++) {
		start = now_ns();
		for (i = 0; i < calls; i++)
			do_op(op, i);
		n = now_ns() - start;
		if (best < 0 || n < best)
			best = n;
	}
	return (double)best / calls;
}

static void measure_here(const char *label)
{
	double ns[NR_OPS][SLICES], ratio[NR_OPS][SLICES];
	double g1, g2;
	int s, op;

	if (icount) {
		printf("BENCH-ICOUNT %s", label);
		for (op = 0; op < NR_OPS; op++)
			printf(" %s=%.1f", op_names[op], count_op(op));
		printf("\n");
		fflush(stdout);
		return;
	}

	for (s = 0; s < SLICES; s++) {
		g1 = time_op(OP_GETPID);
		for (op = OP_OPEN_CLOSE; op < NR_OPS; op++)
			ns[op][s] = time_op(op);
		g2 = time_op(OP_GETPID);
		ns[OP_GETPID][s] = (g1 + g2) / 2;
		for (op = OP_OPEN_CLOSE; op < NR_OPS; op++)
			ratio[op][s] = ns[op][s] / ns[OP_GETPID][s];
	}
	printf("BENCH %s", label);
	for (op = 0; op < NR_OPS; op++)
		printf(" %s=%.1f", op_names[op], median(ns[op], SLICES));
	for (op = OP_OPEN_CLOSE; op < NR_OPS; op++)
		printf(" %s_ratio=%.4f", op_names[op], median(ratio[op], SLICES));
	printf("\n");
	fflush(stdout);
}

/*
 * The process that measures: forked at start, before libbpf loads anything,
 * it runs each measurement on request.  What fork() costs follows the
 * address space it copies, which loading skeletons and attaching programs
 * grow; measured from this child, every scenario and every mode ("ops" in
 * a fresh boot, "scenarios" after the hook check) forks the same address
 * space.  The programs attached are the system's, so they run for its
 * operations as for any other process.
 */
static pid_t measurer = -1;
static int measurer_req = -1, measurer_ack = -1;

static void measurer_loop(int req, int ack)
{
	char label[LABEL_MAX];
	ssize_t len;

	while ((len = read(req, label, sizeof(label) - 1)) > 0) {
		label[len] = '\0';
		measure_here(label);
		if (write(ack, "", 1) != 1)
			_exit(1);
	}
	_exit(len < 0);
}

static void start_measurer(void)
{
	int req[2], ack[2];

	if (pipe2(req, O_CLOEXEC) || pipe2(ack, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	measurer = fork();
	if (measurer < 0)
		die("fork: %s", strerror(errno));
	if (!measurer) {
		close(req[1]);
		close(ack[0]);
		measurer_loop(req[0], ack[1]);
	}
	close(req[0]);
	close(ack[1]);
	measurer_req = req[1];
	measurer_ack = ack[0];
}

static void stop_measurer(void)
{
	int status;

	close(measurer_req);
	if (waitpid(measurer, &status, 0) != measurer)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("the measuring process ended with status %#x", status);
}

/* One measurement, by the measuring process; its lines go to stdout. */
static void measure(const char *label)
{
	size_t len = strlen(label);
	char done;

	if (len >= LABEL_MAX)
		die("label too long: %s", label);
	if (write(measurer_req, label, len) != (ssize_t)len)
		die("asking for a measurement: %s", strerror(errno));
	if (read(measurer_ack, &done, 1) != 1)
		die("the measuring process died measuring %s", label);
}

static void measure_n(const char *label)
{
	int i;

	for (i = 0; i < MEASURES; i++)
		measure(label);
}

/* How a program is attached; VIA_CGROUP: lsm_cgroup, to cgroup_fd. */
enum via { VIA_TRAMPOLINE, VIA_KRSI, VIA_CGROUP };
static const char * const via_names[] = { "a trampoline", "KRSI", "the root cgroup" };
static int cgroup_fd = -1;

static struct bpf_link *attach(const struct bpf_program *prog, enum via via)
{
	struct bpf_link *link;

	switch (via) {
	case VIA_KRSI:
		link = bpf_program__attach_krsi(prog, NULL);
		break;
	case VIA_CGROUP:
		link = bpf_program__attach_cgroup(prog, cgroup_fd);
		break;
	default:
		link = bpf_program__attach_lsm(prog);
		break;
	}
	if (!link)
		die("attaching %s through %s: %s", bpf_program__name(prog),
		    via_names[via], strerror(errno));
	return link;
}

/* Attach every program of @obj; the links go to @links, their count is returned. */
static int attach_all(struct bpf_object *obj, enum via via, struct bpf_link **links)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, obj)
		links[n++] = attach(prog, via);
	return n;
}

static void detach_all(struct bpf_link **links, int n)
{
	while (n--)
		bpf_link__destroy(links[n]);
}

/* Whether programs of the benchmark are attached to hooks @op goes through. */
static bool op_has_hooks(enum op op)
{
	unsigned int h;

	for (h = 0; h < NR_BENCH_HOOKS; h++)
		if (hook_ops[h] == op)
			return true;
	return false;
}

/*
 * Each hook must be hit by its operation and by no other operation that
 * has hooks of its own (fork and exec go through file hooks too).
 */
static void check_hooks(void)
{
	struct bpf_link *links[NR_BENCH_HOOKS];
	struct bench_count *skel;
	__u64 before[NR_BENCH_HOOKS];
	int n, op, h, bad = 0;
	unsigned int i;

	skel = bench_count__open_and_load();
	if (!skel)
		die("loading bench_count: %s", strerror(errno));
	skel->bss->target_pid = getpid();
	n = attach_all(skel->obj, VIA_KRSI, links);
	for (op = 0; op < NR_OPS; op++) {
		if (op != OP_GETPID && !op_has_hooks(op))
			continue;
		memcpy(before, skel->bss->hits, sizeof(before));
		for (i = 0; i < 10; i++)
			do_op(op, i);
		for (h = 0; h < NR_BENCH_HOOKS; h++) {
			__u64 hits = skel->bss->hits[h] - before[h];
			bool want = hook_ops[h] == (enum op)op;

			if (want)
				printf("BENCH-HOOK %s %s %llu\n", op_names[op],
				       hook_names[h], (unsigned long long)hits);
			if (want != (hits > 0)) {
				fprintf(stderr, "krsi_bench: %s hit %s %llu times in 10 runs\n",
					op_names[op], hook_names[h], (unsigned long long)hits);
				bad = 1;
			}
		}
	}
	detach_all(links, n);
	bench_count__destroy(skel);
	if (bad)
		die("the operations do not go through the hooks of bench_hooks.h");
}

static void scenarios(void)
{
	struct bpf_link *links[NR_PROGS_S4][NR_BENCH_HOOKS];
	struct bench_nop *skel[NR_PROGS_S4];
	struct bench_cgroup *cg;
	int i, m, n[NR_PROGS_S4], stats_fd;

	check_hooks();
	for (i = 0; i < NR_PROGS_S4; i++) {
		skel[i] = bench_nop__open_and_load();
		if (!skel[i])
			die("loading bench_nop: %s", strerror(errno));
	}
	cg = bench_cgroup__open_and_load();
	if (!cg)
		die("loading bench_cgroup: %s", strerror(errno));
	/* The root of the cgroup2 hierarchy, which the benchmark runs in. */
	if (mkdir(CGROUP_DIR, 0755) && errno != EEXIST)
		die("mkdir %s: %s", CGROUP_DIR, strerror(errno));
	if (mount("cgroup2", CGROUP_DIR, "cgroup2", 0, NULL))
		die("mounting cgroup2 on %s: %s", CGROUP_DIR, strerror(errno));
	cgroup_fd = open(CGROUP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0)
		die("open %s: %s", CGROUP_DIR, strerror(errno));
	/* S1 S2 S4 S3, MEASURES times over: a drift hits them all alike. */
	for (m = 0; m < MEASURES; m++) {
		measure("S1");

		n[0] = attach_all(skel[0]->obj, VIA_TRAMPOLINE, links[0]);
		measure("S2");
		detach_all(links[0], n[0]);

		for (i = 0; i < NR_PROGS_S4; i++)
			n[i] = attach_all(skel[i]->obj, VIA_KRSI, links[i]);
		measure("S4");
		for (i = NR_PROGS_S4 - 1; i >= 1; i--)
			detach_all(links[i], n[i]);
		measure("S3");
		/* Runs are counted, by KRSI and BPF, while statistics are on. */
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			die("BPF_ENABLE_STATS: %s", strerror(errno));
		measure("S3s");
		close(stats_fd);
		detach_all(links[0], n[0]);
	}
	/*
	 * S5 last: a detached lsm_cgroup program's trampoline shim goes away
	 * only after a grace period and a work item, and would still be
	 * there for the next scenario.
	 */
	n[0] = attach_all(cg->obj, VIA_CGROUP, links[0]);
	measure_n("S5");
	detach_all(links[0], n[0]);
	close(cgroup_fd);
	umount(CGROUP_DIR);
	bench_cgroup__destroy(cg);
	for (i = NR_PROGS_S4 - 1; i >= 0; i--)
		bench_nop__destroy(skel[i]);
}

/*
 * S2b: one nop program per hook through trampolines, on a kernel without
 * KRSI (the base kernel), against which S2 on the KRSI kernel is compared.
 */
static void trampolines(const char *label)
{
	struct bpf_link *links[NR_BENCH_HOOKS];
	struct bench_nop *skel;
	int n;

	skel = bench_nop__open_and_load();
	if (!skel)
		die("loading bench_nop: %s", strerror(errno));
	n = attach_all(skel->obj, VIA_TRAMPOLINE, links);
	measure_n(label);
	detach_all(links, n);
	bench_nop__destroy(skel);
}

static void latency_rounds(const char *path, const char *state,
			   const struct bpf_program *prog, enum via via, double *us)
{
	long long t;
	int i;

	for (i = 0; i < LATENCY_ROUNDS; i++) {
		t = now_ns();
		bpf_link__destroy(attach(prog, via));
		us[i] = (now_ns() - t) / 1000.0;
	}
	qsort(us, LATENCY_ROUNDS, sizeof(double), cmp_double);
	printf("BENCH-LATENCY %s %s median=%.1f min=%.1f max=%.1f rounds=%d\n",
	       path, state, us[LATENCY_ROUNDS / 2], us[0], us[LATENCY_ROUNDS - 1],
	       LATENCY_ROUNDS);
	fflush(stdout);
}

static void latency(bool krsi_too)
{
	double us[LATENCY_ROUNDS];
	struct bench_nop *a, *b;
	struct bpf_link *hold;
	enum via via;

	a = bench_nop__open_and_load();
	b = bench_nop__open_and_load();
	if (!a || !b)
		die("loading bench_nop: %s", strerror(errno));
	for (via = VIA_TRAMPOLINE; via <= (krsi_too ? VIA_KRSI : VIA_TRAMPOLINE); via++) {
		const char *name = via == VIA_KRSI ? "krsi" : "trampoline";

		latency_rounds(name, "idle", a->progs.nop_file_mprotect, via, us);
		hold = attach(b->progs.nop_file_mprotect, via);
		latency_rounds(name, "busy", a->progs.nop_file_mprotect, via, us);
		bpf_link__destroy(hold);
	}
	bench_nop__destroy(a);
	bench_nop__destroy(b);
}

/*
 * Run again with address-space randomisation off.  fork() and execve() cost
 * what the page tables of the address space they copy or build cost, which
 * follows where the randomised mappings fall: with randomisation on, the
 * same operation differs by up to 0.6% between two boots, with it off by
 * 0.04%.  bench_true inherits the setting through execve().
 */
static void no_randomisation(char **argv)
{
	int persona = personality(0xffffffff);

	if (persona < 0)
		die("personality: %s", strerror(errno));
	if (persona & ADDR_NO_RANDOMIZE)
		return;
	if (personality(persona | ADDR_NO_RANDOMIZE) < 0)
		die("personality(ADDR_NO_RANDOMIZE): %s", strerror(errno));
	execv("/proc/self/exe", argv);
	die("running again without address-space randomisation: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	no_randomisation(argv);
	if (argc > 1 && !strcmp(argv[1], "--icount")) {
		icount = true;
		argc--;
		argv++;
	}
	install_true();
	page_size = sysconf(_SC_PAGESIZE);
	/*
	 * The page mprotect() changes, between two PROT_NONE pages: its
	 * mapping never merges with a neighbour, whatever the address space
	 * around it, so every call does the same work.
	 */
	page = mmap(NULL, 3 * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	page = (char *)page + page_size;
	if (mprotect(page, page_size, PROT_READ | PROT_WRITE))
		die("mprotect: %s", strerror(errno));

	start_measurer();
	if (argc == 3 && !strcmp(argv[1], "ops"))
		measure_n(argv[2]);
	else if (argc == 2 && !strcmp(argv[1], "scenarios"))
		scenarios();
	else if (argc == 3 && !strcmp(argv[1], "trampolines"))
		trampolines(argv[2]);
	else if (argc == 2 && !strcmp(argv[1], "latency"))
		latency(true);
	else if (argc == 3 && !strcmp(argv[1], "latency") &&
		 !strcmp(argv[2], "--trampoline-only"))
		latency(false);
	else
		die("usage: krsi_bench [--icount] ops LABEL | scenarios | trampolines LABEL | latency [--trampoline-only]");
	stop_measurer();
	return 0;
}
