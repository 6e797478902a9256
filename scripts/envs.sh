#!/usr/bin/env bash
# Builds (or reuses) the two Python environments, keyed by a hash of their requirements,
# in a cache outside the clone, and links them as .venv (app, 3.11) and .venv-rasa (Rasa, 3.10).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CIVICLINE_CACHE:-$HOME/.cache/civicline}"
mkdir -p "$CACHE/venvs"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

find_python() {  # $1 = minor version, e.g. 3.10
  local v="$1" root candidate
  if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; else root="${PYENV_ROOT:-$HOME/.pyenv}"; fi
  for candidate in "$root"/versions/"$v".*/bin/python"$v" "$(command -v python"$v" || true)"; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

build() {  # $1 = name, $2 = python minor, $3 = requirements file, $4 = link name
  local name="$1" pyver="$2" req="$3" link="$4" py hash dir
  if ! py="$(find_python "$pyver")"; then
    echo "error: Python $pyver is needed for the $name environment but was not found." >&2
    echo "       Looked in \$(pyenv root)/versions/$pyver.*/ and on PATH." >&2
    echo "       Install it with: pyenv install $pyver" >&2
    exit 1
  fi
  hash="$(cat "$req" $( [ "$req" = requirements-dev.txt ] && echo requirements.txt ) | sha256sum | cut -c1-12)"
  dir="$CACHE/venvs/$name-py$pyver-$hash"
  if [ ! -f "$dir/.complete" ]; then
    say "building the $name environment (Python $pyver) in $dir — first time only, a few minutes"
    rm -rf "$dir"
    "$py" -m venv "$dir"
    "$dir/bin/pip" install --quiet --upgrade pip wheel
    "$dir/bin/pip" install --progress-bar on -r "$req"
    touch "$dir/.complete"
  fi
  ln -sfn "$dir" "$link"
}

build app 3.11 requirements-dev.txt .venv
build rasa 3.10 requirements-rasa.txt .venv-rasa
