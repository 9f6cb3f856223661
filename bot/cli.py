"""The ``tagih`` command line: serve, train, import and inspect accounts, manage the database."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings, get_settings


def _session_factory(settings: Settings):
    from bot.db.session import make_engine, make_session_factory, migrate

    migrate(settings.database_url)
    return make_session_factory(make_engine(settings.database_url))


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from bot.dialogue.model import TrainingError, train

    try:
        train(rasa_bin=settings.rasa_bin, models_dir=settings.models_dir, force=args.force)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.session import migrate

    migrate(settings.database_url)
    print(f"Database is at the latest schema: {settings.database_url}")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.accounts import load_demo_if_empty

    loaded = load_demo_if_empty(_session_factory(settings))
    print(f"Loaded {loaded} demo accounts." if loaded else "Database already has accounts; demo data not loaded.")
    return 0


def cmd_import_accounts(args: argparse.Namespace, settings: Settings) -> int:
    from bot.imports import ImportValidationError
    from bot.services.accounts import import_accounts_csv

    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    try:
        report = import_accounts_csv(_session_factory(settings), path, skip_invalid=args.skip_invalid)
    except ImportValidationError as exc:
        for error in exc.errors:
            print(f"{path}:{error.line}: {error.field}: {error.message}", file=sys.stderr)
        print(
            f"error: {len(exc.errors)} invalid row(s); nothing was imported "
            "(use --skip-invalid to import the valid rows)",
            file=sys.stderr,
        )
        return 1
    for error in report.errors:
        print(f"{path}:{error.line}: {error.field}: {error.message} (skipped)", file=sys.stderr)
    print(f"Imported {path}: {report.created} created, {report.updated} updated, {report.skipped} skipped.")
    return 0


def cmd_import_payments(args: argparse.Namespace, settings: Settings) -> int:
    from bot.imports import ImportValidationError
    from bot.services.payments import import_payments_csv

    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    try:
        report = import_payments_csv(_session_factory(settings), path, skip_invalid=args.skip_invalid)
    except ImportValidationError as exc:
        for error in exc.errors:
            print(f"{path}:{error.line}: {error.field}: {error.message}", file=sys.stderr)
        print(
            f"error: {len({e.line for e in exc.errors})} invalid row(s); nothing was imported "
            "(use --skip-invalid to import the valid rows)",
            file=sys.stderr,
        )
        return 1
    for error in report.errors:
        print(f"{path}:{error.line}: {error.field}: {error.message} (skipped)", file=sys.stderr)
    print(
        f"Imported {path}: {report.created} created, {report.duplicates} duplicates (already recorded), "
        f"{report.skipped} skipped."
    )
    return 0


def cmd_accounts_show(args: argparse.Namespace, settings: Settings) -> int:
    from bot.schemas.accounts import AccountSnapshotOut
    from bot.services.accounts import AccountNotFound, account_snapshot

    factory = _session_factory(settings)
    with factory() as session:
        try:
            snapshot = AccountSnapshotOut.model_validate(account_snapshot(session, args.ref))
        except AccountNotFound:
            print(f"error: no account with ref {args.ref!r}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(snapshot.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        debtor = snapshot.debtor
        print(f"{snapshot.ref}  {debtor.name}  {debtor.phone or '-'}")
        print(
            f"  balance {snapshot.balance} {snapshot.currency}, due {snapshot.due_date}, "
            f"{snapshot.days_past_due} days past due, status {snapshot.status}, "
            f"segment {snapshot.segment or '-'}"
        )
        for key in ("promises", "plans", "payments", "claims", "handoffs", "opt_outs"):
            print(f"  {key}: {len(getattr(snapshot, key))}")
    return 0


def rasa_server_for(settings: Settings, model: Path, log_file: Path | None = None):
    """The Rasa server ``tagih serve`` runs: on ``TAGIH_RASA_HOST`` (loopback unless set), whatever
    ``TAGIH_HOST`` the app listens on, with the generated or configured secrets."""
    from bot.dialogue.rasa_server import RasaServer

    return RasaServer(
        rasa_bin=settings.rasa_bin,
        model=model,
        host=settings.rasa_host,
        port=settings.rasa_port,
        action_url=settings.action_endpoint_url,
        action_token=settings.secret("action_token"),
        rasa_token=settings.secret("rasa_token"),
        tracker_db=settings.rasa_tracker_db,
        log_file=log_file,
    )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from bot.db.session import migrate
    from bot.dialogue.rasa_server import RasaServerError
    from bot.modelops.activation import startup_model
    from bot.web.app import create_app

    migrate(settings.database_url)
    if not args.no_demo:
        from bot.db.session import make_engine, make_session_factory
        from bot.services.accounts import load_demo_if_empty

        loaded = load_demo_if_empty(make_session_factory(make_engine(settings.database_url)))
        if loaded:
            print(f"Loaded {loaded} demo accounts (see bot/demo/README.md).")
    # the model last activated in the admin editor, else the one for nlu/ as it is, else the newest
    model = startup_model(_session_factory(settings), settings.models_dir)
    if model is None:
        print("error: no trained model in nlu/models; run 'tagih train' (or 'make run')", file=sys.stderr)
        return 1
    if "rasa_url" not in settings.model_fields_set:
        settings = settings.model_copy(update={"rasa_url": f"http://{settings.rasa_host}:{settings.rasa_port}"})
    log_file = PROJECT_ROOT / "var" / "rasa.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    rasa = rasa_server_for(settings, model, log_file)
    print(f"Starting Rasa with {model.name} (log: {log_file}) ...", flush=True)
    rasa.start()
    app_url = f"http://{settings.host}:{settings.port}"

    def announce() -> None:
        try:
            rasa.wait_ready()
        except RasaServerError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return
        channels = ["web chat"]
        if settings.whatsapp_access_token is not None:
            channels.append(f"WhatsApp (webhook {app_url}/webhooks/whatsapp)")
        if settings.telegram_bot_token is not None:
            channels.append("Telegram (polling)" if polling else "Telegram (webhook)")
        print(
            f"\nTagih is ready ({', '.join(channels)}).\n  Web chat:  {app_url}/chat\n  Console:   {app_url}/console"
            f" (admin editor: {app_url}/admin; create users with 'tagih users create')\n  API docs:  {app_url}/docs\n"
            f"  Rasa:      {settings.rasa_url}\nPress Ctrl-C to stop.\n",
            flush=True,
        )

    polling = telegram_polling_wanted(settings)
    threading.Thread(target=announce, daemon=True).start()
    try:
        uvicorn.run(
            create_app(settings, telegram_polling=polling),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            ws="none",
        )
    finally:
        print("Stopping Rasa ...", flush=True)
        rasa.stop()
    return 0


def telegram_polling_wanted(settings: Settings) -> bool:
    """Long polling for local development: a bot token but no public URL for Telegram to call."""
    return settings.telegram_bot_token is not None and not settings.public_url


def cmd_telegram_set_webhook(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from channels.base import ChannelError
    from channels.telegram import TelegramChannel, TelegramConfig

    config = TelegramConfig.from_settings(settings)
    if config is None:
        print("error: TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    if settings.telegram_webhook_secret is None:
        print("error: TELEGRAM_WEBHOOK_SECRET must be set so the webhook can be authenticated", file=sys.stderr)
        return 2
    if not args.url.startswith("https://") and not args.allow_http:
        print("error: Telegram only delivers to https:// URLs (use --allow-http for a local fake)", file=sys.stderr)
        return 2

    async def run() -> None:
        channel = TelegramChannel(config)
        try:
            await channel.set_webhook(args.url)
        finally:
            await channel.aclose()

    try:
        asyncio.run(run())
    except ChannelError as exc:
        print(f"error: Telegram refused the webhook: {exc}", file=sys.stderr)
        return 1
    print(f"Telegram webhook set to {args.url}")
    return 0


def _instant(text: str) -> datetime:
    """``--now``: an ISO 8601 instant; one without a UTC offset is refused (it would be ambiguous)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a UTC offset, e.g. {text}+07:00 or {text}Z")
    return value.astimezone(timezone.utc)


def cmd_nudges_plan(args: argparse.Namespace, settings: Settings) -> int:
    from bot.outreach.gate import contact_profile
    from bot.outreach.preview import format_preview, preview
    from bot.web.app import build_channels

    factory = _session_factory(settings)
    channels = list(build_channels(settings))
    with factory() as session:
        profile = contact_profile(session)
    result = preview(factory, now=args.now, profile=profile, channels=channels)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else format_preview(result))
    return 0


def cmd_nudges_run(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.dialogue.rasa_client import RasaClient
    from bot.dialogue.responses import ResponseCatalogue
    from bot.messaging.runtime import ChannelRuntime
    from bot.outreach.dispatch import DispatchReport, build_dispatcher
    from bot.outreach.planner import PlanReport, run_plan
    from bot.web.app import DOMAIN_FILE, build_channels

    factory = _session_factory(settings)
    channels = build_channels(settings)
    if not channels:
        print("error: no WhatsApp or Telegram credentials configured: nothing can be sent", file=sys.stderr)
        return 2

    async def run() -> tuple[PlanReport, DispatchReport]:
        rasa = RasaClient(settings.rasa_url, token=settings.secret("rasa_token"), timeout=settings.rasa_timeout_seconds)
        runtime = ChannelRuntime(settings, factory, rasa, ResponseCatalogue.from_domain(DOMAIN_FILE), channels)
        try:
            planned = run_plan(factory, args.now)
            dispatcher = build_dispatcher(
                settings, factory, channels=list(channels), trigger=rasa.trigger_intent, worker="cli"
            )
            report = await dispatcher.run_once(args.now)
            await runtime.outbox.send_batch(report.message_ids)
            return planned, report
        finally:
            await runtime.stop()
            await rasa.aclose()

    planned, report = asyncio.run(run())
    print(f"planned {planned.planned} new nudges")
    counts = f"sent {len(report.sent)}, deferred {len(report.deferred)}, skipped {len(report.skipped)}"
    print(f"{counts}, failed {len(report.failed)}")
    for nudge_id, reason in report.deferred + report.skipped + report.failed:
        print(f"  nudge {nudge_id}: {reason}")
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Talk to the running bot from the terminal, as a web chat debtor would: buttons are numbered and
    a number picks one. Nothing is faked: the messages go through the app's web chat route."""
    import uuid

    import httpx

    url = (args.url or f"http://127.0.0.1:{settings.port}").rstrip("/") + "/webhooks/rest/webhook"
    sender = args.sender or f"cli-{uuid.uuid4().hex[:10]}"
    print(f"Chatting with {url} as {sender!r}. Empty line or Ctrl-D to stop.")
    buttons: list[dict[str, str]] = []
    with httpx.Client(timeout=60) as client:
        while True:
            try:
                line = input("> ").strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if not line:
                return 0
            if line.isdigit() and 1 <= int(line) <= len(buttons):
                line = buttons[int(line) - 1]["payload"]
            try:
                response = client.post(url, json={"sender": sender, "message": line})
            except httpx.HTTPError as exc:
                print(f"error: cannot reach the bot at {url}: {exc} (is 'make run' running?)", file=sys.stderr)
                return 1
            if response.status_code != 200:
                detail = response.json().get("detail") if "json" in response.headers.get("content-type", "") else ""
                print(
                    f"error: the bot answered {response.status_code}: {detail or response.text[:200]}", file=sys.stderr
                )
                continue
            buttons = []
            for reply in response.json():
                if reply.get("text"):
                    print(f"bot: {reply['text']}")
                for button in reply.get("buttons") or []:
                    buttons.append(button)
                    print(f"     [{len(buttons)}] {button['title']}")


class _PasswordMismatch(Exception):
    pass


def _read_password() -> str:
    """Typed twice at the terminal (not echoed), or one line from stdin when it is not a terminal
    (``echo "$PW" | tagih users create ...``), so the password is never a command-line argument."""
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise _PasswordMismatch
        return password
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.users import DuplicateUser, InvalidUser, create_user, validate_email

    try:
        email = validate_email(args.email)
        password = _read_password()
    except InvalidUser as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except _PasswordMismatch:
        print("error: the passwords do not match", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\nerror: no password given", file=sys.stderr)
        return 2
    if not password:
        print("error: no password given (type it at the prompt, or send one line on stdin)", file=sys.stderr)
        return 2
    factory = _session_factory(settings)
    try:
        with factory.begin() as session:
            user = create_user(session, email=email, password=password, role=args.role, name=args.name, actor="cli")
    except InvalidUser as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DuplicateUser as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Created {user.role} {user.email}")
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.users import list_users

    with _session_factory(settings)() as session:
        users = list_users(session)
    if not users:
        print("No users yet; create one with 'tagih users create --role admin EMAIL'.")
        return 0
    width = max(len(user.email) for user in users)
    for user in users:
        status = "active" if user.active else "inactive"
        print(f"{user.email:<{width}}  {user.role:<5}  {status:<8}  {user.name or '-'}")
    return 0


def cmd_flows_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.errors import NotFoundError
    from bot.services.flows import FlowError, export_all

    target = Path(args.directory)
    if target.exists() and any(target.iterdir()):
        print(f"error: {target} is not empty; export into a new directory", file=sys.stderr)
        return 2
    factory = _session_factory(settings)
    try:
        with factory.begin() as session:
            written = export_all(session, args.version, target)
    except NotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except FlowError as exc:  # a stored path that is not a flow path: nothing was written
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print("nothing was exported", file=sys.stderr)
        return 1
    print(f"Wrote {len(written)} files to {target}")
    return 0


def cmd_flows_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.flows import FlowError, import_directory

    factory = _session_factory(settings)
    try:
        with factory.begin() as session:
            version = import_directory(session, Path(args.directory), by=args.by)
            number = version.number
    except FlowError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print("nothing was imported", file=sys.stderr)
        return 1
    print(f"Imported as flow version {number}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tagih", description="Tagih desk-collection chatbot")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the Rasa server and the app")
    serve.add_argument("--no-demo", action="store_true", help="do not load demo accounts into an empty database")
    serve.set_defaults(func=cmd_serve)

    train = sub.add_parser("train", help="train the Rasa model if the training data changed")
    train.add_argument("--force", action="store_true", help="train even if a model for this data exists")
    train.set_defaults(func=cmd_train)

    imp = sub.add_parser("import-accounts", help="import or update accounts from a CSV file")
    imp.add_argument("file")
    imp.add_argument("--skip-invalid", action="store_true", help="import valid rows, report and skip bad ones")
    imp.set_defaults(func=cmd_import_accounts)

    pay = sub.add_parser("import-payments", help="record payments from a CSV file, once per reference")
    pay.add_argument("file")
    pay.add_argument("--skip-invalid", action="store_true", help="import valid rows, report and skip bad ones")
    pay.set_defaults(func=cmd_import_payments)

    accounts = sub.add_parser("accounts", help="inspect accounts")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True)
    show = accounts_sub.add_parser("show", help="show one account with its history")
    show.add_argument("ref")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=cmd_accounts_show)

    telegram = sub.add_parser("telegram", help="Telegram channel")
    telegram_sub = telegram.add_subparsers(dest="telegram_command", required=True)
    set_webhook = telegram_sub.add_parser("set-webhook", help="point Telegram at this server's webhook")
    set_webhook.add_argument("url", help="public https URL of /webhooks/telegram")
    set_webhook.add_argument("--allow-http", action="store_true", help=argparse.SUPPRESS)
    set_webhook.set_defaults(func=cmd_telegram_set_webhook)

    nudges = sub.add_parser("nudges", help="scheduled reminders")
    nudges_sub = nudges.add_subparsers(dest="nudges_command", required=True)
    nudge_plan = nudges_sub.add_parser("plan", help="show what would be sent, deferred or skipped at an instant")
    nudge_plan.add_argument("--now", type=_instant, required=True, help="ISO 8601 instant with offset")
    nudge_plan.add_argument("--json", action="store_true", help="print JSON")
    nudge_plan.set_defaults(func=cmd_nudges_plan)
    nudge_run = nudges_sub.add_parser("run", help="plan and send what is due at an instant (backfills)")
    nudge_run.add_argument("--now", type=_instant, required=True, help="ISO 8601 instant with offset")
    nudge_run.set_defaults(func=cmd_nudges_run)

    flows_cmd = sub.add_parser("flows", help="the editable flow set (responses, rules, examples, ladder)")
    flows_sub = flows_cmd.add_subparsers(dest="flows_command", required=True)
    flows_export = flows_sub.add_parser("export", help="write a version's files (Rasa YAML and the ladder) to DIR")
    flows_export.add_argument("directory")
    flows_export.add_argument("--version", type=int, help="version number (default: the newest)")
    flows_export.set_defaults(func=cmd_flows_export)
    flows_import = flows_sub.add_parser("import", help="store the files in DIR (as exported) as a new version")
    flows_import.add_argument("directory")
    flows_import.add_argument("--by", default="cli", help="who made the change (for the version history)")
    flows_import.set_defaults(func=cmd_flows_import)

    chat = sub.add_parser("chat", help="talk to the running bot in the terminal (through the web chat route)")
    chat.add_argument("--url", help="the app's base URL (default: http://127.0.0.1:TAGIH_PORT)")
    chat.add_argument("--sender", help="conversation id to use (default: a new one)")
    chat.set_defaults(func=cmd_chat)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    users = sub.add_parser("users", help="console users")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    users_create = users_sub.add_parser(
        "create", help="create a console user; the password is read from the terminal (or one line of stdin)"
    )
    users_create.add_argument("email")
    users_create.add_argument("--role", choices=("agent", "admin"), required=True)
    users_create.add_argument("--name", help="shown in the console")
    users_create.set_defaults(func=cmd_users_create)
    users_sub.add_parser("list", help="list console users").set_defaults(func=cmd_users_list)

    demo = sub.add_parser("demo", help="demo data")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    demo_sub.add_parser("load", help="load demo accounts into an empty database").set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args, get_settings()) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
