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

# One marker scheme for every script: .installed-<requirements file>-<hash of all pinned lists>.
# requirements-dev.txt includes requirements.txt, so its marker also satisfies the runtime list:
# ./scripts/test then ./scripts/demo (or the other way round) installs nothing the second time.
ensure_venv() {  # ensure_venv DIR REQUIREMENTS
  local venv="$1" requirements="$2" hash name
  if [ ! -x "$venv/bin/python" ]; then
    "$(find_python)" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  fi
  hash="$({ cat requirements*.txt constraints/*.txt 2>/dev/null || true; } | sha256sum | cut -c1-16)"
  name="$(basename "$requirements" .txt)"
  [ -f "$venv/.installed-$name-$hash" ] && return 0
  [ "$name" = requirements ] && [ -f "$venv/.installed-requirements-dev-$hash" ] && return 0
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  find "$venv" -maxdepth 1 -name '.installed-*' ! -name "*-$hash" -delete
  touch "$venv/.installed-$name-$hash"
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
