CREATE TABLE `supervisors` (
	`project_id` text PRIMARY KEY NOT NULL,
	`pid` integer NOT NULL,
	`proc_start` text,
	`started_at` integer NOT NULL,
	`heartbeat_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `orders` ADD `active` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `orders` ADD `launch_options` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `owner_pid` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `owner_start` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `kill_request` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `cwd` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `spent_attempts` integer DEFAULT 0 NOT NULL;