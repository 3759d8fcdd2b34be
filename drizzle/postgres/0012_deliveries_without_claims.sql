ALTER TABLE "deliveries" DROP COLUMN "owner";--> statement-breakpoint
ALTER TABLE "deliveries" DROP COLUMN "lease_until";--> statement-breakpoint
ALTER TABLE "outgoing" DROP COLUMN "pruned_delivered";