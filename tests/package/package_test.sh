#!/usr/bin/env bash
# The Debian package, built as a user builds it and checked without
# installing it:
#
#   package_test.sh SOURCE_DIR
#
# copies SOURCE_DIR (less .git, build*/ and debian/) to a temporary
# directory, runs `cp -r packaging/debian debian && dpkg-buildpackage -b
# -us -uc` there, then extracts the .deb into a scratch root and checks
# its files, conffiles and maintainer scripts, runs the binaries, creates
# the workerd group in the scratch root with systemd-sysusers, validates
# the shipped workers.toml (and its examples, uncommented), verifies the
# units with systemd-analyze, and runs lintian. Nothing is installed on
# this machine and no maintainer script is run.
#
# Needs, besides the build dependencies: dpkg-dev, debhelper, lintian,
# systemd (systemd-analyze, systemd-sysusers), man-db, util-linux
# (unshare). The workers.toml checks run in a private mount namespace
# (unshare -m as root, else unshare -rm), where the scratch root's
# /etc/group is bound over /etc/group.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/packaging/debian/control" ]; then
  echo "usage: package_test.sh SOURCE_DIR (the workerd source tree)" >&2
  exit 2
fi
source_dir=$(cd "$1" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/workerd-package-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

checks=0
started=$SECONDS

step() { printf '\npackage: == %s\n' "$*"; }
ok() {
  checks=$((checks + 1))
  printf 'package: ok: %s\n' "$*"
}
fail() {
  printf 'package: FAILED: %s\n' "$*" >&2
  exit 1
}

# --- Build ------------------------------------------------------------------

step "copying $source_dir"
src="$work/workerd"
mkdir "$src"
tar -C "$source_dir" --anchored --exclude=./.git --exclude='./build*' \
  --exclude=./debian -cf - . | tar -C "$src" -xf -
cp -r "$src/packaging/debian" "$src/debian"
ok "source copied to $src, packaging/debian copied to debian/"

version=$(cd "$src" && dpkg-parsechangelog -SVersion)
project_version=$(sed -n 's/^project(workerd VERSION \([0-9.]*\).*/\1/p' \
  "$src/CMakeLists.txt")
[ "${version%-*}" = "$project_version" ] ||
  fail "debian/changelog's version $version does not match project(VERSION $project_version) in CMakeLists.txt"
ok "debian/changelog's version $version matches project(VERSION $project_version)"

step "dpkg-buildpackage -b -us -uc"
# No tests (WORKERD_BUILD_TESTS=OFF anyway), but Debian's usual flags:
# "noopt" would also drop -D_FORTIFY_SOURCE=2, whose warnings (a write()
# whose result is ignored) fail this -Werror build as users build it.
build_started=$SECONDS
if ! (cd "$src" &&
  DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log" >&2
  fail "dpkg-buildpackage failed (the last 60 lines of its output are above)"
fi
ok "dpkg-buildpackage succeeded in $((SECONDS - build_started))s"

arch=$(dpkg --print-architecture)
deb="$work/workerd_${version}_${arch}.deb"
changes="$work/workerd_${version}_${arch}.changes"
[ -f "$deb" ] || fail "no $(basename "$deb"); built: $(cd "$work" && echo *.deb)"
ok "built $(basename "$deb")"

# --- Contents ---------------------------------------------------------------

step "contents of the package"
root="$work/root"
control="$work/control"
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$control"

for path in \
  usr/sbin/workerd \
  usr/bin/workerctl \
  lib/systemd/system/workerd.service \
  usr/lib/sysusers.d/workerd.conf \
  etc/workerd/workers.toml \
  usr/share/man/man8/workerd.8.gz \
  usr/share/man/man1/workerctl.1.gz \
  usr/share/man/man5/workers.toml.5.gz \
  usr/share/doc/workerd/examples/workerd.socket \
  usr/share/doc/workerd/examples/workers.toml \
  usr/share/doc/workerd/copyright; do
  [ -f "$root/$path" ] || fail "the package has no /$path"
  ok "/$path"
done
for path in usr/sbin/workerd usr/bin/workerctl; do
  [ -x "$root/$path" ] || fail "/$path is not executable"
done
for page in man8/workerd.8 man1/workerctl.1 man5/workers.toml.5; do
  gzip -t "$root/usr/share/man/$page.gz" ||
    fail "/usr/share/man/$page.gz is not a valid gzip file"
done
ok "the binaries are executable and the man pages are gzip files"

unit="$root/lib/systemd/system/workerd.service"
for line in \
  'ExecStart=/usr/sbin/workerd -c /etc/workerd/workers.toml' \
  'ExecReload=/usr/bin/workerctl --socket /run/workerd/control.sock reload'; do
  grep -qxF "$line" "$unit" || fail "workerd.service has no line \"$line\""
  ok "workerd.service: $line"
done
cmp -s "$root/etc/workerd/workers.toml" "$src/packaging/workers.toml" ||
  fail "/etc/workerd/workers.toml differs from packaging/workers.toml"
ok "/etc/workerd/workers.toml is packaging/workers.toml"
grep -qxF 'g workerd -' "$root/usr/lib/sysusers.d/workerd.conf" ||
  fail "the sysusers file does not declare the group: no line \"g workerd -\""
ok "the sysusers file declares the group workerd"

[ -f "$control/conffiles" ] || fail "the package has no conffiles"
grep -qxF /etc/workerd/workers.toml "$control/conffiles" ||
  fail "/etc/workerd/workers.toml is not a conffile; conffiles: $(tr '\n' ' ' <"$control/conffiles")"
ok "conffiles lists /etc/workerd/workers.toml"

# --- Maintainer scripts -----------------------------------------------------

step "maintainer scripts (read, not run)"
postinst="$control/postinst"
[ -f "$postinst" ] || fail "the package has no postinst"
grep -qE '^ *systemd-sysusers .*workerd\.conf' "$postinst" ||
  fail "the postinst does not run systemd-sysusers on workerd.conf"
ok "postinst runs systemd-sysusers workerd.conf"
grep -qF "deb-systemd-helper enable 'workerd.service'" "$postinst" ||
  fail "the postinst does not enable workerd.service (deb-systemd-helper enable)"
ok "postinst enables workerd.service"
grep -qF "deb-systemd-invoke \$_dh_action 'workerd.service'" "$postinst" &&
  fail "the postinst restarts workerd.service on upgrade; it must not (dh_installsystemd --no-stop-on-upgrade)"
grep -qF "deb-systemd-invoke start 'workerd.service'" "$postinst" ||
  fail "the postinst does not start workerd.service on installation"
ok "postinst starts workerd.service on installation and never restarts it"
if [ -f "$control/prerm" ] &&
  grep -qF "deb-systemd-invoke stop 'workerd.service'" "$control/prerm"; then
  grep -B3 "deb-systemd-invoke stop 'workerd.service'" "$control/prerm" |
    grep -qF '"$1" = remove' ||
    fail "the prerm stops workerd.service on upgrade too"
fi
ok "prerm stops workerd.service only on removal"
grep -q '^Depends:.*systemd' "$control/control" ||
  fail "the package does not depend on systemd (for systemd-sysusers)"
ok "Depends: $(sed -n 's/^Depends: //p' "$control/control")"

# --- Running the binaries ---------------------------------------------------

step "the extracted binaries"
# check_version PATH: the binary runs and prints "NAME VERSION".
check_version() {
  local name out
  name=$(basename "$1")
  out=$("$root/$1" --version) || fail "$name --version failed: $out"
  [ "$out" = "$name $project_version" ] ||
    fail "$name --version printed \"$out\", expected \"$name $project_version\""
  ok "$name --version: $out"
}
check_version usr/sbin/workerd
check_version usr/bin/workerctl

step "the workerd group (systemd-sysusers --root)"
mkdir -p "$root/etc"
# As on this machine: its accounts, plus what the package declares.
cp /etc/passwd /etc/group "$root/etc/"
if grep -q '^workerd:' "$root/etc/group"; then
  sed -i '/^workerd:/d' "$root/etc/group"
fi
systemd-sysusers --root="$root" workerd.conf >"$work/sysusers.log" 2>&1 ||
  fail "systemd-sysusers --root failed: $(cat "$work/sysusers.log")"
grep -q '^workerd:x:[0-9][0-9]*:' "$root/etc/group" ||
  fail "systemd-sysusers did not add the group workerd to $root/etc/group"
ok "systemd-sysusers created $(grep '^workerd:' "$root/etc/group")"

step "workers.toml as shipped, and with its examples uncommented"
# workers.toml names the group workerd, which the check looks up: run it
# with the scratch root's /etc/group in place of this machine's. The
# examples run their workers in /srv/app: an empty tmpfs there.
examples="$work/examples.toml"
sed 's/^#\([^ #]\)/\1/' "$root/etc/workerd/workers.toml" >"$examples"
grep -q '^\[program\.' "$examples" ||
  fail "uncommenting workers.toml's examples gave no [program.NAME]"
if [ "$(id -u)" -eq 0 ]; then unshare=(unshare -m); else unshare=(unshare -rm); fi
"${unshare[@]}" sh -e -c '
  mount --bind "$1/etc/group" /etc/group
  mount -t tmpfs tmpfs /srv
  mkdir /srv/app
  echo "shipped:"
  "$1/usr/sbin/workerd" --check -c "$1/etc/workerd/workers.toml"
  echo "examples:"
  "$1/usr/sbin/workerd" --check -c "$2"
' sh "$root" "$examples" >"$work/check.log" 2>&1 ||
  fail "workerd --check: $(cat "$work/check.log")"
grep -qxF "$root/etc/workerd/workers.toml: valid (0 programs, 0 workers)" \
  "$work/check.log" ||
  fail "workerd --check of the shipped workers.toml: $(cat "$work/check.log")"
ok "workerd --check: the shipped workers.toml is valid"
grep -qE "^$examples: valid \([1-9][0-9]* programs?, " "$work/check.log" ||
  fail "workerd --check of the uncommented examples: $(cat "$work/check.log")"
ok "workerd --check: $(grep "^$examples" "$work/check.log" | sed "s|^$work/||")"

step "systemd-analyze verify, in the scratch root"
# verify checks that ExecStart= and ExecReload= exist under --root, and
# (man-db's man, which follows MANPATH) the Documentation= pages; loading a
# unit needs the targets it is ordered against, which the systemd package
# provides: copy this machine's units in, without replacing the package's.
cp -rn /lib/systemd/system/. "$root/lib/systemd/system/"
# The example socket unit, where its comment says to put it.
mkdir -p "$root/etc/systemd/system"
cp "$root/usr/share/doc/workerd/examples/workerd.socket" "$root/etc/systemd/system/"
if ! MANPATH="$root/usr/share/man" systemd-analyze verify --root="$root" \
  "$root/lib/systemd/system/workerd.service" \
  "$root/etc/systemd/system/workerd.socket" >"$work/verify.log" 2>&1 ||
  [ -s "$work/verify.log" ]; then
  fail "systemd-analyze verify: $(cat "$work/verify.log")"
fi
ok "systemd-analyze verify: workerd.service and the example workerd.socket, no warnings"

# --- lintian ----------------------------------------------------------------

step "lintian"
lintian_started=$SECONDS
if ! lintian --fail-on error,warning --display-info "$changes" \
  >"$work/lintian.log" 2>&1; then
  cat "$work/lintian.log" >&2
  fail "lintian found errors or warnings (above)"
fi
if [ -s "$work/lintian.log" ]; then sed 's/^/  /' "$work/lintian.log"; fi
ok "lintian: no error or warning beyond the overrides ($((SECONDS - lintian_started))s)"

printf '\npackage: %d checks passed in %ds\n' "$checks" "$((SECONDS - started))"
