import { CORE_EMOTIONS, type CoreEmotion } from '../../processors/classify/labels.js';
import { csvCell } from '../jobs/results-csv.js';

export const TRANSCRIPT_FORMATS = ['json', 'csv', 'srt', 'vtt', 'txt'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

export const TRANSCRIPT_CONTENT_TYPES: Record<TranscriptFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  srt: 'application/x-subrip; charset=utf-8',
  vtt: 'text/vtt; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

/** One piece of a transcript, in stream time, with its emotions when they are known. */
export interface TranscriptLine {
  startMs: number;
  endMs: number;
  text: string;
  /** The text the emotions were read from (after correction and translation), when it differs. */
  classifiedText?: string;
  language?: string;
  /** Who said it (S1, S2, … within the stream), where the transcribe stage told voices apart. */
  speaker?: string;
  topLabel?: CoreEmotion;
  core?: Record<CoreEmotion, number | null>;
}

/**
 * A transcript in one of the formats, as pieces to write one after another, so a long transcript
 * is streamed rather than built in memory. `header` goes at the top of the JSON object (text,
 * language, engine, model for the CLI; the stream id for the gateway). SRT and WebVTT carry the
 * speaker and emotion in the cue, as `[S1 joy 0.82]` before the text, which any player shows.
 */
export function* formatTranscript(
  format: TranscriptFormat,
  lines: Iterable<TranscriptLine>,
  header: Record<string, unknown> = {},
): Generator<string> {
  switch (format) {
    case 'json': {
      const head = JSON.stringify(header);
      yield `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"segments":[`;
      let first = true;
      for (const line of lines) {
        yield `${first ? '' : ','}\n${JSON.stringify(line)}`;
        first = false;
      }
      yield '\n]}\n';
      return;
    }
    case 'csv': {
      yield `${['start_ms', 'end_ms', 'speaker', 'text', 'top_label', ...CORE_EMOTIONS].join(',')}\r\n`;
      for (const line of lines) {
        const scores = CORE_EMOTIONS.map((emotion) => line.core?.[emotion]?.toFixed(4) ?? '');
        const cells = [line.startMs, line.endMs, line.speaker ?? '', csvCell(line.text), line.topLabel ?? ''];
        yield `${[...cells, ...scores].join(',')}\r\n`;
      }
      return;
    }
    case 'srt': {
      let index = 1;
      for (const line of lines) {
        yield `${index++}\n${clock(line.startMs, ',')} --> ${clock(line.endMs, ',')}\n${cueText(line)}\n\n`;
      }
      return;
    }
    case 'vtt': {
      yield 'WEBVTT\n\n';
      for (const line of lines) {
        yield `${clock(line.startMs, '.')} --> ${clock(line.endMs, '.')}\n${cueText(line).replace(/-->/g, '->')}\n\n`;
      }
      return;
    }
    case 'txt':
      for (const line of lines) yield `${line.speaker ? `${line.speaker}: ` : ''}${line.text}\n`;
      return;
    default: {
      const unknown: never = format;
      throw new Error(`unknown transcript format ${unknown as string}`);
    }
  }
}

/** `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT). */
export function clock(ms: number, separator: ',' | '.'): string {
  const total = Math.max(0, Math.round(ms));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor(total / 60_000) % 60;
  const seconds = Math.floor(total / 1000) % 60;
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds)}${separator}${pad(total % 1000, 3)}`;
}

function cueText(line: TranscriptLine): string {
  // A blank line would end the cue early.
  const text = line.text.replace(/\s*\n\s*/g, ' ');
  const score = line.topLabel ? line.core?.[line.topLabel] : undefined;
  const emotion = line.topLabel
    ? `${line.topLabel}${score === undefined || score === null ? '' : ` ${score.toFixed(2)}`}`
    : '';
  const tag = [line.speaker ?? '', emotion].filter(Boolean).join(' ');
  return tag ? `[${tag}] ${text}` : text;
}
