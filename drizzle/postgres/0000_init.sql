CREATE TABLE "actor_keys" (
	"algorithm" text PRIMARY KEY NOT NULL,
	"public_jwk" text NOT NULL,
	"private_jwk" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "blocks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"outgoing_id" bigint NOT NULL,
	"post_id" text,
	"inbox" text NOT NULL,
	"host" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" bigint DEFAULT 0 NOT NULL,
	"next_attempt_at" bigint NOT NULL,
	"last_status" bigint,
	"last_error" text,
	"updated_at" bigint NOT NULL,
	"partition" bigint DEFAULT 0 NOT NULL,
	"owner" text,
	"lease_until" bigint
);
--> statement-breakpoint
CREATE TABLE "followers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"actor_iri" text NOT NULL,
	"follow_iri" text,
	"inbox" text NOT NULL,
	"shared_inbox" text,
	"host" text NOT NULL,
	"handle" text,
	"status" text DEFAULT 'accepted' NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instance" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kv" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"expires_at" bigint
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"name" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "media" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"media_type" text NOT NULL,
	"file" text NOT NULL,
	"size" bigint NOT NULL,
	"width" bigint,
	"height" bigint,
	"duration_ms" bigint,
	"blurhash" text,
	"preview_file" text,
	"preview_width" bigint,
	"preview_height" bigint,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outgoing" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"activity_iri" text NOT NULL,
	"kind" text NOT NULL,
	"post_id" text,
	"body" text NOT NULL,
	"pruned_delivered" bigint DEFAULT 0 NOT NULL,
	"pruned_gone" bigint DEFAULT 0 NOT NULL,
	"pruned_failed" bigint DEFAULT 0 NOT NULL,
	"pruned_given_up" bigint DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "posts" (
	"id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"content_html" text NOT NULL,
	"language" text NOT NULL,
	"summary" text,
	"sensitive" boolean DEFAULT false NOT NULL,
	"hashtags" text DEFAULT '[]' NOT NULL,
	"attachments" text DEFAULT '[]' NOT NULL,
	"published_at" bigint NOT NULL,
	"updated_at" bigint,
	"queued_at" bigint,
	"pinned_at" bigint,
	"deleted_at" bigint,
	"boosts" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profile" (
	"id" integer PRIMARY KEY NOT NULL,
	"name" text,
	"summary" text,
	"bot" boolean,
	"fields" text,
	"avatar_media_id" text,
	"header_media_id" text,
	"approve_followers" boolean,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "queue" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"payload" text NOT NULL,
	"ordering_key" text,
	"run_at" bigint NOT NULL,
	"locked_until" bigint,
	"attempts" bigint DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quote_stamps" (
	"id" text PRIMARY KEY NOT NULL,
	"post_id" text NOT NULL,
	"quote_iri" text NOT NULL,
	"actor_iri" text NOT NULL,
	"inbox" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scheduled_posts" (
	"id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"language" text NOT NULL,
	"summary" text,
	"sensitive" boolean DEFAULT false NOT NULL,
	"attachments" text DEFAULT '[]' NOT NULL,
	"publish_at" bigint NOT NULL,
	"time_zone" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "servers" (
	"host" text PRIMARY KEY NOT NULL,
	"failing_since" bigint,
	"failure_days" bigint DEFAULT 0 NOT NULL,
	"last_failure_day" bigint,
	"last_success_at" bigint,
	"probe_at" bigint,
	"signature" text DEFAULT 'cavage' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"csrf_token" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "blocks_kind_value" ON "blocks" USING btree ("kind","value");--> statement-breakpoint
CREATE INDEX "deliveries_due" ON "deliveries" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "deliveries_partition" ON "deliveries" USING btree ("partition","status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "deliveries_outgoing" ON "deliveries" USING btree ("outgoing_id","status");--> statement-breakpoint
CREATE INDEX "deliveries_order" ON "deliveries" USING btree ("inbox","post_id","id");--> statement-breakpoint
CREATE INDEX "deliveries_host" ON "deliveries" USING btree ("host","status");--> statement-breakpoint
CREATE UNIQUE INDEX "followers_actor_iri" ON "followers" USING btree ("actor_iri");--> statement-breakpoint
CREATE INDEX "followers_host" ON "followers" USING btree ("host");--> statement-breakpoint
CREATE INDEX "followers_status" ON "followers" USING btree ("status");--> statement-breakpoint
CREATE INDEX "kv_expires" ON "kv" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "outgoing_post" ON "outgoing" USING btree ("post_id");--> statement-breakpoint
CREATE INDEX "posts_published" ON "posts" USING btree ("published_at","id");--> statement-breakpoint
CREATE INDEX "posts_unqueued" ON "posts" USING btree ("published_at") WHERE "posts"."queued_at" IS NULL;--> statement-breakpoint
CREATE INDEX "queue_ready" ON "queue" USING btree ("run_at","id");--> statement-breakpoint
CREATE INDEX "queue_ordering" ON "queue" USING btree ("ordering_key");--> statement-breakpoint
CREATE INDEX "quote_stamps_post" ON "quote_stamps" USING btree ("post_id");--> statement-breakpoint
CREATE UNIQUE INDEX "quote_stamps_quote" ON "quote_stamps" USING btree ("post_id","quote_iri");--> statement-breakpoint
CREATE INDEX "scheduled_posts_due" ON "scheduled_posts" USING btree ("publish_at");--> statement-breakpoint
CREATE INDEX "sessions_expires" ON "sessions" USING btree ("expires_at");