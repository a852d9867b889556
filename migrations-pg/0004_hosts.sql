CREATE TABLE "hosts" (
	"host" text PRIMARY KEY NOT NULL,
	"labels" text DEFAULT '[]' NOT NULL,
	"heartbeat_at" bigint NOT NULL,
	"started_at" bigint NOT NULL,
	"cpu_percent" double precision,
	"memory_percent" double precision,
	"version" text
);
--> statement-breakpoint
ALTER TABLE "supervisors" ADD COLUMN "host" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "supervisors" DROP CONSTRAINT "supervisors_pkey";--> statement-breakpoint
ALTER TABLE "supervisors" ADD CONSTRAINT "supervisors_project_id_host_pk" PRIMARY KEY("project_id","host");
-- No aipm_notify trigger on hosts (0003_notify_on_change.sql): a heartbeat changes nothing a
-- supervisor acts on, and one every AIPM_HOST_LEASE_S / 3 from each host would wake every
-- supervisor on every host for nothing. A dead host writes nothing either: recovery is found by
-- each supervisor's own housekeeping timer, never by a notification.
