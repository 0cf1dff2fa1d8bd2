/**
 * A result's id: its segment and the model that scored it, so a replay with a new model gives new
 * ids and the same model the same one (feedback and the CSV results file refer to it).
 */
export function resultIdOf(segmentId: string, model: { name: string; version: string }): string {
  return `${segmentId}@${model.name}:${model.version}`;
}
