import { describe, expect, it } from 'vitest';
import { formatTranscript, type TranscriptLine } from '../../gateway/transcripts/transcript-formats.js';
import {
  assignPieces,
  MIN_OWN_VOICE_MS,
  voicePieces,
  voiceSpans,
} from '../../processors/transcribe/speaker-turns.js';
import {
  assignSpeaker,
  MIN_NEW_SPEAKER_MS,
  NO_SPEAKERS,
  type SpeakerSettings,
  type StreamSpeakers,
  turnsOf,
} from '../../processors/transcribe/stream-speakers.js';
import { diarizationErrorRate } from '../support/diarization.js';

const SETTINGS: SpeakerSettings = { maxSpeakers: 3, similarity: 0.78 };

/** A unit vector near axis `axis` of 8 dimensions (`noise` on the next axis). */
function voice(axis: number, noise = 0): number[] {
  const v = new Array<number>(8).fill(0);
  v[axis] = 1;
  v[(axis + 1) % 8] = noise;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** Assigns pieces in order; returns the labels and the final state. */
function assignAll(pieces: Array<[number[], number]>, settings = SETTINGS) {
  let state: StreamSpeakers = NO_SPEAKERS;
  const labels = pieces.map(([embedding, ms]) => {
    const assigned = assignSpeaker(state, embedding, ms, settings);
    state = assigned.state;
    return assigned.label;
  });
  return { labels, state };
}

describe('online speaker clustering', () => {
  it('opens a speaker for a new voice, joins alike voices to it, and keeps labels in order first heard', () => {
    const { labels, state } = assignAll([
      [voice(0), 3000],
      [voice(0, 0.2), 3000],
      [voice(2), 3000],
      [voice(0, 0.1), 2500],
      [voice(2, 0.3), 4000],
    ]);
    expect(labels).toEqual(['S1', 'S1', 'S2', 'S1', 'S2']);
    expect(state.speakers.map((s) => [s.label, s.speechMs])).toEqual([
      ['S1', 8500],
      ['S2', 7000],
    ]);
    // The centroid moved towards the joined pieces and stays a unit vector (rounded for the state).
    const s1 = state.speakers[0]!.centroid;
    expect(s1[1]).toBeGreaterThan(0);
    expect(Math.hypot(...s1)).toBeCloseTo(1, 3);
    expect(s1.every((x) => Math.round(x * 1e4) === x * 1e4)).toBe(true);
  });

  it('never opens a speaker for a short piece, and stops at the bound', () => {
    expect(MIN_NEW_SPEAKER_MS).toBe(2000);
    const short = assignAll([
      [voice(0), 3000],
      [voice(4), 1500],
    ]);
    expect(short.labels).toEqual(['S1', 'S1']);
    const bounded = assignAll([
      [voice(0), 3000],
      [voice(2), 3000],
      [voice(4), 3000],
      [voice(6), 3000],
      [voice(6, 0.1), 3000],
    ]);
    // The fourth voice goes to the most alike of three; the bound holds.
    expect(bounded.state.speakers).toHaveLength(3);
    expect(bounded.labels.slice(0, 3)).toEqual(['S1', 'S2', 'S3']);
  });

  it('groups consecutive segments of one speaker into turns', () => {
    const segments = [1, 2, 3, 4].map((n) => ({ startMs: n * 1000, endMs: n * 1000 + 900, text: `t${n}` }));
    expect(turnsOf(segments, ['S1', 'S1', 'S2', 'S1']).map((t) => [t.speaker, t.segments.length])).toEqual([
      ['S1', 2],
      ['S2', 1],
      ['S1', 1],
    ]);
    // Each segment's voice is its own span; the first and last reach the chunk's ends.
    expect(voiceSpans(segments, 6000)).toEqual([
      [0, 1900],
      [2000, 2900],
      [3000, 3900],
      [4000, 6000],
    ]);
  });
});

describe('which pieces of a chunk are embedded', () => {
  const at = (startMs: number, endMs: number) => ({ startMs, endMs });

  it('gives a segment too short for its own voice its neighbour’s speaker, and embeds a chunk of short ones whole', () => {
    expect(MIN_OWN_VOICE_MS).toBe(1000);
    // "Huh?" (0.4–0.9 s) before a long segment: not embedded, it takes the long one's speaker.
    const huh = voicePieces([at(400, 900), at(900, 3000), at(3100, 3500), at(3600, 6000)], 6500);
    expect(huh.pieces).toEqual([
      [900, 3000],
      [3600, 6500],
    ]);
    expect(huh.labelsOf(['S2', 'S1'])).toEqual(['S2', 'S2', 'S2', 'S1']);
    // Nothing long enough: the whole chunk is one voice.
    const short = voicePieces([at(0, 600), at(700, 1200)], 1500);
    expect(short.pieces).toEqual([[0, 1500]]);
    expect(short.labelsOf(['S3'])).toEqual(['S3', 'S3']);
  });

  it('assigns a chunk’s longest piece first, so a short piece finds the voice its turn opened', () => {
    const first = assignAll([[voice(0), 3000]]).state;
    // A new voice's turn: 1.5 s, then 4 s. In order, the short piece could not open a speaker and
    // would join S1; longest first, the 4 s piece opens S2 and the short one joins it.
    const { labels, speakers } = assignPieces(
      first,
      [
        { voiceMs: 1500, embedding: voice(4, 0.1) },
        { voiceMs: 4000, embedding: voice(4) },
      ],
      SETTINGS,
    );
    expect(labels).toEqual(['S2', 'S2']);
    expect(speakers.speakers.map((s) => s.label)).toEqual(['S1', 'S2']);
  });
});

describe('diarization error rate', () => {
  const reference = [
    { speaker: 'alice', startMs: 0, endMs: 4000 },
    { speaker: 'bob', startMs: 5000, endMs: 9000 },
  ];

  it('is 0 for the right turns under any labels, and counts confusion, misses and false alarms', () => {
    expect(
      diarizationErrorRate(reference, [
        { speaker: 'S2', startMs: 0, endMs: 4000 },
        { speaker: 'S1', startMs: 5000, endMs: 9000 },
      ]).der,
    ).toBe(0);
    // Everything one speaker: bob's scored speech (4 s less the two 0.25 s collars) is confusion.
    const merged = diarizationErrorRate(reference, [
      { speaker: 'S1', startMs: 0, endMs: 4000 },
      { speaker: 'S1', startMs: 5000, endMs: 9000 },
    ]);
    expect(merged.confusion).toBe(3500);
    expect(merged.der).toBeCloseTo(3500 / 7000, 5);
    // Bob not heard at all is missed speech; speech in the pause beyond the collar a false alarm.
    const missed = diarizationErrorRate(reference, [{ speaker: 'S1', startMs: 0, endMs: 4600 }]);
    expect(missed.missed).toBe(3500);
    expect(missed.falseAlarm).toBe(350);
    // Within the collar, boundaries a little off cost nothing.
    expect(
      diarizationErrorRate(reference, [
        { speaker: 'S1', startMs: 200, endMs: 4200 },
        { speaker: 'S2', startMs: 4800, endMs: 9100 },
      ]).der,
    ).toBe(0);
  });
});

describe('transcript formats with speakers', () => {
  const lines: TranscriptLine[] = [
    {
      startMs: 0,
      endMs: 1500,
      text: 'Where is my order?',
      speaker: 'S1',
      topLabel: 'anger',
      core: core('anger', 0.82),
    },
    {
      startMs: 1800,
      endMs: 3000,
      text: 'Let me check.',
      speaker: 'S2',
      topLabel: 'neutral',
      core: core('neutral', 0.9),
    },
  ];

  it('marks each cue and line with its speaker, and CSV and JSON carry it', () => {
    const srt = [...formatTranscript('srt', lines)].join('');
    expect(srt).toContain('[S1 anger 0.82] Where is my order?');
    expect(srt).toContain('[S2 neutral 0.90] Let me check.');
    const csv = [...formatTranscript('csv', lines)].join('').split('\r\n');
    expect(csv[0]).toBe(
      'start_ms,end_ms,speaker,text,top_label,anger,disgust,fear,joy,neutral,sadness,surprise',
    );
    expect(csv[1]).toMatch(/^0,1500,S1,Where is my order\?,anger,0\.8200,/);
    const json = JSON.parse([...formatTranscript('json', lines)].join(''));
    expect(json.segments.map((s: TranscriptLine) => s.speaker)).toEqual(['S1', 'S2']);
    expect([...formatTranscript('txt', lines)].join('')).toBe('S1: Where is my order?\nS2: Let me check.\n');
    // A line without a speaker (text rows, speakers off) is as before.
    expect([...formatTranscript('vtt', [{ ...lines[0]!, speaker: undefined }])].join('')).toContain(
      '[anger 0.82] Where is my order?',
    );
  });
});

function core(label: string, score: number) {
  const scores = { anger: 0, disgust: 0, fear: 0, joy: 0, neutral: 0, sadness: 0, surprise: 0 };
  return { ...scores, [label]: score };
}
