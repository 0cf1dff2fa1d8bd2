import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { ResultSlots } from '../../gateway/jobs/result-slots.js';
import { csvCell, resultsCsvHeader, resultsCsvLine } from '../../gateway/jobs/results-csv.js';
import { CLOSE_TOO_SLOW, LiveHub, type LiveSocket } from '../../gateway/live/live-hub.js';
import { parseLiveQuery } from '../../gateway/routes/live.js';
import { ConfigError } from '../../runtime/config/index.js';
import type { CoreEmotion, EmotionResult } from '../../schemas/index.js';

function result(seq: number, streamId: string, topLabel: CoreEmotion = 'joy'): EmotionResult {
  const core = {
    anger: 0,
    disgust: 0,
    fear: 0,
    joy: 0,
    neutral: 0,
    sadness: 0,
    surprise: 0,
    [topLabel]: 0.9,
  };
  return {
    id: `${streamId}:${seq}@m:1`,
    segmentId: `${streamId}:${seq}`,
    streamId,
    seq,
    text: `text ${seq}`,
    originalText: `text ${seq}`,
    language: 'en',
    languageFallback: false,
    core,
    distribution: null,
    fine: null,
    topLabel,
    labels: [topLabel],
    sentiment: null,
    model: { name: 'm', version: '1', engine: 'test' },
    startMs: null,
    endMs: null,
    jobId: null,
    speaker: null,
    trace: [],
  };
}

/** Records what the hub sends; `unread` plays the bytes a slow peer has not taken. */
class RecordingSocket implements LiveSocket {
  sent: string[] = [];
  closed: { code: number; reason: string } | undefined;
  unread = 0;
  get bufferedAmount() {
    return this.unread;
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
  get seqs() {
    return this.sent.map((m) => (JSON.parse(m) as { result: EmotionResult }).result.seq);
  }
}

const hub = (historySize = 100, maxBufferedBytes = 1000) =>
  new LiveHub({ historySize, maxBufferedBytes, metrics: new Registry() });

describe('LiveHub', () => {
  it('sends each client the results of its streams and top labels only', () => {
    const live = hub();
    const all = new RecordingSocket();
    const streamA = new RecordingSocket();
    const angerOfB = new RecordingSocket();
    live.subscribe(all, {});
    live.subscribe(streamA, { streams: new Set(['a']) });
    live.subscribe(angerOfB, { streams: new Set(['b']), labels: new Set(['anger'] as const) });
    live.publish(result(0, 'a'), 1);
    live.publish(result(1, 'b', 'anger'), 2);
    live.publish(result(2, 'b', 'joy'), 3);
    expect(all.seqs).toEqual([0, 1, 2]);
    expect(streamA.seqs).toEqual([0]);
    expect(angerOfB.seqs).toEqual([1]);
    expect(JSON.parse(all.sent[0]!)).toMatchObject({ type: 'result', atMs: 1, result: { id: 'a:0@m:1' } });
  });

  it('replays the kept results since a time, oldest first, and forgets the oldest beyond its size', () => {
    const live = hub(3);
    for (let seq = 0; seq < 5; seq++) live.publish(result(seq, 'a'), 100 + seq);
    const late = new RecordingSocket();
    expect(live.subscribe(late, {}, 103).caughtUp).toBe(2);
    expect(late.seqs).toEqual([3, 4]);
    const everything = new RecordingSocket();
    live.subscribe(everything, {}, 0);
    expect(everything.seqs).toEqual([2, 3, 4]);
    expect(live.recent('a:1@m:1')).toBeUndefined();
    expect(live.recent('a:4@m:1')?.seq).toBe(4);
  });

  it('closes a client with more unread than allowed, with a reason, and keeps serving the others', () => {
    const live = hub(10, 1000);
    const slow = new RecordingSocket();
    const fine = new RecordingSocket();
    live.subscribe(slow, {});
    live.subscribe(fine, {});
    live.publish(result(0, 'a'), 1);
    slow.unread = 1001;
    live.publish(result(1, 'a'), 2);
    live.publish(result(2, 'a'), 3);
    expect(slow.seqs).toEqual([0]);
    expect(slow.closed).toEqual({
      code: CLOSE_TOO_SLOW,
      reason: 'too slow: over 1000 bytes unread; reconnect with since=2',
    });
    expect(fine.seqs).toEqual([0, 1, 2]);
    expect(live.clientCount).toBe(1);
  });

  it('removes a client that goes away', () => {
    const live = hub();
    const socket = new RecordingSocket();
    const { remove } = live.subscribe(socket, {});
    remove();
    live.publish(result(0, 'a'), 1);
    expect(socket.sent).toEqual([]);
    expect(live.clientCount).toBe(0);
  });
});

describe('parseLiveQuery', () => {
  it('reads streams, labels and the three forms of since', () => {
    const parsed = parseLiveQuery({ streams: 'a, b,,', labels: 'anger,joy', since: '-60s' }, 1_000_000);
    expect(parsed).toEqual({
      filter: { streams: new Set(['a', 'b']), labels: new Set(['anger', 'joy']) },
      sinceMs: 940_000,
    });
    expect(parseLiveQuery({ since: '1234' })).toMatchObject({ sinceMs: 1234 });
    expect(parseLiveQuery({ since: '2026-11-26T10:00:00Z' })).toMatchObject({
      sinceMs: Date.parse('2026-11-26T10:00:00Z'),
    });
    expect(parseLiveQuery({})).toEqual({
      filter: { streams: undefined, labels: undefined },
      sinceMs: undefined,
    });
  });

  it('says what is wrong with a bad query', () => {
    expect(parseLiveQuery({ labels: 'joy,happy' })).toBe(
      'unknown label happy: expected some of anger, disgust, fear, joy, neutral, sadness, surprise',
    );
    expect(parseLiveQuery({ since: 'last tuesday' })).toMatch(/^since must be/);
  });
});

describe('results CSV', () => {
  it('escapes cells a spreadsheet would run as formulas, and quotes what CSV needs quoted', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+49 30 1234')).toBe("'+49 30 1234");
    expect(csvCell('-2 stars')).toBe("'-2 stars");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=cmd')).toBe("'\t=cmd");
    expect(csvCell('=HYPERLINK("x","y")')).toBe(`"'=HYPERLINK(""x"",""y"")"`);
    expect(csvCell('a, b')).toBe('"a, b"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
  });

  it('keeps plain numbers as they are: a numeric column survives the round trip', () => {
    expect(csvCell('-2')).toBe('-2');
    expect(csvCell('+1.5e3')).toBe('+1.5e3');
    expect(csvCell('-.5')).toBe('-.5');
    expect(csvCell('-2-1')).toBe("'-2-1");
  });

  it("carries the upload's columns, renames a clash, and puts each result after its row", async () => {
    expect(resultsCsvHeader(['id', 'text', 'gold', 'anger'])).toBe(
      'id,text,gold,input_anger,result_id,row,language,top_label,labels,anger,disgust,fear,joy,neutral,sadness,surprise,polarity,intensity,model,language_fallback,skipped\r\n',
    );
    const dir = mkdtempSync(join(tmpdir(), 'slots-'));
    const slots = await ResultSlots.create(join(dir, 'results.slots'));
    const romanian = result(2, 's', 'joy');
    romanian.core = { ...romanian.core, disgust: null, surprise: null };
    romanian.sentiment = null;
    romanian.languageFallback = true;
    // Results arrive in any order; they come back by row.
    await slots.write(2, romanian);
    await slots.write(0, {
      ...result(0, 's', 'anger'),
      labels: ['anger', 'sadness'],
      sentiment: { polarity: -0.75, intensity: 0.123456 },
    });
    const read = slots.inOrder();
    const rows = [
      (await read.next()).value,
      (await read.next()).value,
      (await read.next()).value,
      (await read.next()).value,
    ];
    await read.return();
    await slots.close();
    rmSync(dir, { recursive: true, force: true });
    expect(rows[1]).toBeNull();
    expect(rows[3]).toBeNull();
    const row = (seq: number, id: string) => ({ outcome: { kind: 'row' as const, id, text: 't' }, seq });
    expect(resultsCsvLine(['a1', '=bad', '-2'], 4, row(0, 'a1'), rows[0]!)).toBe(
      "a1,'=bad,-2,,a1@m:1,0,en,anger,anger;sadness,0.9000,0.0000,0.0000,0.0000,0.0000,0.0000,0.0000,-0.7500,0.1235,m@1,false,\r\n",
    );
    // A class the model lacks is an empty cell, never a made-up 0.
    expect(resultsCsvLine(['a3', 'x', '1', '0'], 4, row(2, 'a3'), rows[2]!)).toBe(
      'a3,x,1,0,a3@m:1,2,en,joy,joy,0.0000,,0.0000,0.9000,0.0000,0.0000,,,,m@1,true,\r\n',
    );
    // A row still without a result, and a row that was never sent.
    expect(resultsCsvLine(['a2', 'y'], 4, row(1, 'a2'), null)).toBe(`a2,y,,,,1${','.repeat(15)}\r\n`);
    expect(
      resultsCsvLine(
        ['a4', '', '', '', 'extra'],
        4,
        { outcome: { kind: 'skip', reason: 'empty text' }, seq: null },
        null,
      ),
    ).toBe(`a4,,,${','.repeat(16)},empty text\r\n`);
  });
});

describe('gateway configuration', () => {
  it('has safe defaults: auth and rate limits off, bounded bodies, uploads and live buffers', () => {
    expect(loadConfig({}).gateway).toMatchObject({
      port: 8080,
      apiKeys: [],
      rateLimitMax: 0,
      bodyLimitBytes: 1024 * 1024,
      uploadLimitBytes: 512 * 1024 * 1024,
      liveBufferBytes: 4 * 1024 * 1024,
      liveHistory: 10_000,
    });
  });

  it('rejects a short API key without echoing it', () => {
    const load = () => loadConfig({ GATEWAY_API_KEYS: 'good-key-0123456789,secret1' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/^GATEWAY_API_KEYS: each key must be at least 16 characters/);
    try {
      load();
    } catch (error) {
      expect((error as Error).message).not.toContain('secret1');
    }
  });
});
