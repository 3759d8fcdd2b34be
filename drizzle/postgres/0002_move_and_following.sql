CREATE TABLE "following" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"actor_iri" text NOT NULL,
	"inbox" text NOT NULL,
	"follow_iri" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "profile" ADD COLUMN "also_known_as" text;--> statement-breakpoint
ALTER TABLE "profile" ADD COLUMN "moved_to" text;--> statement-breakpoint
CREATE UNIQUE INDEX "following_actor_iri" ON "following" USING btree ("actor_iri");