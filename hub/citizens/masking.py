"""Masking of personal data (DESIGN §5): what everyone but the allowed viewers sees."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """138****5678: keep the first three and the last four digits."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(id_number: str | None) -> str | None:
    """Keep the first and last four characters of an ID number."""
    if not id_number:
        return id_number
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def mask_account(account_id: str | None) -> str | None:
    """A channel account id (openid, uid): keep a short prefix only."""
    if not account_id:
        return account_id
    return account_id[:3] + "****"


def mask_name(name: str | None) -> str | None:
    """王女士 stays; 王小明 → 王**: the surname is enough to address the citizen."""
    if not name or name.endswith(("女士", "先生")) or name in {"匿名", "市民"}:
        return name
    return name[0] + "*" * (len(name) - 1)
