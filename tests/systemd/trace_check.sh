#!/bin/bash
# What of an `strace -f` log the unit would refuse: a call its
# SystemCallFilter= denies, a socket family outside RestrictAddressFamilies=,
# memory both writable and executable (MemoryDenyWriteExecute=), a new
# namespace (RestrictNamespaces=). SystemCallFilter= lines are read in order,
# as systemd does: a set adds its calls to the allow list, a ~set removes
# them; groups are expanded (recursively) with `systemd-analyze syscall-filter`.
#   usage: trace_check.sh UNIT_FILE STRACE_LOG
# Prints the calls used; exits 1 naming each refused one.
set -euo pipefail
unit=$1
trace=$2

# The calls of `name` (a call, or a @group expanded through nested groups).
expand() {
  local name=$1 line
  if [[ $name != @* ]]; then
    echo "$name"
    return
  fi
  while read -r line; do
    case $line in
      '' | '#'* | "$name") ;;
      @*) expand "$line" ;;
      *) echo "$line" ;;
    esac
  done < <(systemd-analyze syscall-filter --no-pager "$name")
}

allowed=$(mktemp)
trap 'rm -f "$allowed"' EXIT
filters=$(sed -n 's/^SystemCallFilter=//p' "$unit")
if [ -z "$filters" ]; then
  echo "FAIL: $unit has no SystemCallFilter=" >&2
  exit 1
fi
while read -r value; do
  deny=no
  if [[ $value == ~* ]]; then
    deny=yes
    value=${value#\~}
  fi
  for name in $value; do
    # A call or group systemd does not know would be ignored by it: say so.
    calls=$(expand "$name")
    if [ -z "$calls" ]; then
      echo "FAIL: SystemCallFilter names \"$name\", which systemd does not know" >&2
      exit 1
    fi
    if [ "$deny" = yes ]; then
      grep -vxF -f <(echo "$calls") "$allowed" >"$allowed.new" || true
      mv "$allowed.new" "$allowed"
    else
      echo "$calls" >>"$allowed"
    fi
  done
done <<<"$filters"

# strace -f lines: "PID name(args) = ...", "PID name(... <unfinished ...>";
# resumed calls, signals and exits do not start with a call name.
used=$(sed -n 's/^[0-9]* *\([a-z_][a-z0-9_]*\)(.*/\1/p' "$trace" | sort -u)
if [ -z "$used" ]; then
  echo "FAIL: no system calls in $trace" >&2
  exit 1
fi
echo "system calls used ($(echo "$used" | wc -l)):" "$(echo "$used" | tr '\n' ' ')"
status=0
denied=$(grep -vxF -f "$allowed" <(echo "$used") || true)
if [ -n "$denied" ]; then
  echo "FAIL: the unit's SystemCallFilter would deny:" "$(echo "$denied" | tr '\n' ' ')" >&2
  for call in $denied; do
    grep -m1 -E "^[0-9]* *$call\(" "$trace" | sed 's/^/  first use: /' >&2
  done
  status=1
fi

# refuse WHAT PATTERN: fails naming the first line of the log matching PATTERN.
refuse() {
  local line
  line=$(grep -m1 -E "$2" "$trace" || true)
  if [ -n "$line" ]; then
    echo "FAIL: $1: $line" >&2
    status=1
  fi
}
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit" | tr ' ' '|')
if [ -n "$families" ]; then
  outside=$(grep -E "^[0-9]* *socket\(" "$trace" | grep -vE "socket\(($families)," | head -1 || true)
  if [ -n "$outside" ]; then
    echo "FAIL: a socket family outside RestrictAddressFamilies=: $outside" >&2
    status=1
  fi
fi
if grep -qx 'MemoryDenyWriteExecute=yes' "$unit"; then
  refuse "writable and executable memory (MemoryDenyWriteExecute=)" \
    "^[0-9]* *(mmap|mprotect|pkey_mprotect)\(.*(PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE)"
  refuse "memory made executable (MemoryDenyWriteExecute=)" \
    "^[0-9]* *(mprotect|pkey_mprotect)\(.*PROT_EXEC"
fi
if grep -qx 'RestrictNamespaces=yes' "$unit"; then
  refuse "a new namespace (RestrictNamespaces=)" \
    "^[0-9]* *(clone3?|unshare|setns)\(.*CLONE_NEW"
fi
[ "$status" -eq 0 ] && echo "nothing the unit would refuse"
exit "$status"
