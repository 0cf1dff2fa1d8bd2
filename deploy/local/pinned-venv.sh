# Sourced by the scripts that install a Python runtime (install-asr.sh, training/encoder/install.sh):
# a venv built from a pinned, hash-checked requirements file, and a stamp saying which one.
#   pinned_venv_current DIR REQUIREMENTS   true when DIR/venv came from exactly these requirements
#                                          and the caller's DIR/runtime.json is there
#   pinned_venv_install DIR REQUIREMENTS LABEL MESSAGE
#                                          (re)creates DIR/venv; the caller then writes
#                                          DIR/runtime.json and calls pinned_venv_stamp
#   pinned_venv_stamp DIR REQUIREMENTS

pinned_venv_current() {
  [ -f "$1/requirements.sha256" ] && [ -f "$1/runtime.json" ] &&
    [ "$(cat "$1/requirements.sha256")" = "$(sha256sum "$2" | cut -d' ' -f1)" ]
}

pinned_venv_install() {
  local dir="$1" requirements="$2" label="$3" message="$4"
  local python="${PYTHON:-python3}"
  if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "$label: $python with venv is missing; $message (Debian: apt-get install python3 python3-venv)" >&2
    return 1
  fi
  rm -rf "$dir/venv" "$dir/requirements.sha256" "$dir/runtime.json"
  mkdir -p "$dir"
  "$python" -m venv "$dir/venv"
  "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: -r "$requirements"
}

pinned_venv_stamp() {
  sha256sum "$2" | cut -d' ' -f1 > "$1/requirements.sha256"
}
