"""services package."""

from bot.services.accounts import (
    AccountNotFound,
    ImportReport,
    ImportValidationError,
    account_snapshot,
    import_account_rows,
    import_accounts_csv,
    load_demo_if_empty,
)
from bot.services.payments import (
    InvalidPayment,
    PaymentConflict,
    PaymentImportReport,
    PaymentResult,
    apply_payment,
    import_payments_csv,
    record_payment,
)

__all__ = [
    "AccountNotFound",
    "ImportReport",
    "ImportValidationError",
    "InvalidPayment",
    "PaymentConflict",
    "PaymentImportReport",
    "PaymentResult",
    "account_snapshot",
    "apply_payment",
    "import_account_rows",
    "import_accounts_csv",
    "import_payments_csv",
    "load_demo_if_empty",
    "record_payment",
]
