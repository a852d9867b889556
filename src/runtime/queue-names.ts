/** Where `aipm enqueue` puts its commands. */
export const QUEUE_PROJECT = "default";
export const QUEUE_ORDER = "QUEUE";
