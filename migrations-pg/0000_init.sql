CREATE TABLE "alarms" (
	"name" text PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"since" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" serial PRIMARY KEY NOT NULL,
	"notifier" text NOT NULL,
	"event_id" integer NOT NULL,
	"dedupe_key" text NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"owner_pid" integer,
	"owner_start" text,
	"last_error" text,
	"created_at" bigint NOT NULL,
	"finished_at" bigint
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" serial PRIMARY KEY NOT NULL,
	"ts" bigint NOT NULL,
	"project_id" text,
	"order_id" text,
	"task_id" text,
	"attempt" integer,
	"kind" text NOT NULL,
	"data" text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "locks" (
	"project_id" text NOT NULL,
	"task_id" text NOT NULL,
	"path" text NOT NULL,
	"acquired_at" bigint NOT NULL,
	CONSTRAINT "locks_project_id_task_id_path_pk" PRIMARY KEY("project_id","task_id","path")
);
--> statement-breakpoint
CREATE TABLE "machine_samples" (
	"t" bigint PRIMARY KEY NOT NULL,
	"cpu" double precision NOT NULL,
	"mem" double precision NOT NULL,
	"workers" integer NOT NULL,
	"running" integer NOT NULL,
	"gpu" double precision,
	"gpu_mem" double precision,
	"disk_db" double precision,
	"disk_root" double precision,
	"max_cpu" double precision NOT NULL,
	"max_memory" double precision NOT NULL,
	"max_workers" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notify_cursors" (
	"notifier" text PRIMARY KEY NOT NULL,
	"last_event_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"project_id" text NOT NULL,
	"id" text NOT NULL,
	"title" text DEFAULT '' NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"active" boolean DEFAULT false NOT NULL,
	"launch_options" text,
	"created_at" bigint NOT NULL,
	"allowed_tools" text,
	"budget_usd" double precision,
	"preempt" boolean DEFAULT false NOT NULL,
	CONSTRAINT "orders_project_id_id_pk" PRIMARY KEY("project_id","id")
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"root" text NOT NULL,
	"created_at" bigint NOT NULL,
	"allowed_tools" text,
	"agent_hold_until" bigint,
	"agent_hold_reason" text
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" serial PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"task_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"pid" integer,
	"proc_start" text,
	"log_path" text NOT NULL,
	"started_at" bigint NOT NULL,
	"last_output_at" bigint,
	"finished_at" bigint,
	"exit_code" integer,
	"signal" text,
	"outcome" text DEFAULT 'running' NOT NULL,
	"error" text,
	"owner_pid" integer,
	"owner_start" text,
	"kill_request" text,
	"review" boolean DEFAULT false NOT NULL,
	"session_id" text,
	"num_turns" integer,
	"duration_ms" bigint,
	"cost_usd" double precision,
	"usage" text,
	"scope_base" text,
	"out_of_scope" text,
	"review_pid" integer,
	"review_proc_start" text,
	"review_log_path" text,
	"review_started_at" bigint,
	"review_cost_usd" double precision,
	"review_num_turns" integer,
	"review_retry_at" bigint,
	"review_runs" integer DEFAULT 0 NOT NULL,
	"edited_files" text,
	"denials" text,
	"resumed_from" text
);
--> statement-breakpoint
CREATE TABLE "supervisors" (
	"project_id" text PRIMARY KEY NOT NULL,
	"pid" integer NOT NULL,
	"proc_start" text,
	"started_at" bigint NOT NULL,
	"heartbeat_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_deps" (
	"project_id" text NOT NULL,
	"task_id" text NOT NULL,
	"dep_id" text NOT NULL,
	"condition" text DEFAULT 'success' NOT NULL,
	CONSTRAINT "task_deps_project_id_task_id_dep_id_pk" PRIMARY KEY("project_id","task_id","dep_id")
);
--> statement-breakpoint
CREATE TABLE "task_files" (
	"project_id" text NOT NULL,
	"task_id" text NOT NULL,
	"position" integer NOT NULL,
	"path" text NOT NULL,
	CONSTRAINT "task_files_project_id_task_id_position_pk" PRIMARY KEY("project_id","task_id","position")
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"seq" serial PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"id" text NOT NULL,
	"order_id" text NOT NULL,
	"title" text DEFAULT '' NOT NULL,
	"priority" text DEFAULT 'P2' NOT NULL,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"command" text,
	"prompt" text,
	"timeout_s" double precision,
	"max_attempts" integer DEFAULT 3 NOT NULL,
	"model" text,
	"review" boolean NOT NULL,
	"cwd" text,
	"attempt" integer DEFAULT 0 NOT NULL,
	"spent_attempts" integer DEFAULT 0 NOT NULL,
	"retry_at" bigint,
	"pid" integer,
	"exit_code" integer,
	"error" text,
	"failure_kind" text,
	"progress_done" bigint,
	"progress_total" bigint,
	"review_feedback" text,
	"result" text,
	"progress_label" text,
	"allowed_tools" text,
	"max_turns" integer,
	"max_budget_usd" double precision,
	"transient_since" bigint,
	"stall_warn_s" text,
	"stall_kill_s" double precision,
	"skipped_by" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"started_at" bigint,
	"finished_at" bigint
);
--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_notifier_key" ON "deliveries" USING btree ("notifier","dedupe_key");--> statement-breakpoint
CREATE INDEX "deliveries_state" ON "deliveries" USING btree ("state");--> statement-breakpoint
CREATE INDEX "events_project_task" ON "events" USING btree ("project_id","task_id");--> statement-breakpoint
CREATE UNIQUE INDEX "runs_task_attempt" ON "runs" USING btree ("project_id","task_id","attempt");--> statement-breakpoint
CREATE INDEX "runs_outcome" ON "runs" USING btree ("outcome");--> statement-breakpoint
CREATE INDEX "task_deps_dep" ON "task_deps" USING btree ("project_id","dep_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_project_id_unique" ON "tasks" USING btree ("project_id","id");--> statement-breakpoint
CREATE INDEX "tasks_project_order_status" ON "tasks" USING btree ("project_id","order_id","status");--> statement-breakpoint
CREATE INDEX "tasks_project_status" ON "tasks" USING btree ("project_id","status");