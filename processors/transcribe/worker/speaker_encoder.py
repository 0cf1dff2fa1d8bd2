"""Resemblyzer's GE2E voice encoder (PyPI resemblyzer 0.1.4, Apache-2.0), run in NumPy.

The network is the package's VoiceEncoder: 40 mel channels at 16 kHz (25 ms windows, 10 ms hop,
power spectrum, no log), three LSTM layers of 256, a linear layer to 256, ReLU, L2 norm; an
utterance is cut into 1.6 s partials at 1.3 a second and its embedding is the normed mean of theirs
(voice_encoder.py, embed_utterance). The weights come from the package's `pretrained.pt`, read
here without PyTorch: the file is PyTorch's legacy (pre-1.6) serialization, a run of pickles then
each tensor storage's raw bytes (torch/serialization.py `_legacy_load`), so the serving path needs
NumPy only, which faster-whisper already brings. Resemblyzer's own preprocessing trims long
silences with webrtcvad; the chunks here are already cut at pauses by the producer's VAD, so only
its volume normalisation (to -30 dBFS, raised only) is kept.
"""

import pickle
import struct

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
PARTIAL_RATE = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0


class _Storage:
    def __init__(self, dtype, numel):
        self.dtype, self.numel, self.data = dtype, numel, None


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self):
        item = self.storage.data.itemsize
        return np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset :], shape=self.size, strides=[s * item for s in self.stride]
        ).copy()


_STORAGE_TYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return lambda storage, offset, size, stride, *_: _Tensor(storage, offset, size, stride)
        if module == "torch" and name in _STORAGE_TYPES:
            return _STORAGE_TYPES[name]
        if module == "collections" and name == "OrderedDict":
            import collections

            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in a voice encoder checkpoint")

    def persistent_load(self, saved_id):
        # ('storage', storage_type, key, location, numel[, view_metadata])
        _, dtype, key, _location, numel = saved_id[:5]
        if key not in self.storages:
            self.storages[key] = _Storage(np.dtype(dtype), numel)
        return self.storages[key]


def load_legacy_state_dict(path):
    """The `model_state` of a checkpoint saved by torch.save before PyTorch 1.6, as NumPy arrays."""
    with open(path, "rb") as file:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(file)
        storages = {}
        checkpoint = _Unpickler(file, storages).load()
        for key in pickle.load(file):
            storage = storages[key]
            (numel,) = struct.unpack("<q", file.read(8))
            storage.data = np.frombuffer(file.read(numel * storage.dtype.itemsize), dtype=storage.dtype)
    return {name: tensor.array() for name, tensor in checkpoint["model_state"].items()}


def _mel_filters():
    from faster_whisper.feature_extractor import FeatureExtractor

    # librosa.filters.mel (Slaney scale and norm), which resemblyzer's melspectrogram uses.
    return FeatureExtractor.get_mel_filters(SAMPLE_RATE, N_FFT, N_MELS).astype(np.float32)


class VoiceEncoder:
    def __init__(self, weights_path):
        state = load_legacy_state_dict(weights_path)
        self.layers = [
            (
                state[f"lstm.weight_ih_l{k}"].T.astype(np.float32),
                state[f"lstm.weight_hh_l{k}"].T.astype(np.float32),
                (state[f"lstm.bias_ih_l{k}"] + state[f"lstm.bias_hh_l{k}"]).astype(np.float32),
            )
            for k in range(3)
        ]
        self.linear_w = state["linear.weight"].T.astype(np.float32)
        self.linear_b = state["linear.bias"].astype(np.float32)
        self.mel = _mel_filters()
        # librosa's stft: a periodic Hann window, frames centred with zero padding.
        self.window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)

    def mel_frames(self, wav):
        padded = np.pad(wav, N_FFT // 2)
        count = 1 + (len(padded) - N_FFT) // HOP
        frames = np.lib.stride_tricks.as_strided(
            padded, shape=(count, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0])
        )
        power = np.abs(np.fft.rfft(frames * self.window, axis=1)) ** 2
        return (power.astype(np.float32) @ self.mel.T).astype(np.float32)

    def forward(self, mels):
        """(batch, frames, 40) → (batch, 256) L2-normed embeddings."""
        x = mels
        for w_ih, w_hh, bias in self.layers:
            batch, steps, _ = x.shape
            hidden = w_hh.shape[0]
            inputs = x @ w_ih + bias  # every step's input projection at once
            h = np.zeros((batch, hidden), np.float32)
            c = np.zeros((batch, hidden), np.float32)
            out = np.empty((batch, steps, hidden), np.float32)
            for t in range(steps):
                gates = inputs[:, t] + h @ w_hh
                i, f, g, o = np.split(gates, 4, axis=1)  # PyTorch's gate order
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
                out[:, t] = h
            x = out
        raw = np.maximum(h @ self.linear_w + self.linear_b, 0)
        return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-9)

    def embed(self, wav):
        """One utterance's embedding: the normed mean of its 1.6 s partials (embed_utterance)."""
        wav = _normalize_volume(wav)
        n_frames = int(np.ceil((len(wav) + 1) / HOP))
        step = int(np.round((SAMPLE_RATE / PARTIAL_RATE) / HOP))
        starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
        last = starts[-1] * HOP
        if len(starts) > 1 and (len(wav) - last) / (PARTIAL_FRAMES * HOP) < MIN_COVERAGE:
            starts.pop()
        needed = (starts[-1] + PARTIAL_FRAMES) * HOP
        if needed > len(wav):
            wav = np.pad(wav, (0, needed - len(wav)))
        mel = self.mel_frames(wav)
        partials = np.stack([mel[s : s + PARTIAL_FRAMES] for s in starts])
        embeds = self.forward(partials)
        mean = embeds.mean(axis=0)
        return mean / np.linalg.norm(mean)


def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1)


def _normalize_volume(wav):
    rms = np.sqrt(np.mean((wav * 32767) ** 2))
    if rms <= 0:
        return wav
    change = TARGET_DBFS - 20 * np.log10(rms / 32767)
    return wav if change < 0 else wav * (10 ** (change / 20))
