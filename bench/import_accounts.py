"""Time the accounts import: N generated valid rows into a fresh SQLite database (or another URL).

    .venv/bin/python bench/import_accounts.py [--rows 100000] [--database-url URL] [--keep]

Runs the import twice: the first run creates everything, the second is the idempotent re-import
(all rows matched, nothing changed).
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bot.db import make_engine, make_session_factory, migrate
from bot.services.accounts import ImportReport, import_accounts_csv

COLUMNS = [
    "account_ref", "name", "phone", "language", "timezone", "currency", "amount_due", "due_date",
    "birth_date", "telegram_chat_id", "email", "segment",
]  # fmt: skip
FIRST = ["Budi", "Siti", "Agus", "Dewi", "Made", "Yohanes", "Rina", "Andi", "Putri", "Rudi", "Sarah"]
LAST = ["Santoso", "Rahayu", "Wirawan", "Wenda", "Lestari", "Pratama", "Hidayat", "Saputra", "Thompson"]
ZONES = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Asia/Pontianak"]
SEGMENTS = ["", "able_willing", "able_unwilling", "unable_willing", "unable_unwilling"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """About 1.25 accounts per debtor, so some debtors hold several accounts."""
    rng = random.Random(seed)
    debtors = max(1, int(rows / 1.25))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(rows):
            d = i if i < debtors else rng.randrange(debtors)
            person = random.Random(d)
            phone = f"+62812{d:08d}" if person.random() < 0.5 else f"0813{d:08d}"
            writer.writerow([
                f"BENCH-{i:07d}",
                f"{person.choice(FIRST)} {person.choice(LAST)}",
                phone,
                "en" if d % 10 == 0 else "id",
                person.choice(ZONES),
                "IDR",
                f"{rng.randrange(100_000, 50_000_000)}.{rng.randrange(100):02d}" if i % 2 else
                str(rng.randrange(100_000, 50_000_000)),
                (date(2026, 10, 1) + timedelta(days=rng.randrange(120))).isoformat(),
                (date(1960, 1, 1) + timedelta(days=person.randrange(15_000))).isoformat(),
                str(500_000_000 + d) if d % 4 == 0 else "",
                f"debtor{d}@example.com" if d % 3 == 0 else "",
                rng.choice(SEGMENTS),
            ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp directory")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tagih-bench-"))
    csv_path = workdir / "accounts.csv"
    started = time.perf_counter()
    generate(csv_path, args.rows)
    print(f"generated {args.rows} rows in {time.perf_counter() - started:.2f}s -> {csv_path}")

    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        for label in ("first import", "re-import"):
            started = time.perf_counter()
            report: ImportReport = import_accounts_csv(factory, csv_path, actor="bench")
            seconds = time.perf_counter() - started
            print(
                f"{label:>12}: {seconds:6.2f}s  {args.rows / seconds:10,.0f} rows/s  "
                f"created={report.created} updated={report.updated} skipped={report.skipped} "
                f"errors={len(report.errors)}  [{engine.dialect.name}]"
            )
    finally:
        engine.dispose()
        if not args.keep:
            for item in workdir.iterdir():
                item.unlink()
            workdir.rmdir()


if __name__ == "__main__":
    main()
