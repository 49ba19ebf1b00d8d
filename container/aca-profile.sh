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
