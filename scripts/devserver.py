"""The development servers of `make run` and `make run-https`, and the links to open.

    python scripts/devserver.py links HOST PORT [--https]   print where to open the app
    python scripts/devserver.py banner HOST PORT            the demo logins, then the links
    python scripts/devserver.py https HOST PORT             serve HTTPS (gunicorn, one
                                                            process) with a local cert

A phone's browser opens the camera only on HTTPS (or on `localhost`). `https` makes a
local certificate authority once (`.devcerts/`, with trustme) and a certificate for
`localhost`, 127.0.0.1 and this machine's LAN addresses, then serves the embedded
default with gunicorn over TLS. The phone shows a warning the first time (accept it, or
install `.devcerts/xinyou-dev-ca.pem` on the phone as a trusted certificate); the
camera then works. Nothing here is for production.
"""

import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CERTS = ROOT / ".devcerts"
CA_FILE = CERTS / "xinyou-dev-ca.pem"
# what `make demo` printed (seed_demo's output): the banner repeats its logins
DEMO_LOGINS = ROOT / ".venv" / "demo-logins.txt"


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses that another device on the network may reach."""
    found: list[str] = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # No packet is sent: connecting a UDP socket only picks the outgoing interface.
        probe.connect(("10.255.255.255", 1))
        found.append(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    return [a for a in dict.fromkeys(found) if not a.startswith("127.")]


def links(host: str, port: str, https: bool) -> list[str]:
    scheme = "https" if https else "http"
    hosts = ["127.0.0.1"] if host in ("127.0.0.1", "localhost") else lan_addresses()
    if host not in ("0.0.0.0", "::", "127.0.0.1", "localhost"):  # noqa: S104
        hosts = [host]
    return [f"{scheme}://{h}:{port}" for h in hosts or ["127.0.0.1"]]


def print_links(host: str, port: str, https: bool) -> None:
    urls = links(host, port, https)
    print(f"Serving on {urls[0]}  (admin: /admin/, API docs: /api/docs/)")
    base = urls[0]
    print(f"  resident app: {base}/m/   scanner: {base}/scan/   dashboard: {base}/dashboard/")
    if host in ("0.0.0.0", "::"):  # noqa: S104
        print("  On a phone in the same network open:")
        for url in urls:
            print(f"    {url}/m/  (resident app)   {url}/scan/  (scanner)")
        if not https:
            print("  The camera needs HTTPS on a phone: use `make run-https` instead.")
    if https:
        print(f"  First visit: accept the certificate warning, or install {CA_FILE} on the")
        print("  phone as a trusted certificate (then no warning).")


def demo_logins(path: Path | None = None) -> list[str]:
    """The lines of seed_demo's output from "Demo logins" on (empty when there are none)."""
    try:
        lines = (path or DEMO_LOGINS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    starts = [i for i, line in enumerate(lines) if "Demo logins" in line]
    return (
        [line.replace("\x1b[32;1m", "").replace("\x1b[0m", "") for line in lines[starts[-1] :]]
        if starts
        else []
    )


def banner(host: str, port: str, https: bool = False) -> None:
    """What `make run` shows last, once the server is up and the embedded scheduler's
    first round is done: the demo logins, the SMS outbox, the links."""
    rule = "-" * 72
    lines = demo_logins()
    print(rule)
    for line in lines:
        print(line)
    if not lines:
        print("Demo logins: run `make demo` (password in README).")
    print_links(host, port, https)
    print(rule)
    sys.stdout.flush()


def ensure_certificate(host: str, certs: Path = CERTS) -> tuple[Path, Path]:
    """The local CA (made once) and a server certificate for every address we serve."""
    import trustme

    certs.mkdir(exist_ok=True)
    ca_file = certs / CA_FILE.name
    names = ["localhost", "127.0.0.1", *lan_addresses()]
    if host not in ("0.0.0.0", "::") and host not in names:  # noqa: S104
        names.append(host)
    ca_key = certs / "xinyou-dev-ca.key"
    if ca_file.exists() and ca_key.exists():
        ca = trustme.CA.from_pem(
            cert_bytes=ca_file.read_bytes(), private_key_bytes=ca_key.read_bytes()
        )
    else:
        ca = trustme.CA(organization_name="Xinyou development (local only)")
        ca.cert_pem.write_to_path(str(ca_file))
        ca.private_key_pem.write_to_path(str(ca_key))
        ca_key.chmod(0o600)
    leaf = ca.issue_cert(*names)
    cert, key = certs / "server.pem", certs / "server.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    for extra in leaf.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    return cert, key


def gunicorn_argv(host: str, port: str, cert: Path, key: str | Path) -> list[str]:
    """The command line of `make run-https`'s server. One process (the embedded default
    keeps its scheduler and local-memory cache in it), eight threads; the worker class,
    request limits and access log redaction come from gunicorn.conf.py (a buffering
    worker: a slow or stalled client holds no thread)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"{host}:{port}",
        "--workers",
        "1",
        "--threads",
        "8",
        "--certfile",
        str(cert),
        "--keyfile",
        str(key),
        "--access-logfile",
        "-",
        "--no-control-socket",
    ]


def serve_https(host: str, port: str) -> None:
    cert, key = ensure_certificate(host)
    print_links(host, port, https=True)
    sys.stdout.flush()
    os.chdir(ROOT)
    argv = gunicorn_argv(host, port, cert, key)
    os.execv(sys.executable, argv)  # noqa: S606 (a fixed argument list, no shell)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] not in ("links", "banner", "https"):
        print(__doc__, file=sys.stderr)
        return 2
    command, host, port = argv[:3]
    if command == "links":
        print_links(host, port, https="--https" in argv)
        return 0
    if command == "banner":
        banner(host, port, https="--https" in argv)
        return 0
    serve_https(host, port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
