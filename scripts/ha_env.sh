# The integration's two Home Assistant test environments (sourced by scripts/test after _env.sh).
#
#   ha_current   Home Assistant 2026.2.3 (the last release for Python 3.13) in .venv-ha, on the
#                machine's Python 3.13; the add-on side runs from .venv.
#   ha_next      Home Assistant 2026.10.4 on Python 3.14, which needs a newer glibc than this
#                Debian 12: a minimal Debian forky chroot made by debootstrap under .cache/,
#                with two venvs inside (Home Assistant's, and the add-on's for the end-to-end
#                tests); the chroot shares the host's network, so tests talk over 127.0.0.1.
#
# Both run the same tests and mypy. Everything is cached (keyed by the requirement files' hash)
# and rebuilt only when those change. Safety of the chroot: its mounts (/proc, a tmpfs /dev with
# a few device nodes, the checkout bound READ-ONLY at /src) live in a private mount namespace
# (unshare -m), so they vanish with the run even if it is killed, nothing outside ever sees them,
# and a stray rm -rf can delete neither the host's /dev nor the checkout; they are unmounted in a
# trap all the same, and every removal checks first that nothing below is mounted.
#
# Also runnable: bash scripts/ha_env.sh ha_next [pytest args]   (or ha_current, ha_chroot_remove)

if [ "${BASH_SOURCE[0]}" = "$0" ]; then source "$(dirname "$0")/_env.sh"; fi

HA_CACHE="${HUB_CACHE_DIR:-$ROOT/.cache}"
HA_SUITE=forky
HA_INCLUDE=python3.14-venv,ca-certificates
HA_ROOTFS="$HA_CACHE/ha-$HA_SUITE"
HA_LOG="$HA_CACHE/logs"

ha_hash() {  # ha_hash FILE...: a short content hash
  cat "$@" | sha256sum | cut -c1-16
}

ha_tests() {  # ha_tests PYTHON HUB_PYTHON PYTHON_VERSION [pytest args]: the integration's tests and mypy
  local python="$1" hub_python="$2" version="$3"
  shift 3
  echo "== integration tests ($("$python" -c 'import homeassistant.const as c; print("Home Assistant", c.__version__)'), Python $version)"
  HUB_PYTHON="$hub_python" "$python" -m pytest -q -c tests/integration/pytest.ini tests/integration "$@"
  echo "== integration mypy (Python $version)"
  "$python" -m mypy --config-file tests/integration/mypy.ini --python-version "$version" \
    --cache-dir "${HA_MYPY_CACHE:-.mypy_cache/ha-$version}"
}

ha_current() {  # Home Assistant 2026.2.3 on the machine's Python 3.13
  PIP_IGNORE_REQUIRES_PYTHON=1 ensure_venv .venv-ha requirements-ha.txt
  ha_tests .venv-ha/bin/python "$ROOT/.venv/bin/python" 3.13 "$@"
}

# --- the Python 3.14 chroot -------------------------------------------------------------------

ha_mounts_below() {  # mount points at or below DIR (deepest first), in this mount namespace
  awk -v dir="$1" '$5 == dir || index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

ha_chroot_remove() {  # delete the cached chroot, refusing while anything below it is mounted
  if [ -n "$(ha_mounts_below "$HA_ROOTFS")" ]; then
    echo "refusing to delete $HA_ROOTFS: mounted below it:" >&2
    ha_mounts_below "$HA_ROOTFS" >&2
    return 1
  fi
  rm -rf --one-file-system "$HA_ROOTFS" "$HA_ROOTFS.ok"
}

ha_debootstrap() {  # prints the debootstrap command: the host's, else Debian 12's package unpacked
  if command -v debootstrap >/dev/null 2>&1; then
    command -v debootstrap
    return 0
  fi
  local dir="$HA_CACHE/debootstrap"
  if [ ! -x "$dir/usr/sbin/debootstrap" ]; then
    rm -rf "$dir.deb" && mkdir -p "$dir.deb"
    (cd "$dir.deb" && { apt-get download debootstrap || { apt-get update && apt-get download debootstrap; }; }) \
      >"$HA_LOG/debootstrap-download.log" 2>&1
    dpkg-deb -x "$dir.deb"/debootstrap_*.deb "$dir"
    rm -rf "$dir.deb"
  fi
  echo "$dir/usr/sbin/debootstrap"
}

ha_mirror() {  # the Debian mirror configured for apt on this machine
  if [ -n "${HA_DEBIAN_MIRROR:-}" ]; then echo "$HA_DEBIAN_MIRROR"; return 0; fi
  local mirror
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
      /^URIs:/ { uri = $2 } /^Suites:/ { if ($0 !~ /security/ && uri ~ /debian/) { print uri; exit } }')
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 !~ /security/ && $2 ~ /debian/ { print $2; exit }' \
      /etc/apt/sources.list 2>/dev/null)
  echo "${mirror:-http://deb.debian.org/debian}"
}

ha_copy_host_config() {  # name resolution, pip configuration and CA bundle into the chroot
  local file
  for file in /etc/resolv.conf /etc/hosts /etc/pip.conf /etc/ssl/certs/ca-certificates.crt; do
    [ -e "$file" ] && mkdir -p "$HA_ROOTFS$(dirname "$file")" && cp -L "$file" "$HA_ROOTFS$file"
  done
  [ -d /etc/xdg/pip ] && mkdir -p "$HA_ROOTFS/etc/xdg" && cp -rL /etc/xdg/pip "$HA_ROOTFS/etc/xdg/"
  [ -d "${HOME:-/root}/.config/pip" ] && mkdir -p "$HA_ROOTFS/root/.config" && cp -rL "${HOME:-/root}/.config/pip" "$HA_ROOTFS/root/.config/"
  return 0
}

ha_rootfs() {  # the chroot (debootstrap'd once, then cached)
  local key
  key="$HA_SUITE $HA_INCLUDE"
  if [ "$(cat "$HA_ROOTFS.ok" 2>/dev/null)" != "$key" ]; then
    [ -e "$HA_ROOTFS" ] && ha_chroot_remove
    echo "== building the Debian $HA_SUITE chroot (debootstrap, logs in $HA_LOG)"
    local debootstrap
    debootstrap=$(ha_debootstrap)
    DEBOOTSTRAP_DIR="$(dirname "$debootstrap")/../share/debootstrap" \
      "$debootstrap" --variant=minbase --include="$HA_INCLUDE" "$HA_SUITE" "$HA_ROOTFS" "$(ha_mirror)" \
      "$(dirname "$debootstrap")/../share/debootstrap/scripts/sid" >"$HA_LOG/debootstrap.log" 2>&1 \
      || { tail -20 "$HA_LOG/debootstrap.log" >&2; return 1; }
    mkdir -p "$HA_ROOTFS/src"
    echo "$key" >"$HA_ROOTFS.ok"
  fi
  ha_copy_host_config
}

ha_in_chroot() {  # ha_in_chroot COMMAND...: run in the chroot (private mounts, checkout at /src)
  unshare --mount --propagation private -- bash "$ROOT/scripts/ha_env.sh" _ha_enter "$@"
}

_ha_enter() {  # (inside the private mount namespace) mount, chroot, run, unmount
  local root="$HA_ROOTFS" node
  trap '_ha_unmount' EXIT
  mount -t proc proc "$root/proc"
  mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
  for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<<"$node"
    mknod -m 666 "$root/dev/$name" c "$major" "$minor"
  done
  ln -s /proc/self/fd "$root/dev/fd"
  mkdir -m 1777 "$root/dev/shm"
  mount --bind "$ROOT" "$root/src"
  mount -o remount,bind,ro "$root/src"
  local passed=() var
  for var in $(compgen -e); do
    case "$var" in PIP_* | *_PROXY | *_proxy | SSL_CERT_FILE | REQUESTS_CA_BUNDLE | CI) passed+=("$var=${!var}") ;; esac
  done
  chroot "$root" /usr/bin/env -i "${passed[@]}" HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPYCACHEPREFIX=/var/cache/pycache /bin/sh -c 'cd /src && exec "$@"' sh "$@"
}

_ha_unmount() {
  local target
  for target in $(ha_mounts_below "$HA_ROOTFS"); do umount "$target" || umount -l "$target"; done
}

ha_chroot_venv() {  # ha_chroot_venv /opt/NAME REQUIREMENTS...: a Python 3.14 venv in the chroot
  local venv="$1" stamp install="" requirements
  shift
  stamp="$venv/.installed-$(ha_hash "$@" constraints/*.txt)"
  [ -f "$HA_ROOTFS$stamp" ] && return 0
  echo "== installing $* into the chroot's $venv (logs in $HA_LOG)"
  for requirements in "$@"; do  # one after the other: each file brings its own constraints
    install+="$venv/bin/python -m pip install -r $requirements && "
  done
  ha_in_chroot sh -c "[ -x $venv/bin/python ] || python3.14 -m venv $venv
    ${install}rm -f $venv/.installed-* && touch $stamp" \
    >"$HA_LOG/$(basename "$venv").log" 2>&1 || { tail -20 "$HA_LOG/$(basename "$venv").log" >&2; return 1; }
}

ha_next() {  # Home Assistant 2026.10.4 on Python 3.14 in the chroot
  mkdir -p "$HA_LOG"
  exec 8>"$HA_CACHE/ha-chroot.lock"
  flock 8
  ha_rootfs
  ha_chroot_venv /opt/venv-hub requirements.txt
  ha_chroot_venv /opt/venv-ha requirements-ha-2026.10.txt requirements-ha-2026.10-audio.txt
  ha_in_chroot bash -c "set -euo pipefail; HA_MYPY_CACHE=/var/cache/mypy; $(declare -f ha_tests); ha_tests \"\$@\"" \
    ha /opt/venv-ha/bin/python /opt/venv-hub/bin/python 3.14 "$@"
  exec 8>&-
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then "$@"; fi
