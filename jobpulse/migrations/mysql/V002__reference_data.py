"""Fill the dimensions with the platform's generated reference data (see ingest.reference_data).

Upserts, so running it again after a crash (or on a database that already has the rows) converges.
"""

from __future__ import annotations

from dataclasses import astuple, fields
from typing import Any

from ingest.reference_data import Campaign, Company, Job, Publisher, reference_data

TABLES = [("company", Company), ("master_publisher", Publisher), ("campaign", Campaign), ("job", Job)]


def apply(connection: Any) -> None:
    data = reference_data()
    rows_of = {"company": data.companies, "master_publisher": data.publishers, "campaign": data.campaigns,
               "job": data.jobs}  # fmt: skip
    cursor = connection.cursor()
    for table, kind in TABLES:
        columns = [field.name for field in fields(kind)]
        updates = ", ".join(f"{column} = VALUES({column})" for column in columns if column != "id")
        statement = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON DUPLICATE KEY UPDATE {updates}"
        )
        cursor.executemany(statement, [astuple(row) for row in rows_of[table]])
    connection.commit()
