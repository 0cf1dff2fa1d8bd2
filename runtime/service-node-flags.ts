/**
 * Node flags of the services that stream records through Kafka (the stages and the sinks), one
 * list for every way they are started: the local supervisor passes them on the command line, the
 * Kubernetes manifests and docker-compose.yml in NODE_OPTIONS.
 *
 * `--max-semi-space-size=64`: a stage allocates each batch's fetched buffers, decoded records and
 * encoded outputs, nearly all dead by the batch's commit. V8's default semi-space (16 MiB on 64-bit,
 * Node's `--max-semi-space-size` docs) scavenged them several times a batch and promoted part of
 * them. Young generation is three semi-spaces, so this allows up to 192 MiB of it (48 MiB by
 * default); V8 grows it only under allocation pressure. Measured with `npm run bench -- runtime
 * --only b` (100,000 rows, steady state, two rounds, 2026-12-05): the three stages' CPU a row 140 and
 * 137 µs → 131 and 127, the whole run's 181 and 175 → 165 and 160; 32 MiB gave 149 and 135.
 */
export const STREAM_SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** The name a flag sets (`--max-semi-space-size` of `--max-semi-space-size=64`). */
const flagName = (flag: string) => flag.split('=')[0]!.replaceAll('_', '-');

/**
 * `flags` less those the operator already set for this process, in NODE_OPTIONS or on its own
 * command line: theirs win, as they would if ours were not there.
 */
export function flagsNotSetBy(
  flags: readonly string[],
  operator: { nodeOptions?: string; execArgv?: readonly string[] } = {
    nodeOptions: process.env.NODE_OPTIONS,
    execArgv: process.execArgv,
  },
): string[] {
  const set = new Set(
    [...(operator.nodeOptions ?? '').split(/\s+/), ...(operator.execArgv ?? [])]
      .filter((flag) => flag.startsWith('--'))
      .map(flagName),
  );
  return flags.filter((flag) => !set.has(flagName(flag)));
}
