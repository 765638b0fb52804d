#!/bin/sh
# The shipped unit stays hardened: `systemd-analyze security --offline=true`
# scores the generated unit at MAX or less (default 2.0), and
# `systemd-analyze verify` finds nothing to say about it. Neither needs
# systemd as PID 1.
#   usage: security_score.sh UNIT_FILE CALLOUTD_BINARY [MAX]
# CALLOUTD_BINARY stands in for the install path in ExecStart= (verify
# checks that the command exists and is executable).
set -eu
unit=$1
binary=$2
max=${3:-2.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --threshold counts in tenths: 2.0 is 20. The exit status alone would not
# say why, so parse the overall line and print what costs most.
threshold=$(awk -v m="$max" 'BEGIN { printf "%d", m * 10 + 0.5 }')
status=0
systemd-analyze security --no-pager --offline=true --threshold="$threshold" "$unit" \
  >"$work/security" 2>&1 || status=$?
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$work/security")
if [ -z "$exposure" ]; then
  echo "FAIL: no \"Overall exposure level\" line from systemd-analyze security:" >&2
  cat "$work/security" >&2
  exit 1
fi
echo "exposure of $(basename "$unit"): $exposure (at most $max)"
if [ "$status" -ne 0 ] || awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e > m) }'; then
  echo "FAIL: exposure $exposure is above $max; the settings that cost most:" >&2
  grep '✗' "$work/security" | awk '{ print $NF "\t" $0 }' | sort -rn | cut -f2- | head -15 >&2
  exit 1
fi

# verify exits 0 even on unknown keys or syscall groups: any line about our
# unit is a fault. (On a host booted with systemd it also loads the host's
# units; what it says about those is not ours to fail on.)
sed "s#^ExecStart=[^ ]*#ExecStart=$binary#" "$unit" >"$work/calloutd.service"
status=0
systemd-analyze verify --man=no --recursive-errors=no "$work/calloutd.service" \
  >"$work/verify" 2>&1 || status=$?
if [ "$status" -ne 0 ] || grep -q calloutd "$work/verify"; then
  echo "FAIL: systemd-analyze verify (status $status):" >&2
  cat "$work/verify" >&2
  exit 1
fi
echo "systemd-analyze verify: clean"
