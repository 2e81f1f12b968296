# Shared by scripts/demo and scripts/test: find Python 3.13 and prepare a virtualenv.
# Usage: source scripts/_env.sh <venv-dir> <requirements-file>
set -euo pipefail

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 "$HOME/.pyenv/versions/3.13.0/bin/python3.13" \
      /root/.pyenv/versions/3.13.0/bin/python3.13 "$(ls -d "$HOME"/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | tail -n 1)"; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && \
        "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "Python 3.13 not found: set PYTHON=/path/to/python3.13" >&2
  return 1
}

ensure_venv() {  # ensure_venv DIR REQUIREMENTS
  local venv="$1" requirements="$2" stamp
  if [ ! -x "$venv/bin/python" ]; then
    "$(find_python)" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  fi
  stamp="$venv/.installed-$(cat "$requirements" requirements*.txt constraints/*.txt 2>/dev/null | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    rm -f "$venv"/.installed-*
    touch "$stamp"
  fi
}

ensure_browser() {  # Debian's Chromium and playwright-core (package-lock.json) for the dashboard tests
  if ! command -v chromium >/dev/null 2>&1; then
    local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "Node.js 20+ and npm are needed for the dashboard's browser tests" >&2
    return 1
  fi
  local stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch "$stamp"
  fi
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
