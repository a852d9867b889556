CREATE TABLE `alarms` (
	`name` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`since` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`notifier` text NOT NULL,
	`event_id` integer NOT NULL,
	`dedupe_key` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`owner_pid` integer,
	`owner_start` text,
	`last_error` text,
	`created_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_notifier_key` ON `deliveries` (`notifier`,`dedupe_key`);--> statement-breakpoint
CREATE INDEX `deliveries_state` ON `deliveries` (`state`);--> statement-breakpoint
CREATE TABLE `notify_cursors` (
	`notifier` text PRIMARY KEY NOT NULL,
	`last_event_id` integer NOT NULL
);
