CREATE TABLE "post_versions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"post_id" text NOT NULL,
	"source" text NOT NULL,
	"content_html" text NOT NULL,
	"language" text NOT NULL,
	"summary" text,
	"sensitive" boolean DEFAULT false NOT NULL,
	"attachments" text DEFAULT '[]' NOT NULL,
	"at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "post_versions_post" ON "post_versions" USING btree ("post_id","at");