import onnxProto from 'onnx-proto';
import { fromFloat16Array, toFloat16Array } from '../processors/classify/float16.js';
import { CORE_EMOTIONS } from '../processors/classify/labels.js';
import type { LinearWeights } from '../processors/classify/linear-model.js';
import type { ModelLabels } from '../processors/classify/model-labels.js';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Graph inputs: padded feature indices and their values (TF-IDF, normalised; 0 on padding). */
export const ONNX_INPUTS = { indices: 'indices', values: 'values' } as const;
export const ONNX_OUTPUTS = { core: 'core', fine: 'fine' } as const;
const OPSET = 17;

type Tensor = onnxProto.onnx.ITensorProto;
type Node = onnxProto.onnx.INodeProto;

function bytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): Tensor {
  return { name, dims, dataType: DataType.FLOAT, rawData: bytes(Float32Array.from(values)) };
}

function int64Tensor(name: string, dims: number[], values: number[]): Tensor {
  return { name, dims, dataType: DataType.INT64, rawData: bytes(BigInt64Array.from(values, BigInt)) };
}

function node(
  opType: string,
  inputs: string[],
  output: string,
  attributes: Record<string, number> = {},
): Node {
  return {
    opType,
    input: inputs,
    output: [output],
    name: output,
    attribute: Object.entries(attributes).map(([name, value]) => ({
      name,
      type: AttributeType.INT,
      i: value,
    })),
  };
}

function valueInfo(name: string, elemType: number, dims: Array<string | number>) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/**
 * The exported graph: a gather-weighted sum over the padded feature indices (weights stored as
 * float16), the bias, and the heads of applyHeads (sigmoid or softmax). Few nodes on purpose: for
 * one text, each node costs about as much as the arithmetic.
 */
export function buildOnnxModel(
  weights: LinearWeights,
  labels: ModelLabels,
  metadata: Record<string, string> = {},
): Uint8Array {
  const columns = weights.bias.length;
  const dimension = weights.weights.length / columns;
  const nodes: Node[] = [];
  const initializers: Tensor[] = [
    {
      name: 'weights',
      dims: [dimension, columns],
      dataType: DataType.FLOAT16,
      rawData: bytes(toFloat16Array(weights.weights)),
    },
    floatTensor('bias', [columns], weights.bias),
    int64Tensor('axis_1', [1], [1]),
  ];
  const add = (...n: Node[]) => nodes.push(...n);

  // logits = Σ_l values_l · W[indices_l] + bias, as one batched [1×L]·[L×K] product per text.
  add(
    node('Gather', ['weights', ONNX_INPUTS.indices], 'w_g16', { axis: 0 }),
    node('Cast', ['w_g16'], 'w_g', { to: DataType.FLOAT }),
    node('Unsqueeze', [ONNX_INPUTS.values, 'axis_1'], 'x_row'),
    node('MatMul', ['x_row', 'w_g'], 'weighted'),
    node('Squeeze', ['weighted', 'axis_1'], 'summed'),
    node('Add', ['summed', 'bias'], 'logits'),
  );

  // Heads. The common case (English: sigmoid, core columns first, fine after) is one Sigmoid and a
  // Split; anything else gathers the core columns and places them on the 7 classes.
  const present = labels.core.columns
    .map((column, core) => ({ column, core }))
    .filter((c) => c.column !== null);
  const identity = present.length === CORE_EMOTIONS.length && present.every((c) => c.core === c.column);
  const fineContiguous =
    labels.fine?.columns.every((column, j) => column === CORE_EMOTIONS.length + j) &&
    columns === CORE_EMOTIONS.length + labels.fine.columns.length;
  const outputs = [valueInfo(ONNX_OUTPUTS.core, DataType.FLOAT, ['batch', CORE_EMOTIONS.length])];
  if (labels.fine)
    outputs.push(valueInfo(ONNX_OUTPUTS.fine, DataType.FLOAT, ['batch', labels.fine.columns.length]));

  if (
    labels.core.activation === 'sigmoid' &&
    identity &&
    (labels.fine === null ? columns === CORE_EMOTIONS.length : fineContiguous)
  ) {
    if (labels.fine) {
      initializers.push(int64Tensor('split_sizes', [2], [CORE_EMOTIONS.length, labels.fine.columns.length]));
      add(node('Sigmoid', ['logits'], 'probabilities'), {
        opType: 'Split',
        input: ['probabilities', 'split_sizes'],
        output: [ONNX_OUTPUTS.core, ONNX_OUTPUTS.fine],
        name: 'split',
        attribute: [{ name: 'axis', type: AttributeType.INT, i: 1 }],
      });
    } else {
      add(node('Sigmoid', ['logits'], ONNX_OUTPUTS.core));
    }
  } else {
    const scatter = new Float32Array(present.length * CORE_EMOTIONS.length);
    present.forEach(({ core }, row) => {
      scatter[row * CORE_EMOTIONS.length + core] = 1;
    });
    initializers.push(
      int64Tensor(
        'core_columns',
        [present.length],
        present.map((c) => c.column as number),
      ),
      floatTensor('core_scatter', [present.length, CORE_EMOTIONS.length], scatter),
    );
    add(
      node('Gather', ['logits', 'core_columns'], 'core_logits', { axis: 1 }),
      labels.core.activation === 'sigmoid'
        ? node('Sigmoid', ['core_logits'], 'core_p')
        : node('Softmax', ['core_logits'], 'core_p', { axis: -1 }),
      node('MatMul', ['core_p', 'core_scatter'], ONNX_OUTPUTS.core),
    );
    if (labels.fine) {
      initializers.push(int64Tensor('fine_columns', [labels.fine.columns.length], labels.fine.columns));
      add(
        node('Gather', ['logits', 'fine_columns'], 'fine_logits', { axis: 1 }),
        node('Sigmoid', ['fine_logits'], ONNX_OUTPUTS.fine),
      );
    }
  }

  const graph = {
    name: labels.name,
    node: nodes,
    initializer: initializers,
    input: [
      valueInfo(ONNX_INPUTS.indices, DataType.INT32, ['batch', 'features']),
      valueInfo(ONNX_INPUTS.values, DataType.FLOAT, ['batch', 'features']),
    ],
    output: outputs,
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'emotion-stream',
    producerVersion: '1',
    modelVersion: 1,
    docString: `${labels.name}: linear layer over hashed n-gram TF-IDF features, emotion heads`,
    metadataProps: Object.entries({ name: labels.name, language: labels.language, ...metadata }).map(
      ([key, value]) => ({
        key,
        value,
      }),
    ),
    graph,
  }).finish();
}

/** Reads the weights and bias back out of an exported model (weights widened from float16). */
export function readLinearWeights(model: Uint8Array): LinearWeights {
  const decoded = onnx.ModelProto.decode(model);
  const tensors = new Map((decoded.graph?.initializer ?? []).map((t) => [t.name, t]));
  const raw = (name: string) => {
    const tensor = tensors.get(name);
    if (!tensor?.rawData) throw new Error(`model has no initializer '${name}'`);
    return new Uint8Array(tensor.rawData).buffer;
  };
  return { weights: fromFloat16Array(new Uint16Array(raw('weights'))), bias: new Float32Array(raw('bias')) };
}
