"""Risk signals: explainable, per-city patterns that something is wrong (a clerk far above
their own usual pace, redemptions outside an offer's hours, one device serving many
residents in minutes, a merchant's conflict or refusal rate far above its city's, one
resident's vouchers redeemed in two cities too far apart for the time between, bursts of
sign-ups from one address). A beat task computes them (`compute`), city staff look at
them in admin and through the API (`services.change_state`)."""
