/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The LSM hooks the benchmark's operations go through, by operation:
 * open("/dev/null") + close() and mprotect() of an anonymous page.
 * getpid() goes through none.  krsi_bench checks at run time that each
 * hook is hit.
 *
 * X(hook, operation)
 */
#define BENCH_HOOKS(X)				\
	X(file_alloc_security, OP_OPEN_CLOSE)	\
	X(inode_permission, OP_OPEN_CLOSE)	\
	X(file_open, OP_OPEN_CLOSE)		\
	X(file_post_open, OP_OPEN_CLOSE)	\
	X(file_release, OP_OPEN_CLOSE)		\
	X(file_free_security, OP_OPEN_CLOSE)	\
	X(file_mprotect, OP_MPROTECT)

#define BENCH_HOOK_ID(hook, op) HOOK_##hook,
enum bench_hook { BENCH_HOOKS(BENCH_HOOK_ID) NR_BENCH_HOOKS };
#undef BENCH_HOOK_ID
