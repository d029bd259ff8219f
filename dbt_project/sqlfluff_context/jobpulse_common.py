"""jobpulse_common's macros as the models call them (dbt_project/common/macros), for linting."""


def reprocess_dates() -> list[str]:
    return []


def in_reprocess(column: str) -> str:
    return f"{column} between cast('2026-01-01' as date) and cast('2026-01-02' as date)"
