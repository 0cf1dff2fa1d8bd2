"""Fine-tunes all-MiniLM-L6-v2 on GoEmotions (core 7 + fine 28) and exports it to ONNX int8.

Driven by `emotion-stream train --tier encoder` (training/encoder-trainer.ts), which creates the
venv from requirements.txt, then calibrates thresholds and writes metrics in TypeScript with the
same code that serves the model. This script only learns weights and exports them.

Why these choices (issue 18): frozen MiniLM features + logistic regression reached core
macro-F1 0.519, fine-tuning one epoch 0.627; the encoder has to be trained end to end. Both
heads share the encoder (multi-task): the fine labels are a denser signal for the core head.
"""

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path


def log(message: str) -> None:
    # stdout carries progress lines the TypeScript driver relays; keep them one JSON per line.
    print(json.dumps(message if isinstance(message, dict) else {"msg": message}), flush=True)


def load_goemotions(directory: Path, split: str, core_of: list[int]):
    rows = []
    for line in (directory / f"{split}.tsv").read_text(encoding="utf8").splitlines():
        if not line.strip():
            continue
        text, ids, *_ = line.split("\t")
        fine = [int(i) for i in ids.split(",")]
        rows.append((text, fine, sorted({core_of[i] for i in fine})))
    return rows


def load_core_rows(path: Path):
    """Extra rows with core labels only (XED dialogue, written by training/xed-training.ts)."""
    rows = []
    for line in path.read_text(encoding="utf8").splitlines():
        if not line.strip():
            continue
        text, ids = line.split("\t")
        rows.append((text, None, sorted({int(i) for i in ids.split(",")})))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", required=True)
    parser.add_argument("--base-model", required=True, help="directory with model.safetensors + tokenizer.json")
    parser.add_argument("--out", required=True)
    parser.add_argument("--core-of", required=True, help="JSON list: core index of each fine label")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N rows only (smoke tests)")
    parser.add_argument("--extra", help="TSV of extra rows with core labels only (text, core indices)")
    parser.add_argument("--extra-weight", type=float, default=1.0,
                        help="loss weight of each extra row against a GoEmotions row's 1")
    parser.add_argument("--extra-head", action="store_true",
                        help="extra rows train a head of their own; the served core head learns from GoEmotions only")
    args = parser.parse_args()

    import numpy as np
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)

    core_of = json.loads(args.core_of)
    datasets = Path(args.datasets)
    train = load_goemotions(datasets, "train", core_of)
    if args.limit:
        train = train[: args.limit]
    if args.extra:
        extra = load_core_rows(Path(args.extra))
        train += extra[: args.limit] if args.limit else extra
    n_core, n_fine = 7, len(core_of)

    tokenizer = AutoTokenizer.from_pretrained(args.base_model)
    encoder = AutoModel.from_pretrained(args.base_model)

    class EmotionEncoder(nn.Module):
        """Mean-pooled encoder → dropout → one linear layer over core + fine logits → sigmoid."""

        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.dropout = nn.Dropout(0.1)
            self.head = nn.Linear(encoder.config.hidden_size, n_core + n_fine + (n_core if args.extra_head else 0))

        def logits(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return self.head(self.dropout(pooled))

        def forward(self, input_ids, attention_mask):
            probabilities = torch.sigmoid(self.logits(input_ids, attention_mask))
            return probabilities[:, :n_core], probabilities[:, n_core : n_core + n_fine]

    model = EmotionEncoder()
    width = n_core + n_fine + (n_core if args.extra_head else 0)
    targets = torch.zeros(len(train), width)
    # Rows without fine labels (the extra core-only rows) teach the core head only, or with
    # --extra-head a core head of their own that is not exported: the shared encoder learns from
    # them while the served core head keeps GoEmotions' label boundaries.
    weights = torch.ones(len(train), width)
    if args.extra_head:
        weights[:, n_core + n_fine :] = 0.0
    for row, (_, fine, core) in enumerate(train):
        if fine is None and args.extra_head:
            weights[row, :] = 0.0
            weights[row, n_core + n_fine :] = args.extra_weight
            for c in core:
                targets[row, n_core + n_fine + c] = 1.0
            continue
        for c in core:
            targets[row, c] = 1.0
        if fine is None:
            weights[row, :n_core] = args.extra_weight
            weights[row, n_core:] = 0.0
            continue
        for f in fine:
            targets[row, n_core + f] = 1.0

    steps_per_epoch = math.ceil(len(train) / args.batch)
    total_steps = max(1, int(steps_per_epoch * args.epochs))
    warmup = max(1, int(total_steps * 0.06))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: step / warmup if step < warmup else max(0.0, (total_steps - step) / (total_steps - warmup)),
    )
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    generator = random.Random(args.seed)

    log({"event": "start", "examples": len(train), "steps": total_steps})
    model.train()
    step, started = 0, time.time()
    while step < total_steps:
        order = list(range(len(train)))
        generator.shuffle(order)
        for start in range(0, len(order), args.batch):
            if step >= total_steps:
                break
            batch = order[start : start + args.batch]
            encoded = tokenizer(
                [train[i][0] for i in batch],
                padding=True,
                truncation=True,
                max_length=args.max_tokens,
                return_tensors="pt",
            )
            logits = model.logits(encoded["input_ids"], encoded["attention_mask"])
            mask = weights[batch]
            loss = (loss_fn(logits, targets[batch]) * mask).sum() / mask.sum()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 50 == 0 or step == total_steps:
                log({"event": "progress", "step": step, "steps": total_steps, "loss": round(loss.item(), 4),
                     "elapsedS": round(time.time() - started)})

    model.eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "model.fp32.onnx"
    sample = tokenizer(["a sample text", "another one, a little longer"], padding=True, return_tensors="pt")
    with torch.no_grad():
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"]),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["core", "fine"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "core": {0: "batch"},
                "fine": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Dynamic int8 on the MatMuls and the embedding table, one scale per output channel: 4x smaller
    # than float32 and the fastest on CPU (one core: ~600 texts/s against 218 in float32 and 65 with
    # weight-only MatMulNBits), and per channel it keeps float32's dev macro-F1 (0.6432 both; one
    # scale per tensor lost 0.0045). Activation scales are computed per run, so serving runs one
    # text at a time (processors/classify/token-inputs.ts): a text's scores depend on it alone.
    signed = out / "model.int8.onnx"
    quantize_dynamic(str(fp32), str(signed), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Gather"], per_channel=True)
    # The same weights stored unsigned, so that every x86 CPU computes the same products (see
    # unsigned_weights.py: on AVX2 without VNNI the signed form lost 0.007 test macro-F1). Python
    # puts this script's directory first on sys.path, so its sibling imports by name.
    from unsigned_weights import unsigned_weights

    unsigned_weights(str(signed), str(out / "model.onnx"))
    signed.unlink()
    tokenizer.save_pretrained(str(out))
    for extra in ("vocab.txt", "special_tokens_map.json"):
        (out / extra).unlink(missing_ok=True)
    log({"event": "exported", "onnx": str(out / "model.onnx"), "fp32": str(fp32),
         "trainSeconds": round(time.time() - started)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
