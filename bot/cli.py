"""The `speakup` command line."""

from __future__ import annotations

import argparse
import asyncio
import base64
import getpass
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot.container import Storage, retention_service, setup_service
from bot.logs import configure_logging
from bot.settings import Settings
from cases.errors import SpeakUpError
from cases.roles import Role
from storage.db import migrate


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise SystemExit("The two entries differ.")
    return first


async def _with_storage(settings: Settings, work: Callable[[Storage], Awaitable[int]]) -> int:
    storage = Storage(settings)
    try:
        await migrate(storage.engine)
        return await work(storage)
    finally:
        await storage.close()


async def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        setup = setup_service(storage, settings)
        if await setup.is_initialized():
            print("Already initialised; the database is migrated to the latest schema.")
            return 0
        password = None
        if args.admin_username:
            password = _read_secret("Administrator password: ", args.password_stdin)
        initialized = await setup.initialize()
        print("Site initialised. RECOVERY WORDS — write them down now, they are shown once")
        print("and never stored. They re-grant queue keys when no officer is left to do it:\n")
        print("    " + initialized.recovery_words + "\n")
        print("Add this to every process's settings (not secret, but keep it out of the database):")
        print(f"    SPEAKUP_QUEUE_KEY_PIN={initialized.queue_key_pin}\n")
        if args.admin_username and password is not None:
            await setup.add_officer(args.admin_username, Role.ADMINISTRATOR, password)
            print(
                f"Administrator {args.admin_username!r} created. At the first login "
                "(POST /api/v1/auth/login) they enrol an authenticator and choose a new password."
            )
        return 0

    return await _with_storage(settings, work)


async def cmd_officer_add(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        password = _read_secret("Password: ", args.password_stdin)
        await setup_service(storage, settings).add_officer(args.username, args.role, password)
        print(
            f"Officer {args.username!r} ({args.role}) created, not yet activated. Give them the "
            "initial password;\nat their first login they enrol an authenticator and choose "
            "their own password, and\nGET /api/v1/auth/me shows them their key fingerprint. "
            "A queue can be granted only with\nthat fingerprint, as they tell it to you "
            "(`speakup officer grant --fingerprint`)."
        )
        return 0

    return await _with_storage(settings, work)


async def cmd_officer_grant(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        if sys.stdin.isatty():
            print("Recovery words, then Enter:", file=sys.stderr)
        words = sys.stdin.readline()
        await setup_service(storage, settings).grant_with_recovery(
            args.queue, args.username, words, args.fingerprint
        )
        print(f"Queue {args.queue!r} granted to {args.username!r} (key {args.fingerprint}).")
        print("They log in again to open it.")
        return 0

    return await _with_storage(settings, work)


async def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from cases.audit import AuditService

    async def work(storage: Storage) -> int:
        result = await AuditService(storage.uow).verify()
        if result.ok:
            print(f"Audit log intact: {result.checked} rows, head {result.head_hash}.")
            return 0
        print(f"Audit log BROKEN at row {result.first_broken_id}: {result.reason}.")
        return 1

    return await _with_storage(settings, work)


async def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runner import serve_forever

    with_bot = args.command in ("run", "bot")
    with_api = args.command in ("run", "api")
    if with_bot and not settings.bot_token.get_secret_value():
        raise SystemExit("SPEAKUP_BOT_TOKEN is not set (get one from @BotFather).")
    if with_bot:
        settings.notify_key_bytes()  # fail at start, not at the first notification
    if not settings.queue_key_pin and settings.environment == "production":
        raise SystemExit(
            "SPEAKUP_QUEUE_KEY_PIN is not set. `speakup init` printed it; "
            "`speakup pin` prints it from the database as it is now."
        )
    await serve_forever(settings, with_bot=with_bot, with_api=with_api)
    return 0


async def cmd_pin(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        pin = await setup_service(storage, settings).queue_key_pin()
        print(f"SPEAKUP_QUEUE_KEY_PIN={pin}")
        return 0

    return await _with_storage(settings, work)


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return await run_demo(once=args.once, port=args.port, data_dir=args.data_dir)


async def cmd_retention(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        plan = await retention_service(storage, settings).run(dry_run=args.dry_run)
        verb = "would purge" if args.dry_run else "purged"
        print(f"{verb} {len(plan.cases)} case(s), {len(plan.links)} notify link(s)")
        for purge in plan.cases:
            print(f"  case {purge.reference}  closed {purge.closed_on}  ({purge.rule})")
        for reference in plan.links:
            print(f"  notify link of {reference}")
        return 0

    return await _with_storage(settings, work)


def cmd_keygen() -> int:
    print(base64.b64encode(os.urandom(32)).decode())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speakup", description="SpeakUp anonymous reporting.")
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="migrate, create keys and recovery words, first admin")
    init.add_argument("--admin-username")
    init.add_argument("--password-stdin", action="store_true")

    officer = sub.add_parser("officer", help="officer accounts")
    officer_sub = officer.add_subparsers(dest="officer_command", required=True)
    add = officer_sub.add_parser("add", help="create an officer")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--password-stdin", action="store_true")
    grant = officer_sub.add_parser("grant", help="grant a queue key using the recovery words")
    grant.add_argument("--queue", required=True, choices=["triage", "union", "discipline"])
    grant.add_argument("--username", required=True)
    grant.add_argument(
        "--fingerprint",
        required=True,
        help="the officer's key fingerprint, as they read it to you from GET /api/v1/auth/me "
        "after activating their account",
    )

    audit = sub.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain; non-zero exit names the break")

    sub.add_parser("run", help="bot, notifier and admin API in one process")
    sub.add_parser("bot", help="bot and notifier only (holds the notify key)")
    sub.add_parser("api", help="admin API only (never holds the notify key)")
    sub.add_parser("keygen", help="print a new random SPEAKUP_NOTIFY_KEY")
    sub.add_parser("pin", help="print SPEAKUP_QUEUE_KEY_PIN for the queue keys in the database")
    retention = sub.add_parser("retention", help="purge closed cases past their retention")
    retention.add_argument("--dry-run", action="store_true", help="list, change nothing")

    demo = sub.add_parser("demo", help="the whole loop offline, with a stand-in Telegram")
    demo.add_argument("--once", action="store_true", help="exit after the scenario")
    demo.add_argument("--port", type=int, default=8000, help="admin API port (0: any free)")
    demo.add_argument("--data-dir", default=None, help="keep the demo database here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Files this process creates (the embedded database, its WAL) are for its owner only.
    os.umask(0o077)
    if args.command == "keygen":
        return cmd_keygen()
    # The demo prints its own story; routine INFO lines would drown it.
    default_level = "WARNING" if args.command == "demo" else "INFO"
    configure_logging(os.environ.get("SPEAKUP_LOG_LEVEL", default_level))
    settings = Settings(environment="demo") if args.command == "demo" else Settings()
    commands = {
        "init": cmd_init,
        "pin": cmd_pin,
        "run": cmd_serve,
        "bot": cmd_serve,
        "api": cmd_serve,
        "demo": cmd_demo,
        "audit": cmd_audit_verify,
        "retention": cmd_retention,
    }
    if args.command == "officer":
        handler = cmd_officer_add if args.officer_command == "add" else cmd_officer_grant
    else:
        handler = commands[args.command]
    try:
        return asyncio.run(handler(settings, args))
    except SpeakUpError as exc:
        print(f"error [{exc.code}]: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
