from __future__ import annotations

import pytest

from jobpulse.stack.mariadb import sql_identifier, sql_literal
from jobpulse.stack.process import ServiceError


@pytest.mark.parametrize(
    ("value", "literal"),
    [("plain", "'plain'"), ("it's", "'it''s'"), ("back\\slash", "'back\\\\slash'"), ("", "''")],
)
def test_sql_literal_escapes_quotes_and_backslashes(value: str, literal: str):
    assert sql_literal(value) == literal


@pytest.mark.parametrize("name", ["bad-name", "x`; DROP DATABASE y", "", "a" * 33])
def test_account_and_database_names_must_be_plain(name: str):
    with pytest.raises(ServiceError):
        sql_identifier(name)
