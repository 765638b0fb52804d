#!/bin/bash
# trace_check.sh fails on each thing the unit refuses, and passes a clean
# trace: one strace line of each kind against the real unit.
#   usage: trace_check_selftest.sh TRACE_CHECK UNIT_FILE
set -euo pipefail
check=$1
unit=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clean='12 read(3, "x", 1) = 1
13 futex(0x1, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>
13 <... futex resumed>) = 0
12 socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 4
12 mmap(NULL, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE, 3, 0) = 0x7f0000000000
12 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0}, 88) = 13
12 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER} ---'

# expect WHAT LINE: the clean trace plus LINE fails, naming WHAT.
expect() {
  printf '%s\n%s\n' "$clean" "$2" >"$work/trace"
  if bash "$check" "$unit" "$work/trace" >"$work/out" 2>&1; then
    echo "FAIL: passed a trace with: $2" >&2
    exit 1
  fi
  grep -qF "$1" "$work/out" || { echo "FAIL: no \"$1\" in:" >&2; cat "$work/out" >&2; exit 1; }
}
printf '%s\n' "$clean" >"$work/trace"
bash "$check" "$unit" "$work/trace" || { echo "FAIL: refused a clean trace" >&2; exit 1; }
expect "would deny: setuid" '12 setuid(0) = 0'
expect "would deny: sched_setaffinity" '14 sched_setaffinity(0, 8, [0]) = 0'
expect "would deny: mount" '12 mount("none", "/mnt", "tmpfs", 0, NULL) = 0'
expect "would deny: syscall_0x1ff" '12 syscall_0x1ff(0x1, 0x2) = -1 ENOSYS'
expect "outside RestrictAddressFamilies" '12 socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 5'
expect "MemoryDenyWriteExecute" '12 mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f'
expect "MemoryDenyWriteExecute" '12 mprotect(0x7f0000000000, 4096, PROT_READ|PROT_EXEC) = 0'
expect "RestrictNamespaces" '12 unshare(CLONE_NEWUSER|CLONE_NEWNS) = 0'
echo "trace_check.sh refuses each kind and passes a clean trace"
