"""Model fields shared by the apps."""

from typing import Any

from django.db import models


def loose_fk(
    to: str, verbose_name: Any, *, on_delete: Any = models.DO_NOTHING, **kwargs: Any
) -> models.ForeignKey:
    """A key a hot path's insert writes: no database constraint (its check share-locks the
    parent row on every insert, so that the inserts of one merchant, offer or city queue on
    it) and no index of its own (every index is written by each insert: the ones the reads
    need are declared in the model's Meta). Issue 27, point 3."""
    return models.ForeignKey(
        to,
        on_delete=on_delete,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=verbose_name,
        **kwargs,
    )
