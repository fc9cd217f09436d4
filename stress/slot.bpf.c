// SPDX-License-Identifier: GPL-2.0
/*
 * "make stress", capacity race: loaded once per slot, with its own slot
 * number, so that every attached copy is a distinct program whose runs
 * can be told apart in the shared hits map.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define NR_SLOTS 128

char _license[] SEC("license") = "GPL";

const volatile __u32 slot;
const volatile __u32 stress_tid;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("lsm/file_mprotect")
int BPF_PROG(slot_prog, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	__u32 key = slot;
	__u64 *v;

	if ((__u32)bpf_get_current_pid_tgid() != stress_tid)
		return ret;
	v = bpf_map_lookup_elem(&hits, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return ret;
}
