// The dashboard: one stream's emotions live (uPlot timeline + transcript), text and CSV input,
// feedback on each result. Plain ES modules against the gateway's own API; no build step.
import uPlot from '/vendor/uplot/uPlot.esm.js';

const EMOTIONS = ['anger', 'disgust', 'fear', 'joy', 'neutral', 'sadness', 'surprise'];
const MAX_POINTS = 600;
const MAX_SEGMENTS = 300;
const $ = (id) => document.getElementById(id);
const colour = (emotion) =>
  getComputedStyle(document.documentElement).getPropertyValue(`--${emotion}`).trim();

const keyInput = $('api-key');
keyInput.value = localStorage.getItem('emotion-stream.api-key') ?? '';
keyInput.addEventListener('change', () =>
  localStorage.setItem('emotion-stream.api-key', keyInput.value.trim()),
);
const apiKey = () => keyInput.value.trim();

async function api(path, options = {}) {
  const headers = { ...(options.headers ?? {}) };
  if (apiKey()) headers.Authorization = `Bearer ${apiKey()}`;
  const response = await fetch(path, { ...options, headers });
  const body = response.headers.get('content-type')?.includes('json')
    ? await response.json()
    : await response.text();
  if (!response.ok) throw new Error(body?.message ?? `${response.status} ${response.statusText}`);
  return body;
}

/** The non-empty lines of a textarea, trimmed. */
function linesOf(id) {
  return $(id)
    .value.split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

// |polarity| from which a text counts as positive or negative: the cut the model reports are
// scored with (POLARITY_CUT in training/out-of-domain.ts).
const POLARITY_CUT = 0.2;

/** Colours a sentiment element by polarity, explains it on hover; returns the signed polarity. */
function markSentiment(element, { polarity, intensity }) {
  element.dataset.polarity =
    polarity >= POLARITY_CUT ? 'positive' : polarity <= -POLARITY_CUT ? 'negative' : 'neutral';
  element.title = `sentiment polarity ${polarity.toFixed(2)} (−1 negative … +1 positive), intensity ${intensity.toFixed(2)}`;
  return `${polarity >= 0 ? '+' : '−'}${Math.abs(polarity).toFixed(2)}`;
}

// --- chart -------------------------------------------------------------------------------------
const series = [[], ...EMOTIONS.map(() => [])];
const chartBox = $('chart');
const chart = new uPlot(
  {
    width: chartBox.clientWidth || 800,
    height: 280,
    scales: { x: { time: false }, y: { range: [0, 1] } },
    series: [
      {},
      ...EMOTIONS.map((emotion) => ({
        label: emotion,
        stroke: colour(emotion),
        width: 2,
        points: { show: true, size: 6, fill: colour(emotion) },
      })),
    ],
    axes: [
      { label: 'position in the stream (seconds of audio, or segment number for text)' },
      { label: 'score' },
    ],
    // The legend shows the latest result's scores whenever the pointer is not over the chart
    // (uPlot shows values only on hover by default).
    hooks: { setCursor: [(u) => showLatestInLegend(u)] },
  },
  series,
  chartBox,
);

function showLatestInLegend(u) {
  const last = series[0].length - 1;
  if (u.cursor.idx == null && last >= 0) u.setLegend({ idx: last });
}
new ResizeObserver(() => chart.setSize({ width: chartBox.clientWidth, height: 280 })).observe(chartBox);

// x is where the result sits in its stream: seconds of audio for transcripts, the segment number
// for text. Not the arrival time: the results of one batch commit together and would pile up.
// Every point is kept (up to MAX_POINTS) with its speaker, so the chart can show one speaker's.
const points = [];
const speakerFilter = $('chart-speaker');
speakerFilter.addEventListener('change', () => drawChart());

function plot(result) {
  // Shares (summing to 1) draw as comparable lines; older results without them fall back to the
  // scores. A class the model lacks is null: a gap, not a line at 0.
  const values = result.distribution ?? result.core;
  points.push({
    x: result.startMs === null ? result.seq : result.startMs / 1000,
    speaker: result.speaker ?? null,
    values: EMOTIONS.map((emotion) => values[emotion] ?? null),
  });
  if (points.length > MAX_POINTS) points.shift();
  if (result.speaker && ![...speakerFilter.options].some((o) => o.value === result.speaker)) {
    speakerFilter.append(new Option(`speaker ${result.speaker}`, result.speaker));
    // One speaker has nothing to filter.
    speakerFilter.hidden = speakerFilter.options.length < 3;
  }
  drawChart();
}

function drawChart() {
  const speaker = speakerFilter.value;
  const shown = speaker ? points.filter((p) => p.speaker === speaker) : points;
  series[0] = shown.map((p) => p.x);
  EMOTIONS.forEach((_, i) => {
    series[i + 1] = shown.map((p) => p.values[i]);
  });
  chart.setData(series);
  showLatestInLegend(chart);
  chartBox.dataset.points = String(shown.length);
}

function clearChart() {
  points.length = 0;
  speakerFilter.replaceChildren(new Option('all speakers', ''));
  speakerFilter.hidden = true;
  drawChart();
}

// --- one-text analysis ---------------------------------------------------------------------------
// The numbers of POST /v1/predict, drawn: `core` as bars (0.5 is each class's threshold, marked),
// `distribution` as one bar of shares, the top fine-grained labels, sentiment, language and model.
$('analyse-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const texts = linesOf('analyse-texts');
  const status = $('analyse-status');
  if (texts.length === 0) return;
  status.textContent = 'analysing…';
  try {
    const language = $('analyse-language').value;
    const { results } = await api('/v1/predict', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ texts, ...(language ? { language } : {}) }),
    });
    $('analyses').replaceChildren(...results.map((result, i) => analysisItem(texts[i], result)));
    status.textContent = '';
  } catch (error) {
    status.textContent = `not analysed: ${error.message}`;
  }
});

/** One bar of shares (each emotion's part of 1), coloured by emotion, labelled where wide enough. */
function fillShares(shares, mix) {
  shares.setAttribute('aria-label', 'share of each core emotion');
  shares.replaceChildren();
  for (const emotion of EMOTIONS) {
    const share = mix[emotion];
    if (!share) continue;
    const part = document.createElement('span');
    part.dataset.emotion = emotion;
    part.style.flexGrow = String(share);
    part.style.background = colour(emotion);
    part.title = `${emotion} ${(share * 100).toFixed(0)}%`;
    if (share >= 0.08) part.textContent = `${emotion} ${(share * 100).toFixed(0)}%`;
    shares.append(part);
  }
}

function analysisItem(text, result) {
  const item = $('analysis-template').content.firstElementChild.cloneNode(true);
  item.dataset.topLabel = result.topLabel;
  item.querySelector('.top').textContent = result.topLabel;
  item.querySelector('.top').style.color = colour(result.topLabel);
  item.querySelector('.text').textContent = text;
  const sentiment = item.querySelector('.sentiment');
  sentiment.textContent = `sentiment ${markSentiment(sentiment, result.sentiment)}, intensity ${result.sentiment.intensity.toFixed(2)}`;
  const bars = item.querySelector('.bars');
  bars.setAttribute('aria-label', 'core scores');
  for (const emotion of EMOTIONS) {
    const score = result.core[emotion];
    const row = document.createElement('div');
    row.className = 'bar-row';
    row.dataset.emotion = emotion;
    row.innerHTML =
      '<span class="name"></span><span class="track"><span class="fill"></span></span><span class="value"></span>';
    row.querySelector('.name').textContent = result.labels.includes(emotion) ? `${emotion} ◀` : emotion;
    if (score === null) {
      row.querySelector('.value').textContent = 'n/a';
      row.title = 'this model has no such class';
    } else {
      const fill = row.querySelector('.fill');
      fill.style.width = `${(score * 100).toFixed(1)}%`;
      fill.style.background = colour(emotion);
      row.querySelector('.value').textContent = score.toFixed(2);
    }
    bars.append(row);
  }
  fillShares(item.querySelector('.shares'), result.distribution);
  item.querySelector('.fine').textContent = result.fine
    ? `top fine-grained: ${Object.entries(result.fine)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([label, score]) => `${label} ${score.toFixed(2)}`)
        .join(', ')}`
    : '';
  item.querySelector('.model').textContent =
    `${result.fine ? '· ' : ''}language ${result.language}${result.languageFallback ? ` (fallback for ${result.detectedLanguage})` : ''} · ${result.model.name} ${result.model.version}`;
  return item;
}

// --- transcript and feedback -------------------------------------------------------------------
const transcript = $('transcript');
const template = $('segment-template');

// A transcript segment arrives a stage before its emotions: shown greyed until its result replaces it.
function showPending(segment) {
  if (seen.has(`${segment.id}@`) || transcript.querySelector(`[data-segment-id="${CSS.escape(segment.id)}"]`))
    return;
  const item = document.createElement('li');
  item.className = 'segment pending';
  item.dataset.segmentId = segment.id;
  item.style.setProperty('--c', '#bbb');
  item.innerHTML = '<span class="label">…</span><span class="text"></span>';
  item.querySelector('.text').textContent = segment.text;
  transcript.prepend(item);
}

function show(result) {
  transcript.querySelector(`.pending[data-segment-id="${CSS.escape(result.segmentId)}"]`)?.remove();
  seen.add(`${result.segmentId}@`);
  const item = template.content.firstElementChild.cloneNode(true);
  item.dataset.resultId = result.id;
  item.dataset.label = result.topLabel;
  item.style.setProperty('--c', colour(result.topLabel));
  // Who said it, where the transcribe stage told voices apart (text rows have no speaker).
  const speaker = item.querySelector('.speaker');
  speaker.textContent = result.speaker ?? '';
  speaker.hidden = !result.speaker;
  if (result.speaker) item.dataset.speaker = result.speaker;
  item.querySelector('.label').textContent =
    `${result.topLabel} ${(result.core[result.topLabel] * 100).toFixed(0)}%`;
  const sentiment = item.querySelector('.sentiment');
  // Results written before sentiment existed have none.
  if (result.sentiment) sentiment.textContent = markSentiment(sentiment, result.sentiment);
  item.querySelector('.text').textContent = result.originalText;
  item.title = result.text === result.originalText ? '' : `classified as: ${result.text}`;
  const select = item.querySelector('.right-label');
  select.append(
    new Option('right label…', ''),
    ...EMOTIONS.filter((e) => e !== result.topLabel).map((e) => new Option(e, e)),
  );
  item.querySelector('.correct').addEventListener('click', () => sendFeedback(item, result, 'correct'));
  item
    .querySelector('.wrong')
    .addEventListener('click', () => sendFeedback(item, result, 'wrong', select.value));
  transcript.prepend(item);
  while (transcript.children.length > MAX_SEGMENTS) transcript.lastElementChild.remove();
}

async function sendFeedback(item, result, verdict, label) {
  try {
    await api('/v1/feedback', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ resultId: result.id, verdict, ...(label ? { label } : {}) }),
    });
    item.dataset.feedback = verdict;
  } catch (error) {
    item.title = `feedback not sent: ${error.message}`;
  }
}

// A reviewed results file: one verdict per row (POST /v1/feedback/csv), then each verdict's outcome.
$('review-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('review-status');
  const form = new FormData();
  form.append('file', $('review-file').files[0]);
  status.textContent = 'sending…';
  try {
    const report = await api('/v1/feedback/csv', { method: 'POST', body: form });
    const refusals = report.refusedRows.map((r) => `line ${r.line}: ${r.reason}`).join('; ');
    const tally = async () => {
      const outcomes = await Promise.all(report.feedback.map((f) => api(`/v1/feedback/${f.id}`)));
      const count = (matched) => outcomes.filter((o) => o.matched === matched).length;
      status.textContent =
        `${report.accepted} verdicts sent: ${count('matched')} matched, ${count('pending')} pending, ` +
        `${count('unmatched')} unmatched` +
        (report.refused ? `; ${report.refused} rows refused (${refusals})` : '');
      return outcomes.every((o) => o.recorded);
    };
    // Until the feedback sink has recorded every verdict (a few seconds), or a minute has passed.
    for (let round = 0; !(await tally()) && round < 30; round++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  } catch (error) {
    status.textContent = error.message;
  }
});

// --- streams overview --------------------------------------------------------------------------
// Every live and recent stream (GET /v1/streams), refreshed every 2 s: state, last segment, the
// last minute's mix and a badge when an emotion passes the alert rule. Click one to watch it.
async function refreshOverview() {
  const list = $('overview');
  try {
    const { rule, streams } = await api(`/v1/streams?alert=${encodeURIComponent($('alert-emotions').value)}`);
    $('overview-caption').textContent =
      `badge: an emotion over ${rule.share * 100}% of a stream's last minute (≥ ${rule.minResults} results)`;
    list.replaceChildren(
      ...streams.map((stream) => {
        const item = $('stream-tile-template').content.firstElementChild.cloneNode(true);
        item.dataset.stream = stream.streamId;
        item.dataset.state = stream.state;
        item.querySelector('.name').textContent = stream.streamId;
        item.querySelector('.state').textContent =
          `${stream.state}${stream.language ? ` · ${stream.language.code}` : ''} · ${stream.window.results}/min · ${stream.results} in all`;
        if (stream.language?.decision) item.querySelector('.state').title = stream.language.decision;
        const badges = item.querySelector('.badges');
        for (const emotion of stream.alerts) {
          const badge = document.createElement('span');
          badge.className = 'badge';
          badge.dataset.emotion = emotion;
          badge.style.background = colour(emotion);
          badge.textContent = `${emotion} ${(stream.window.mix[emotion] * 100).toFixed(0)}%`;
          badges.append(badge);
        }
        fillShares(item.querySelector('.shares'), stream.window.mix);
        // Each speaker's mix since the stream appeared, a labelled bar each.
        item.querySelector('.speakers').replaceChildren(
          ...(stream.speakers ?? []).map(({ speaker, results, mix }) => {
            const row = document.createElement('div');
            row.className = 'speaker-mix';
            row.dataset.speaker = speaker;
            const name = document.createElement('span');
            name.className = 'speaker';
            name.textContent = speaker;
            name.title = `${results} results from ${speaker}`;
            const shares = document.createElement('div');
            shares.className = 'shares';
            shares.setAttribute('role', 'img');
            fillShares(shares, mix);
            row.append(name, shares);
            return row;
          }),
        );
        item.querySelector('.last').textContent = stream.lastSegment
          ? `${stream.lastSegment.topLabel}: ${stream.lastSegment.text}`
          : (stream.message ?? '');
        item.addEventListener('click', () => {
          $('stream-id').value = stream.streamId;
          $('watch-form').requestSubmit();
        });
        return item;
      }),
    );
    $('overview-status').textContent = streams.length ? '' : 'no live or recent streams';
  } catch (error) {
    $('overview-status').textContent = error.message;
  }
}
refreshOverview();
setInterval(refreshOverview, 2000);

// --- live feed ---------------------------------------------------------------------------------
const connection = $('connection');
let socket;
let lastAtMs;
const seen = new Set();
let watching;

function setConnection(state, text) {
  connection.dataset.state = state;
  connection.textContent = text;
}

/** Download links of the watched stream's transcript (GET /v1/streams/{id}/transcript). */
function showTranscriptLinks(streamId) {
  for (const link of document.querySelectorAll('#transcript-links a')) {
    const url = new URL(`/v1/streams/${encodeURIComponent(streamId)}/transcript`, location.href);
    url.searchParams.set('format', link.dataset.format);
    // A link cannot send a header; the key goes as access_token, as the WebSocket's does.
    if (apiKey()) url.searchParams.set('access_token', apiKey());
    link.href = url.pathname + url.search;
    if (link.hasAttribute('download')) link.download = `${streamId}.${link.dataset.format}`;
  }
  $('transcript-links').hidden = false;
}

function watch(streamId, sinceMs) {
  watching = streamId;
  $('stream-language').textContent = '';
  showTranscriptLinks(streamId);
  socket?.close(1000, 'switching stream');
  const url = new URL('/v1/live', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('streams', streamId);
  url.searchParams.set('since', String(sinceMs));
  if (apiKey()) url.searchParams.set('access_token', apiKey());
  const current = new WebSocket(url);
  socket = current;
  current.addEventListener('open', () => setConnection('open', `live: ${streamId}`));
  current.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'stream') {
      const { kind, message: why, audioMs } = message.event;
      // The language decision stays in view: later events (ended, warnings) replace the status line.
      if (kind === 'language') {
        $('stream-language').textContent = `${message.event.streamId}: ${why}`;
        return;
      }
      $('stream-status').textContent =
        `${message.event.streamId}: ${kind}${why ? ` — ${why}` : ''} (${(audioMs / 1000).toFixed(1)} s of audio)`;
      return;
    }
    if (message.type === 'segment') {
      showPending(message.segment);
      return;
    }
    if (message.type !== 'result') return;
    lastAtMs = message.atMs;
    // A reconnect catches up from the last result seen; never show one twice.
    if (seen.has(message.result.id)) return;
    seen.add(message.result.id);
    plot(message.result);
    show(message.result);
  });
  current.addEventListener('close', (event) => {
    if (socket !== current || watching !== streamId) return;
    setConnection('error', event.reason ? `disconnected: ${event.reason}` : 'disconnected; retrying');
    // Resume where the feed stopped: the gateway replays what it kept since then.
    setTimeout(() => watching === streamId && watch(streamId, (lastAtMs ?? sinceMs) + 1), 2000);
  });
}

$('watch-form').addEventListener('submit', (event) => {
  event.preventDefault();
  clearChart();
  seen.clear();
  transcript.replaceChildren();
  lastAtMs = undefined;
  $('chart-caption').textContent = $('stream-id').value;
  watch($('stream-id').value, Date.now() - 5 * 60_000);
});

$('text-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const texts = linesOf('texts');
  const status = $('text-status');
  if (texts.length === 0) {
    status.textContent = 'type at least one line';
    return;
  }
  const streamId = $('stream-id').value;
  if (watching !== streamId) $('watch-form').requestSubmit();
  try {
    const language = $('language').value;
    const answer = await api(`/v1/streams/${encodeURIComponent(streamId)}/texts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ texts, ...(language ? { language } : {}) }),
    });
    status.textContent = `sent ${answer.segmentIds.length} to ${answer.streamId}`;
    $('texts').value = '';
  } catch (error) {
    status.textContent = `not sent: ${error.message}`;
  }
});

// --- audio streams -----------------------------------------------------------------------------
function startWatching() {
  if (watching !== $('stream-id').value) $('watch-form').requestSubmit();
}

$('url-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  startWatching();
  try {
    const status = await api('/v1/streams', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        url: $('audio-url').value,
        streamId: $('stream-id').value,
        ...($('audio-language').value ? { language: $('audio-language').value } : {}),
      }),
    });
    $('stream-status').textContent = `${status.streamId}: ${status.state}`;
  } catch (error) {
    $('stream-status').textContent = `not started: ${error.message}`;
  }
});

$('audio-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = $('audio-file').files[0];
  if (!file) return;
  startWatching();
  const form = new FormData();
  form.append('streamId', $('stream-id').value);
  form.append('realtime', String($('audio-realtime').checked));
  if ($('audio-language').value) form.append('language', $('audio-language').value);
  form.append('file', file);
  try {
    const status = await api('/v1/audio', { method: 'POST', body: form });
    $('stream-status').textContent = `${status.streamId}: ${status.state} (${status.source})`;
  } catch (error) {
    $('stream-status').textContent = `not started: ${error.message}`;
  }
});

$('stop-stream').addEventListener('click', async () => {
  try {
    const status = await api(`/v1/streams/${encodeURIComponent($('stream-id').value)}`, { method: 'DELETE' });
    $('stream-status').textContent = `${status.streamId}: ${status.state}`;
  } catch (error) {
    $('stream-status').textContent = error.message;
  }
});

// --- CSV jobs ----------------------------------------------------------------------------------
function upload(form) {
  // XMLHttpRequest, because fetch reports no upload progress.
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    const bar = $('upload-progress');
    bar.hidden = false;
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) bar.value = event.loaded / event.total;
    });
    request.addEventListener('load', () => {
      const body = JSON.parse(request.responseText || '{}');
      if (request.status === 202) resolve(body);
      else reject(new Error(body.message ?? `upload failed (${request.status})`));
    });
    request.addEventListener('error', () => reject(new Error('upload failed: network error')));
    request.open('POST', '/v1/jobs/csv');
    if (apiKey()) request.setRequestHeader('Authorization', `Bearer ${apiKey()}`);
    request.send(form);
  });
}

async function follow(jobId) {
  const status = $('job-status');
  const bar = $('job-progress');
  bar.hidden = false;
  for (;;) {
    const job = await api(`/v1/jobs/${jobId}`);
    bar.value = job.rowsIn ? job.resultsOut / job.rowsIn : 0;
    status.textContent = `${job.state}: ${job.rowsIn} rows in, ${job.resultsOut} results out${job.rowsSkipped ? `, ${job.rowsSkipped} skipped` : ''}${job.error ? ` (${job.error})` : ''}`;
    if (job.finishedAt) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  // A plain link cannot carry the API key, so the file is fetched and handed over as a blob.
  const csv = await api(`/v1/jobs/${jobId}/results.csv`);
  const link = $('job-download');
  link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  link.download = `results-${jobId}.csv`;
  link.hidden = false;
}

$('csv-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData();
  form.append('textColumn', $('csv-text-column').value);
  form.append('file', $('csv-file').files[0]);
  $('job-download').hidden = true;
  for (const bar of [$('upload-progress'), $('job-progress')]) bar.value = 0;
  try {
    const job = await upload(form);
    await follow(job.jobId);
  } catch (error) {
    // A refused upload is not a finished one: no full bars next to its reason.
    for (const bar of [$('upload-progress'), $('job-progress')]) bar.hidden = true;
    $('job-status').textContent = error.message;
  }
});
