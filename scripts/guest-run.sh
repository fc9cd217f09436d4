#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in the VM for "make run": show that the kernel runs KRSI.
set -euo pipefail
sfs=/sys/kernel/security
echo "kernel:       $(uname -r)"
echo "active LSMs:  $(cat $sfs/lsm)"
case ,$(cat $sfs/lsm), in
*,bpf,*) ;;
*) echo "error: the bpf LSM is not active" >&2; exit 1 ;;
esac
if [[ ! -d $sfs/bpf ]]; then
	echo "error: $sfs/bpf does not exist: KRSI is not active" >&2
	exit 1
fi
echo "KRSI:         $sfs/bpf/"
ls -l "$sfs/bpf/"
if [[ -d $sfs/bpf/hooks ]]; then
	echo "hook files:   $(find "$sfs/bpf/hooks" -maxdepth 1 -type f | wc -l)"
fi
