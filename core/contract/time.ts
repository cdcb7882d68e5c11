/** A day in milliseconds: validity, renewal and rotation periods are all counted in days. */
export const DAY_MS = 86_400_000;
