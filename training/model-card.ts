import { CORE_EMOTIONS } from '../processors/classify/labels.js';
import type { ModelLabels } from '../processors/classify/model-labels.js';
import type { EvaluationReport } from './metrics.js';
import type { Recipe } from './recipes.js';
import type { ModelMetrics } from './train.js';

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

const TOP_LABEL_TEXT: Record<ModelLabels['core']['topLabel'], string> = {
  score: 'the highest score',
  'threshold-ratio': 'the highest score relative to its class threshold',
  'emotion-first':
    'the emotion that passes its threshold by the widest margin, neutral only when none passes',
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
    `- Top label: ${TOP_LABEL_TEXT[labels.core.topLabel]}; per-class thresholds tuned on the development split (labels.json).`,
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
