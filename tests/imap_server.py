"""A real IMAP server for the mailbox tests: Dovecot (Debian's dovecot-imapd) on 127.0.0.1 with IMAPS only, a
self-signed certificate made with openssl, one test account (passwd-file) and maildir storage, all in one folder.

Usage: python3 tests/imap_server.py start|stop|status. The tests call ensure_running(), which starts the server
when it is not up (and reuses the one CI started). Runs as root (CI) or as an ordinary user.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(os.environ.get("DUCHA_TEST_IMAP_DIR") or Path(tempfile.gettempdir()) / f"ducha-imap-{os.getuid()}")
STATE = FOLDER / "server.json"
USER, PASSWORD = "office@example.org", "ducha-test-secret-1"
HOST = "127.0.0.1"

OWN_SERVICES = """\
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service log {{
  user = {user}
}}
service config {{
  user = {user}
}}
service stats {{
  user = {user}
}}
"""  # when not root: every service runs as this user

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = {host}
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
disable_plaintext_auth = yes
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%n
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = {host}
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
{own_services}"""


@dataclass(frozen=True)
class Server:
    """How to reach the running test server."""

    host: str
    port: int
    user: str
    password: str
    ca_file: Path

    def client(self):
        """An authenticated imaplib client (for the tests to put messages in)."""
        import imaplib

        imap = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=ssl.create_default_context(cafile=self.ca_file))
        imap.login(self.user, self.password)
        return imap


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _certificate(root: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)


def _answers(server: Server) -> bool:
    try:
        imap = server.client()
    except Exception:  # not up (yet), or another server on that port
        return False
    with contextlib.suppress(Exception):
        imap.logout()
    return True


def status() -> Server | None:
    if not STATE.exists():
        return None
    data = json.loads(STATE.read_text())
    server = Server(data["host"], data["port"], data["user"], data["password"], Path(data["ca_file"]))
    return server if _answers(server) else None


def start() -> Server:
    running = status()
    if running is not None:
        return running
    stop()
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(dovecot).exists():
        raise SystemExit("dovecot is not installed (apt-get install dovecot-imapd)")
    if FOLDER.exists():
        shutil.rmtree(FOLDER)
    for sub in ("run", "state", "mail", "home"):
        (FOLDER / sub).mkdir(parents=True)
    _certificate(FOLDER)
    if os.getuid() == 0:  # Dovecot's processes must not run as root: use the users Debian's package creates
        internal, login = pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
        for sub in ("mail", "home"):
            os.chown(FOLDER / sub, internal.pw_uid, internal.pw_gid)
    else:
        internal = login = pwd.getpwuid(os.getuid())
    port = _free_port()
    (FOLDER / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    (FOLDER / "dovecot.conf").write_text(CONFIG.format(
        root=FOLDER, host=HOST, port=port, uid=internal.pw_uid, gid=internal.pw_gid, user=internal.pw_name,
        group=grp.getgrgid(internal.pw_gid).gr_name, login_user=login.pw_name,
        own_services="" if os.getuid() == 0 else OWN_SERVICES.format(user=internal.pw_name)), encoding="utf-8")
    subprocess.run([dovecot, "-c", str(FOLDER / "dovecot.conf")], check=True)
    server = Server(HOST, port, USER, PASSWORD, FOLDER / "cert.pem")
    STATE.write_text(json.dumps({"host": HOST, "port": port, "user": USER, "password": PASSWORD,
                                 "ca_file": str(server.ca_file)}), encoding="utf-8")
    deadline = time.monotonic() + 20
    while not _answers(server):
        if time.monotonic() > deadline:
            log = (FOLDER / "dovecot.log").read_text(errors="replace") if (FOLDER / "dovecot.log").exists() else ""
            raise SystemExit(f"dovecot did not answer on {HOST}:{port}\n{log[-3000:]}")
        time.sleep(0.2)
    return server


def stop() -> None:
    config = FOLDER / "dovecot.conf"
    if config.exists():
        subprocess.run([shutil.which("dovecot") or "/usr/sbin/dovecot", "-c", str(config), "stop"],
                       capture_output=True, check=False)
    with contextlib.suppress(FileNotFoundError):
        STATE.unlink()


ensure_running = start


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    if command == "start":
        s = start()
        print(f"dovecot on {s.host}:{s.port} (imaps), user {s.user}, CA {s.ca_file}")
    elif command == "stop":
        stop()
    else:
        s = status()
        print(f"dovecot on {s.host}:{s.port}" if s else "not running")
        sys.exit(0 if s else 1)
