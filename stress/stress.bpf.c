// SPDX-License-Identifier: GPL-2.0
/*
 * Programs of "make stress" (krsi_stress.c), all on file_mprotect.  They
 * decide only for one page of the stress process (its tgid in stress_tgid,
 * the page's address in stress_page), so the rest of the VM, and the
 * process's own thread stacks, keep working while they are attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1
#define EACCES 13

char _license[] SEC("license") = "GPL";

__u32 stress_tgid;
__u64 stress_page;
__u64 allow_calls, tramp_calls, cgroup_calls;

static __always_inline bool ours(struct vm_area_struct *vma)
{
	return bpf_get_current_pid_tgid() >> 32 == stress_tgid &&
	       vma->vm_start == stress_page;
}

/*
 * Deny policies: deny_a and deny_b are swapped with each other through
 * BPF_LINK_UPDATE, deny_c and deny_d through BPF_PROG_ATTACH's
 * BPF_F_REPLACE.
 */
#define DENY(name, err)							\
SEC("lsm/file_mprotect")						\
int BPF_PROG(name, struct vm_area_struct *vma, unsigned long reqprot,	\
	     unsigned long prot, int ret)				\
{									\
	return ours(vma) ? -err : ret;					\
}
DENY(deny_a, EPERM)
DENY(deny_b, EACCES)
DENY(deny_c, EPERM)
DENY(deny_d, EACCES)

/* Allow-programs attached and detached around them. */
#define ALLOW(n)							\
SEC("lsm/file_mprotect")						\
int BPF_PROG(allow_##n, struct vm_area_struct *vma,			\
	     unsigned long reqprot, unsigned long prot, int ret)	\
{									\
	if (ours(vma))							\
		__sync_fetch_and_add(&allow_calls, 1);			\
	return ret;							\
}
ALLOW(0)
ALLOW(1)
ALLOW(2)
ALLOW(3)
ALLOW(4)
ALLOW(5)

/* Attached through the trampoline and as lsm_cgroup in the mixed phase. */
SEC("lsm/file_mprotect")
int BPF_PROG(tramp, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ours(vma))
		__sync_fetch_and_add(&tramp_calls, 1);
	return ret;
}

SEC("lsm_cgroup/file_mprotect")
int BPF_PROG(cgroup_allow, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot)
{
	if (ours(vma))
		__sync_fetch_and_add(&cgroup_calls, 1);
	return 1;
}
