-- pgbench's ceiling for scripts/bench.sh: the statement the PostgreSQL adapter sends to
-- place a hold (crates/postgres/src/repository.rs, guarded_write with Write::StartHold),
-- with the same bound values as a reservation (`-D` in bench.sh): the hold's id and token
-- digest are fixed values here (pgbench binds the same text each time). pgbench cannot
-- bind NULL, so `= NULL` stands where the adapter binds one; where the guard ignores a
-- value (no owner to check, no start to bound: :anyone and :any_start are true) any value
-- does. tests/round_trips.rs checks that this is, parameter for parameter, the SQL the
-- adapter prepares.
\set id random(:first, :last)
UPDATE "tickets" SET "reservation_status" = :tentative, "reservation_created_at" = :now,
  "reservation_expires_at" = :expires, "reservation_confirmed_at" = NULL,
  "hold_id" = :hold_id, "hold_token_digest" = :digest, "updated_at" = CURRENT_TIMESTAMP
WHERE (("tickets"."id" = :id) AND (((((((:unreserved AND ("tickets"."reservation_status" IS NULL))
  OR (:held AND (("tickets"."reservation_status" = :tentative)
  AND ("tickets"."reservation_expires_at" > :now))))
  OR (:lapsed AND (("tickets"."reservation_status" = :tentative)
  AND ("tickets"."reservation_expires_at" <= :now))))
  OR (:expired AND ("tickets"."reservation_status" = :expired_status)))
  OR (:confirmed AND ("tickets"."reservation_status" = :confirmed_status)))
  AND ((:anyone OR ("tickets"."hold_token_digest" IS NULL)) OR ("tickets"."hold_token_digest" = :digest)))
  AND ((:any_start OR ("tickets"."reservation_created_at" IS NULL)) OR ("tickets"."reservation_created_at" >= :now))))
RETURNING "tickets"."id", "tickets"."event_name", "tickets"."seat",
  "tickets"."reservation_status", "tickets"."reservation_created_at",
  "tickets"."reservation_expires_at", "tickets"."reservation_confirmed_at",
  "tickets"."hold_id", "tickets"."hold_token_digest";
