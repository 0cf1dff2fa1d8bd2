"""Averages the weights of fine-tuned encoders into one model (a "model soup") and quantizes it.

Wortsman et al., "Model soups: averaging weights of multiple fine-tuned models improves accuracy
without increasing inference time" (ICML 2022): models fine-tuned from the same pretrained weights
with the same recipe lie in one basin, so their weight average scores like an ensemble of them at
the cost of one. Each ingredient is a float32 ONNX export of train_encoder.py (same graph, same
initializer names); every float initializer is averaged, then the soup is quantized exactly as a
single model is (dynamic int8, per channel), so serving cannot tell the difference.

    soup.py OUT_FP32 OUT_INT8 INGREDIENT_FP32 [INGREDIENT_FP32 ...]
"""

import json
import sys


def main() -> int:
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    out_fp32, out_int8, *ingredients = sys.argv[1:]
    import numpy as np
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    models = [onnx.load(path) for path in ingredients]
    base = models[0]
    others = [{init.name: init for init in model.graph.initializer} for model in models[1:]]
    averaged = 0
    for init in base.graph.initializer:
        first = numpy_helper.to_array(init)
        arrays = [first]
        for index, names in enumerate(others):
            if init.name not in names:
                raise SystemExit(f"{ingredients[index + 1]} has no initializer {init.name}: not the same graph")
            arrays.append(numpy_helper.to_array(names[init.name]))
        if any(a.shape != first.shape for a in arrays):
            raise SystemExit(f"initializer {init.name} differs in shape between ingredients")
        if first.dtype.kind == "f":
            init.CopyFrom(numpy_helper.from_array(np.mean(arrays, axis=0).astype(first.dtype), init.name))
            averaged += 1
        elif any(not np.array_equal(a, first) for a in arrays[1:]):
            raise SystemExit(f"integer initializer {init.name} differs between ingredients")
    onnx.save(base, out_fp32)
    # The same quantization as train_encoder.py's single models (see the reasons there).
    quantize_dynamic(out_fp32, out_int8, weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Gather"], per_channel=True)
    print(json.dumps({"event": "souped", "ingredients": len(ingredients), "averaged": averaged, "onnx": out_int8}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
