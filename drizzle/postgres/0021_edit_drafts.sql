CREATE TABLE "edit_drafts" (
	"post_id" text PRIMARY KEY NOT NULL,
	"staff_id" bigint,
	"title" text,
	"source" text NOT NULL,
	"summary" text,
	"sensitive" boolean DEFAULT false NOT NULL,
	"language" text NOT NULL,
	"attachments" text DEFAULT '[]' NOT NULL,
	"updated_at" bigint NOT NULL
);
