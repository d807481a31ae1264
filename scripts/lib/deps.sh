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

# need_python MODULE=PACKAGE... : make sure python3 can import each MODULE,
# installing its PyPI PACKAGE with pip when it cannot (Debian's python3-MODULE
# as a last resort). The parity tests compare check-profile and
# check-risk-env with the bot's own libraries (PyYAML, python-dotenv); a
# machine without them would skip those tests, so scripts/test requires them.
need_python() {
  local spec module pkg
  for spec in "$@"; do
    module=${spec%%=*}
    pkg=${spec#*=}
    python3 -c "import $module" 2>/dev/null && continue
    echo "installing: $pkg (python)" >&2
    python3 -m pip install --quiet "$pkg" 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages "$pkg" 2>/dev/null \
      || { local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
           DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "python3-$module" >/dev/null 2>&1; } \
      || true
    python3 -c "import $module" 2>/dev/null || {
      echo "missing python module: $module (install it: python3 -m pip install $pkg)" >&2
      return 1
    }
  done
}
