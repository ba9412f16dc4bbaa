"""Enterprise credit of merchants: grades A–D and the seriously-dishonest entities list."""
