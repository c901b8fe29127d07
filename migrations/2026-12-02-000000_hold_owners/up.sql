-- Holds that belong to their buyer: every ticket of a hold carries the hold's id and the
-- SHA-256 digest of its token (never the token itself). Both are NULL exactly when the
-- ticket carries no reservation (Reservation::from_parts).
ALTER TABLE tickets
    ADD COLUMN hold_id UUID,
    ADD COLUMN hold_token_digest BYTEA;

-- Holds placed before this migration had no token issued, so nobody can present one: each
-- gets a hold id of its own and the digest of a random value (two random UUIDs' bytes,
-- from the server's strong random source). Without a token required they still work.
UPDATE tickets
SET hold_id = gen_random_uuid(),
    hold_token_digest = sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))
WHERE reservation_status IS NOT NULL;

ALTER TABLE tickets
    -- `(x IS NULL) = (y IS NULL)` is never NULL, so the CHECK cannot pass by being unknown.
    ADD CONSTRAINT tickets_hold_matches_status CHECK (
        (hold_id IS NULL) = (reservation_status IS NULL)
        AND (hold_token_digest IS NULL) = (reservation_status IS NULL)
    ),
    -- TokenDigest: a SHA-256, 32 bytes.
    ADD CONSTRAINT tickets_hold_token_digest_length CHECK (octet_length(hold_token_digest) = 32);

-- The tickets of a hold (find_hold, apply_to_hold).
CREATE INDEX tickets_hold_id_idx ON tickets (hold_id) WHERE hold_id IS NOT NULL;

-- Best available: an event's never-reserved or expired tickets in id order, a range scan
-- from the lowest free id that skips the sold and held ones. Lapsed holds (TENTATIVE past
-- their expiry, few: the sweeper records them) come from tickets_tentative_expires_at_idx.
-- The literal predicate is what the adapter's query repeats, so every plan can use it.
CREATE INDEX tickets_reservable_event_name_id_idx ON tickets (event_name, id)
    WHERE reservation_status IS NULL OR reservation_status = 'EXPIRED';
