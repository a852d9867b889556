CREATE TABLE `machine_samples` (
	`t` integer PRIMARY KEY NOT NULL,
	`cpu` real NOT NULL,
	`mem` real NOT NULL,
	`workers` integer NOT NULL,
	`running` integer NOT NULL,
	`gpu` real,
	`gpu_mem` real,
	`disk_db` real,
	`disk_root` real,
	`max_cpu` real NOT NULL,
	`max_memory` real NOT NULL,
	`max_workers` integer NOT NULL
);
