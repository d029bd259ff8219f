"""What the dbt models call beyond their own project's macros, for sqlfluff's Jinja templater (`make lint`):
dbt's `env_var`, and the macros of the local packages, which the templater cannot load under their package's
name. For linting only: each renders plausible SQL of the right shape, not the macro's logic.
"""


def env_var(name: str, default: str = "") -> str:
    return default or name
