// SPDX-License-Identifier: GPL-2.0
/* One trivial lsm_cgroup program per benchmarked hook: it allows. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "bench_hooks.h"

char LICENSE[] SEC("license") = "GPL";

#define CGROUP_PROG(hook, op)					\
	SEC("lsm_cgroup/" #hook)				\
	int cgroup_##hook(void *ctx)				\
	{							\
		return 1;					\
	}
BENCH_HOOKS(CGROUP_PROG)
