CREATE TABLE "email_subscribers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"address" text,
	"address_hash" text NOT NULL,
	"domain" text,
	"partition" integer DEFAULT 0 NOT NULL,
	"status" text NOT NULL,
	"cadence" text DEFAULT 'each' NOT NULL,
	"nonce" text,
	"confirm_sent_at" bigint,
	"source" text NOT NULL,
	"created_at" bigint NOT NULL,
	"confirmed_at" bigint,
	"ended_at" bigint,
	"sent_through" bigint DEFAULT 0 NOT NULL,
	"due_at" bigint,
	"attempts" bigint DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "push_subscriptions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"endpoint" text NOT NULL,
	"p256dh" text NOT NULL,
	"auth" text NOT NULL,
	"host" text NOT NULL,
	"partition" integer DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL,
	"sent_through" bigint DEFAULT 0 NOT NULL,
	"due_at" bigint,
	"attempts" bigint DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "reader_fanouts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"post_id" text NOT NULL,
	"channel" text NOT NULL,
	"published_at" bigint NOT NULL,
	"after_id" bigint DEFAULT 0 NOT NULL,
	"queued_all" boolean DEFAULT false NOT NULL,
	"queued" bigint DEFAULT 0 NOT NULL,
	"sent" bigint DEFAULT 0 NOT NULL,
	"failed" bigint DEFAULT 0 NOT NULL,
	"suppressed" bigint DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reader_keys" (
	"name" text PRIMARY KEY NOT NULL,
	"public_value" text DEFAULT '' NOT NULL,
	"secret" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "email_subscribers_hash" ON "email_subscribers" USING btree ("address_hash");--> statement-breakpoint
CREATE INDEX "email_subscribers_due" ON "email_subscribers" USING btree ("due_at","id");--> statement-breakpoint
CREATE INDEX "email_subscribers_status" ON "email_subscribers" USING btree ("status","cadence","id");--> statement-breakpoint
CREATE UNIQUE INDEX "push_subscriptions_endpoint" ON "push_subscriptions" USING btree ("endpoint");--> statement-breakpoint
CREATE INDEX "push_subscriptions_due" ON "push_subscriptions" USING btree ("due_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "reader_fanouts_post" ON "reader_fanouts" USING btree ("post_id","channel");--> statement-breakpoint
CREATE INDEX "reader_fanouts_open" ON "reader_fanouts" USING btree ("queued_all","id");--> statement-breakpoint
CREATE INDEX "posts_queued" ON "posts" USING btree ("queued_at");