CREATE TABLE "relays" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"style" text NOT NULL,
	"actor_iri" text,
	"inbox" text NOT NULL,
	"follow_iri" text NOT NULL,
	"status" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "relays_url" ON "relays" USING btree ("url");--> statement-breakpoint
CREATE UNIQUE INDEX "relays_follow" ON "relays" USING btree ("follow_iri");