# Install missing command-line tools from Debian's packages, once, quietly.
# Sourced by scripts/test, scripts/demo and the benchmarks.

_apt_updated=""

# need_tools CMD... : make sure each command exists, installing its Debian
# package (same name unless mapped below) when it does not.
need_tools() {
  local missing=() cmd pkg
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 && continue
    case "$cmd" in
      promtool) pkg=prometheus ;;
      flock) pkg=util-linux ;;
      amtool) pkg=prometheus-alertmanager ;;
      script) pkg=bsdutils ;;
      *) pkg=$cmd ;;
    esac
    missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "missing tools: ${missing[*]} (install them: apt-get install ${missing[*]})" >&2
    return 1
  fi
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  if [ -z "$_apt_updated" ]; then
    $SUDO apt-get update -qq >/dev/null
    _apt_updated=1
  fi
  echo "installing: ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}
