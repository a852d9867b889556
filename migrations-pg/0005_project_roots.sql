CREATE TABLE "project_roots" (
	"project_id" text NOT NULL,
	"host" text NOT NULL,
	"root" text NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "project_roots_project_id_host_pk" PRIMARY KEY("project_id","host")
);
--> statement-breakpoint
ALTER TABLE "project_roots" ADD CONSTRAINT "project_roots_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE TRIGGER aipm_notify AFTER INSERT OR UPDATE OR DELETE ON project_roots FOR EACH STATEMENT EXECUTE FUNCTION aipm_notify_change();