"""`ducha intake --imap` against a real Dovecot on 127.0.0.1 (tests/imap_server.py): attachments with GBK and
RFC 2231 names, a resubmission, a duplicate, a message without a workbook, a copy of a message, a connection cut
mid-fetch, an intake killed mid-fetch, and the failures a clerk can meet, in Chinese."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

import imap_server
from ducha.app.cli import main
from ducha.prefecture.archive import Archive
from ducha.prefecture.intake import Intake
from ducha.prefecture.mailbox import (
    PASSWORD_ENV,
    MailboxConfig,
    MailboxError,
    imap_utf7,
    mailbox_config,
    mailbox_password,
    take_mailbox,
)
from ducha.prefecture.settings import Settings, settings_path, write_settings_workbook
from test_intake import county_workbook

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture(scope="session")
def server() -> imap_server.Server:
    return imap_server.ensure_running()


@pytest.fixture
def folder(server: imap_server.Server) -> str:
    """A fresh mail folder of the test account for one test (Chinese name: sent as modified UTF-7)."""
    name = f"督查报送-{uuid.uuid4().hex[:8]}"
    imap = server.client()
    assert imap.create(f'"{imap_utf7(name)}"')[0] == "OK"
    imap.logout()
    return name


def config(server: imap_server.Server, folder: str, **changes: object) -> MailboxConfig:
    values = {"server": server.host, "account": server.user, "port": server.port, "folder": folder,
              "ca_file": server.ca_file} | changes
    return MailboxConfig(**values)


def message(sender: str, subject: str, attachments: list[tuple[str, bytes]] = (), body: str = "请查收。",
            message_id: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "office@example.org", subject
    msg["Date"] = "Thu, 28 Nov 2019 09:30:00 +0800"
    msg["Message-ID"] = message_id or make_msgid(domain="county.example.cn")
    msg.set_content(body)
    for name, content in attachments:
        msg.add_attachment(content, *XLSX, filename=name)
    return msg


def raw_gbk_2231(sender: str, subject: str, name: str, content: bytes) -> bytes:
    """A message as some Chinese mail clients write it: the file name in RFC 2231 form, GBK, split in two."""
    import base64

    encoded = "".join(f"%{b:02X}" for b in name.encode("gbk"))
    body = base64.encodebytes(content).decode()
    return (f"From: {sender}\r\nTo: office@example.org\r\nSubject: =?gbk?B?"
            f"{base64.b64encode(subject.encode('gbk')).decode()}?=\r\nDate: Thu, 28 Nov 2019 10:00:00 +0800\r\n"
            f"Message-ID: {make_msgid(domain='gbk.example.cn')}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=gbk\r\n\r\n'
            "\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment;\r\n filename*0*=gbk''{encoded[:15]};\r\n filename*1*={encoded[15:]}"
            f"\r\n\r\n{body}\r\n--b1--\r\n").encode("gbk")  # the From header's name in raw GBK


def append(server: imap_server.Server, folder: str, *messages: EmailMessage | bytes) -> None:
    imap = server.client()
    for m in messages:
        raw = m if isinstance(m, bytes) else m.as_bytes(policy=policy.SMTP)
        assert imap.append(f'"{imap_utf7(folder)}"', None, None, raw)[0] == "OK"
    imap.logout()


def folder_state(server: imap_server.Server, folder: str) -> list[bytes]:
    """The flags of every message left in the folder."""
    imap = server.client()
    imap.select(f'"{imap_utf7(folder)}"', readonly=True)
    _, data = imap.fetch("1:*", "(FLAGS)") if int(imap.response("EXISTS")[1][0] or 0) else ("OK", [])
    imap.logout()
    return [d for d in data if d]


def workbooks(tmp_path: Path) -> dict[str, bytes]:
    return {
        "清水县": county_workbook(tmp_path / "清水县.xlsx").read_bytes(),
        "麻江县": county_workbook(tmp_path / "麻江县.xlsx", "麻江县", "522635", spoil=True).read_bytes(),
        "清水县改": county_workbook(tmp_path / "清水县-改.xlsx", spoil=True).read_bytes(),
        "丹寨县": county_workbook(tmp_path / "丹寨县.xlsx", "丹寨县", "522636").read_bytes(),
    }


def mail_rows(folder: Path) -> list:
    with Archive(folder) as a:
        return a.query("SELECT * FROM mail_messages ORDER BY id")


def test_new_messages_are_taken_in_once_and_left_unread_where_they_are(
        server: imap_server.Server, folder: str, tmp_path: Path) -> None:
    books = workbooks(tmp_path)
    first = message("清水县 <qsx@county.example.cn>", "清水县11月督查工作簿", [("清水县.xlsx", books["清水县"])])
    append(server, folder,
           raw_gbk_2231("麻江县 <mjx@county.example.cn>", "麻江县督查", "麻江县督查工作簿.xlsx", books["麻江县"]),
           first,
           message("丹寨县 <dzx@county.example.cn>", "只有说明", body="工作簿明天补报。"),
           message("清水县 <qsx@county.example.cn>", "重发一次", [("清水县（重发）.xlsx", books["清水县"])]),
           message("清水县 <qsx@county.example.cn>", "清水县更正版", [("清水县.xlsx", books["清水县改"])]))

    with Archive(tmp_path / "档案") as archive:
        run = take_mailbox(Intake(archive), config(server, folder), server.password)
        outcomes = [(o.name, o.kind, o.version) for o in run.outcomes]
        assert outcomes == [("麻江县督查工作簿.xlsx", "accepted", 1), ("清水县.xlsx", "accepted", 1),
                            ("只有说明", "ignored", None), ("清水县（重发）.xlsx", "duplicate", 1),
                            ("清水县.xlsx", "accepted", 2)]
        assert run.messages == 5 and run.interrupted is None
        current = {r["county"]: r for r in archive.current("2019-11")}
        assert current["清水县"]["version"] == 2 and current["清水县"]["errors"] == 1
        assert current["麻江县"]["sender"] == "麻江县 <mjx@county.example.cn>"
        assert current["麻江县"]["subject"] == "麻江县督查"
        assert len(archive.submissions()) == 3

        # a second run finds nothing new; a copy of a message already taken in is recognised, not taken again
        again = take_mailbox(Intake(archive), config(server, folder), server.password)
        assert (again.messages, again.already, again.outcomes) == (0, 0, [])
        append(server, folder, first)
        copy = take_mailbox(Intake(archive), config(server, folder), server.password)
        assert (copy.messages, copy.already, copy.outcomes) == (0, 1, [])
        assert len(archive.events()) == 5

    rows = mail_rows(tmp_path / "档案")
    assert len(rows) == 5 and len({(r["message_id"], r["sha256"]) for r in rows}) == 5
    flags = folder_state(server, folder)
    assert len(flags) == 6 and not any(b"\\Seen" in f or b"\\Deleted" in f for f in flags)


def test_the_command_line_takes_the_mailbox_and_moves_mail_only_when_told(
        server: imap_server.Server, folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    books = workbooks(tmp_path)
    append(server, folder, message("丹寨县 <dzx@county.example.cn>", "丹寨县", [("丹寨县.xlsx", books["丹寨县"])]))
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    done = f"已处理-{uuid.uuid4().hex[:6]}"
    imap = server.client()
    imap.create(f'"{imap_utf7(done)}"')
    imap.logout()
    argv = ["intake", "--imap", "--imap-server", server.host, "--imap-port", str(server.port), "--imap-account",
            server.user, "--imap-folder", folder, "--imap-ca", str(server.ca_file), "--archive",
            str(tmp_path / "档案"), "--imap-move-to", done]

    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "新邮件 1 封" in out and "丹寨县.xlsx" in out and "回复草稿 1 份" in out
    assert folder_state(server, folder) == [] and len(folder_state(server, done)) == 1
    assert len(list((tmp_path / "档案" / "回执").glob("*.eml"))) == 1


def test_a_connection_cut_mid_fetch_keeps_what_was_taken_and_the_next_run_takes_the_rest(
        server: imap_server.Server, folder: str, tmp_path: Path) -> None:
    books = workbooks(tmp_path)
    messages = [message(f"{c} <{n}@county.example.cn>", c, [(f"{c}.xlsx", books[c])])
                for n, c in enumerate(("清水县", "麻江县", "丹寨县"))]
    append(server, folder, *messages)
    sizes = [len(m.as_bytes(policy=policy.SMTP)) for m in messages]
    with Proxy(server, after=6000 + sizes[0] + sizes[1] // 2, mode="cut") as proxy, \
            Archive(tmp_path / "档案") as archive:
        run = take_mailbox(Intake(archive), config(server, folder, port=proxy.port), server.password)
    assert run.interrupted and "连接中断" in run.interrupted and "不会重复接收" in run.interrupted
    assert [o.name for o in run.outcomes] == ["清水县.xlsx"] and len(mail_rows(tmp_path / "档案")) == 1

    with Archive(tmp_path / "档案") as archive:
        rest = take_mailbox(Intake(archive), config(server, folder), server.password)
        assert [o.name for o in rest.outcomes] == ["麻江县.xlsx", "丹寨县.xlsx"]
        assert sorted(r["county"] for r in archive.submissions()) == ["丹寨县", "清水县", "麻江县"]
        assert [e["kind"] for e in archive.events()] == ["accepted"] * 3


def test_the_command_line_reports_a_cut_connection_in_chinese_with_exit_code_2(
        server: imap_server.Server, folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    books = workbooks(tmp_path)
    messages = [message(f"{c} <{n}@county.example.cn>", c, [(f"{c}.xlsx", books[c])])
                for n, c in enumerate(("清水县", "麻江县"))]
    append(server, folder, *messages)
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    size = len(messages[0].as_bytes(policy=policy.SMTP))
    with Proxy(server, after=6000 + size + size // 2, mode="cut") as proxy:
        code = main(["intake", "--imap", "--imap-server", server.host, "--imap-port", str(proxy.port),
                     "--imap-account", server.user, "--imap-folder", folder, "--imap-ca", str(server.ca_file),
                     "--archive", str(tmp_path / "档案")])
    captured = capsys.readouterr()
    assert code == 2 and "清水县.xlsx" in captured.out
    assert "连接中断" in captured.err and "Traceback" not in captured.err + captured.out


def test_an_intake_killed_mid_fetch_is_completed_by_the_next_run_taking_each_message_once(
        server: imap_server.Server, folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    books = workbooks(tmp_path)
    names = ("清水县", "麻江县", "丹寨县")
    messages = [message(f"{c} <{n}@county.example.cn>", c, [(f"{c}.xlsx", books[c])]) for n, c in enumerate(names)]
    append(server, folder, *messages)
    sizes = [len(m.as_bytes(policy=policy.SMTP)) for m in messages]
    archive_folder = tmp_path / "档案"
    env = {**os.environ, PASSWORD_ENV: server.password, "DUCHA_LOG_DIR": str(tmp_path / "logs")}
    argv = ["intake", "--imap", "--imap-server", server.host, "--imap-account", server.user, "--imap-folder", folder,
            "--imap-ca", str(server.ca_file), "--archive", str(archive_folder)]
    with Proxy(server, after=6000 + sizes[0] + sizes[1] // 2, mode="stall") as proxy:
        process = subprocess.Popen([sys.executable, "-m", "ducha", *argv, "--imap-port", str(proxy.port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        assert proxy.stalled.wait(timeout=120), "the intake should reach the second message"
        time.sleep(0.5)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    assert len(mail_rows(archive_folder)) == 1  # the first message was taken, the second was on its way

    monkeypatch.setenv(PASSWORD_ENV, server.password)
    assert main([*argv, "--imap-port", str(server.port)]) == 0
    rows = mail_rows(archive_folder)
    assert len(rows) == 3 and len({r["message_id"] for r in rows}) == 3
    with Archive(archive_folder) as archive:
        assert sorted(r["county"] for r in archive.submissions()) == sorted(names)
        assert [e["kind"] for e in archive.events()] == ["accepted"] * 3


def test_connection_login_certificate_and_folder_failures_are_explained_in_chinese(
        server: imap_server.Server, folder: str, tmp_path: Path) -> None:
    def failure(cfg: MailboxConfig, password: str = server.password) -> str:
        with Archive(tmp_path / "档案") as archive, pytest.raises(MailboxError) as caught:
            take_mailbox(Intake(archive), cfg, password)
        return str(caught.value)

    assert "拒绝登录" in failure(config(server, folder), "wrong-password")
    assert "--imap-ca" in failure(config(server, folder, ca_file=None))  # self-signed: not trusted silently
    with socket.socket() as s:
        s.bind((server.host, 0))
        closed = s.getsockname()[1]
    assert "无法连接邮件服务器" in failure(config(server, folder, port=closed))
    assert "没有文件夹「不存在的文件夹」" in failure(config(server, "不存在的文件夹"))


def test_settings_and_password_come_from_options_environment_or_keyring_never_the_archive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MailboxError, match="没有配置收件邮箱"):
        mailbox_config(tmp_path)
    cfg = mailbox_config(tmp_path, server="imap.example.cn", account="ducha@example.cn", ca_file="ca.pem")
    assert (cfg.port, cfg.folder, cfg.ca_file, cfg.move_to) == (993, "INBOX", Path("ca.pem"), None)
    monkeypatch.setenv(PASSWORD_ENV, "从环境变量")
    assert mailbox_password(cfg) == "从环境变量"
    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.setitem(sys.modules, "keyring", None)  # no keyring on this machine
    (tmp_path / "password.txt").write_text("never read")
    with pytest.raises(MailboxError, match=PASSWORD_ENV):
        mailbox_password(cfg)


def test_the_office_settings_fill_what_the_options_leave_out(tmp_path: Path) -> None:
    saved = Settings(imap_host="imap.example.gov.cn", imap_port=10993, mail_user="ducha@example.gov.cn",
                     mail_folder="督查报送")
    write_settings_workbook(settings_path(tmp_path), saved)  # the office's 设置 in the archive folder

    cfg = mailbox_config(tmp_path, folder="收件箱")
    assert (cfg.server, cfg.port, cfg.account, cfg.folder) == ("imap.example.gov.cn", 10993, "ducha@example.gov.cn",
                                                                "收件箱")


def test_folder_names_are_sent_in_modified_utf7() -> None:
    assert imap_utf7("INBOX") == "INBOX"
    for name in ("督查报送", "已处理"):  # modified UTF-7 is UTF-7 with & for + and , for /
        expected = name.encode("utf-7").decode().replace("+", "&").replace("/", ",")
        assert imap_utf7(name) == expected
    assert imap_utf7("A&B") == "A&-B"


class Proxy:
    """A TCP relay to the server that passes `after` bytes from the server, then cuts the connection ("cut") or
    holds the rest back ("stall") until it is closed. Local only, and it stops with the test."""

    def __init__(self, server: imap_server.Server, after: int, mode: str) -> None:
        self.target = (server.host, server.port)
        self.after, self.mode = after, mode
        self.stalled, self.closing = threading.Event(), threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []

    def __enter__(self) -> Proxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        for s in [self.listener, *self.sockets]:
            with contextlib.suppress(OSError):
                s.close()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=30)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.after), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, budget: int | None) -> None:
        try:
            while not self.closing.is_set():
                chunk = source.recv(4096)
                if not chunk:
                    break
                if budget is not None and len(chunk) >= budget:
                    sink.sendall(chunk[:budget])
                    self._stop(source, sink)
                    return
                if budget is not None:
                    budget -= len(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def _stop(self, source: socket.socket, sink: socket.socket) -> None:
        if self.mode == "cut":
            for s in (source, sink):  # shutdown first: a close alone waits for the other thread's recv
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            return
        self.stalled.set()
        self.closing.wait(timeout=120)



def test_the_summary_button_also_takes_the_mailbox_named_in_the_settings(
        server: imap_server.Server, folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ducha.app import ribbon

    books = workbooks(tmp_path)
    append(server, folder, message("丹寨县 <dzx@county.example.cn>", "丹寨县督查工作簿",
                                   [("丹寨县.xlsx", books["丹寨县"])]))
    inbox = tmp_path / "收件"
    inbox.mkdir()
    (inbox / "清水县.xlsx").write_bytes(books["清水县"])
    write_settings_workbook(settings_path(inbox / "督查档案"),
                            Settings(imap_host=server.host, imap_port=server.port, mail_user=server.user,
                                     mail_folder=folder))
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))  # the test server's own CA, as an office would install
    before = folder_state(server, folder)

    class Book:  # Excel's Workbooks.Open is not needed: the dialogs below open nothing
        pass

    class Dialogs:
        def open_workbook(self, path: Path) -> bool:
            return True

    shown = [ribbon.summarise(Book(), lambda text: None, Dialogs(), pick_folder=lambda book: str(inbox))
             for _ in range(2)]

    assert f"收件邮箱 {server.user}（{folder}）：新邮件 1 封" in shown[0] and "接收 2 份" in shown[0]
    assert "新邮件 0 封" in shown[1] and "接收 0 份，重复 1 份" in shown[1]  # each message once
    with Archive(inbox / "督查档案") as archive:
        assert sorted(r["county"] for r in archive.current("2019-11")) == ["丹寨县", "清水县"]
    assert folder_state(server, folder) == before  # nothing moved or deleted


def test_the_summary_button_without_a_mailbox_in_the_settings_takes_the_folder_alone(tmp_path: Path) -> None:
    from ducha.app import ribbon

    lines, outcomes = ribbon._take_configured_mailbox(tmp_path / "督查档案", lambda text: None)
    assert (lines, outcomes) == ([], [])
