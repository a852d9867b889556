ALTER TABLE `orders` ADD `allowed_tools` text;--> statement-breakpoint
ALTER TABLE `orders` ADD `budget_usd` real;--> statement-breakpoint
ALTER TABLE `projects` ADD `allowed_tools` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `agent_hold_until` integer;--> statement-breakpoint
ALTER TABLE `projects` ADD `agent_hold_reason` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `edited_files` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `denials` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `resumed_from` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `progress_label` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `allowed_tools` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `max_turns` integer;--> statement-breakpoint
ALTER TABLE `tasks` ADD `max_budget_usd` real;--> statement-breakpoint
ALTER TABLE `tasks` ADD `transient_since` integer;