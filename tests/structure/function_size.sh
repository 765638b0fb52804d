#!/bin/sh
# No production function over 60 lines (issue 14): every function defined in
# the *.cpp and *.hpp files under daemon/ and receivers/ is measured with
# universal-ctags (length = end line - start line + 1). A longer one fails the
# test unless the exceptions file names it; an exception that is no longer
# over the limit, or no longer exists, fails it too, so the list only shrinks.
#
# Usage: function_size.sh [ROOT [EXCEPTIONS]]
#   ROOT        the source tree (default: the parent of this script's folder)
#   EXCEPTIONS  one line per function, `path function reason`; blank lines and
#               lines starting with # are skipped
#               (default: ROOT/tests/structure/function_size_exceptions.txt)
set -eu

limit=60
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
exceptions=${2:-"$root/tests/structure/function_size_exceptions.txt"}

# Exuberant ctags and Emacs' etags have neither --_xformat nor end lines:
# name the missing package rather than skip, so CI cannot pass by omission.
if ! ctags --version 2>/dev/null | grep -q "Universal Ctags"; then
  echo "function_size: universal-ctags is required and was not found on PATH" \
    "(apt-get install universal-ctags)" >&2
  exit 1
fi
if [ ! -r "$exceptions" ]; then
  echo "function_size: cannot read the exceptions file $exceptions" >&2
  exit 1
fi

cd "$root"
tags=$(mktemp)
trap 'rm -f "$tags"' EXIT
# The name comes last: operators have spaces in it ("operator ()").
ctags -x --_xformat="%{end} %n %F %N" --languages=C++ --kinds-c++=f --fields=+ne \
  -R daemon receivers > "$tags"

LC_ALL=C sort -k3,3 -k2,2n "$tags" | awk -v limit="$limit" -v exceptions="$exceptions" '
  BEGIN {
    while ((getline line < exceptions) > 0) {
      if (line ~ /^[ \t]*(#|$)/) {
        continue
      }
      split(line, f, /[ \t]+/)
      key = f[1] " " f[2]
      excepted[key] = 1
      order[++n] = key
    }
    close(exceptions)
  }
  $3 !~ /\.(cpp|hpp)$/ || $1 !~ /^[0-9]+$/ { next }
  {
    name = $4
    for (i = 5; i <= NF; i++) {
      name = name $i
    }
    key = $3 " " name
    length_ = $1 - $2 + 1
    seen[key] = 1
    checked++
    if (length_ <= limit) {
      next
    }
    long_[key] = 1
    if (!(key in excepted)) {
      printf "%s:%d: %s is %d lines (limit %d)\n", $3, $2, name, length_, limit
      failed = 1
    }
  }
  END {
    for (i = 1; i <= n; i++) {
      key = order[i]
      split(key, f, " ")
      if (!(key in seen)) {
        printf "%s: %s: listed in %s but no longer exists; remove the line\n", \
          f[1], f[2], exceptions
        failed = 1
      } else if (!(key in long_)) {
        printf "%s: %s: listed in %s but no longer over %d lines; remove the line\n", \
          f[1], f[2], exceptions, limit
        failed = 1
      }
    }
    if (!failed) {
      printf "function_size: %d functions checked, none over %d lines but the %d listed in %s\n", \
        checked, limit, n, exceptions
    }
    exit failed
  }'
