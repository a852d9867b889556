CREATE TABLE `hosts` (
	`host` text PRIMARY KEY NOT NULL,
	`labels` text DEFAULT '[]' NOT NULL,
	`heartbeat_at` integer NOT NULL,
	`started_at` integer NOT NULL,
	`cpu_percent` real,
	`memory_percent` real,
	`version` text
);
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_supervisors` (
	`project_id` text NOT NULL,
	`host` text DEFAULT '' NOT NULL,
	`pid` integer NOT NULL,
	`proc_start` text,
	`started_at` integer NOT NULL,
	`heartbeat_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `host`)
);
--> statement-breakpoint
INSERT INTO `__new_supervisors`("project_id", "host", "pid", "proc_start", "started_at", "heartbeat_at") SELECT "project_id", '', "pid", "proc_start", "started_at", "heartbeat_at" FROM `supervisors`;--> statement-breakpoint
DROP TABLE `supervisors`;--> statement-breakpoint
ALTER TABLE `__new_supervisors` RENAME TO `supervisors`;--> statement-breakpoint
PRAGMA foreign_keys=ON;