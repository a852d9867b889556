-- Every committed change to the queue notifies channel 'aipm' (LISTEN/NOTIFY): supervisors and
-- dashboards on every host wake on it, as SQLite's PRAGMA data_version moves on a commit. A
-- statement-level trigger costs one pg_notify per statement; PostgreSQL folds identical
-- notifications of one transaction into one and delivers it at commit (never for a rollback).
-- machine_samples is left out: a sample never changes what a supervisor acts on.
CREATE OR REPLACE FUNCTION aipm_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aipm', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON projects FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON orders FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON tasks FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON task_deps FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON task_files FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON locks FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON runs FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON events FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON supervisors FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON deliveries FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON notify_cursors FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON alarms FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();
