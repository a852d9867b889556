ALTER TABLE `orders` ADD `preempt` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `task_deps` ADD `condition` text DEFAULT 'success' NOT NULL;--> statement-breakpoint
ALTER TABLE `tasks` ADD `stall_warn_s` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `stall_kill_s` real;--> statement-breakpoint
ALTER TABLE `tasks` ADD `skipped_by` text;