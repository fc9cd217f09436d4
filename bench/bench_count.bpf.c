// SPDX-License-Identifier: GPL-2.0
/*
 * One counting LSM program per benchmarked hook, to check that the
 * benchmark's operations do go through the hooks it puts programs on.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "bench_hooks.h"

char LICENSE[] SEC("license") = "GPL";

__u32 target_pid;
__u64 hits[NR_BENCH_HOOKS];

#define COUNT_PROG(hook, op)					\
	SEC("lsm/" #hook)					\
	int count_##hook(void *ctx)				\
	{							\
		if ((bpf_get_current_pid_tgid() >> 32) == target_pid) \
			__sync_fetch_and_add(&hits[HOOK_##hook], 1); \
		return 0;					\
	}
BENCH_HOOKS(COUNT_PROG)
