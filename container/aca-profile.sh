# shellcheck shell=sh
# aca: installed as /etc/profile.d/aca.sh by aca's base images.
# Login shells (bash -l) reset PATH in /etc/profile; put the image toolchains
# (/opt/aca/bin) and per-user installs ($HOME/.local/bin) back in front.
case ":$PATH:" in
  *:/opt/aca/bin:*) ;;
  *) PATH="/opt/aca/bin:$PATH" ;;
esac
if [ -n "${HOME:-}" ]; then
  case ":$PATH:" in
    *":$HOME/.local/bin:"*) ;;
    *) PATH="$HOME/.local/bin:$PATH" ;;
  esac
fi
export PATH

# Interactive bash: the prompt names the session (the container's hostname is the session's name) and the
# directory. Not \u: a session's uid often has no passwd entry, which bash would show as "I have no name!".
# Other shells keep their own prompt (Alpine's ash already shows \h:\w).
if [ -n "${BASH_VERSION:-}" ] && [ -n "${PS1:-}" ]; then
  PS1='\h:\w\$ '
fi
