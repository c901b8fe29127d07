// @generated automatically by Diesel CLI.

diesel::table! {
    tickets (id) {
        id -> Int8,
        event_name -> Text,
        seat -> Nullable<Text>,
        reservation_status -> Nullable<Text>,
        reservation_created_at -> Nullable<Timestamptz>,
        reservation_expires_at -> Nullable<Timestamptz>,
        reservation_confirmed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        hold_id -> Nullable<Uuid>,
        hold_token_digest -> Nullable<Bytea>,
    }
}
