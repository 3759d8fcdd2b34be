CREATE TABLE "authorizations" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"post_id" text,
	"interacting_iri" text NOT NULL,
	"actor_iri" text NOT NULL,
	"inbox" text NOT NULL,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint
);
--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "likes" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "authorizations_interacting" ON "authorizations" USING btree ("kind","interacting_iri");--> statement-breakpoint
CREATE INDEX "authorizations_post" ON "authorizations" USING btree ("post_id");