/**
 * A claiming process for tests/pg (run with `node --import tsx`): claims jobs
 * from the `jobs` table of `url` through the synchronous client until none is
 * left, one statement per claim (FOR UPDATE SKIP LOCKED), and prints
 * `{ claimed, ms }`. Waits for a line on stdin before it starts, so that
 * several start at once.
 *
 *   node --import tsx tests/pg/claimer.ts <url> <owner>
 */
import { SyncPgClient } from "../../src/store/pg/sync-client.js";

export const CLAIM_ONE = `
  WITH next AS (SELECT seq FROM jobs WHERE status = 'QUEUED' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
  UPDATE jobs SET status = 'RUNNING', owner = $1 FROM next WHERE jobs.seq = next.seq AND jobs.status = 'QUEUED'
  RETURNING jobs.seq`;

const [url, owner] = process.argv.slice(2);
if (url && owner) {
  const db = new SyncPgClient(url);
  db.query("SELECT 1"); // connected before the start line
  process.stdout.write("ready\n");
  process.stdin.once("data", () => {
    const t = performance.now();
    let claimed = 0;
    while (db.query(CLAIM_ONE, [owner]).length > 0) claimed++;
    const ms = performance.now() - t;
    db.close();
    process.stdout.write(`${JSON.stringify({ claimed, ms })}\n`);
    process.exit(0);
  });
}
