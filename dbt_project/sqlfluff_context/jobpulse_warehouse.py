"""jobpulse_warehouse's macros as its models call them (dbt_project/warehouse/macros), for linting."""


def lakehouse_mart(name: str) -> str:
    return f"lakehouse.{name}"
