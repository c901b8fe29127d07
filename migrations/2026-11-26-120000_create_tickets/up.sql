-- Tickets and the state of their reservation. The CHECK constraints mirror the domain's
-- values (crates/domain) so that the database itself refuses a row no command could write.
CREATE TABLE tickets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_name TEXT NOT NULL,
    seat TEXT,
    -- NULL: never reserved (or released); otherwise TENTATIVE, CONFIRMED or EXPIRED.
    reservation_status TEXT,
    reservation_created_at TIMESTAMPTZ,
    reservation_expires_at TIMESTAMPTZ,
    reservation_confirmed_at TIMESTAMPTZ,
    -- When the row itself was inserted and last written (database clock).
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),

    -- EventName and Seat: 1..=200 and 1..=50 characters, not blank. The domain trims
    -- Unicode whitespace; ASCII whitespace is what a hand-written row realistically holds.
    CONSTRAINT tickets_event_name_length CHECK (char_length(event_name) BETWEEN 1 AND 200),
    CONSTRAINT tickets_event_name_not_blank CHECK (btrim(event_name, E' \t\n\r\f\v') <> ''),
    CONSTRAINT tickets_seat_length CHECK (char_length(seat) BETWEEN 1 AND 50),
    CONSTRAINT tickets_seat_not_blank CHECK (btrim(seat, E' \t\n\r\f\v') <> ''),

    CONSTRAINT tickets_reservation_status_known
        CHECK (reservation_status IN ('TENTATIVE', 'CONFIRMED', 'EXPIRED')),
    -- Each status carries exactly its timestamps (Reservation::from_parts). A CASE, not
    -- ORs of ANDs: a CHECK passes on NULL, and `NULL IN (...)` is NULL.
    CONSTRAINT tickets_reservation_timestamps_match_status CHECK (
        CASE
            WHEN reservation_status IS NULL THEN
                num_nonnulls(reservation_created_at, reservation_expires_at,
                             reservation_confirmed_at) = 0
            WHEN reservation_status = 'CONFIRMED' THEN
                num_nulls(reservation_created_at, reservation_expires_at,
                          reservation_confirmed_at) = 0
            ELSE
                reservation_created_at IS NOT NULL
                AND reservation_expires_at IS NOT NULL
                AND reservation_confirmed_at IS NULL
        END
    ),
    -- Hold::new: a hold expires after it starts.
    CONSTRAINT tickets_reservation_expires_after_created
        CHECK (reservation_created_at < reservation_expires_at),
    -- Reservation::confirmed: a sale is confirmed while its hold is active.
    CONSTRAINT tickets_reservation_confirmed_within_hold
        CHECK (reservation_confirmed_at >= reservation_created_at
               AND reservation_confirmed_at < reservation_expires_at)
);

-- The expiry sweeper looks for tentative holds past their expiry.
CREATE INDEX tickets_tentative_expires_at_idx
    ON tickets (reservation_expires_at)
    WHERE reservation_status = 'TENTATIVE';
