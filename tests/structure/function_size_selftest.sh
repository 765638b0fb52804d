#!/bin/sh
# function_size.sh against a small tree built here, so that each way it must
# fail is seen failing: a function of 61 lines, a stale exception (no longer
# long, or gone), and a missing universal-ctags.
#
# Usage: function_size_selftest.sh PATH/TO/function_size.sh
set -eu

script=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/daemon" "$work/receivers" "$work/tests/structure" "$work/bin"

# A C++ function whose definition spans `lines` lines.
function_of() {
  echo "int $1() {"
  i=2
  while [ "$i" -lt "$2" ]; do
    echo "  int v$i = $i;"
    i=$((i + 1))
  done
  echo "}"
}
{
  function_of too_long 61
  function_of just_fits 60
} > "$work/daemon/a.cpp"
function_of also_long 70 > "$work/receivers/b.hpp"
exceptions=$work/tests/structure/function_size_exceptions.txt

failures=0
# expect STATUS TEXT: the last run exited with STATUS (0 or 1) and its output
# holds TEXT (fixed string).
expect() {
  if [ "$status" -ne "$1" ] || ! grep -qF -- "$2" "$work/out"; then
    echo "FAIL: $case: expected exit $1 and \"$2\"; got exit $status:"
    cat "$work/out"
    failures=$((failures + 1))
  fi
}
run() {
  case=$1
  status=0
  sh "$script" "$work" "$exceptions" > "$work/out" 2>&1 || status=$?
}

printf '%s\n' "receivers/b.hpp also_long fixture" > "$exceptions"
run "a long function not listed"
expect 1 "daemon/a.cpp:1: too_long is 61 lines (limit 60)"
if grep -q just_fits "$work/out"; then
  echo "FAIL: a function of exactly 60 lines was reported"
  failures=$((failures + 1))
fi
if grep -q also_long "$work/out"; then
  echo "FAIL: a listed exception was reported"
  failures=$((failures + 1))
fi

printf '%s\n' "# comment" "" "daemon/a.cpp too_long fixture" \
  "receivers/b.hpp also_long fixture" > "$exceptions"
run "every long function listed"
expect 0 "3 functions checked"

printf '%s\n' "daemon/a.cpp too_long fixture" "receivers/b.hpp also_long fixture" \
  "daemon/a.cpp just_fits fixture" > "$exceptions"
run "an exception no longer long"
expect 1 "daemon/a.cpp: just_fits: listed in $exceptions but no longer over 60 lines"

printf '%s\n' "daemon/a.cpp too_long fixture" "receivers/b.hpp also_long fixture" \
  "daemon/gone.cpp removed fixture" > "$exceptions"
run "an exception that no longer exists"
expect 1 "daemon/gone.cpp: removed: listed in $exceptions but no longer exists"

# A ctags that is not universal-ctags (or none): fail, never skip.
printf '%s\n' "daemon/a.cpp too_long fixture" "receivers/b.hpp also_long fixture" > "$exceptions"
printf '#!/bin/sh\necho "Exuberant Ctags 5.9~svn20110310"\n' > "$work/bin/ctags"
chmod +x "$work/bin/ctags"
case="no universal-ctags"
status=0
PATH="$work/bin:$PATH" sh "$script" "$work" "$exceptions" > "$work/out" 2>&1 || status=$?
expect 1 "universal-ctags is required"

if [ "$failures" -ne 0 ]; then
  exit 1
fi
echo "function_size_selftest: all cases behaved"
