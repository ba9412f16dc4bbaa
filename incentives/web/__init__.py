"""The resident H5 app (/m/) and the merchant scanner page (/scan/).

Both are static shells: the pages get every piece of data from the public API of docs/api.md
with Bearer tokens kept in the browser; nothing here reads the database.
"""
