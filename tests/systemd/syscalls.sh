#!/bin/bash
# The hardened unit must not break the daemon: run calloutd under strace
# through a real scenario and check every system call it makes against the
# unit's SystemCallFilter (trace_check.sh). The scenario: a repository whose
# remote is a bare repository behind OpenSSH's sshd (libgit2 and libssh2 in
# the daemon's process), a bearer token read from a file, listening on a free
# port of 127.0.0.1, an Alertmanager notification posted, its commit pushed,
# /metrics scraped, SIGTERM (the drain). Without sshd the remote is left out.
#   usage: syscalls.sh CALLOUTD_BINARY UNIT_FILE SAMPLES_DIR
set -euo pipefail
binary=$(realpath "$1")
unit=$(realpath "$2")
samples=$(realpath "$3")
here=$(dirname "$(realpath "$0")")
work=$(mktemp -d)
sshd_pid=
strace_pid=
cleanup() {
  for pid in $strace_pid $sshd_pid; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -30 "$log" >&2; }
  done
  exit 1
}

# Polls `command` every 0.1 s for up to `seconds`; true once it succeeds.
eventually() {
  local seconds=$1
  shift
  local tries=$((seconds * 10))
  while ! "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.1
  done
}

accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# An HTTP/1.1 request over bash's /dev/tcp (no curl on the test machine):
# http PORT METHOD PATH [BODY_FILE]; prints the response.
http() {
  local port=$1 method=$2 path=$3 body=${4:-/dev/null}
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n' \
    "$method" "$path" "$token" >&3
  printf 'Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
    "$(wc -c <"$body")" >&3
  cat "$body" >&3
  timeout 10 cat <&3
  exec 3<&-
}

# sshd serving a bare repository with a seed commit; sets remote_yaml.
start_ssh_remote() {
  local d=$work/ssh port
  mkdir -p "$d"
  mkdir -p /run/sshd 2>/dev/null || true  # privilege separation (as root)
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$d/client_key"
  cp "$d/client_key.pub" "$d/authorized_keys"
  git init -q --bare -b main "$d/callouts.git"
  git init -q -b main "$d/seed"
  echo "# Our callouts" >"$d/seed/README.md"
  git -C "$d/seed" add README.md
  git -C "$d/seed" -c user.name=SRE -c user.email=sre@example.org commit -q -m seed
  git -C "$d/seed" push -q "$d/callouts.git" main
  for _ in 1 2 3 4 5; do
    # Below the ephemeral range (32768-60999 on Linux): a port busy as the
    # local end of other tests' connections cannot be listened on.
    port=$((20000 + RANDOM % 12000))
    accepts "$port" && continue
    printf '%s\n' "Port $port" "ListenAddress 127.0.0.1" "HostKey $d/host_key" \
      "AuthorizedKeysFile $d/authorized_keys" "PasswordAuthentication no" \
      "KbdInteractiveAuthentication no" "PermitRootLogin prohibit-password" "StrictModes no" \
      "UsePAM no" "PidFile $d/sshd.pid" >"$d/sshd_config"
    /usr/sbin/sshd -D -e -f "$d/sshd_config" 2>"$work/sshd.log" &
    sshd_pid=$!
    eventually 5 accepts "$port" && break
    kill "$sshd_pid" 2>/dev/null || true
    sshd_pid=
  done
  [ -n "$sshd_pid" ] || fail "sshd did not start"
  # By name, so that the daemon resolves it as it would a real remote's.
  echo "[localhost]:$port $(cut -d' ' -f1,2 "$d/host_key.pub")" >"$d/known_hosts"
  remote_yaml="  remote:
    url: ssh://$(id -un)@localhost:$port$d/callouts.git
    ssh_key_file: $d/client_key
    known_hosts_file: $d/known_hosts
    fetch_interval: 1s
    max_retry_delay: 1s"
  remote_bare=$d/callouts.git
}

token=test-token-$RANDOM
echo "$token" >"$work/alertmanager.token"
remote_yaml=
remote_bare=
if [ -x /usr/sbin/sshd ]; then
  start_ssh_remote
else
  echo "no /usr/sbin/sshd (openssh-server): the scenario runs without a remote"
fi
cat >"$work/calloutd.yml" <<YAML
repository:
  path: $work/callouts
$remote_yaml
receivers:
  alertmanager:
    bearer_token_file: alertmanager.token
YAML

# The daemon under strace, as systemd would start it: from its working
# directory, the flags of ExecStart= but a free port, and a NOTIFY_SOCKET
# (nobody listens there: sd_notify's calls are made all the same).
cd "$work"
NOTIFY_SOCKET=$work/notify WATCHDOG_USEC=1000000 timeout 50 strace -f -qq -o "$work/trace" "$binary" --config.file="$work/calloutd.yml" \
  --web.listen-address=127.0.0.1:0 >"$work/calloutd.log" 2>&1 &
strace_pid=$!
listening() { grep -qE 'msg=listening .*port=[0-9]+' "$work/calloutd.log" 2>/dev/null; }
started() { listening || ! kill -0 "$strace_pid" 2>/dev/null; }
eventually 20 started || true
listening || fail "calloutd did not start"
port=$(sed -nE 's/.*msg=listening .*port=([0-9]+).*/\1/p' "$work/calloutd.log" | head -1)
if [ -n "$remote_bare" ]; then
  # The remote's history first, so that the callout's commit lands on it.
  fetched() { [ -f "$work/callouts/README.md" ]; }
  eventually 20 fetched || fail "the daemon did not fetch from the remote"
fi

response=$(http "$port" POST /api/v1/alertmanager "$samples/am-0.34-format-firing-nested-route-ADAPTED.json")
[[ $response == "HTTP/1.1 200"* ]] || fail "the notification was not accepted: $response"
committed() { [ "$(git -C "$work/callouts" rev-list --count HEAD 2>/dev/null || echo 0)" -ge 2 ]; }
eventually 20 committed || fail "no commit for the notification"
if [ -n "$remote_bare" ]; then
  pushed() { [ "$(git -C "$remote_bare" rev-list --count main)" -ge 2 ]; }
  eventually 20 pushed || fail "the commit was not pushed over SSH"
fi
metrics=$(http "$port" GET /metrics)
grep -q '^calloutd_' <<<"$metrics" || fail "no calloutd metrics: $metrics"

# SIGTERM to the daemon (timeout's grandchild, under strace): it drains and
# exits 0.
daemon_pid=$(pgrep -P "$(pgrep -P "$strace_pid" | head -1)" | head -1)
[ -n "$daemon_pid" ] || fail "no daemon process under strace"
kill -TERM "$daemon_pid"
status=0
wait "$strace_pid" || status=$?
strace_pid=
[ "$status" -eq 0 ] || fail "calloutd exited with status $status after SIGTERM"

bash "$here/trace_check.sh" "$unit" "$work/trace"
