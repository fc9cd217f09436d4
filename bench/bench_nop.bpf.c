// SPDX-License-Identifier: GPL-2.0
/* One trivial LSM program per benchmarked hook: it returns 0. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "bench_hooks.h"

char LICENSE[] SEC("license") = "GPL";

#define NOP_PROG(hook, op)					\
	SEC("lsm/" #hook)					\
	int nop_##hook(void *ctx)				\
	{							\
		return 0;					\
	}
BENCH_HOOKS(NOP_PROG)
