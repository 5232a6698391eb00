"""The `speakup` command line."""

from __future__ import annotations

import argparse
import asyncio
import base64
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from bot.container import Storage, open_storage, retention_service, setup_service
from bot.logs import configure_logging
from bot.settings import ConfigError, Settings, load_settings
from cases.account_rules import check_password, check_username
from cases.categories import Queue
from cases.errors import SpeakUpError
from cases.roles import Role
from cases.setup import SetupService

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]
SERVERS = ("run", "bot", "api")


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise SystemExit("The two entries differ.")
    return first


def _read_recovery_words() -> str:
    """The recovery words, never echoed on a terminal (they open every queue key)."""
    if sys.stdin.isatty():
        return getpass.getpass("Recovery words (not shown as you type), then Enter: ")
    return sys.stdin.readline()


async def _with_storage(
    settings: Settings, work: Callable[[Storage], Awaitable[int]], *, initialising: bool = False
) -> int:
    storage = await open_storage(settings, initialising=initialising)
    try:
        return await work(storage)
    finally:
        await storage.close()


async def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    # Everything the operator typed is checked before any key exists: a refused password must
    # not leave a site with recovery words printed and no administrator.
    password = None
    if args.admin_username is not None:
        check_username(args.admin_username)
        password = check_password(_read_secret("Administrator password: ", args.password_stdin))

    async def work(storage: Storage) -> int:
        setup = setup_service(storage, settings)
        if await setup.is_initialized():
            return await _reinit(setup, args.admin_username, password)
        initialized = await setup.initialize()
        print("Site initialised. RECOVERY WORDS — write them down now, they are shown once")
        print("and never stored. They re-grant queue keys when no officer is left to do it:\n")
        print("    " + initialized.recovery_words + "\n")
        print("Add this to every process's settings (not secret, but keep it out of the database):")
        print(f"    SPEAKUP_QUEUE_KEY_PIN={initialized.queue_key_pin}\n")
        if args.admin_username is not None and password is not None:
            await setup.add_officer(args.admin_username, Role.ADMINISTRATOR, password)
            _admin_created(args.admin_username)
        else:
            print(NO_ADMIN)
        return 0

    return await _with_storage(settings, work, initialising=True)


NO_ADMIN = (
    "No administrator account yet: `speakup init --admin-username NAME` creates the first "
    "(it asks\nfor the initial password; --password-stdin reads it from standard input)."
)


def _admin_created(username: str) -> None:
    print(
        f"Administrator {username!r} created. At the first login "
        "(POST /api/v1/auth/login) they enrol an authenticator and choose a new password."
    )


async def _reinit(setup: SetupService, username: str | None, password: str | None) -> int:
    """A second `speakup init`: no new keys; the first administrator if there is none yet."""
    print("Already initialised; the database is migrated to the latest schema.")
    has_admin = await setup.has_administrator()
    if username is None or password is None:
        if not has_admin:
            print(NO_ADMIN)
        return 0
    if has_admin:
        print(
            f"An administrator exists already, so {username!r} was not created. Administrators "
            "add accounts\n(POST /api/v1/officers), or: speakup officer add --username "
            f"{username} --role administrator",
            file=sys.stderr,
        )
        return 1
    await setup.add_officer(username, Role.ADMINISTRATOR, password)
    _admin_created(username)
    return 0


async def cmd_officer_add(settings: Settings, args: argparse.Namespace) -> int:
    check_username(args.username)  # before asking for a password that would be thrown away

    async def work(storage: Storage) -> int:
        password = _read_secret("Initial password: ", args.password_stdin)
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
        words = _read_recovery_words()
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
    await serve_forever(settings, with_bot=with_bot, with_api=with_api)
    return 0


async def cmd_pin(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        pin = await setup_service(storage, settings).queue_key_pin()
        print(f"SPEAKUP_QUEUE_KEY_PIN={pin}")
        print(
            "This is the pin of the queue keys the database holds NOW. Use it only for a "
            "database you trust;\nthe pin to rely on is the one `speakup init` printed, kept "
            "apart from the database.",
            file=sys.stderr,
        )
        return 0

    return await _with_storage(settings, work)


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


async def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return await run_demo(once=args.once, port=args.port, data_dir=args.data_dir)


def cmd_keygen() -> int:
    print(base64.b64encode(os.urandom(32)).decode())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speakup",
        description="SpeakUp anonymous reporting. Settings come from SPEAKUP_* environment "
        "variables or a .env file (see bot/settings.py).",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="store_true", help="log progress (migrations, start-up)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
    ) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=text, description=text, parents=[common])

    init = command(
        sub,
        "init",
        "Create the database schema, the queue keys and the recovery words (shown once), and "
        "optionally the first administrator. Run once; running it again creates no new keys.",
    )
    init.add_argument(
        "--admin-username",
        metavar="NAME",
        help="also create this administrator account; asks for its initial password, which "
        "the administrator replaces at the first login",
    )
    init.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the administrator's password from the first line of standard input "
        "instead of asking for it",
    )

    officer = sub.add_parser("officer", help="officer accounts", description="Officer accounts.")
    officer_sub = officer.add_subparsers(dest="officer_command", required=True, metavar="ACTION")
    add = command(
        officer_sub,
        "add",
        "Create an officer account (not activated: at the first login the officer chooses "
        "their own password). Asks for the initial password.",
    )
    add.add_argument("--username", required=True, help="A-Z a-z 0-9 . _ -, e.g. li.triage")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the initial password from the first line of standard input",
    )
    grant = command(
        officer_sub,
        "grant",
        "Grant a queue key with the recovery words (for the first member of a queue, or when "
        "no member is left). Asks for the words; they are not shown as you type.",
    )
    grant.add_argument("--queue", required=True, choices=[q.value for q in Queue])
    grant.add_argument("--username", required=True)
    grant.add_argument(
        "--fingerprint",
        required=True,
        help="the officer's key fingerprint, as they read it to you from GET /api/v1/auth/me "
        "after activating their account",
    )

    audit = sub.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    command(audit_sub, "verify", "Check the hash chain; a non-zero exit names the break.")

    command(sub, "run", "Serve the bot, the notifier and the admin API in one process.")
    command(sub, "bot", "Serve the bot and the notifier only (holds the notify key).")
    command(sub, "api", "Serve the admin API only (never holds the notify key).")
    sub.add_parser(
        "keygen",
        help="print a new random key for SPEAKUP_NOTIFY_KEY or SPEAKUP_DRAFT_KEY",
        description="Print 32 random bytes in base64: a value for SPEAKUP_NOTIFY_KEY or "
        "SPEAKUP_DRAFT_KEY (one run per key).",
    )
    command(
        sub,
        "pin",
        "Print SPEAKUP_QUEUE_KEY_PIN for the queue keys the database holds now. Trust it only "
        "as far as you trust the database: the pin to keep is the one `speakup init` printed.",
    )
    retention = command(sub, "retention", "Purge closed cases past their retention period.")
    retention.add_argument("--dry-run", action="store_true", help="list, change nothing")

    demo = command(sub, "demo", "The whole loop offline, with a stand-in for Telegram.")
    demo.add_argument("--once", action="store_true", help="exit after the scenario")
    demo.add_argument("--port", type=int, default=8000, help="admin API port (0: any free)")
    demo.add_argument("--data-dir", default=None, help="keep the demo database here")
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    # Servers log their progress; one-shot commands and the demo (which prints its own story)
    # say only what went wrong, unless asked.
    default = "INFO" if args.command in SERVERS or args.verbose else "WARNING"
    configure_logging(os.environ.get("SPEAKUP_LOG_LEVEL", default))
    if not args.verbose:
        # "Context impl SQLiteImpl." and friends on every command: only with --verbose.
        logging.getLogger("alembic").setLevel(logging.WARNING)


COMMANDS: dict[str, Command] = {
    "init": cmd_init,
    "pin": cmd_pin,
    "run": cmd_serve,
    "bot": cmd_serve,
    "api": cmd_serve,
    "retention": cmd_retention,
}


def _handler(args: argparse.Namespace) -> Command:
    if args.command == "officer":
        return cmd_officer_add if args.officer_command == "add" else cmd_officer_grant
    if args.command == "audit":
        return cmd_audit_verify
    return COMMANDS[args.command]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Files this process creates (the embedded database, its WAL) are for its owner only.
    os.umask(0o077)
    if args.command == "keygen":
        return cmd_keygen()
    _configure_logging(args)
    try:
        if args.command == "demo":  # the demo has settings of its own
            return asyncio.run(cmd_demo(args))
        return asyncio.run(_handler(args)(load_settings(), args))
    except ConfigError as exc:
        # The one place a configuration mistake is reported: one line naming the setting.
        print(f"speakup: {exc}", file=sys.stderr)
        return exc.exit_code
    except SpeakUpError as exc:
        print(f"error [{exc.code}]: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
