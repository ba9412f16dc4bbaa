"""City staff dashboards: daily roll-ups of voucher events, their reads, API, page and CSV."""
