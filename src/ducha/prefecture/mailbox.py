"""Intake from a mailbox: the workbooks attached to new messages of an IMAP folder, over TLS, each message taken in
once.

A message is new when its UID (at the folder's UIDVALIDITY) has not been taken in; it is taken in once whatever
its UID (Message-ID plus the SHA-256 of the whole message, recorded in the archive after its workbooks are). A run
killed at any point loses nothing: the message it was on is taken in again next time, and its workbooks, already
archived, are recognised by their hash. Mail is read with BODY.PEEK (not marked read) and never deleted or moved
unless a folder to move processed messages to is configured.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import importlib
import logging
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ducha.prefecture import archive as store
from ducha.prefecture.archive import sha256_of
from ducha.prefecture.intake import Intake
from ducha.prefecture.intake_sources import email_headers, from_email
from ducha.prefecture.outcome import Outcome

log = logging.getLogger("ducha.mailbox")

PASSWORD_ENV = "DUCHA_IMAP_PASSWORD"
KEYRING_SERVICE = "ducha-imap"
DEFAULT_PORT = 993
DEFAULT_FOLDER = "INBOX"
TIMEOUT_S = 60


class MailboxError(Exception):
    """The mailbox cannot be read; the message (Chinese) says why and what to do."""


@dataclass(frozen=True)
class MailboxConfig:
    """Where the submissions arrive: an IMAPS server, the account and the folder."""

    server: str
    account: str
    port: int = DEFAULT_PORT
    folder: str = DEFAULT_FOLDER
    ca_file: Path | None = None  # trust this CA (a self-signed server); otherwise the system's CAs
    move_to: str | None = None  # move processed messages here; None leaves them where they are


@dataclass
class MailRun:
    """What one mailbox intake did."""

    outcomes: list[Outcome] = field(default_factory=list)
    messages: int = 0  # messages taken in this run
    already: int = 0  # new UIDs whose message had been taken in before (a copy)
    replies: list[Path] = field(default_factory=list)
    interrupted: str | None = None  # the Chinese reason the run stopped early, if it did


def mailbox_config(archive_folder: Path, *, server: str | None = None, port: int | None = None,
                   account: str | None = None, folder: str | None = None, ca_file: str | Path | None = None,
                   move_to: str | None = None) -> MailboxConfig:
    """The options given, else the office's settings (设置) saved in the archive folder."""
    saved = _saved_settings(archive_folder)

    def pick(value: object, name: str) -> object:
        return value if value not in (None, "") else saved.get(name)

    server, account = pick(server, "imap_server"), pick(account, "imap_account")
    if not server or not account:
        raise MailboxError("没有配置收件邮箱：请用 --imap-server 和 --imap-account 指定邮件服务器和账号，"
                           "或在「设置」中填写 IMAP 服务器、端口、账号和文件夹。")
    try:
        port_number = int(pick(port, "imap_port") or DEFAULT_PORT)
    except (TypeError, ValueError):
        raise MailboxError(f"IMAP 端口「{pick(port, 'imap_port')}」不是数字，请在「设置」或 --imap-port 中改正。")\
            from None
    ca = pick(ca_file, "imap_ca_file")
    return MailboxConfig(str(server), str(account), port_number, str(pick(folder, "imap_folder") or DEFAULT_FOLDER),
                         Path(str(ca)) if ca else None, str(pick(move_to, "imap_move_to") or "") or None)


def _saved_settings(archive_folder: Path) -> dict[str, object]:
    """The IMAP fields of the office's settings, when the settings module is present and has them."""
    try:
        settings = importlib.import_module("ducha.prefecture.settings")
        loaded = settings.load_settings(Path(archive_folder))
    except ImportError:
        return {}
    except Exception:  # unreadable settings: the options alone decide, and the missing field is named then
        log.exception("could not read the office settings")
        return {}
    # our name -> the settings' field names (issue 11's 设置: imap_host, imap_port, mail_user, mail_folder)
    names = {"imap_server": ("imap_host", "imap_server"), "imap_port": ("imap_port",),
             "imap_account": ("mail_user", "imap_account"), "imap_folder": ("mail_folder", "imap_folder"),
             "imap_ca_file": ("imap_ca_file",), "imap_move_to": ("imap_move_to",)}

    def field(candidates: tuple[str, ...]) -> object:
        values = (loaded.get(c) if isinstance(loaded, dict) else getattr(loaded, c, None) for c in candidates)
        return next((v for v in values if v not in (None, "")), None)

    return {ours: field(theirs) for ours, theirs in names.items()}


def mailbox_password(config: MailboxConfig) -> str:
    """The account's password: the environment variable, else the OS keyring; never a file in the archive."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    try:
        import keyring  # optional: present where the office installed it
    except ImportError:
        keyring = None
    if keyring is not None:
        try:
            password = keyring.get_password(KEYRING_SERVICE, config.account)
        except Exception:  # no usable keyring backend on this machine
            log.warning("the OS keyring could not be read", exc_info=True)
    if not password:
        raise MailboxError(f"没有邮箱「{config.account}」的密码：请设置环境变量 {PASSWORD_ENV}，或把密码存入系统钥匙串"
                           f"（keyring set {KEYRING_SERVICE} {config.account}）。密码不要写在档案文件夹里。")
    return password


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): 督查报送 -> &d2NmJWKlkAE-."""
    out, run = [], []

    def flush() -> None:
        if run:
            encoded = base64.b64encode("".join(run).encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")
            out.append("&" + encoded.decode("ascii") + "-")
            run.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return "".join(out)


def _quoted(folder: str) -> str:
    return '"' + imap_utf7(folder).replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextlib.contextmanager
def connect(config: MailboxConfig, password: str) -> Iterator[imaplib.IMAP4_SSL]:
    """A logged-in IMAPS connection; every failure becomes a MailboxError in Chinese."""
    where = f"{config.server}:{config.port}"
    try:
        context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(f"CA 证书文件「{config.ca_file}」无法读取（{exc}），请检查 --imap-ca 或「设置」中的路径。")\
            from None
    try:
        imap = imaplib.IMAP4_SSL(config.server, config.port, ssl_context=context, timeout=TIMEOUT_S)
    except ssl.SSLCertVerificationError as exc:
        raise MailboxError(f"邮件服务器 {where} 的证书无法验证（{exc.verify_message}）。如果服务器使用自签名证书，"
                           "请用 --imap-ca 指定它的 CA 证书文件；不会跳过证书验证。") from None
    except ssl.SSLError as exc:
        raise MailboxError(f"与邮件服务器 {where} 建立加密连接失败（{exc.reason or exc}），请确认端口是 IMAPS"
                           "（通常为 993）。") from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"无法连接邮件服务器 {where}（{_why(exc)}），请检查服务器地址、端口和网络。") from None
    try:
        try:
            # AUTHENTICATE PLAIN carries a UTF-8 password; LOGIN would take ASCII only
            imap.authenticate("PLAIN", lambda _: f"\0{config.account}\0{password}".encode())
        except imaplib.IMAP4.abort as exc:
            raise MailboxError(f"登录时与邮件服务器 {where} 的连接中断（{_why(exc)}），请稍后重试。") from None
        except imaplib.IMAP4.error:
            raise MailboxError(f"邮件服务器 {where} 拒绝登录：账号「{config.account}」或密码不正确"
                               "（有的邮箱需要使用“客户端授权码”而不是登录密码）。") from None
        status, data = imap.capability()  # servers announce more (MOVE, UIDPLUS) once logged in
        if status == "OK" and data and data[-1]:
            imap.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
        yield imap
    finally:
        with contextlib.suppress(Exception):
            imap.logout()


def _why(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "超时"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝"
    if isinstance(exc, socket.gaierror):
        return "找不到该服务器"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _ok(answer: tuple[str, list], what: str) -> list:
    status, data = answer
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise MailboxError(f"{what}失败（服务器回答：{detail or status}）。")
    return data


def _select(imap: imaplib.IMAP4_SSL, config: MailboxConfig) -> int:
    """Open the folder (read-only unless messages are to be moved) and return its UIDVALIDITY."""
    status, _ = imap.select(_quoted(config.folder), readonly=config.move_to is None)
    if status != "OK":
        raise MailboxError(f"邮箱中没有文件夹「{config.folder}」，请检查 --imap-folder 或「设置」中的文件夹名。")
    validity = imap.response("UIDVALIDITY")[1]
    return int(validity[0]) if validity and validity[0] else 0


def _uids(imap: imaplib.IMAP4_SSL) -> list[int]:
    data = _ok(imap.uid("SEARCH", "ALL"), "列出邮件")
    return sorted(int(n) for n in (data[0] or b"").split())


def _fetch(imap: imaplib.IMAP4_SSL, uid: int) -> bytes | None:
    """The whole message (BODY.PEEK: the message stays unread), or None when it is gone."""
    data = _ok(imap.uid("FETCH", str(uid), "(BODY.PEEK[])"), f"读取邮件 UID {uid} ")
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            return part[1]
    return None


def message_identity(raw: bytes) -> tuple[str, str, str | None, str | None]:
    """Message-ID ('' when missing), SHA-256 of the whole message, sender and subject."""
    headers = email_headers(raw)
    return headers["Message-ID"] or "", sha256_of(raw), headers["From"], headers["Subject"]


def _move(imap: imaplib.IMAP4_SSL, uid: int, folder: str) -> None:
    target = _quoted(folder)
    if "MOVE" in imap.capabilities:
        _ok(imap.uid("MOVE", str(uid), target), f"把邮件移到「{folder}」")
        return
    _ok(imap.uid("COPY", str(uid), target), f"把邮件复制到「{folder}」")
    _ok(imap.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "标记已移走的邮件")
    if "UIDPLUS" in imap.capabilities:
        _ok(imap.uid("EXPUNGE", str(uid)), "清除已移走的邮件")


def take_mailbox(intake: Intake, config: MailboxConfig, password: str, *, replies: bool = True,
                 progress: Callable[[Outcome], None] | None = None) -> MailRun:
    """Take in the workbooks of every message of the folder not taken in before, oldest first.

    Connection and login failures raise MailboxError; a connection lost part way ends the run with
    `interrupted` set, everything taken in until then recorded."""
    from ducha.prefecture.replies import write_reply

    archive = intake.archive
    run = MailRun()
    with connect(config, password) as imap:
        validity = _select(imap, config)
        known = archive.mail_uids(config.folder, validity)
        try:
            for uid in (u for u in _uids(imap) if u not in known):
                raw = _fetch(imap, uid)
                if raw is None:
                    continue  # deleted meanwhile by another client
                message_id, sha, sender, subject = message_identity(raw)
                if archive.mail_seen(message_id, sha):
                    run.already += 1
                else:
                    source = f"邮箱 {config.account}/{config.folder}"
                    for item in from_email(subject or message_id or f"邮件 UID {uid}", raw, source,
                                           password=intake.password, **({"limits": intake.limits}
                                                                        if intake.limits else {})):
                        outcome = intake.take(item)
                        run.outcomes.append(outcome)
                        if progress:
                            progress(outcome)
                        if replies and sender and outcome.kind != store.IGNORED:
                            reply = write_reply(archive, outcome, to=sender, reply_from=config.account,
                                                in_reply_to=message_id or None)
                            run.replies.append(reply)
                    run.messages += 1
                archive.add_mail(message_id, sha, config.folder, validity, uid, sender, subject)
                if config.move_to:
                    _move(imap, uid, config.move_to)
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            log.warning("IMAP connection lost: %s", exc)
            run.interrupted = (f"与邮件服务器 {config.server}:{config.port} 的连接中断（{_why(exc)}）。已处理的 "
                               f"{run.messages} 封邮件已记入档案；重新运行会从中断处继续，不会重复接收。")
    return run

