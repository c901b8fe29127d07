DROP INDEX tickets_reservable_event_name_id_idx;
DROP INDEX tickets_hold_id_idx;
ALTER TABLE tickets
    DROP CONSTRAINT tickets_hold_token_digest_length,
    DROP CONSTRAINT tickets_hold_matches_status,
    DROP COLUMN hold_token_digest,
    DROP COLUMN hold_id;
