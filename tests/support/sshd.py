# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway OpenSSH server on 127.0.0.1: a real remote connection for playbook tests.

``/usr/sbin/sshd -D -f CONFIG -p PORT`` (Debian package openssh-server) with a host key and a
client key made for the test, listening on 127.0.0.1 only, root login by key only.
:meth:`SshServer.host_vars` gives the inventory variables of a host reached through it, host key
checked against a known_hosts file of its own.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

from .registry import free_port
from .process import log_tail, terminate

SSHD_BIN = "/usr/sbin/sshd"
# sshd refuses to start without its privilege separation directory, which the Debian service
# creates at boot; a machine that never started the service lacks it.
PRIVSEP_DIR = "/run/sshd"


def unavailable_reason() -> str | None:
    """Why a throwaway sshd cannot run here, or None."""
    missing = [tool for tool in (SSHD_BIN, shutil.which("ssh") or "ssh", shutil.which("ssh-keygen") or "ssh-keygen")
               if not os.path.exists(tool)]
    if missing:
        return f"needs {' and '.join(missing)} (Debian package openssh-server; run hack/bootstrap.sh)"
    if os.geteuid() != 0:
        return f"root login needs sshd run as root, and this is uid {os.geteuid()}"
    return None


class SshError(RuntimeError):
    """sshd could not be started."""


class SshServer:
    def __init__(self, workdir: str | None = None):
        self._own_workdir = workdir is None
        # Short: ssh's ControlPath socket lives here, and a socket path has ~100 bytes at most.
        self.workdir = workdir or tempfile.mkdtemp(prefix="sshd-")
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        self.client_key = os.path.join(self.workdir, "client_key")
        self.known_hosts = os.path.join(self.workdir, "known_hosts")
        self.log_path = os.path.join(self.workdir, "sshd.log")

    def _keygen(self, path: str) -> str:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "airgap-test", "-f", path],
                       check=True, stdin=subprocess.DEVNULL, capture_output=True)
        with open(path + ".pub") as handle:
            return handle.read().strip()

    def start(self, timeout: float = 10.0) -> "SshServer":
        reason = unavailable_reason()
        if reason:
            raise SshError(reason)
        os.makedirs(PRIVSEP_DIR, mode=0o755, exist_ok=True)
        host_key = os.path.join(self.workdir, "host_key")
        host_public = self._keygen(host_key)
        authorized = os.path.join(self.workdir, "authorized_keys")
        with open(authorized, "w") as handle:
            handle.write(self._keygen(self.client_key) + "\n")
        os.chmod(authorized, 0o600)
        config = os.path.join(self.workdir, "sshd_config")
        with open(config, "w") as handle:
            handle.write("\n".join([
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {authorized}",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                # the test's files sit in a temporary directory whose parents sshd does not own
                "StrictModes no",
                "PidFile none",
                "Subsystem sftp internal-sftp",
                "",
            ]))
        for _attempt in range(5):  # free_port() can race with another process
            self.port = free_port()
            with open(self.known_hosts, "w") as handle:
                handle.write(f"[127.0.0.1]:{self.port} {host_public}\n")
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen([SSHD_BIN, "-D", "-e", "-f", config, "-p", str(self.port)],
                                                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            if self._wait_ready(timeout):
                return self
            self._kill()
        raise SshError(f"sshd did not start; see {self.log_path}:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                    if conn.recv(64).startswith(b"SSH-2.0-"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def host_vars(self, python: str) -> dict:
        """Inventory variables of a host reached through this server, running modules with ``python``."""
        options = [
            f"-o UserKnownHostsFile={self.known_hosts}", "-o StrictHostKeyChecking=yes", "-o IdentitiesOnly=yes",
            "-o ControlMaster=auto", "-o ControlPersist=30s", f"-o ControlPath={self.workdir}/cp-%C",
        ]
        return {
            "ansible_connection": "ssh",
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": self.client_key,
            "ansible_ssh_args": " ".join(options),
            "ansible_python_interpreter": python,
        }

    def accepted_logins(self) -> int:
        """How many logins sshd has accepted so far (from its log)."""
        try:
            with open(self.log_path, errors="replace") as handle:
                return sum("Accepted publickey" in line for line in handle)
        except OSError:
            return 0

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    def _kill(self) -> None:
        proc, self.process = self.process, None
        terminate(proc)

    def stop(self) -> None:
        # Connection masters kept by ControlPersist hold sessions open past sshd's end: close them.
        for name in os.listdir(self.workdir) if os.path.isdir(self.workdir) else ():
            if name.startswith("cp-"):
                subprocess.run(["ssh", "-o", f"ControlPath={os.path.join(self.workdir, name)}", "-O", "exit",
                                "127.0.0.1"], check=False, capture_output=True, stdin=subprocess.DEVNULL, timeout=10)
        self._kill()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "SshServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
