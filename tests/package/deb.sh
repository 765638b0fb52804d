#!/usr/bin/env bash
# The Debian package as an admin meets it: cpack builds it from the build tree,
# dpkg-deb and lintian check it, and dpkg installs, upgrades, removes and
# purges it in a private root of its own, so the real /etc, /usr and dpkg
# database are never touched (checked at the end).
#
# The private root: dpkg --root=R (instdir R, admindir R/var/lib/dpkg) with
#   --force-script-chrootless  run the maintainer scripts on the host, without
#                              chroot(R) (R has no shell), with DPKG_ROOT=R set:
#                              our scripts start nothing then, and
#                              deb-systemd-helper writes below R only;
#   (no --force-depends)       R's database holds the host's records of the
#                              packages Depends names (make_root), so dpkg
#                              checks the Depends line against this host;
#   --force-not-root, --log    no root needed, nothing logged outside R.
#
# usage: deb.sh BUILD_DIR
set -euo pipefail

build=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/calloutd-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
conf=$root/etc/calloutd/calloutd.yml
unit=calloutd.service
wants=etc/systemd/system/multi-user.target.wants/$unit

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

step() { echo "== [${SECONDS}s] $*"; }

in_root() {
  dpkg --root="$root" --admindir="$root/var/lib/dpkg" --log="$root/var/log/dpkg.log" \
    --force-not-root --force-script-chrootless "$@"
}

# What this test must leave as it found it, outside its own directory.
host_state() {
  md5sum /var/lib/dpkg/status
  local p
  for p in /etc/calloutd /usr/bin/calloutd /usr/bin/calloutctl "/$wants" /lib/systemd/system/$unit \
    /var/lib/systemd/deb-systemd-helper-enabled/$unit.dsh-also; do
    if [ -e "$p" ] || [ -L "$p" ]; then
      stat -c '%n %i %Y' "$p"
    fi
  done
}

# The package from this build, with `version` (cpack -R) into `dir`.
build_package() {
  local version=$1 dir=$2
  (cd "$build" && cpack -G DEB -R "$version" -B "$dir" >"$dir.log" 2>&1) ||
    { cat "$dir.log"; fail "cpack -R $version"; }
  deb=$dir/calloutd_${version}_$(dpkg --print-architecture).deb
  [ -f "$deb" ] || { cat "$dir.log"; fail "cpack wrote no $deb"; }
}

check_contents() {
  local deb=$1 listing
  listing=$(dpkg-deb --contents "$deb" | awk '{print $6}')
  for path in ./usr/bin/calloutd ./usr/bin/calloutctl \
    ./usr/share/man/man8/calloutd.8.gz ./usr/share/man/man1/calloutctl.1.gz \
    ./lib/systemd/system/$unit ./etc/calloutd/calloutd.yml \
    ./usr/share/calloutd/templates/callout.md ./usr/share/calloutd/templates/postmortem.md \
    ./usr/share/calloutd/grafana/calloutd.json \
    ./usr/share/calloutd/prometheus/calloutd-rules.yml \
    ./usr/share/doc/calloutd/copyright ./usr/share/doc/calloutd/changelog.gz; do
    grep -qxF "$path" <<<"$listing" || fail "$deb lacks $path"
  done
  # The unit names the packaged paths, whatever prefix the build was configured with.
  dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/$unit |
    grep -qxF "ExecStart=/usr/bin/calloutd --config.file=/etc/calloutd/calloutd.yml --repo.path=/var/lib/calloutd/callouts" ||
    fail "the packaged unit does not run /usr/bin/calloutd on /etc/calloutd/calloutd.yml"
  [ "$(dpkg-deb --info "$deb" conffiles)" = /etc/calloutd/calloutd.yml ] ||
    fail "conffiles is not exactly /etc/calloutd/calloutd.yml"
  dpkg-deb --field "$deb" Depends | grep -qE '(^|, )git(,|$)' || fail "Depends lacks git"
  dpkg-deb --field "$deb" Depends | grep -q libgit2 || fail "Depends lacks libgit2 (shlibdeps)"
}

# Errors fail the test; warnings are printed and allowed.
check_lintian() {
  local out
  out=$(lintian --tag-display-limit 0 "$1" 2>&1) || true
  echo "$out"
  ! grep -q '^E:' <<<"$out" || fail "lintian errors"
}

# The private database: empty but for the host's records of the packages the
# Depends line names (each with an empty file list), so that dpkg checks the
# Depends line itself, against the versions installed here, where the
# installed binaries run.
make_root() {
  local deb=$1 admin=$root/var/lib/dpkg name
  mkdir -p "$admin/info" "$admin/updates" "$root/var/log"
  : >"$admin/status"
  for name in $(dpkg-deb --field "$deb" Depends | sed 's/([^)]*)//g; s/,/ /g'); do
    dpkg-query --status "$name" >>"$admin/status" || fail "$name (Depends) is not installed here"
    echo >>"$admin/status"
    : >"$admin/info/$(dpkg-query --show --showformat='${binary:Package}' "$name").list"
  done
}

install_first() {
  in_root --install "$1"
  [ -x "$root/usr/bin/calloutd" ] || fail "calloutd not installed in $root"
  [ -L "$root/$wants" ] || fail "postinst did not enable $unit below the root"
  "$root/usr/bin/calloutd" --check-config --config.file="$conf" || fail "--check-config on $conf"
  "$root/usr/bin/calloutd" --version | grep -qF "calloutd " || fail "calloutd --version"
}

# The admin's edit: another port, still a valid config.
edit_conffile() {
  sed -i 's/^  listen_address: 127.0.0.1:9095$/  listen_address: 127.0.0.1:9195/' "$conf"
  grep -qF 'listen_address: 127.0.0.1:9195' "$conf" || fail "could not edit $conf"
  "$root/usr/bin/calloutd" --check-config --config.file="$conf" || fail "--check-config after the edit"
}

# A newer package whose shipped calloutd.yml changed too: dpkg must ask, and
# --force-confold answers "keep mine", leaving the new one as .dpkg-dist.
repack_with_new_config() {
  local from=$1 version=$2 dir=$work/repack
  dpkg-deb --raw-extract "$from" "$dir"
  echo "# a comment the newer package adds" >>"$dir/etc/calloutd/calloutd.yml"
  sed -i "s/^Version: .*/Version: $version/" "$dir/DEBIAN/control"
  (cd "$dir" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
  dpkg-deb -Zgzip --root-owner-group --build "$dir" "$work/repacked.deb" >/dev/null
  deb=$work/repacked.deb
}

check_upgrade() {
  local deb=$1 version=$2
  in_root --force-confold --install "$deb"
  [ "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Version} ${Status}' calloutd)" = \
    "$version install ok installed" ] || fail "calloutd $version not installed"
  grep -qF 'listen_address: 127.0.0.1:9195' "$conf" || fail "the edit was lost upgrading to $version"
  "$root/usr/bin/calloutd" --check-config --config.file="$conf" || fail "--check-config after $version"
}

check_remove_and_purge() {
  in_root --remove calloutd
  [ ! -e "$root/usr/bin/calloutd" ] || fail "remove left /usr/bin/calloutd"
  [ ! -e "$root/lib/systemd/system/$unit" ] || fail "remove left the unit"
  [ -f "$conf" ] || fail "remove must keep the conffile until purge"
  in_root --purge calloutd
  [ ! -e "$root/etc/calloutd" ] || fail "purge left $(ls -A "$root/etc/calloutd")"
  [ ! -e "$root/$wants" ] || fail "purge left the enable link"
  [ ! -e "$root/etc/systemd/system/$unit" ] || fail "purge left the mask"
  local left
  left=$(find "$root" -name '*calloutd*' ! -path "$root/var/log/*")
  [ -z "$left" ] || fail "purge left: $left"
}

main() {
  local before version newer
  before=$(host_state)
  version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
  [ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"
  newer=$version+1

  step "build $version and $newer"
  build_package "$version" "$work/v1"
  local first=$deb
  build_package "$newer" "$work/v2"
  local second=$deb
  dpkg --compare-versions "$newer" gt "$version" || fail "$newer is not newer than $version"

  step "contents of $(basename "$first")"
  dpkg-deb --contents "$first"
  check_contents "$first"
  step "lintian"
  check_lintian "$first"

  step "install into $root"
  make_root "$first"
  install_first "$first"
  edit_conffile
  step "upgrade to $newer (same shipped config)"
  check_upgrade "$second" "$newer"
  [ ! -e "$conf.dpkg-dist" ] || fail "an unchanged shipped config needs no .dpkg-dist"
  step "upgrade to $newer+1 (changed shipped config, --force-confold)"
  repack_with_new_config "$second" "$newer+1"
  check_upgrade "$deb" "$newer+1"
  grep -qF '# a comment the newer package adds' "$conf.dpkg-dist" ||
    fail "the newer shipped config is not in $conf.dpkg-dist"
  step "remove and purge"
  check_remove_and_purge

  [ "$(host_state)" = "$before" ] || fail "the host changed: $(diff <(echo "$before") <(host_state))"
  echo "PASS"
}

main
