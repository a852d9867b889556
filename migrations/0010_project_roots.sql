CREATE TABLE `project_roots` (
	`project_id` text NOT NULL,
	`host` text NOT NULL,
	`root` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `host`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
