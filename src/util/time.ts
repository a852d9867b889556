/** Clock injection: every module takes `now` from its caller instead of reading Date directly. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms == null ? null : new Date(ms).toISOString();
}
