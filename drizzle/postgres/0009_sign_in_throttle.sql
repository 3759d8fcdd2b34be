CREATE TABLE "sign_in_throttle" (
	"key" text PRIMARY KEY NOT NULL,
	"count" bigint NOT NULL,
	"since" bigint NOT NULL,
	"wait_ms" bigint NOT NULL,
	"next_at" bigint NOT NULL,
	"last_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "sign_in_throttle_last" ON "sign_in_throttle" USING btree ("last_at");