// SPDX-License-Identifier: GPL-2.0
/*
 * The static binary krsi_bench's exec operation runs: it exits at once,
 * so that the operation is the kernel's fork, exec and exit.
 */
int main(void)
{
	return 0;
}
