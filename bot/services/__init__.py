"""services package."""

from bot.services.accounts import (
    AccountNotFound,
    ImportReport,
    ImportValidationError,
    RowError,
    account_snapshot,
    import_account_rows,
    import_accounts_csv,
    load_demo_if_empty,
)

__all__ = [
    "AccountNotFound",
    "ImportReport",
    "ImportValidationError",
    "RowError",
    "account_snapshot",
    "import_account_rows",
    "import_accounts_csv",
    "load_demo_if_empty",
]
