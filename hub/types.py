"""Column helpers shared by the feature models."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_column(cls: type[enum.Enum]) -> Enum:
    """A portable enum column: stored as its value string, no native type, no migration churn."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
