CREATE TABLE "server_samples" (
	"at" bigint PRIMARY KEY NOT NULL,
	"due" bigint NOT NULL,
	"retrying" bigint NOT NULL,
	"delivered" bigint NOT NULL,
	"failed" bigint NOT NULL,
	"workers" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "last_error" text;