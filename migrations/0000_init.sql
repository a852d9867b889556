CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ts` integer NOT NULL,
	`project_id` text,
	`order_id` text,
	`task_id` text,
	`attempt` integer,
	`kind` text NOT NULL,
	`data` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_project_task` ON `events` (`project_id`,`task_id`);--> statement-breakpoint
CREATE TABLE `locks` (
	`project_id` text NOT NULL,
	`task_id` text NOT NULL,
	`path` text NOT NULL,
	`acquired_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `task_id`, `path`)
);
--> statement-breakpoint
CREATE TABLE `orders` (
	`project_id` text NOT NULL,
	`id` text NOT NULL,
	`title` text DEFAULT '' NOT NULL,
	`paused` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `id`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`root` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`task_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`pid` integer,
	`proc_start` text,
	`log_path` text NOT NULL,
	`started_at` integer NOT NULL,
	`last_output_at` integer,
	`finished_at` integer,
	`exit_code` integer,
	`signal` text,
	`outcome` text DEFAULT 'running' NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runs_task_attempt` ON `runs` (`project_id`,`task_id`,`attempt`);--> statement-breakpoint
CREATE INDEX `runs_outcome` ON `runs` (`outcome`);--> statement-breakpoint
CREATE TABLE `task_deps` (
	`project_id` text NOT NULL,
	`task_id` text NOT NULL,
	`dep_id` text NOT NULL,
	PRIMARY KEY(`project_id`, `task_id`, `dep_id`)
);
--> statement-breakpoint
CREATE INDEX `task_deps_dep` ON `task_deps` (`project_id`,`dep_id`);--> statement-breakpoint
CREATE TABLE `task_files` (
	`project_id` text NOT NULL,
	`task_id` text NOT NULL,
	`position` integer NOT NULL,
	`path` text NOT NULL,
	PRIMARY KEY(`project_id`, `task_id`, `position`)
);
--> statement-breakpoint
CREATE TABLE `tasks` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`id` text NOT NULL,
	`order_id` text NOT NULL,
	`title` text DEFAULT '' NOT NULL,
	`priority` text DEFAULT 'P2' NOT NULL,
	`status` text DEFAULT 'QUEUED' NOT NULL,
	`command` text,
	`prompt` text,
	`timeout_s` real,
	`max_attempts` integer DEFAULT 3 NOT NULL,
	`model` text,
	`review` integer NOT NULL,
	`attempt` integer DEFAULT 0 NOT NULL,
	`retry_at` integer,
	`pid` integer,
	`exit_code` integer,
	`error` text,
	`failure_kind` text,
	`progress_done` integer,
	`progress_total` integer,
	`review_feedback` text,
	`result` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_project_id_unique` ON `tasks` (`project_id`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_project_order_status` ON `tasks` (`project_id`,`order_id`,`status`);--> statement-breakpoint
CREATE INDEX `tasks_project_status` ON `tasks` (`project_id`,`status`);