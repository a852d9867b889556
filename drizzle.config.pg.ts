import { defineConfig } from "drizzle-kit";

// The PostgreSQL twin of drizzle.config.ts: `npx drizzle-kit generate --config drizzle.config.pg.ts`
// writes a new SQL migration into migrations-pg/ from src/store/pg/schema.ts (kept equal to
// src/store/schema.ts by tests/pg/schema-parity.test.ts). Append-only, like migrations/.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/pg/schema.ts",
  out: "./migrations-pg",
});
