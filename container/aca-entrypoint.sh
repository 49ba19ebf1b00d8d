#!/bin/sh
# aca-entrypoint: entrypoint of aca's base images.
#
# Sessions may run as any uid:gid (the owner of the project directory, or 0:0
# with all capabilities dropped), usually with HOME=/home/aca on a writable
# tmpfs/volume and the project bind-mounted at /workspace. This script only
# makes sure $HOME is usable by the current uid and that per-user install
# locations are on PATH, then replaces itself with the command, so the
# command's exit status is the container's (127 if it does not exist).
#
# It never needs root, writes nothing outside $HOME (or a fallback under
# /tmp), and prints nothing unless it had to fall back.

uid=$(id -u)

# A HOME that is unset, "/" or relative is never what a session wants.
case "${HOME:-}" in
  /?*) ;;
  *) HOME=/home/aca ;;
esac

home_usable() {
  [ -d "$1" ] || mkdir -p "$1" 2>/dev/null || return 1
  # Probe by writing: test -w is unreliable for uid 0 without CAP_DAC_OVERRIDE.
  probe="$1/.aca-entrypoint-probe.$$"
  if (: >"$probe") 2>/dev/null; then
    rm -f "$probe"
    return 0
  fi
  return 1
}

if ! home_usable "$HOME"; then
  fallback="${TMPDIR:-/tmp}/aca-home-$uid"
  if home_usable "$fallback"; then
    chmod 700 "$fallback" 2>/dev/null || true
    echo "aca-entrypoint: warning: HOME=$HOME is not writable by uid $uid; using $fallback" >&2
    HOME=$fallback
  else
    echo "aca-entrypoint: warning: HOME=$HOME is not writable by uid $uid and no fallback could be created" >&2
  fi
fi
export HOME

# Programs installed under $HOME (npm -g, npx, pip --user) cannot run from a
# noexec mount (docker's --tmpfs default): say so once, it is otherwise an
# obscure "Permission denied".
if [ -r /proc/self/mountinfo ]; then
  while read -r _ _ _ _ mnt opts _; do
    if [ "$mnt" = "$HOME" ]; then
      case ",$opts," in
        *,noexec,*)
          echo "aca-entrypoint: warning: HOME=$HOME is mounted noexec; programs installed there (npm -g, npx, pip --user) will not run" >&2
          ;;
      esac
    fi
  done </proc/self/mountinfo
fi

# Seed an empty home (a fresh tmpfs) with the skeleton dotfiles; never
# overwrite anything already there.
if [ -d /etc/skel ] && [ -w "$HOME" ]; then
  for f in /etc/skel/.[!.]* /etc/skel/*; do
    [ -f "$f" ] || continue
    dest="$HOME/${f##*/}"
    [ -e "$dest" ] || cp "$f" "$dest" 2>/dev/null || true
  done
fi

# Per-user installs (npm -g, pip --user, ...) land in $HOME/.local; the image
# toolchains live in /opt/aca and are never written at run time.
case ":$PATH:" in
  *":$HOME/.local/bin:"*) ;;
  *) PATH="$HOME/.local/bin:$PATH" ;;
esac
export PATH

if [ "$#" -eq 0 ]; then
  set -- bash -l
fi
exec "$@"
