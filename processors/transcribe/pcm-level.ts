/** Root-mean-square level of 16-bit little-endian PCM, in [0, 1]: how the stage tells silence. */
export function pcmLevel(pcm: Buffer): number {
  const samples = Math.floor(pcm.length / 2);
  if (samples === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples * 2; i += 2) {
    const sample = pcm.readInt16LE(i) / 32768;
    sum += sample * sample;
  }
  return Math.sqrt(sum / samples);
}
