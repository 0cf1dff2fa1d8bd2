"""Stores a dynamically quantized model's int8 MatMul weights as uint8 (value + 128, zero point 128).

Why: onnxruntime multiplies uint8 activations by int8 weights (u8s8) with VPMADDUBSW on x86 CPUs that
have AVX2 but no AVX-512 VNNI, and that instruction saturates the int16 sum of each pair of
products (up to 2 x 255 x 127). Measured on such a CPU: the shipped encoder's GoEmotions test core
macro-F1 fell from 0.6243 (as calibrated, on a CPU whose products came out exact) to 0.6170, and disgust F1 from 0.464 to
0.440: the same model scored differently, and worse, by CPU. uint8 x uint8 (u8u8) runs through a
kernel that widens before it multiplies, so every CPU computes the exact integer products; the
conversion itself is exact (a symmetric int8 weight q becomes q + 128 with zero point 128). On the
AVX2 CPU the unsigned weights give the calibrated figures again: 0.6243.

    python unsigned_weights.py IN.onnx OUT.onnx
"""

import sys


def unsigned_weights(source: str, target: str) -> int:
    """Writes `source` to `target` with every int8 MatMulInteger weight and zero point as uint8;
    returns how many initializers it converted."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(source)
    initializers = {init.name: init for init in model.graph.initializer}
    converted = set()
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        # Inputs: A, B, a_zero_point, b_zero_point. B and its zero point are the weights' side.
        for name in (node.input[1], node.input[3] if len(node.input) > 3 else ""):
            if not name or name in converted or name not in initializers:
                continue
            values = numpy_helper.to_array(initializers[name])
            if values.dtype != np.int8:
                continue
            shifted = (values.astype(np.int16) + 128).astype(np.uint8)
            initializers[name].CopyFrom(numpy_helper.from_array(shifted, name))
            converted.add(name)
    onnx.save(model, target)
    return len(converted)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: unsigned_weights.py IN.onnx OUT.onnx")
    print(unsigned_weights(sys.argv[1], sys.argv[2]))
