import { CORE_EMOTIONS } from '../processors/classify/labels.js';
import type { ModelLabels } from '../processors/classify/model-labels.js';
import type { EvaluationReport } from './metrics.js';
import type { EncoderMetrics, ModelMetrics } from './model-metrics.js';
import type { Recipe } from './recipes.js';

const DATA: Record<Recipe['dataset'], { source: string; license: string }> = {
  goemotions: {
    source:
      'GoEmotions (Demszky et al., ACL 2020), the rater-agreement split: 43,410 / 5,426 / 5,427 English Reddit comments, 27 emotions + neutral, multi-label',
    license: 'CC BY 4.0 (Google LLC). The model is a derived work; keep the attribution.',
  },
  'red-v1': {
    source:
      'RED v1, the Romanian Emotions Dataset (Ciobotaru & Dinu, RANLP 2021): 3,237 / 405 / 405 Romanian tweets, 5 classes, single-label',
    license: 'MIT (see the dataset LICENSE).',
  },
};

function table(report: EvaluationReport): string {
  const rows = Object.entries(report.perClass).map(
    ([name, m]) =>
      `| ${name} | ${m.precision.toFixed(3)} | ${m.recall.toFixed(3)} | ${m.f1.toFixed(3)} | ${m.support} |`,
  );
  return ['| class | precision | recall | F1 | support |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** MODEL_CARD.md: data, license, intended use, limits and the measured per-class scores. */
export function writeModelCard(recipe: Recipe, labels: ModelLabels, metrics: ModelMetrics): string {
  const data = DATA[recipe.dataset];
  const absent = CORE_EMOTIONS.filter((_, i) => labels.core.columns[i] === null);
  const { test, dev } = metrics;
  const lines = [
    `# ${recipe.name} ${labels.modelVersion}`,
    '',
    recipe.description + '.',
    '',
    '## Model',
    '',
    '- Input: text. Features: word uni- and bigrams' +
      (recipe.language === 'en' ? ' (Porter-stemmed, negation-marked)' : '') +
      ' and character 2–5-grams within words, hashed into buckets, sublinear TF-IDF, each block L2-normalised (featurizer.json).',
    `- One linear layer (${labels.columns.length} outputs), the average in logit space of L2 logistic regression and NB-LR (naive-Bayes-scaled logistic regression, Wang & Manning 2012), weights stored as float16 in model.onnx.`,
    `- Core scores: ${labels.core.activation === 'sigmoid' ? 'independent sigmoids (several emotions can be present)' : 'a softmax over the classes the model knows'}.`,
    "- Reported scores are calibrated: sigmoid(logit(p) − logit(threshold)), so each class's threshold (tuned on the development split, labels.json) sits at 0.5; the top label is the highest of them.",
    `- Size: ${(metrics.sizeBytes / 1e6).toFixed(1)} MB. Runs on CPU with onnxruntime (no GPU needed).`,
    '',
    '## Data and license',
    '',
    `- ${data.source}.`,
    `- ${data.license}`,
    '- Hyper-parameters and thresholds were chosen on the development split (GoEmotions dev, RED val); the test split was scored once, for this card.',
    ...(absent.length > 0
      ? [
          `- The dataset has no ${absent.join(' or ')} examples: this model always scores ${absent.join(' and ')} 0 and never predicts them.`,
        ]
      : []),
    '',
    '## Results',
    '',
    `Test (${test.core?.n} texts): core macro-F1 **${test.core?.macroF1.toFixed(3)}**, ${test.core?.mode === 'single-label' ? 'accuracy' : 'top-1 accuracy'} **${test.core?.accuracy.toFixed(3)}**` +
      (test.fine ? `; fine-grained (28 labels) macro-F1 **${test.fine.macroF1.toFixed(3)}**.` : '.') +
      ` Development: core macro-F1 ${dev.core?.macroF1.toFixed(3)}` +
      (dev.fine ? `, fine ${dev.fine.macroF1.toFixed(3)}.` : '.'),
    '',
    '### Core classes (test)',
    '',
    table(test.core!),
    ...(test.fine ? ['', '### Fine-grained labels (test)', '', table(test.fine)] : []),
    '',
    '## Intended use',
    '',
    `- Emotion monitoring of ${recipe.language === 'en' ? 'English' : 'Romanian'} short texts: social-media posts, comments, chat messages and speech transcripts, one score per core class, as an aggregate signal over many texts (a stream, a call, a campaign).`,
    "- Not for decisions about an individual person (hiring, credit, health, policing): single predictions are wrong often enough (see the per-class scores) and the labels are annotators' readings, not what the writer felt.",
    '',
    '## Limits',
    '',
    `- Trained on ${recipe.dataset === 'goemotions' ? 'Reddit comments (2005–2019, mostly US English)' : 'Romanian tweets'}; other registers (speech transcripts, formal text) score lower, and sarcasm, irony and context beyond the text are not understood.`,
    '- A bag of n-grams: word order beyond bigrams is ignored, so "not happy" is handled but long-range negation and contrast are not.',
    '- Texts in other languages are scored by this model only as a fallback (results are flagged `languageFallback`) and are unreliable.',
    '- Rare classes (disgust, fear and several fine-grained labels) have few training examples and the lowest F1.',
    '- Dataset biases (topics, demographics of Reddit/Twitter users, annotator pools) carry over into the model.',
    '',
    '## Reproduce',
    '',
    '```sh',
    metrics.command,
    `emotion-stream eval --model <dir> --data ../shared/datasets/${recipe.dataset === 'goemotions' ? 'goemotions' : 'red-ro/v1'} --format ${recipe.dataset} --task core --split test --json`,
    '```',
    '',
    `Training is deterministic for a given --seed (this model: ${metrics.seed}).`,
    '',
  ];
  return lines.join('\n');
}

interface OutOfDomainSummary {
  sets: Record<
    string,
    {
      n: number;
      description: string;
      core: EvaluationReport;
      neutralShare: { predicted: number; gold: number };
      sentiment: EvaluationReport;
    }
  >;
  sentiment: { inDomain: EvaluationReport; polarityCut: number };
}

/** The out-of-domain table every model card carries (training/out-of-domain.ts). */
export function outOfDomainTable(report: OutOfDomainSummary): string {
  const rows = Object.entries(report.sets).map(
    ([name, s]) =>
      `| ${name} | ${s.n} | ${s.core.accuracy.toFixed(3)} | ${s.core.macroF1.toFixed(3)} | ${s.neutralShare.predicted.toFixed(2)} / ${s.neutralShare.gold.toFixed(2)} | ${s.sentiment.macroF1.toFixed(3)} |`,
  );
  return [
    '| set | texts | accuracy | macro-F1 | neutral predicted / gold | sentiment macro-F1 |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** MODEL_CARD.md of the encoder tier. */
export function writeEncoderModelCard(
  labels: ModelLabels,
  metrics: Pick<
    EncoderMetrics,
    'command' | 'seed' | 'base' | 'training' | 'dev' | 'test' | 'sizeBytes' | 'outOfDomain'
  >,
): string {
  const { test, dev, training } = metrics;
  const ood = metrics.outOfDomain as OutOfDomainSummary | undefined;
  const maxTokens = labels.inputs?.kind === 'tokens' ? labels.inputs.maxTokens : 0;
  return [
    `# emotion-stream-en-encoder ${labels.modelVersion}`,
    '',
    'English, GoEmotions: 7 core classes (Ekman + neutral) and the 28 GoEmotions labels, multi-label. The quality tier (CLASSIFY_TIER=quality, the default).',
    '',
    '## Model',
    '',
    `- Base: ${metrics.base}, a 6-layer, 384-wide MiniLM sentence encoder (Apache-2.0), fine-tuned end to end.`,
    `- Input: WordPiece tokens (tokenizer.json, uncased), cut at ${maxTokens} tokens when serving (${training.trainTokens} in training).`,
    '- Head: mean pooling over tokens → dropout 0.1 → one linear layer over 7 core + 28 fine logits → sigmoid. Both heads train together (binary cross-entropy), so the fine labels teach the shared encoder too.',
    `- Training: ${training.epochs} epochs, batch ${training.batch}, AdamW lr ${training.learningRate} with 6% warm-up and linear decay, weight decay 0.01, seed ${metrics.seed}; ${Math.round(training.seconds / 60)} minutes on 2 CPU cores.`,
    `- Serving: ONNX, dynamic int8 quantization of the MatMuls and the embedding table with one scale per output channel (float32's dev macro-F1 at a quarter of the size), ${(metrics.sizeBytes / 1e6).toFixed(1)} MB; onnxruntime-node, CPU, one text per run so a text's scores never depend on the rest of its batch. The MatMul weights are stored as uint8 (the int8 value + 128, zero point 128): onnxruntime's signed kernel on x86 CPUs with AVX2 but no AVX-512 VNNI saturates pairs of products, which cost 0.007 test macro-F1 there; the unsigned kernel computes exact products on every CPU.`,
    ...(labels.blend ? [blendLine(labels.blend)] : []),
    "- Reported scores are calibrated: sigmoid(logit(p) − logit(threshold)), so each class's threshold (tuned on the development split with the quantized model, labels.json) sits at 0.5; the top label is the highest of them.",
    '',
    '## Data and license',
    '',
    `- ${DATA.goemotions.source}.`,
    `- ${DATA.goemotions.license} The base encoder is Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2).`,
    ...(training.extra
      ? [
          `- The core head also learned from ${training.extra.examples} English film-subtitle lines of XED (Öhman et al., COLING 2020; CC BY 4.0): each line's Plutchik labels mapped to the core classes (anticipation and trust have none; such lines were left out), XED's neutral lines added in GoEmotions' neutral share, and none of the lines the out-of-domain report scores (training/xed-training.ts). It trades a little of the GoEmotions score for the out-of-domain sets (see the two tables below): speech-like dialogue is what users send.`,
        ]
      : []),
    '- Thresholds were chosen on the development split; the test split and the out-of-domain sets were scored once, for this card. Nothing was tuned on them.',
    '',
    '## Results',
    '',
    `Test (${test.core?.n} texts): core macro-F1 **${test.core?.macroF1.toFixed(3)}**, top-1 accuracy **${test.core?.accuracy.toFixed(3)}**; fine-grained (28 labels) macro-F1 **${test.fine?.macroF1.toFixed(3)}**. Development: core ${dev.core?.macroF1.toFixed(3)}, fine ${dev.fine?.macroF1.toFixed(3)}.`,
    '',
    '### Core classes (test)',
    '',
    table(test.core!),
    '',
    '### Fine-grained labels (test)',
    '',
    table(test.fine!),
    ...(ood
      ? [
          '',
          '### Out of domain (eval/out-of-domain/README.md)',
          '',
          outOfDomainTable(ood),
          '',
          `Sentiment on GoEmotions test (its own positive/negative/ambiguous grouping, ambiguous left out; |polarity| ≥ ${ood.sentiment.polarityCut} counts as polar): accuracy ${ood.sentiment.inDomain.accuracy.toFixed(3)}, macro-F1 ${ood.sentiment.inDomain.macroF1.toFixed(3)}.`,
        ]
      : []),
    '',
    '## Intended use',
    '',
    '- Emotion monitoring of English short texts: social-media posts, comments, chat and customer messages and speech transcripts, as an aggregate signal over many texts (a stream, a call, a campaign).',
    "- Not for decisions about an individual person (hiring, credit, health, policing): single predictions are wrong often enough (see the per-class scores) and the labels are annotators' readings, not what the writer felt.",
    '',
    '## Limits',
    '',
    '- Fine-tuned on Reddit comments (2005–2019, mostly US English). It holds up better than the bag-of-words tier on dialogue and messages (table above) but still misses sarcasm, irony and context beyond the text.',
    `- Texts longer than ${maxTokens} tokens are scored on their start only (results are flagged \`truncated\`).`,
    '- English only: texts in other languages are scored by it only as a fallback (flagged `languageFallback`).',
    '- Rare classes (disgust, fear, grief, pride, relief, nervousness) have few training examples and the lowest F1.',
    '- Dataset and base-model biases (topics, demographics, annotator pools, the web text MiniLM was pre-trained on) carry over into the model.',
    '',
    '## Reproduce',
    '',
    '```sh',
    metrics.command,
    'emotion-stream eval --model <dir> --data ../shared/datasets/goemotions --format goemotions --task core --split test --json',
    'emotion-stream eval-ood --model <dir>',
    '```',
    '',
    'The Python toolchain (training/encoder/requirements.txt, pinned and hash-checked) installs itself into .cache/train-encoder on first use. Training is seeded; PyTorch on CPU is deterministic for a seed and thread count, so a rerun on other hardware lands within a few thousandths of these figures (`npm run test:reproduce` checks ±0.01).',
    '',
  ].join('\n');
}

/** The card's line on the blend with the bag-of-words model: which head is blended, at what share. */
function blendLine(blend: NonNullable<ModelLabels['blend']>): string {
  const partner = `the bag-of-words model's (\`${blend.model}\`, ${blend.version}, loaded beside it)`;
  const why = 'the bag-of-words model still knows rare fine labels better; it adds about 30 µs a text';
  return blend.coreWeight === 1
    ? `- Blend: the core classes are the encoder's alone; for the fine labels its probabilities are averaged with ${partner}, the encoder's share ${blend.fineWeight}, chosen on the development split (${why}). The core classes are not blended because the bag-of-words recipe was itself chosen on that split: a core share picked there overrated it, and out of domain it undid what the encoder learned from dialogue (training/README.md).`
    : `- Blend: its probabilities are averaged with ${partner}: the encoder's share is ${blend.coreWeight} for the core classes and ${blend.fineWeight} for the fine labels, each chosen on the development split (${why}).`;
}
