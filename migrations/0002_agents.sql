ALTER TABLE `runs` ADD `review` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `session_id` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `num_turns` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `duration_ms` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `cost_usd` real;--> statement-breakpoint
ALTER TABLE `runs` ADD `usage` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `scope_base` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `out_of_scope` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `review_pid` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `review_proc_start` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `review_log_path` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `review_started_at` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `review_cost_usd` real;--> statement-breakpoint
ALTER TABLE `runs` ADD `review_num_turns` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `review_retry_at` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `review_runs` integer DEFAULT 0 NOT NULL;