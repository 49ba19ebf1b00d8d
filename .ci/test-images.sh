#!/usr/bin/env bash
# Build the local images aca's test-suite and CI need. No registry access is
# assumed: everything comes from the host (busybox-static) or Debian's mirror.
#
#   aca-test/busybox:latest   FROM scratch + static busybox, users root and
#                             user (1000:1000), /tmp 1777, CMD ["sh"]
#   aca-test/debian:bookworm  debootstrap --variant=minbase bookworm, host CA
#                             bundle installed, made to look like
#                             debian:bookworm-slim (apt sources, dpkg excludes)
#
# Usage: .ci/test-images.sh [--force] [--only busybox|debian]
#   --force   rebuild even if the images already exist (the debootstrap tarball
#             cache is kept; delete $ACA_CI_CACHE to refetch Debian)
#
# Environment:
#   ENGINE_CLI      docker (default) or podman; only build/import/image
#                   inspect/tag are used
#   ACA_CI_CACHE    cache dir for the debootstrap tarball (/var/cache/aca-ci)
#   DEBIAN_MIRROR   http://deb.debian.org/debian
#   HOST_CA_BUNDLE  /etc/ssl/certs/ca-certificates.crt
#   BUSYBOX_BIN     /bin/busybox (must be statically linked: busybox-static)
#   ACA_TEST_PREFIX image repository prefix (aca-test), e.g. to build a
#                   throw-away copy under another name
#
# Idempotent and quiet: prints one line per image to stderr ("built X",
# "cached X"); on failure prints the failing step's log and exits non-zero.
# An image is reused only if it carries the label aca-test.recipe with the
# value this script would give it, so changing the recipe below (or the host
# CA bundle) rebuilds automatically.
set -Eeuo pipefail
shopt -s inherit_errexit

ENGINE_CLI="${ENGINE_CLI:-docker}"
ACA_CI_CACHE="${ACA_CI_CACHE:-/var/cache/aca-ci}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SUITE=bookworm
HOST_CA_BUNDLE="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
BUSYBOX_BIN="${BUSYBOX_BIN:-/bin/busybox}"

ACA_TEST_PREFIX="${ACA_TEST_PREFIX:-aca-test}"
BUSYBOX_IMAGE="$ACA_TEST_PREFIX/busybox:latest"
DEBIAN_IMAGE="$ACA_TEST_PREFIX/debian:bookworm"
# Bump when the corresponding recipe changes.
BUSYBOX_RECIPE=busybox-1
DEBIAN_RECIPE=debian-1

PROG="${0##*/}"
FORCE=0
WORKDIR=""
REPORTED=0 # set once a failure has been explained, to keep the ERR trap quiet

die() {
  echo "$PROG: error: $*" >&2
  exit 1
}

usage() {
  sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "$0"
}

cleanup() {
  if [ -n "$WORKDIR" ] && [ -d "$WORKDIR" ]; then
    rm -rf "$WORKDIR"
  fi
}
trap cleanup EXIT
trap '[ "$REPORTED" -eq 1 ] || echo "$PROG: error: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

# run_logged NAME CMD...: run quietly; on failure show the tail of the output.
run_logged() {
  local name="$1"
  shift
  local log="$WORKDIR/$name.log"
  if ! "$@" >"$log" 2>&1; then
    REPORTED=1
    echo "$PROG: error: $name failed: $*" >&2
    echo "---- last 40 lines of $name output ----" >&2
    tail -n 40 "$log" >&2
    echo "----" >&2
    return 1
  fi
}

# image_recipe TAG: print the aca-test.recipe label of TAG ("" if missing).
# Install a Debian package when running as root with apt (as CI and a fresh machine do); otherwise leave it to the caller.
apt_install_as_root() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 0
  dpkg -s "$1" >/dev/null 2>&1 && return 0
  echo "installing $1" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1"; } >/dev/null 2>&1 ||
    die "could not install $1 (apt-get install $1)"
}

image_recipe() {
  "$ENGINE_CLI" image inspect --format '{{ index .Config.Labels "aca-test.recipe" }}' "$1" 2>/dev/null || true
}

# up_to_date TAG RECIPE: true if TAG exists with that recipe and no --force.
up_to_date() {
  [ "$FORCE" -eq 0 ] && [ "$(image_recipe "$1")" = "$2" ]
}

ONLY=""
while [ $# -gt 0 ]; do
  arg="$1"
  shift
  case "$arg" in
    -f | --force) FORCE=1 ;;
    --only)
      ONLY="${1:-}"
      shift || true
      case "$ONLY" in busybox | debian) ;; *) die "--only takes busybox or debian" ;; esac
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument: $arg (try --help)" ;;
  esac
done

command -v "$ENGINE_CLI" >/dev/null 2>&1 || die "container engine CLI '$ENGINE_CLI' not found (set ENGINE_CLI)"
"$ENGINE_CLI" version >/dev/null 2>&1 || die "'$ENGINE_CLI version' failed: is the engine running and reachable?"

WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/aca-test-images.XXXXXX")"

# --------------------------------------------------------------------------
# aca-test/busybox:latest
# --------------------------------------------------------------------------
build_busybox() {
  if up_to_date "$BUSYBOX_IMAGE" "$BUSYBOX_RECIPE"; then
    echo "cached $BUSYBOX_IMAGE" >&2
    return 0
  fi
  if [ "$BUSYBOX_BIN" = /bin/busybox ] && { [ ! -x /bin/busybox ] || { command -v ldd >/dev/null 2>&1 && ldd /bin/busybox >/dev/null 2>&1; }; }; then
    # `npm test` on a fresh machine builds this image: fetch the static busybox it needs.
    apt_install_as_root busybox-static
  fi
  [ -x "$BUSYBOX_BIN" ] || die "$BUSYBOX_BIN not found: install busybox-static (apt-get install busybox-static)"
  if command -v ldd >/dev/null 2>&1 && ldd "$BUSYBOX_BIN" >/dev/null 2>&1; then
    die "$BUSYBOX_BIN is dynamically linked; install busybox-static (not busybox) or set BUSYBOX_BIN"
  fi

  local ctx="$WORKDIR/busybox"
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc"
  cp "$BUSYBOX_BIN" "$ctx/rootfs/bin/busybox"
  chmod 0755 "$ctx/rootfs/bin/busybox"
  cat >"$ctx/rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$ctx/rootfs/etc/group" <<'EOF'
root:x:0:
user:x:1000:
nogroup:x:65534:
EOF
  chmod 0644 "$ctx/rootfs/etc/passwd" "$ctx/rootfs/etc/group"
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /tmp /root /home/user /usr/bin /usr/local/bin \\
 && chmod 1777 /tmp && chmod 0700 /root \\
 && chown 1000:1000 /home/user && chmod 0755 /home/user
ENV PATH=/usr/local/bin:/usr/bin:/bin
LABEL aca-test.recipe="$BUSYBOX_RECIPE"
CMD ["sh"]
EOF
  run_logged busybox-build "$ENGINE_CLI" build -t "$BUSYBOX_IMAGE" -f "$ctx/Dockerfile" "$ctx"
  echo "built $BUSYBOX_IMAGE" >&2
}

# --------------------------------------------------------------------------
# aca-test/debian:bookworm
# --------------------------------------------------------------------------

# Produce (or reuse) the pristine debootstrap tarball; sets DEBIAN_TARBALL.
DEBIAN_TARBALL=""
debian_tarball() {
  local arch
  arch="$(dpkg --print-architecture 2>/dev/null || uname -m)"
  DEBIAN_TARBALL="$ACA_CI_CACHE/debian-$DEBIAN_SUITE-minbase-$arch.tar"
  if [ -s "$DEBIAN_TARBALL" ]; then
    return 0
  fi
  command -v debootstrap >/dev/null 2>&1 || apt_install_as_root debootstrap
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found (apt-get install debootstrap)"
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root to build $DEBIAN_TARBALL"
  mkdir -p "$ACA_CI_CACHE" || die "cannot create cache dir $ACA_CI_CACHE (set ACA_CI_CACHE)"
  local root="$WORKDIR/debootstrap-root"
  run_logged debootstrap debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR"
  if [ ! -x "$root/usr/bin/apt-get" ] || [ ! -e "$root/bin/sh" ]; then
    die "debootstrap produced no usable root in $root"
  fi
  # Atomic publish so an interrupted run never leaves a truncated cache entry.
  run_logged debootstrap-tar tar --numeric-owner -C "$root" -cf "$DEBIAN_TARBALL.tmp.$$" .
  mv -f "$DEBIAN_TARBALL.tmp.$$" "$DEBIAN_TARBALL"
  rm -rf "$root"
}

build_debian() {
  [ -s "$HOST_CA_BUNDLE" ] || die "host CA bundle $HOST_CA_BUNDLE missing or empty (set HOST_CA_BUNDLE)"
  local ca_sum recipe
  ca_sum="$(sha256sum "$HOST_CA_BUNDLE" | cut -c1-12)"
  recipe="$DEBIAN_RECIPE-ca-$ca_sum"
  if up_to_date "$DEBIAN_IMAGE" "$recipe"; then
    echo "cached $DEBIAN_IMAGE" >&2
    return 0
  fi

  debian_tarball
  local root="$WORKDIR/debian-root"
  mkdir -p "$root"
  if ! run_logged debian-untar tar --numeric-owner -C "$root" -xf "$DEBIAN_TARBALL" ||
    [ ! -x "$root/usr/bin/apt-get" ]; then
    rm -f "$DEBIAN_TARBALL"
    die "cached $DEBIAN_TARBALL was unusable and has been removed; run again"
  fi

  # Host CA bundle so HTTPS (npm, curl) works inside under TLS inspection.
  # Note: installing the ca-certificates package later regenerates this file.
  mkdir -p "$root/etc/ssl/certs"
  cp "$HOST_CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
  chmod 0644 "$root/etc/ssl/certs/ca-certificates.crt"

  # Same apt sources layout as the official debian:bookworm(-slim) images.
  rm -f "$root/etc/apt/sources.list"
  mkdir -p "$root/etc/apt/sources.list.d"
  local security_mirror="${DEBIAN_MIRROR%/debian}/debian-security"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $DEBIAN_SUITE $DEBIAN_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $DEBIAN_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

  # "slim" behaviour, as in debian:bookworm-slim: no docs/man/locales, apt
  # caches cleaned, no translations downloaded.
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/lintian/"*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true

  # Host-specific files the engine provides at run time; caches and logs.
  rm -f "$root/etc/hostname" "$root/etc/resolv.conf" "$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  rm -rf "${root:?}/var/lib/apt/lists/"* "${root:?}/var/cache/apt/"*.bin \
    "${root:?}/var/cache/apt/archives/"*.deb "${root:?}/var/log/"*.log \
    "${root:?}/var/log/apt/"* "${root:?}/dev/"* "${root:?}/proc/"* \
    "${root:?}/sys/"* "${root:?}/run/"* "${root:?}/tmp/"* "${root:?}/var/tmp/"*
  chmod 1777 "$root/tmp" "$root/var/tmp"

  # shellcheck disable=SC2016 # expanded by the inner sh, from its arguments
  run_logged debian-import sh -c '
    tar --numeric-owner -C "$1" -c . | "$2" import \
      --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      --change "CMD [\"bash\"]" \
      --change "LABEL aca-test.recipe=$3" \
      - "$4"' import-debian "$root" "$ENGINE_CLI" "$recipe" "$DEBIAN_IMAGE"
  rm -rf "$root"
  echo "built $DEBIAN_IMAGE" >&2
}

[ "$ONLY" = debian ] || build_busybox
[ "$ONLY" = busybox ] || build_debian
